// WebSocket proxies in front of SPICE, as brokers deploy them: Debian's
// websockify (TokenFile plugin: the target is chosen by ?token= in the
// request path) in front of a real QEMU 7.2, over ws:// and over wss:// with a
// private CA (openssl-made) and a host-subject. The path and query of the URI
// must reach the proxy, and wss must check the peer like TLS does.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { QemuVm, freePort } from '../harness/qemu';
import { connectFails, serverChannels } from '../helpers/session-checks';
import { certDir, hostSubjectOf, makeCa, makeServerCert, type ServerCert, type TestCa } from '../helpers/certs';
import { Session } from '../../main/spice/session';
import type { Endpoint } from '../../main/spice/transport';
import { defaultTransportFactory } from '../../main/transport/index';
import { connectTargetToEndpoint, parseConnectUri } from '../../main/config/uri';
import { parseCommandLine, type CliOptions } from '../../main/config/cli';
import { resolveConfig } from '../../main/config/effective';
import { endpointFromConfig } from '../../main/config/endpoint';

const test = (name: string, fn: () => unknown): void => void nodeTest(name, { timeout: 60_000 }, fn as any);

const PASSWORD = 'ws-pw';
const SUBJECT = '/C=IL/L=Raanana/O=Red Hat/CN=ws gateway';
const TOKEN = 'vm-7f3a';

let dir: string;
let ca: TestCa;
let gw: ServerCert;
let vm: QemuVm;
let wsPort: number;
let wssPort: number;
const procs: ChildProcess[] = [];
const sessions: Session[] = [];

/** Resolves once something accepts TCP connections on 127.0.0.1:port (deadline 15 s). */
async function listening(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`websockify exited (${proc.exitCode}): ${log()}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) return;
    if (Date.now() > deadline) throw new Error(`websockify did not listen on ${port}: ${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function websockify(port: number, extra: string[]): Promise<void> {
  const tokens = path.join(dir, 'tokens');
  const p = spawn('websockify', ['--token-plugin', 'TokenFile', '--token-source', tokens, ...extra, `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(p);
  let out = '';
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await listening(port, p, () => out);
}

before(async () => {
  dir = certDir('spice-ws-');
  ca = await makeCa(dir);
  gw = await makeServerCert(ca, 'gateway', SUBJECT, ['IP:127.0.0.1']);
  vm = await QemuVm.start({ name: 'ws', password: PASSWORD });
  fs.writeFileSync(path.join(dir, 'tokens'), `${TOKEN}: 127.0.0.1:${vm.spicePort}\n`);
  wsPort = await freePort();
  wssPort = await freePort();
  await websockify(wsPort, []);
  await websockify(wssPort, ['--ssl-only', '--cert', gw.certPath, '--key', gw.keyPath]);
});

after(async () => {
  for (const s of sessions) s.disconnect();
  for (const p of procs) p.kill();
  await vm?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function session(endpoint: Endpoint, password = PASSWORD): Session {
  const s = new Session({ endpoint, password, transport: defaultTransportFactory });
  sessions.push(s);
  return s;
}

test('ws:// with a path and ?token= reaches QEMU through websockify; the SPICE password= stays ours', async () => {
  const { endpoint, password } = connectTargetToEndpoint(parseConnectUri(`ws://127.0.0.1:${wsPort}/websockify?token=${TOKEN}&password=${PASSWORD}`));
  assert.equal(endpoint.path, `/websockify?token=${TOKEN}`);
  const s = session(endpoint, password);
  await s.connect();
  assert.equal(s.state, 'connected');
  assert.ok(s.channels().length >= 2);
  assert.equal((await serverChannels(vm, s)).length, s.channels().length, 'every channel is its own WebSocket to the same VM');
  s.disconnect();
});

test('ws:// without the token: websockify has no target, the error names the URL without its query', async () => {
  const e = await connectFails(session(connectTargetToEndpoint(parseConnectUri(`ws://127.0.0.1:${wsPort}/websockify?token=nope`)).endpoint));
  assert.equal(e.code, 'TRANSPORT');
  assert.match(e.message, new RegExp(`^cannot open ws://127\\.0\\.0\\.1:${wsPort}/websockify: `));
  assert.ok(!e.message.includes('nope'), 'the token is not echoed');
});

test('wss:// with the private CA (--spice-ca-file) and host-subject: connected, through the config path a user takes', async () => {
  const cli = parseCommandLine(['--spice-ca-file', ca.certPath, '--spice-host-subject', hostSubjectOf(SUBJECT), `wss://127.0.0.1:${wssPort}/?token=${TOKEN}`]) as CliOptions;
  const { endpoint } = await endpointFromConfig(resolveConfig(cli, { env: {} }));
  assert.deepEqual(endpoint, { host: '127.0.0.1', port: wssPort, scheme: 'wss', path: `/?token=${TOKEN}`, tls: { ca: ca.pem, hostSubject: hostSubjectOf(SUBJECT) } });
  const s = session(endpoint);
  await s.connect();
  assert.equal(s.state, 'connected');
  assert.ok(s.channels().length >= 2);
  s.disconnect();
});

test('wss:// checks the peer: unknown CA, wrong host-subject, and (no host-subject) the address against the altnames', async () => {
  const base: Endpoint = { host: '127.0.0.1', port: wssPort, scheme: 'wss', path: `/?token=${TOKEN}` };
  const noCa = await connectFails(session(base));
  assert.match(noCa.message, /^TLS: certificate of wss:\/\/127\.0\.0\.1:\d+\/ is signed by an unknown CA/);
  const wrong = await connectFails(session({ ...base, tls: { ca: ca.pem, hostSubject: 'CN=someone else' } }));
  assert.equal(wrong.message, `TLS: certificate subject '${hostSubjectOf(SUBJECT)}' does not match host-subject 'CN=someone else'`);
  // no host-subject: the hostname check applies (IP:127.0.0.1 in the certificate)
  const s = session({ ...base, tls: { ca: ca.pem } });
  await s.connect();
  assert.equal(s.state, 'connected');
  s.disconnect();
});
