// Session controller on a fake transport and a fake clock: kiosk reconnect
// with back-off and reason, kiosk-quit on-disconnect, the doctor's diagnosis
// outside kiosk, and a user disconnect stopping the retries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionStatus } from '../../../preload/contract';
import { planLaunch } from '../../../main/app/launch';
import { createSessionController, type EndedInfo } from '../../../main/app/session-controller';
import type { EffectiveConfig } from '../../../main/config/effective';
import type { Dial, TransportFactory } from '../../../main/spice/transport';
import { SpiceError } from '../../../main/spice/wire/errors';
import { ProxyAuthRequired } from '../../../main/transport/proxy';
import { FakeClock } from './fake-clock';

const turn = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

async function config(args: string[]): Promise<EffectiveConfig> {
  const p = await planLaunch(args, { env: {} });
  assert.equal(p.kind, 'run');
  return (p as { config: EffectiveConfig }).config;
}

function refusing(dials: Dial[]): TransportFactory {
  return async (d) => {
    dials.push(d);
    throw new SpiceError('TRANSPORT', `cannot connect to ${d.host}:${d.port}: connect ECONNREFUSED ${d.host}:${d.port}`);
  };
}

test('kiosk never: refused connects are retried 1 s, 2 s, 4 s… with the reason and the time of the next try', async () => {
  const clock = new FakeClock();
  const dials: Dial[] = [];
  const seen: SessionStatus[] = [];
  const c = createSessionController({ config: await config(['--kiosk', 'spice://127.0.0.1:5999']), transport: refusing(dials), clock, random: () => 0.5 });
  c.on('status', (s) => seen.push(s));
  assert.equal(seen[0].app?.kiosk, true, 'the page learns kiosk mode from the first status');
  c.connect('spice://127.0.0.1:5999');
  await turn();
  assert.equal(dials.length, 1);
  let last = seen[seen.length - 1];
  assert.equal(last.state, 'disconnected');
  assert.equal(last.app?.reconnect?.reason, 'vm-stopped');
  assert.match(last.app?.reconnect?.text ?? '', /not running/);
  assert.deepEqual([last.app?.reconnect?.attempt, last.app?.reconnect?.delayMs, last.app?.reconnect?.at], [1, 1000, clock.now() + 1000]);
  assert.equal(last.app?.diagnosis?.step, 'tcp');
  clock.advance(999);
  await turn();
  assert.equal(dials.length, 1, 'not before the countdown ends');
  clock.advance(1);
  await turn();
  assert.equal(dials.length, 2);
  last = seen[seen.length - 1];
  assert.deepEqual([last.app?.reconnect?.attempt, last.app?.reconnect?.delayMs], [2, 2000]);
  clock.advance(2000);
  await turn();
  assert.equal(dials.length, 3);
  assert.equal(c.pendingReconnect()?.attempt, 3);
  assert.equal(seen[seen.length - 1].app?.reconnect?.delayMs, 4000);
  // the user (or the page closing) disconnects: no more attempts
  c.disconnect();
  clock.advance(600_000);
  await turn();
  assert.equal(dials.length, 3);
  assert.equal(c.pendingReconnect(), null);
  assert.equal(seen[seen.length - 1].app?.reconnect, undefined);
});

test('kiosk on-disconnect: the session end is reported once, and nothing retries', async () => {
  const clock = new FakeClock();
  const dials: Dial[] = [];
  const ended: EndedInfo[] = [];
  const c = createSessionController({
    config: await config(['-k', '--kiosk-quit=on-disconnect', 'spice://127.0.0.1:5999']),
    transport: refusing(dials),
    clock,
    onEnded: (i) => ended.push(i),
  });
  c.connect('spice://127.0.0.1:5999');
  await turn();
  clock.advance(600_000);
  await turn();
  assert.equal(dials.length, 1);
  assert.equal(ended.length, 1);
  assert.equal(ended[0].everConnected, false);
  assert.equal(ended[0].error?.code, 'TRANSPORT');
});

test('outside kiosk: a failed connect carries the diagnosis and the password never reaches the report', async () => {
  const clock = new FakeClock();
  const dials: Dial[] = [];
  const seen: SessionStatus[] = [];
  const c = createSessionController({ config: await config([]), transport: refusing(dials), clock, appVersion: '4.5.6' });
  c.on('status', (s) => seen.push(s));
  c.connect('spice://127.0.0.1:5998?password=hunter2');
  await turn();
  const last = seen[seen.length - 1];
  assert.equal(last.state, 'disconnected');
  assert.equal(last.app?.reconnect, undefined);
  assert.equal(last.app?.diagnosis?.step, 'tcp');
  assert.ok(!last.app?.diagnosis?.report.includes('hunter2'));
  assert.match(last.app?.diagnosis?.report ?? '', /^App: spice-viewer 4\.5\.6$/m);
  assert.match(last.app?.diagnosis?.report ?? '', /^Target: spice:\/\/127\.0\.0\.1:5998$/m);
  assert.equal(dials[0].port, 5998);
  clock.advance(600_000);
  await turn();
  assert.equal(dials.length, 1, 'no automatic reconnect outside kiosk');
  // a bad URI typed into the page fails at the parse step
  c.connect('spice://h:99999');
  await turn();
  assert.equal(seen[seen.length - 1].app?.diagnosis?.step, 'parse');
});

/** A proxy in front of a stopped VM: 407 without (or with wrong) credentials, then the VM's port refuses. */
function behindProxy(dials: Dial[], user: string, pass: string): TransportFactory {
  return async (d) => {
    dials.push(d);
    const px = d.proxy;
    const sent = px?.username !== undefined;
    if (px?.username !== user || px.password !== pass) {
      throw new ProxyAuthRequired(`${px?.host}:${px?.port}`, sent, px?.username, 'spice');
    }
    throw new SpiceError('TRANSPORT', `cannot connect to ${d.host}:${d.port}: connect ECONNREFUSED ${d.host}:${d.port}`);
  };
}

test('proxy 407: the page is asked for credentials; they go into the proxy URL, stay in memory and out of the report', async () => {
  const clock = new FakeClock();
  const dials: Dial[] = [];
  const seen: SessionStatus[] = [];
  const p = await planLaunch(['spice://127.0.0.1:5997'], { env: { SPICE_PROXY: 'http://127.0.0.1:3128' } });
  assert.equal(p.kind, 'run');
  const cfg = (p as { config: EffectiveConfig }).config;
  const c = createSessionController({ config: cfg, transport: behindProxy(dials, 'al ice', 'p@ss:w'), clock });
  c.on('status', (s) => seen.push(s));
  c.connectConfig(cfg);
  await turn();
  let last = seen[seen.length - 1];
  assert.equal(last.state, 'disconnected');
  assert.equal(last.app?.diagnosis?.step, 'proxy');
  assert.deepEqual(last.app?.proxyAuth, { proxy: '127.0.0.1:3128', rejected: false });
  // wrong password: asked again, marked as rejected
  c.setProxyCredentials?.('al ice', 'nope');
  await turn();
  last = seen[seen.length - 1];
  assert.equal(dials.length, 2);
  assert.deepEqual(last.app?.proxyAuth, { proxy: '127.0.0.1:3128', rejected: true });
  assert.ok(!last.app?.diagnosis?.report.includes('nope'), 'the proxy password never reaches the report');
  c.setProxyCredentials?.('al ice', 'p@ss:w');
  await turn();
  assert.equal(dials.length, 3);
  assert.deepEqual(dials[2].proxy, { scheme: 'http', host: '127.0.0.1', port: 3128, username: 'al ice', password: 'p@ss:w' });
  last = seen[seen.length - 1];
  assert.equal(last.app?.proxyAuth, undefined, 'past the proxy: no prompt');
  assert.equal(last.app?.diagnosis?.step, 'tcp');
  assert.equal(cfg.proxy?.password, undefined, 'the launch configuration is not changed');
  // a new connect keeps the credentials for this run
  c.connectConfig(cfg);
  await turn();
  assert.equal(dials[3].proxy?.username, 'al ice');
});

test('AppState carries the initial zoom (-z, else the saved zoom) and the recent connections', async () => {
  const seen: SessionStatus[] = [];
  const recent = ['spice://a:5900', 'spice://b:5901'];
  const c = createSessionController({ config: await config(['-z', '150']), transport: refusing([]), clock: new FakeClock(), savedZoom: 80, recent: () => recent });
  c.on('status', (s) => seen.push(s));
  assert.equal(seen[0].app?.zoom, 150, '-z wins over the saved zoom');
  assert.deepEqual(seen[0].app?.recent, recent);
  const d = createSessionController({ config: await config([]), transport: refusing([]), clock: new FakeClock(), savedZoom: 80 });
  d.on('status', (s) => seen.push(s));
  assert.equal(seen[seen.length - 1].app?.zoom, 80, 'no -z: the saved zoom');
  assert.equal(seen[seen.length - 1].app?.recent, undefined);
  recent.unshift('spice://c:5902');
  c.connect('spice://127.0.0.1:5996');
  await turn();
  assert.deepEqual(seen[seen.length - 1].app?.recent?.[0], 'spice://c:5902', 'read again for each connect');
});

test('the address box: options and file names get a clear CONFIG error, a bad URI never shows its password', async () => {
  const seen: SessionStatus[] = [];
  const c = createSessionController({ transport: refusing([]) });
  c.on('status', (s) => seen.push(s));
  c.connect('--version');
  let last = seen[seen.length - 1];
  assert.equal(last.state, 'disconnected');
  assert.equal(last.code, 'CONFIG');
  assert.match(last.message, /^not a SPICE address: "--version"; type spice:\/\/HOST:PORT/);
  c.connect('connection.vv');
  assert.match(seen[seen.length - 1].message, /^not a SPICE address: "connection\.vv"/);
  for (const uri of ['spice://127.0.0.1:99999?password=hunter2', 'spice://[::1?password=hunter2', 'spice://h?port=x&password=hunter2;tls-port=1']) {
    c.connect(uri, 'typed-secret');
    last = seen[seen.length - 1];
    assert.equal(last.state, 'disconnected', uri);
    assert.equal(last.code, 'CONFIG', uri);
    const shown = JSON.stringify(last);
    assert.ok(!shown.includes('hunter2') && !shown.includes('typed-secret'), `${uri}: ${last.message}`);
    assert.match(last.message, /password=\*\*\*("|$|;)/, uri);
  }
});

test('a unix-socket session names its socket, not localhost:0', async () => {
  const dials: Dial[] = [];
  const seen: SessionStatus[] = [];
  const c = createSessionController({ transport: refusing(dials) });
  c.on('status', (s) => seen.push(s));
  c.connect('spice+unix:///run/vm/spice.sock');
  await turn();
  assert.equal(dials.length, 1);
  const texts = seen.map((s) => s.message).join('\n');
  assert.match(texts, /connecting to \/run\/vm\/spice\.sock/);
  assert.doesNotMatch(texts, /localhost:0/);
});

test('window requests: a menu command reaches the page as an event; a .vv from the page is dialled (its target, not the launch one) or answered with CONFIG; send keys need a session', async () => {
  const clock = new FakeClock();
  const dials: Dial[] = [];
  const c = createSessionController({ config: await config([]), transport: refusing(dials), clock, appVersion: '4.5.6' });
  const commands: string[] = [];
  const seen: SessionStatus[] = [];
  c.on('command', (id) => commands.push(id));
  c.on('status', (s) => seen.push(s));
  c.runCommand('connect');
  assert.deepEqual(commands, ['connect']);
  // no session: nothing to send to, nothing thrown
  c.sendScancodes([0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5]);

  c.openVv(new TextEncoder().encode('[virt-viewer]\ntype=spice\nhost=127.0.0.1\nport=5988\npassword=pw\n'));
  await turn(20);
  assert.deepEqual(dials.map((d) => `${d.host}:${d.port}`), ['127.0.0.1:5988']);
  assert.equal(seen.at(-1)?.state, 'disconnected');
  assert.equal(seen.at(-1)?.app?.target, 'spice://127.0.0.1:5988');

  c.openVv(new TextEncoder().encode('[virt-viewer]\ntype=vnc\nhost=127.0.0.1\nport=5900\n'));
  await turn(20);
  assert.equal(dials.length, 1, 'a bad file dials nothing');
  assert.equal(seen.at(-1)?.code, 'CONFIG');
  assert.equal(seen.at(-1)?.state, 'disconnected');
  assert.match(seen.at(-1)?.message ?? '', /vnc/i);
  assert.equal(seen.at(-1)?.app?.diagnosis?.step, 'parse');
  c.close();
});
