// Command line → effective configuration → engine options, as both hosts
// use them: help/version/errors with remote-viewer's texts and exit codes,
// .vv files (delete-this-file, stdin), and the Endpoint a .vv asks for
// (TLS, secure channels, proxy, disabled channels, preferred compression).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planLaunch, targetLabel } from '../../../main/app/launch';
import { endpointFromConfig } from '../../../main/config/endpoint';
import { splitWebArgs } from '../../../main/app/web-args';
import { appArgs } from '../../../main/ipc/launch-args';
import { Channel, ImageCompression } from '../../../main/spice/protocol/enums';

test('launch: --help, --version, unknown option, bad .vv', async () => {
  const help = await planLaunch(['--help'], { prog: 'spice-viewer' });
  assert.equal(help.kind, 'exit');
  assert.ok(help.kind === 'exit' && help.code === 0 && /^Usage:\n {2}spice-viewer \[OPTION…\] URI\|VV-FILE/.test(help.stdout ?? ''));
  const ver = await planLaunch(['-V'], { prog: 'spice-viewer', appVersion: '1.2.3' });
  assert.deepEqual(ver, { kind: 'exit', code: 0, stdout: 'spice-viewer version 1.2.3 (remote-viewer 11.0 compatible)\n' });
  const bad = await planLaunch(['--foo'], { prog: 'spice-viewer' });
  assert.deepEqual(bad, { kind: 'exit', code: 1, stderr: "Unknown option --foo\nRun 'spice-viewer --help' to see a full list of available command line options\n" });
  const two = await planLaunch(['spice://a:1', 'spice://b:2']);
  assert.equal(two.kind === 'exit' && two.stderr, "Error: can't handle multiple URIs\nRun 'spice-viewer --help' to see a full list of available command line options\n");
  const missing = await planLaunch(['/nonexistent/dir/x.vv']);
  assert.deepEqual(missing, { kind: 'exit', code: 1, stderr: 'Error: Invalid file /nonexistent/dir/x.vv: no such file\n' });
  const kq = await planLaunch(['--kiosk-quit=sometimes']);
  assert.equal(kq.kind === 'exit' && kq.code, 1);
  assert.match(kq.kind === 'exit' ? kq.stderr ?? '' : '', /^Invalid kiosk-quit argument: sometimes\n/);
});

test('launch: URI with kiosk options', async () => {
  const p = await planLaunch(['-k', '--kiosk-quit', 'on-disconnect', 'spice://127.0.0.1:5930']);
  assert.equal(p.kind, 'run');
  if (p.kind !== 'run') return;
  assert.equal(p.config.ui.kiosk, true);
  assert.equal(p.config.ui.fullscreen, true);
  assert.equal(p.config.ui.quitOnDisconnect, true);
  assert.equal(targetLabel(p.config.target), 'spice://127.0.0.1:5930');
  const never = await planLaunch(['--kiosk', 'spice://h:1']);
  assert.ok(never.kind === 'run' && never.config.ui.kioskQuit === 'never' && !never.config.ui.quitOnDisconnect);
});

test('launch: a .vv with TLS, proxy, secure/disabled channels → Endpoint; delete-this-file honoured', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vv-launch-'));
  try {
    const file = join(dir, 'c.vv');
    writeFileSync(
      file,
      [
        '[virt-viewer]',
        'type=spice',
        'host=vm.example',
        'port=5900',
        'tls-port=5901',
        'password=s3cret',
        'ca=-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n',
        'host-subject=C=XX,O=Test,CN=vm.example',
        'secure-channels=main;inputs',
        'disable-channels=playback;record;usbredir',
        'proxy=http://u:p%40ss@proxy.example:8080',
        'delete-this-file=1',
        'title=My VM',
        '',
      ].join('\n'),
    );
    const p = await planLaunch(['--spice-preferred-compression=lz4', file], { env: {} });
    assert.equal(p.kind, 'run', p.kind === 'exit' ? p.stderr : '');
    if (p.kind !== 'run') return;
    assert.equal(existsSync(file), false, 'delete-this-file removed the file');
    const c = p.config;
    assert.equal(c.ui.title, 'My VM');
    assert.equal(c.target?.password, 's3cret', 'the password stays in memory for reconnects');
    const { endpoint: ep, password, disabledChannels } = await endpointFromConfig(c);
    assert.equal(password, 's3cret');
    assert.deepEqual(disabledChannels, c.channels.disabledTypes);
    assert.deepEqual(ep, {
      host: 'vm.example',
      port: 5900,
      scheme: 'tcp',
      tlsPort: 5901,
      secureChannels: [Channel.MAIN, Channel.INPUTS],
      tls: { ca: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', hostSubject: 'C=XX,O=Test,CN=vm.example' },
      proxy: { scheme: 'http', host: 'proxy.example', port: 8080, username: 'u', password: 'p@ss' },
    });
    for (const t of [Channel.PLAYBACK, Channel.RECORD, Channel.USBREDIR]) assert.ok(c.channels.disabledTypes.includes(t), `channel ${t} disabled`);
    assert.equal(c.preferredCompression, ImageCompression.LZ4);
    // kept file: VIRT_VIEWER_KEEP_FILE
    writeFileSync(file, '[virt-viewer]\ntype=spice\nhost=h\nport=1\ndelete-this-file=1\n');
    const kept = await planLaunch([file], { env: { VIRT_VIEWER_KEEP_FILE: '1' } });
    assert.equal(kept.kind, 'run');
    assert.equal(existsSync(file), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('launch: `-` reads the .vv from stdin', async () => {
  const text = '[virt-viewer]\ntype=spice\nhost=::1\ntls-port=5901\nsecure-channels=all\n';
  const p = await planLaunch(['-'], { readStdin: async () => new TextEncoder().encode(text) });
  assert.equal(p.kind, 'run');
  if (p.kind !== 'run') return;
  assert.equal(targetLabel(p.config.target), 'spice+tls://[::1]:5901');
  assert.deepEqual((await endpointFromConfig(p.config, { readFile: async () => Promise.reject(new Error('none')) })).endpoint, { host: '::1', port: 0, scheme: 'tcp', tlsPort: 5901, secureChannels: 'all', tls: {} });
});

test('endpointFromConfig: spice+unix gives a socket path; no target is refused', async () => {
  const unix = await planLaunch(['spice+unix:///run/vm.sock']);
  assert.ok(unix.kind === 'run');
  if (unix.kind === 'run') assert.deepEqual((await endpointFromConfig(unix.config)).endpoint, { host: 'localhost', port: 0, unixPath: '/run/vm.sock' });
  const none = await planLaunch([]);
  assert.ok(none.kind === 'run');
  if (none.kind === 'run') await assert.rejects(endpointFromConfig(none.config), /no connection target/);
});

test('web host args are split from remote-viewer args', () => {
  assert.deepEqual(splitWebArgs(['--port', '8080', '-k', '--host=::1', '--allow-remote', '--password', 'x', 'spice://h:1']), {
    web: { port: 8080, host: '::1', allowRemote: true, password: 'x' },
    rest: ['-k', 'spice://h:1'],
  });
  assert.throws(() => splitWebArgs(['--port', 'abc']), /Cannot parse integer value “abc” for --port/);
  assert.throws(() => splitWebArgs(['--host']), /Missing argument for --host/);
  assert.deepEqual(splitWebArgs(['--cert=/c.pem', '--key', '/k.pem', 'spice://h:1']), { web: { cert: '/c.pem', key: '/k.pem' }, rest: ['spice://h:1'] });
  assert.throws(() => splitWebArgs(['--cert=/c.pem']), /--cert and --key go together/);
});

test('version gate: a .vv version key is compared with remote-viewer 11.0, and the message says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vv-version-'));
  try {
    const file = join(dir, 'c.vv');
    writeFileSync(file, '[virt-viewer]\ntype=spice\nhost=h\nport=1\nversion=11.1\n');
    assert.deepEqual(await planLaunch([file], { prog: 'spice-viewer', appVersion: '0.1.0' }), {
      kind: 'exit',
      code: 1,
      stderr:
        "Error: At least remote-viewer version 11.1 is required to setup this connection (the file's version key is a remote-viewer version; spice-viewer 0.1.0 reads .vv files as remote-viewer 11.0 does)\n",
    });
    writeFileSync(file, '[virt-viewer]\ntype=spice\nhost=h\nport=1\nversion=11.0\n');
    assert.equal((await planLaunch([file], { prog: 'spice-viewer', appVersion: '0.1.0' })).kind, 'run');
    // the gate runs after delete-this-file, as in remote-viewer
    writeFileSync(file, '[virt-viewer]\ntype=spice\nhost=h\nport=1\nversion=99\ndelete-this-file=1\n');
    assert.equal((await planLaunch([file], { prog: 'spice-viewer' })).kind, 'exit');
    assert.equal(existsSync(file), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Electron argv: executable, app path and engine switches dropped', () => {
  assert.deepEqual(appArgs(['/usr/bin/electron', '--inspect=0', '--remote-debugging-port=0', '--no-sandbox', '/app/dist/main/electron.cjs', '-k', 'spice://h:1'], true), ['-k', 'spice://h:1']);
  assert.deepEqual(appArgs(['/opt/spice-viewer/spice-viewer', '--no-sandbox', '/home/u/c.vv'], false), ['/home/u/c.vv']);
  assert.deepEqual(appArgs(['/opt/x', '--', '--no-sandbox'], false), ['--', '--no-sandbox']);
});
