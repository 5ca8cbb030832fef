// remote-viewer's command line: every option (table-driven), GLib parsing
// rules and error texts as the real remote-viewer 11.0 prints them (checked by
// running it), --help layout against its captured output, hotkey parsing and
// merging, and the CLI + .vv precedence of resolveConfig.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandLine, helpText, cliErrorHint, classifyTarget, isHelp, isVersion, type CliOptions } from '../../../main/config/cli';
import { resolveConfig, windowSubtitle, DEFAULT_USB_AUTO_FILTER } from '../../../main/config/effective';
import { parseHotkey, defaultHotkeys, mergeHotkeys } from '../../../main/config/hotkeys';
import { parseVvFile } from '../../../main/config/vv';

const CLI = join(import.meta.dirname, '../../vectors/vv/cli');
const opts = (argv: string[]): CliOptions => {
  const r = parseCommandLine(argv);
  assert.ok(!isHelp(r) && !isVersion(r));
  return r;
};

// [argv, path in CliOptions, expected value]
const table: [string[], string, unknown][] = [
  [['-f'], 'fullscreen', true],
  [['--full-screen'], 'fullscreen', true],
  [['--full-screen=0'], 'fullscreen', true], // GLib: a flag given =value is still set
  [['-t', 'My VM'], 'title', 'My VM'],
  [['--title=My VM'], 'title', 'My VM'],
  [['--title', '-f'], 'title', '-f'], // the next argument is the value even if it looks like an option
  [['-z', '50'], 'zoom', 50],
  [['--zoom=0x20'], 'zoom', 32], // strtol base 0
  [['--zoom', '062'], 'zoom', 50], // octal, as strtol base 0
  [['-z', ' 75'], 'zoom', 75],
  [['-z', '5'], 'zoom', 100], // out of 10-400: back to 100 with a warning
  [['-H', 'toggle-fullscreen=shift+f11,release-cursor=shift+f12'], 'hotkeys', [{ name: 'toggle-fullscreen', spec: 'shift+f11' }, { name: 'release-cursor', spec: 'shift+f12' }]],
  [['--hotkeys=zoom-in='], 'hotkeys', []],
  [['-K', 'F1=SHIFT+CTRL+F1,Super_L=,x'], 'keymap', [{ source: 'F1', targets: ['SHIFT', 'CTRL', 'F1'] }, { source: 'Super_L', targets: [] }]],
  [['--keymap=1=SHIFT+F1'], 'keymap', [{ source: '1', targets: ['SHIFT', 'F1'] }]],
  [['-k'], 'kiosk', true],
  [['--kiosk'], 'kiosk', true],
  [['--kiosk-quit', 'on-disconnect'], 'kioskQuit', 'on-disconnect'],
  [['--kiosk-quit=never'], 'kioskQuit', 'never'],
  [['--auto-resize=never'], 'autoResize', false],
  [['--auto-resize', 'always'], 'autoResize', true],
  [['--cursor=local'], 'cursor', 'local'],
  [['-v'], 'verbose', true],
  [['--verbose'], 'verbose', true],
  [['--debug'], 'debug', true],
  [['-s'], 'shared', true],
  [['--display=:1'], 'ignored', ['--display=:1']],
  [['--class', 'x', '--name=y', '--gtk-module=m', '--g-fatal-warnings', '--gtk-vnc-debug'], 'ignored', ['--class=x', '--name=y', '--gtk-module=m', '--g-fatal-warnings', '--gtk-vnc-debug']],
  [['--spice-ca-file=/etc/pki/ca.pem'], 'spice.caFile', '/etc/pki/ca.pem'],
  [['--spice-host-subject', 'O=x,CN=y'], 'spice.hostSubject', 'O=x,CN=y'],
  [['--spice-secure-channels=main,inputs'], 'spice.secureChannels', ['main', 'inputs']],
  [['--spice-secure-channels=all'], 'spice.secureChannels', ['all']],
  [['--spice-disable-effects=wallpaper,all'], 'spice.disableEffects', ['wallpaper', 'all']],
  [['--spice-disable-audio'], 'spice.disableAudio', true],
  [['--spice-smartcard'], 'spice.smartcard', true],
  [['--spice-smartcard-certificates=a,b'], 'spice.smartcardCertificates', ['a', 'b']],
  [['--spice-smartcard-db=/db'], 'spice.smartcardDb', '/db'],
  [['--spice-disable-usbredir'], 'spice.disableUsbredir', true],
  [['--spice-usbredir-auto-redirect-filter=-1,-1,-1,-1,1'], 'spice.usbredirAutoRedirectFilter', '-1,-1,-1,-1,1'],
  [['--spice-usbredir-redirect-on-connect', '0x08,-1,-1,-1,1'], 'spice.usbredirRedirectOnConnect', '0x08,-1,-1,-1,1'],
  [['--spice-share-cd=a.iso', '--spice-share-cd', 'b.iso'], 'spice.shareCd', ['a.iso', 'b.iso']],
  [['--spice-cache-size=1024'], 'spice.cacheSize', 1024],
  [['--spice-glz-window-size=-1'], 'spice.glzWindowSize', -1],
  [['--spice-shared-dir=/home/u/share'], 'spice.sharedDir', '/home/u/share'],
  [['--spice-shared-dir-ro'], 'spice.sharedDirReadOnly', true],
  [['--spice-preferred-compression=lz4'], 'spice.preferredCompression', 'lz4'],
  [['--spice-preferred-video-codec=VP8,h264'], 'spice.preferredVideoCodecs', ['vp8', 'h264']],
  [['--spice-debug'], 'spice.debug', true],
  [['--spice-color-depth=16'], 'warnings', ["--spice-color-depth is deprecated. Use guest's display settings instead"]],
  [['-fkv'], 'kiosk', true],
  [['-fz', '50'], 'zoom', 50],
  [['-zf', '50'], 'zoom', 50], // the value is the next argument, not the rest of the bundle
  [['spice://h:1'], 'target', { kind: 'uri', uri: 'spice://h:1' }],
  [['conn.vv'], 'target', { kind: 'file', path: 'conn.vv' }],
  [['-'], 'target', { kind: 'stdin' }],
  [['--', '-f'], 'target', { kind: 'file', path: '-f' }],
  [['-f', 'a.vv', '-k'], 'target', { kind: 'file', path: 'a.vv' }],
  [[], 'target', undefined],
];
for (const [argv, path, want] of table) {
  test(`${JSON.stringify(argv)} → ${path}`, () => {
    const o = opts(argv);
    const got = path.split('.').reduce<any>((x, k) => x?.[k], o);
    assert.deepEqual(got, want);
  });
}

test('defaults', () => {
  const o = opts([]);
  assert.deepEqual(
    { fs: o.fullscreen, zoom: o.zoom, ar: o.autoResize, kiosk: o.kiosk, kq: o.kioskQuit, hk: o.hotkeys, warnings: o.warnings },
    { fs: false, zoom: 100, ar: true, kiosk: false, kq: 'never', hk: undefined, warnings: [] },
  );
  assert.deepEqual(opts(['-z', '5']).warnings, ['Zoom level must be within 10-400']);
  assert.deepEqual(opts(['-H', 'a,b=']).warnings, ["Missing value for hotkey 'a'", "Missing value for hotkey 'b'"]);
});

// every message below is what remote-viewer 11.0 prints for the same argv
const errors: [string[], string][] = [
  [['--foo'], 'Unknown option --foo'],
  [['--hot'], 'Unknown option --hot'], // no prefix matching
  [['-x'], 'Unknown option -x'],
  [['-fx'], 'Unknown option -fx'],
  [['-z50', '60'], 'Unknown option -z50'],
  [['-z50'], 'Missing argument for -z'],
  [['-z'], 'Missing argument for -z'],
  [['-fz'], 'Missing argument for -z'],
  [['-H'], 'Missing argument for -H'],
  [['--title'], 'Missing argument for --title'],
  [['-t'], 'Missing argument for -t'],
  [['--kiosk-quit'], 'Missing argument for --kiosk-quit'],
  [['-zz', '50', '60'], 'Error parsing option -z'],
  [['-zt', '50', 'x'], 'Error parsing option -t'],
  [['-z', 'abc'], 'Cannot parse integer value “abc” for -z'],
  [['-z', '50x'], 'Cannot parse integer value “50x” for -z'],
  [['--zoom=50x'], 'Cannot parse integer value “50x” for --zoom'],
  [['--zoom='], 'Cannot parse integer value “” for --zoom'],
  [['--zoom=99999999999999'], 'Integer value “99999999999999” for --zoom out of range'],
  [['--spice-cache-size=abc'], 'Cannot parse integer value “abc” for --spice-cache-size'],
  [['--kiosk-quit=foo'], 'Invalid kiosk-quit argument: foo'],
  [['--auto-resize=foo'], "--auto-resize expects 'always' or 'never'"],
  [['--cursor=bad'], "unknown value 'bad' for --cursor"],
  [['a', 'b'], "Error: can't handle multiple URIs"],
  [['--spice-preferred-compression=xyz'], 'Image compression algorithm xyz not supported'],
  [['--spice-preferred-video-codec=vp8,h265'], 'Video codec h265 not supported'],
  [['--spice-secure-channels=foo'], 'invalid channel name (foo), valid names: all, main, display, inputs, cursor, playback, record, smartcard, usbredir, webdav'],
  [['--spice-disable-effects=foo'], "invalid effect name (foo), must be 'wallpaper', 'font-smooth', 'animation' or 'all'"],
];
for (const [argv, message] of errors) {
  test(`error ${JSON.stringify(argv)}`, () => assert.throws(() => parseCommandLine(argv), { code: 'CONFIG', message }));
}

test('error hint line', () => {
  assert.equal(cliErrorHint(), "Run 'remote-viewer --help' to see a full list of available command line options");
});

test('version and help', () => {
  assert.deepEqual(parseCommandLine(['-V']), { version: 'remote-viewer version 11.0' });
  assert.deepEqual(parseCommandLine(['-vV'], { version: 'spice-viewer 0.1.0' }), { version: 'spice-viewer 0.1.0' });
  assert.deepEqual(parseCommandLine(['--spice-gtk-version'], { engineVersion: 'engine 1' }), { version: 'engine 1' });
  for (const a of ['-h', '-?', '--help']) assert.equal((parseCommandLine(['-f', a, '--bogus']) as { help: string }).help, helpText('main'));
  assert.equal((parseCommandLine(['--help-all']) as { help: string }).help, helpText('all'));
});

// The captured remote-viewer output, minus its GTK-VNC group (we speak SPICE only).
const captured = (name: string): string =>
  readFileSync(join(CLI, name), 'utf8')
    .replace(/^ {2}--help-gtk-vnc .*\n/m, '')
    .replace(/GTK-VNC Options:\n(?: {2}.*\n)*\n/, '');
test('--help, --help-all, --help-gtk, --help-spice have remote-viewer 11.0 layout', () => {
  assert.equal(helpText('main'), captured('remote-viewer-help.txt'));
  assert.equal(helpText('all'), captured('remote-viewer-help-all.txt'));
  assert.equal(helpText('gtk'), captured('remote-viewer-help-gtk.txt'));
  assert.equal(helpText('spice'), captured('remote-viewer-help-spice.txt'));
  assert.match(helpText('main', 'spice-viewer'), /^Usage:\n {2}spice-viewer \[OPTION…\] URI\|VV-FILE\n/);
});

test('positional classification', () => {
  assert.deepEqual(classifyTarget('file:///tmp/a%20b.vv'), { kind: 'file', path: '/tmp/a b.vv' });
  assert.deepEqual(classifyTarget('spice+unix:///run/s'), { kind: 'uri', uri: 'spice+unix:///run/s' });
  assert.deepEqual(classifyTarget('C:\\Users\\u\\console.vv'), { kind: 'file', path: 'C:\\Users\\u\\console.vv' });
});

test('hotkey specs: remote-viewer synonyms, GTK syntax, modifier-only release', () => {
  const h = parseHotkey('Ctrl+Alt+Ins');
  assert.deepEqual({ ...h }, { spec: 'Ctrl+Alt+Ins', ctrl: true, alt: true, shift: false, super: false, key: 'Insert', code: 'Insert', accelerator: '<Ctrl><Alt>Insert' });
  assert.equal(parseHotkey('shift+f11').accelerator, '<Shift>F11');
  assert.equal(parseHotkey('Ctrl+Alt+R').code, 'KeyR');
  assert.equal(parseHotkey('Ctrl+Alt+R').key, 'r');
  assert.equal(parseHotkey('<Ctrl><Alt>End').accelerator, '<Ctrl><Alt>End');
  assert.equal(parseHotkey('lctrl+pgdn').key, 'Page_Down');
  assert.equal(parseHotkey('win+l').super, true);
  const rel = parseHotkey('rctrl+ralt', true);
  assert.deepEqual([rel.key, rel.sequence, rel.accelerator], [null, ['Control_R', 'Alt_R'], 'Control_R+Alt_R']);
  assert.throws(() => parseHotkey('ctrl+alt'), { message: 'invalid hotkey "ctrl+alt": no key besides modifiers' });
  assert.throws(() => parseHotkey('ctrl+foo'), { message: 'invalid hotkey "ctrl+foo": unknown key "foo"' });
  assert.throws(() => parseHotkey('a+b'), { message: 'invalid hotkey "a+b": more than one key' });
});

test('defaults are remote-viewer 11 hotkey_defaults', () => {
  const d = defaultHotkeys();
  const acc = Object.fromEntries(Object.entries(d.actions).map(([k, v]) => [k, v.map((h) => h.accelerator)]));
  assert.deepEqual(acc, {
    'toggle-fullscreen': ['F11'],
    'zoom-in': ['<Ctrl>plus', '<Ctrl>KP_Add'],
    'zoom-out': ['<Ctrl>minus', '<Ctrl>KP_Subtract'],
    'zoom-reset': ['<Ctrl>0', '<Ctrl>KP_0'],
    'release-cursor': ['<Shift>F12'],
    'smartcard-insert': ['<Shift>F8'],
    'smartcard-remove': ['<Shift>F9'],
    'secure-attention': ['<Ctrl><Alt>End'],
    'usb-device-reset': ['<Ctrl><Shift>r'],
  });
  assert.deepEqual(d.releaseSequence, ['Control_L', 'Alt_L']);
});

test('hotkey merge: -H and any .vv clear everything first; .vv wins over -H; bad entries are skipped with debug lines', () => {
  const debug: string[] = [];
  const cli = [{ name: 'zoom-in', spec: 'ctrl+i' }];
  const m1 = mergeHotkeys(cli, undefined, debug);
  assert.equal(m1.source, 'cli');
  assert.deepEqual(m1.actions['zoom-in'].map((h) => h.accelerator), ['<Ctrl>i']);
  assert.deepEqual(m1.actions['toggle-fullscreen'], []);
  const m2 = mergeHotkeys(cli, [], debug);
  assert.equal(m2.source, 'vv');
  assert.ok(Object.values(m2.actions).every((l) => l.length === 0));
  const m3 = mergeHotkeys(undefined, [{ name: 'release-cursor', spec: 'ctrl+alt+shift' }, { name: 'nope', spec: 'f1' }, { name: 'zoom-out', spec: 'ctrl+bogus' }], debug);
  assert.deepEqual(m3.releaseSequence, ['Control_L', 'Alt_L', 'Shift_L']);
  assert.deepEqual(m3.actions['release-cursor'], []);
  assert.deepEqual(debug, ['unknown hotkey name "nope" ignored', 'zoom-out: invalid hotkey "ctrl+bogus": unknown key "bogus"; left unbound']);
  assert.equal(mergeHotkeys([], undefined).source, 'default'); // an empty -H changes nothing
});

const PROXMOX = readFileSync(join(import.meta.dirname, '../../vectors/vv/proxmox.vv'), 'utf8');
test('resolveConfig: .vv over --spice-* and -t/-f/-H, SPICE_PROXY fallback, kiosk', () => {
  const cli = opts(['-t', 'cli title', '-H', 'zoom-in=ctrl+i', '--spice-ca-file=/ca.pem', '--spice-host-subject=CN=cli', '--spice-smartcard', '--spice-disable-audio', '-k', '--kiosk-quit=on-disconnect', 'x.vv']);
  const vv = parseVvFile(PROXMOX);
  const e = resolveConfig(cli, { vv, env: { SPICE_PROXY: 'http://env:1', HOME: '/home/u' } });
  assert.equal(e.source, 'vv');
  assert.deepEqual(e.target, { scheme: 'spice+tls', host: vv.host, tlsPort: 61000, password: 'c8a1e6f0b2d4e6f8a0c2' });
  assert.deepEqual(e.tls.ca, { pem: vv.ca }); // the .vv CA replaces --spice-ca-file
  assert.equal(e.tls.hostSubject, vv.hostSubject);
  assert.deepEqual(e.proxy, { scheme: 'http', host: 'pve1.example.test', port: 3128, from: 'vv' });
  assert.equal(e.ui.title, 'VM 100 - debian12');
  assert.equal(e.ui.hotkeys.source, 'vv');
  assert.deepEqual(e.ui.hotkeys.actions['zoom-in'], []);
  assert.deepEqual(e.ui.hotkeys.actions['secure-attention'].map((h) => h.accelerator), ['<Ctrl><Alt>Insert']);
  assert.equal(e.ui.fullscreen, true); // kiosk
  assert.equal(e.ui.quitOnDisconnect, true);
  assert.deepEqual(e.channels, { audio: false, smartcard: true, usbredir: true, disabledTypes: [5, 6] });
  assert.equal(e.usb.autoRedirectFilter, DEFAULT_USB_AUTO_FILTER);
  assert.equal(e.usb.autoshare, true);
});

test('resolveConfig: URI target, CLI values when there is no .vv, fallbacks', () => {
  const cli = opts(['-t', 'T', '-f', '--spice-ca-file=/ca.pem', '--spice-secure-channels=all', '--spice-disable-usbredir', '--spice-preferred-compression=quic', '--spice-usbredir-auto-redirect-filter=-1,-1,-1,-1,1', 'spice://h?port=1&password=p']);
  const e = resolveConfig(cli, { env: { SPICE_PROXY: 'proxy.example' } });
  assert.equal(e.source, 'uri');
  assert.deepEqual(e.target, { scheme: 'spice', host: 'h', port: 1, password: 'p' });
  assert.deepEqual(e.warnings, ['password may be visible in process listings']);
  assert.deepEqual(e.tls, { ca: { file: '/ca.pem' }, secureChannels: ['all'] });
  assert.deepEqual(e.proxy, { scheme: 'http', host: 'proxy.example', port: 3128, from: 'SPICE_PROXY' });
  assert.equal(e.ui.title, 'T');
  assert.equal(e.ui.fullscreen, true);
  assert.equal(e.ui.quitOnDisconnect, true);
  assert.equal(e.preferredCompression, 4); // SPICE_IMAGE_COMPRESSION_QUIC
  assert.deepEqual(e.channels.disabledTypes, [8, 9]); // smartcard off by default, usbredir disabled
  assert.deepEqual(e.usb.autoRedirectRules, [{ deviceClass: -1, vendor: -1, product: -1, version: -1, allow: true }]);
  assert.equal(e.ui.hotkeys.source, 'default');
  const none = resolveConfig(opts(['-k']), { env: { HOME: '/home/u' } });
  assert.equal(none.target, undefined);
  assert.deepEqual(none.tls.ca, { file: '/home/u/.spicec/spice_truststore.pem', fallback: true });
  assert.equal(none.ui.quitOnDisconnect, false); // kiosk, --kiosk-quit=never
  assert.throws(() => resolveConfig(opts(['a.vv'])), { message: 'the .vv file has not been read (use readVvFile first)' });
});

test('resolveConfig: .vv fullscreen=0 overrides -f; .vv enable-usbredir overrides --spice-disable-usbredir', () => {
  const vv = parseVvFile('[virt-viewer]\ntype=spice\nhost=h\nport=1\nfullscreen=0\nenable-usbredir=1\nenable-usb-autoshare=0\n');
  const e = resolveConfig(opts(['-f', '--spice-disable-usbredir', '-']), { vv });
  assert.equal(e.ui.fullscreen, false);
  assert.equal(e.channels.usbredir, true);
  assert.equal(e.usb.autoshare, false);
});

test('window titles: %d becomes the display number, else " (N)"', () => {
  assert.equal(windowSubtitle('rhel9-vm:%d', 0), 'rhel9-vm:1');
  assert.equal(windowSubtitle('VM', 1), 'VM (2)');
});

test('a URI on the command line that fails to parse is reported without its password', () => {
  for (const uri of ['spice://h:0?password=hunter2', 'spice://h?password=hunter2&bogus=1', 'wss://h:x/?password=hunter2']) {
    assert.throws(
      () => resolveConfig(parseCommandLine([uri]) as CliOptions, { env: {} }),
      (e: Error) => (e as { code?: string }).code === 'CONFIG' && e.message.includes('password=***') && !e.message.includes('hunter2'),
    );
  }
});
