// Connection URIs: spice-gtk's grammar case by case, ours (ws/wss), the
// errors, and the engine endpoints they become.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConnectUri, connectTargetToEndpoint, describeTarget } from '../../../main/config/uri';
import { endpointUri, type Endpoint } from '../../../main/spice/transport';

const ok: [string, object][] = [
  ['spice://host:5900', { scheme: 'spice', host: 'host', port: 5900 }],
  ['spice://host?port=5900&tls-port=5901&password=s3cr%21t', { scheme: 'spice', host: 'host', port: 5900, tlsPort: 5901, password: 's3cr!t' }],
  ['spice://host/?tls-port=5901;password=x', { scheme: 'spice', host: 'host', tlsPort: 5901, password: 'x' }],
  ['spice://host:5900?tls-port=5901', { scheme: 'spice', host: 'host', port: 5900, tlsPort: 5901 }],
  ['spice+tls://host:5901', { scheme: 'spice+tls', host: 'host', tlsPort: 5901 }],
  ['SPICE://Host:1', { scheme: 'spice', host: 'Host', port: 1 }],
  ['spice+unix:///run/libvirt/qemu/vm.sock', { scheme: 'spice+unix', host: '', unixPath: '/run/libvirt/qemu/vm.sock' }],
  ['spice://[::1]:5900', { scheme: 'spice', host: '::1', port: 5900 }],
  ['spice://[fe80::1%25eth0]?port=5900', { scheme: 'spice', host: 'fe80::1%25eth0', port: 5900 }],
  ['spice://alice@host:5900', { scheme: 'spice', host: 'host', port: 5900, username: 'alice' }],
  ['spice://host:5900?port=', { scheme: 'spice', host: 'host', port: 5900 }],
  ['ws://host:5959', { scheme: 'ws', host: 'host', port: 5959, path: '/' }],
  ['wss://gw.example/spice?token=abc', { scheme: 'wss', host: 'gw.example', port: 443, path: '/spice?token=abc' }],
  ['ws://[::1]', { scheme: 'ws', host: '::1', port: 80, path: '/' }],
  // the SPICE password (and port) in a ws query are ours: not sent to the WebSocket server; the rest is
  ['ws://gw:6080/websockify?token=vm1&password=pw&x', { scheme: 'ws', host: 'gw', port: 6080, path: '/websockify?token=vm1&x', password: 'pw' }],
  ['ws://gw/?port=6080', { scheme: 'ws', host: 'gw', port: 6080, path: '/' }],
];
for (const [uri, want] of ok) {
  test(`parses ${uri}`, () => {
    const { warnings: _w, ...got } = parseConnectUri(uri);
    assert.deepEqual(got, want);
  });
}

test('warnings for what spice-gtk only warns about', () => {
  assert.deepEqual(parseConnectUri('spice://h/extra?port=1&password=p').warnings, ['unexpected path "extra" ignored', 'password may be visible in process listings']);
  assert.deepEqual(parseConnectUri('spice+tls://h:1?port=2').warnings, ["spice+tls:// ignores 'port' in the query"]);
});

const bad: [string, string][] = [
  ['host:5900', 'not a URI: "host:5900" (expected spice://host:port)'],
  ['spice://host', 'missing port or tls-port in "spice://host"'],
  ['spice+tls://host', 'missing port in "spice+tls://host" (spice+tls://host:port)'],
  ['spice://host:0', 'invalid port "0" in "spice://host:0" (expected 1-65535)'],
  ['spice://host:65536', 'invalid port "65536" in "spice://host:65536" (expected 1-65535)'],
  ['spice://host?tls-port=5x', 'invalid tls-port "5x" in "spice://host?tls-port=5x" (expected 1-65535)'],
  ['spice://host:1?port=2', 'port given twice in "spice://host:1?port=2"'],
  ['spice://host?port=1&bogus=2', 'unknown key "bogus" in "spice://host?port=1&bogus=2" (known: port, tls-port, password)'],
  ['spice://[::1:5900', `missing closing ']' in "spice://[::1:5900"`],
  ['spice://:5900', 'no host in "spice://:5900"'],
  ['spice+unix://', 'no socket path in "spice+unix://"'],
  ['vnc://host:5900', 'unsupported: vnc:// (this viewer speaks SPICE only)'],
  ['http://host:80', 'unsupported scheme "http" in "http://host:80" (use spice://, spice+tls://, spice+unix://, ws:// or wss://)'],
  ['spice://h%zz:1', 'bad %-escape in host of "spice://h%zz:1"'],
  // a URI that fails never shows its password
  ['spice://h:0?password=hunter2', 'invalid port "0" in "spice://h:0?password=***" (expected 1-65535)'],
  ['spice://h?password=hunter2&bogus=1&port=1', 'unknown key "bogus" in "spice://h?password=***&bogus=1&port=1" (known: port, tls-port, password)'],
  ['spice://h?port=1;password=a%zz', 'bad %-escape in password of "spice://h?port=1;password=***"'],
  ['spice://h?port=1&pass word=hunter2', 'cannot parse query key "pass word" in "spice://h?port=1&pass word=hunter2"'],
  ['wss://g:x/?password=hunter2', 'invalid port "x" in "wss://g:x/?password=***" (expected 1-65535)'],
  ['spice://u:hunter2@h', 'missing port or tls-port in "spice://u:***@h"'],
];
for (const [uri, message] of bad) {
  test(`refuses ${uri}`, () => assert.throws(() => parseConnectUri(uri), { code: 'CONFIG', message }));
}

test('connectTargetToEndpoint gives the engine endpoint and password', () => {
  const cases: [string, object, string | undefined][] = [
    ['spice://127.0.0.1:5930', { host: '127.0.0.1', port: 5930, scheme: 'tcp' }, undefined],
    ['spice://host?port=5900&password=P', { host: 'host', port: 5900, scheme: 'tcp' }, 'P'],
    ['spice://[::1]:5900', { host: '::1', port: 5900, scheme: 'tcp' }, undefined],
    ['ws://h:5900?password=pw', { host: 'h', port: 5900, scheme: 'ws' }, 'pw'],
    ['spice://h:5900?password=a%20b', { host: 'h', port: 5900, scheme: 'tcp' }, 'a b'],
    ['wss://h:443', { host: 'h', port: 443, scheme: 'wss' }, undefined],
    ['ws://h:6080/websockify?token=vm1&password=pw', { host: 'h', port: 6080, scheme: 'ws', path: '/websockify?token=vm1' }, 'pw'],
  ];
  for (const [uri, endpoint, password] of cases) {
    const now = connectTargetToEndpoint(parseConnectUri(uri));
    assert.deepEqual(now.endpoint, endpoint, uri);
    assert.equal(now.password, password, uri);
  }
});

test('connectTargetToEndpoint: TLS-only targets get port 0 + tlsPort, UNIX sockets a path', () => {
  assert.deepEqual(connectTargetToEndpoint(parseConnectUri('spice+tls://h:5901')).endpoint, { host: 'h', port: 0, scheme: 'tcp', tlsPort: 5901, tls: {} });
  assert.deepEqual(connectTargetToEndpoint(parseConnectUri('spice+unix:///run/vm.sock')).endpoint, { host: 'localhost', port: 0, unixPath: '/run/vm.sock' });
  assert.deepEqual(connectTargetToEndpoint(parseConnectUri('spice://h?port=1&tls-port=2')).endpoint, { host: 'h', port: 1, scheme: 'tcp', tlsPort: 2, tls: {} });
});

test('describeTarget never shows the password', () => {
  assert.equal(describeTarget(parseConnectUri('spice://h:1?password=secret')), 'spice://h:1');
  assert.equal(describeTarget(parseConnectUri('spice://[::1]?port=1&tls-port=2')), 'spice://[::1]?port=1&tls-port=2');
  assert.equal(describeTarget(parseConnectUri('wss://g/spice?password=x')), 'wss://g:443/spice');
  // brackets for an IPv6 literal only: a Proxmox ticket host stays as it is
  const ticket = 'pvespiceproxy:6565bd1a:100:node1::3f9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b';
  assert.equal(describeTarget({ scheme: 'spice', host: ticket, tlsPort: 61000, warnings: [] }), `spice+tls://${ticket}:61000`);
  assert.equal(describeTarget({ scheme: 'spice', host: 'fe80::1%eth0', port: 1, warnings: [] }), 'spice://[fe80::1%eth0]:1');
});

test('endpointUri (the address field after a migration) parses back to the same endpoint; a ws query (token) is left out', () => {
  const cases: Endpoint[] = [
    { host: '10.0.0.7', port: 5901 },
    { host: 'dst.example', port: 5900, tlsPort: 5901 },
    { host: 'dst.example', port: 0, tlsPort: 5901 },
    { host: '::1', port: 5902 },
    { host: 'gw.example', port: 443, scheme: 'wss', path: '/console' },
  ];
  for (const ep of cases) {
    const uri = endpointUri(ep);
    const back = connectTargetToEndpoint(parseConnectUri(uri)).endpoint;
    assert.equal(back.host, ep.host, uri);
    assert.equal(back.port, ep.port, uri);
    assert.equal(back.tlsPort, ep.tlsPort, uri);
    assert.equal(back.scheme ?? 'tcp', ep.scheme ?? 'tcp', uri);
    if (ep.path) assert.equal(back.path, ep.path, uri);
  }
  assert.equal(endpointUri({ host: 'gw', port: 80, scheme: 'ws', path: '/websockify?token=secret' }), 'ws://gw:80/websockify');
  assert.equal(endpointUri({ host: '', port: 0, unixPath: '/run/vm.sock' }), 'spice+unix:///run/vm.sock');
});
