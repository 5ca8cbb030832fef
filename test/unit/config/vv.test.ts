// .vv files: the oVirt / Proxmox / OpenNebula style corpus against hand-written
// expectations, every malformed file against its exact error, limits, the
// version gate (virt_viewer_compare_buildid cases), proxy and USB filter parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseVvBytes, parseVvFile, compareBuildId, checkVvVersion, parseProxyUri, parseUsbFilter, CHANNEL_NAMES } from '../../../main/config/vv';
import { ConfigError } from '../../../main/config/errors';

const VV = join(import.meta.dirname, '../../vectors/vv');
const CA = readFileSync(join(VV, 'ca.pem'), 'utf8');
const load = (name: string) => parseVvBytes(readFileSync(join(VV, name)));

test('oVirt style: port=-1, inline CA, secure-channels, versions, [ovirt] ignored', () => {
  const c = load('ovirt.vv');
  assert.equal(c.type, 'spice');
  assert.equal(c.host, '192.0.2.20');
  assert.equal(c.port, undefined);
  assert.equal(c.tlsPort, 5901);
  assert.equal(c.password, 'Ovirt-Ticket_9xq2');
  assert.equal(c.ca, CA); // \n escapes decoded back to the PEM file byte for byte
  assert.equal(c.hostSubject, 'O=Example Lab,CN=192.0.2.20');
  assert.equal(c.tlsCiphers, 'DEFAULT');
  assert.deepEqual(c.secureChannels, ['main', 'inputs', 'cursor', 'playback', 'record', 'display', 'smartcard', 'usbredir']);
  assert.equal(c.deleteThisFile, true);
  assert.equal(c.fullscreen, false);
  assert.equal(c.title, 'rhel9-vm:%d');
  assert.equal(c.enableSmartcard, false);
  assert.equal(c.enableUsbAutoshare, true);
  assert.deepEqual(c.usbFilterRules, [{ deviceClass: -1, vendor: -1, product: -1, version: -1, allow: false }]);
  assert.deepEqual(c.versions, { 'rhev-win64': '2.0-160', 'rhev-win32': '2.0-160', rhel8: '7.0-3', rhel7: '2.0-6', rhel6: '99.0-1' });
  assert.equal(c.newerVersionUrl, 'http://www.ovirt.org/documentation/admin-guide/virt/console-client-resources');
  assert.deepEqual(c.hotkeys, [
    { name: 'toggle-fullscreen', spec: 'shift+f11' },
    { name: 'release-cursor', spec: 'shift+f12' },
    { name: 'secure-attention', spec: 'ctrl+alt+end' },
  ]);
  assert.deepEqual(c.ovirt, { host: 'engine.example.test:443', vmGuid: '5b4ff1b2-7c29-4d2b-9a2f-5f2d9d3f7a10', ssoToken: 'c3NvLXRva2VuLWV4YW1wbGU', ca: CA, admin: true });
  assert.deepEqual(c.debug, ['line 24: [ovirt] group ignored (no oVirt REST support)', 'line 4: port=-1: not set']);
});

test('oVirt versions= gate applies for a matching OS id only', () => {
  const text = readFileSync(join(VV, 'ovirt.vv'), 'utf8');
  assert.equal(parseVvFile(text, { osId: 'rhel8' }).tlsPort, 5901);
  assert.throws(() => parseVvFile(text, { osId: 'rhel6' }), {
    message: 'At least remote-viewer version 99.0-1 is required to setup this connection, see http://www.ovirt.org/documentation/admin-guide/virt/console-client-resources for details',
  });
});

test('Proxmox style: proxy, ticket host, tls-port, hotkeys, delete-this-file', () => {
  const c = load('proxmox.vv');
  assert.equal(c.host, 'pvespiceproxy:6553f1a2:100:pve1::8c2f0e4d5b6a79a1c3e5f7092b4d6f8a1c3e5f70');
  assert.equal(c.tlsPort, 61000);
  assert.equal(c.port, undefined);
  assert.equal(c.password, 'c8a1e6f0b2d4e6f8a0c2');
  assert.equal(c.proxy, 'http://pve1.example.test:3128');
  assert.deepEqual(c.proxyTarget, { scheme: 'http', host: 'pve1.example.test', port: 3128 });
  assert.equal(c.deleteThisFile, true);
  assert.equal(c.title, 'VM 100 - debian12');
  assert.equal(c.ca, CA);
  assert.equal(c.hostSubject, 'OU=PVE Cluster Node,O=Proxmox Virtual Environment,CN=pve1.example.test');
  // remote-viewer's order (hotkey_defaults), not the file's
  assert.deepEqual(c.hotkeys, [
    { name: 'toggle-fullscreen', spec: 'Shift+F11' },
    { name: 'release-cursor', spec: 'Ctrl+Alt+R' },
    { name: 'secure-attention', spec: 'Ctrl+Alt+Ins' },
  ]);
  assert.deepEqual(c.debug, []);
});

test('OpenNebula style: proxy with path and ?token=, escapes, disable-channels, unknown keys as debug lines', () => {
  const c = load('opennebula.vv');
  assert.equal(c.port, 5942);
  assert.equal(c.password, 'Nebula Ticket\\42');
  assert.deepEqual(c.proxyTarget, { scheme: 'https', host: 'one.example.test', port: 8443, path: '/spice?token=a1b2c3d4e5' });
  assert.equal(c.deleteThisFile, false);
  assert.equal(c.fullscreen, true);
  assert.equal(c.enableSmartcard, true); // GLib spelling accepted besides 0/1
  assert.equal(c.enableUsbredir, true);
  assert.deepEqual(c.disableChannels, [5, 6]); // playback, record
  assert.deepEqual(c.disableEffects, ['wallpaper', 'animation']);
  assert.equal(c.colorDepth, 32);
  assert.deepEqual(c.usbRedirectOnConnectRules, [
    { deviceClass: 8, vendor: 0x0781, product: -1, version: -1, allow: true },
    { deviceClass: -1, vendor: -1, product: -1, version: -1, allow: false },
  ]);
  assert.deepEqual(c.debug, [
    'line 21: unknown key "x-opennebula-vm-id" ignored',
    'line 22: localized key title[fr] ignored',
    'line 14: disable-channels: unknown channel name "bogus" ignored',
    "line 15: color-depth ignored (deprecated; use the guest's display settings)",
    'line 13: disable-effects: unknown effect "sparkles" ignored',
  ]);
});

test('channel names map to spice-protocol channel types', () => {
  // spice/enums.h: MAIN 1 ... WEBDAV 11
  assert.deepEqual(CHANNEL_NAMES, { main: 1, display: 2, inputs: 3, cursor: 4, playback: 5, record: 6, tunnel: 7, smartcard: 8, usbredir: 9, port: 10, webdav: 11 });
  const c = parseVvFile('[virt-viewer]\ntype=spice\nhost=h\nport=1\ndisable-channels=usbredir;main;smartcard;usbredir;webdav\n');
  assert.deepEqual(c.disableChannels, [9, 8, 11]);
  assert.deepEqual(c.debug, ['line 5: disable-channels: the main channel cannot be disabled']);
});

const expected: Record<string, string> = JSON.parse(readFileSync(join(VV, 'malformed/expected.json'), 'utf8'));
test('every malformed file has an expected error', () => {
  const files = readdirSync(join(VV, 'malformed')).filter((f) => f.endsWith('.vv')).sort();
  assert.deepEqual(files, Object.keys(expected).sort());
});
for (const [file, message] of Object.entries(expected)) {
  test(`malformed: ${file}`, () => {
    assert.throws(() => load(`malformed/${file}`), (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.equal(e.code, 'CONFIG');
      assert.equal(e.message, message);
      const m = /^line (\d+):/.exec(message);
      assert.equal(e.line, m ? Number(m[1]) : undefined);
      return true;
    });
  });
}

test('huge file is refused before decoding; NUL and garbage never crash', () => {
  const huge = new Uint8Array(1024 * 1024 + 1).fill(0x23);
  assert.throws(() => parseVvBytes(huge), { message: 'file is too large (1048577 bytes; the limit is 1048576)' });
  assert.throws(() => parseVvFile('[virt-viewer]\ntype=spice\0\n'), { message: 'line 2: NUL byte in line (not a text file?)' });
  assert.throws(() => parseVvBytes(new Uint8Array([0x5b, 0x0a, 0x0a, 0xe2, 0x82])), { message: 'line 3: invalid UTF-8 at byte 3 (not a text file?)' });
  // a deterministic pseudo-random fuzz: only ConfigError may come out
  let seed = 12345;
  for (let n = 0; n < 300; n++) {
    const len = (seed = (seed * 1103515245 + 12345) >>> 0) % 200;
    const b = new Uint8Array(len);
    for (let i = 0; i < len; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      b[i] = '[virt-viewer]\ntype=spice\n=;#\\ \x00\xff'.charCodeAt((seed >>> 16) % 31) & 0xff;
    }
    try {
      parseVvBytes(b);
    } catch (e) {
      assert.ok(e instanceof ConfigError, String(e));
    }
  }
});

test('boolean keys accept any integer (remote-viewer reads them as integers) and true/false', () => {
  const c = parseVvFile('[virt-viewer]\ntype=spice\nfullscreen=2\nenable-usbredir=false\nenable-usb-autoshare=0\ndelete-this-file=true\n');
  assert.deepEqual([c.fullscreen, c.enableUsbredir, c.enableUsbAutoshare, c.deleteThisFile], [true, false, false, true]);
});

test('unix-path wins over host/port (debug lines say so)', () => {
  const c = parseVvFile('[virt-viewer]\ntype=spice\nunix-path=/run/vm.sock\nhost=h\nport=5900\n');
  assert.equal(c.unixPath, '/run/vm.sock');
  assert.equal(c.host, undefined);
  assert.deepEqual(c.debug, ['line 4: host ignored because unix-path is set', 'line 5: port ignored because unix-path is set']);
});

test('compareBuildId follows virt_viewer_compare_buildid', () => {
  const cases: [string, string, number][] = [
    ['1.1-1', '1.0-1', 1],
    ['1.0-2', '1.0-1', 1],
    ['1.10', '1.7', 1],
    ['11.0', '11.0', 0],
    ['11.0-1', '11.0', 1], // a release part beats none
    ['11', '11.0', -1],
    ['2.0-160', '11.0', -1],
    ['11.0rc1', '11.0', 0], // suffix stops the comparison
    ['99.0', '11.0', 1],
  ];
  for (const [a, b, sign] of cases) assert.equal(Math.sign(compareBuildId(a, b)), sign, `${a} vs ${b}`);
});

test('version gate: remote-viewer text, with and without newer-version-url; appVersion/appName options', () => {
  const base = { type: 'spice' as const, hotkeys: [], deleteThisFile: false, debug: [] };
  assert.throws(() => checkVvVersion({ ...base, version: '12.0' }), { message: 'At least remote-viewer version 12.0 is required to setup this connection' });
  checkVvVersion({ ...base, version: '11.0' });
  checkVvVersion({ ...base, version: '12.0' }, { appVersion: '12.1' });
  assert.throws(() => checkVvVersion({ ...base, version: '2.0', newerVersionUrl: 'u' }, { appVersion: '1.9', appName: 'spice-viewer' }), {
    message: 'At least spice-viewer version 2.0 is required to setup this connection, see u for details',
  });
  // checkVersion:false leaves the gate to the caller (readVvFile)
  assert.equal(parseVvFile('[virt-viewer]\ntype=spice\nversion=50\n', { checkVersion: false }).version, '50');
});

test('proxy URLs: defaults, credentials, IPv6, path/query kept, errors', () => {
  assert.deepEqual(parseProxyUri('proxy.example:8080'), { scheme: 'http', host: 'proxy.example', port: 8080 });
  assert.deepEqual(parseProxyUri('https://u%40x:p%3Aw@[2001:db8::1]'), { scheme: 'https', host: '2001:db8::1', port: 3129, username: 'u@x', password: 'p:w' });
  assert.deepEqual(parseProxyUri('http://gw/x?token=1'), { scheme: 'http', host: 'gw', port: 3128, path: '/x?token=1' });
  assert.throws(() => parseProxyUri('http://gw:0'), { message: 'proxy "http://gw:0": invalid port "0" (expected 1-65535)' });
  assert.throws(() => parseProxyUri('http://:3128'), { message: 'proxy "http://:3128": no host' });
});

test('USB filters: C numbers, -1 = any, range checks', () => {
  assert.deepEqual(parseUsbFilter('0x03,-1,-1,-1,0|-1,-1,-1,-1,1'), [
    { deviceClass: 3, vendor: -1, product: -1, version: -1, allow: false },
    { deviceClass: -1, vendor: -1, product: -1, version: -1, allow: true },
  ]);
  assert.deepEqual(parseUsbFilter('010,0x1d6b,2,0x0200,1'), [{ deviceClass: 8, vendor: 0x1d6b, product: 2, version: 0x200, allow: true }]);
  assert.deepEqual(parseUsbFilter(''), []);
  assert.throws(() => parseUsbFilter('256,-1,-1,-1,1'), { message: 'USB filter rule 1: class "256" is out of range (-1 or 0-255)' });
  assert.throws(() => parseUsbFilter('-1,-1,-1,-1,2'), { message: 'USB filter rule 1: allow "2" is out of range (0 or 1)' });
  assert.throws(() => parseUsbFilter('-1,-1,x,-1,1'), { message: 'USB filter rule 1: product "x" is not a number' });
});

test('a host with a space or control character is refused (it goes verbatim into a proxy CONNECT)', () => {
  // the keyfile decodes \r and \n escapes: such a host would inject headers into the CONNECT request
  assert.throws(() => parseVvFile('[virt-viewer]\ntype=spice\nhost=pvespiceproxy:x\\r\\nX-Injected: 1\nport=5900\n'), (e: unknown) => e instanceof ConfigError && /host .*space or control character/.test((e as Error).message));
  assert.throws(() => parseVvFile('[virt-viewer]\ntype=spice\nhost=a b\nport=5900\n'), ConfigError);
  assert.throws(() => parseProxyUri('http://proxy\tx:3128'), ConfigError);
  // a Proxmox ticket host is fine
  assert.equal(parseVvFile('[virt-viewer]\ntype=spice\nhost=pvespiceproxy:6565bd1a:100:node1::3f9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b\nport=61000\n').host, 'pvespiceproxy:6565bd1a:100:node1::3f9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b');
});
