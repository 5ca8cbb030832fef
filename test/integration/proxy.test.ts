// HTTP CONNECT proxy transport against a real QEMU 7.2 through the test proxy
// (test/helpers/connect-proxy.ts, 127.0.0.1 only): plain and TLS sessions,
// Basic credentials, a ?token= path in the proxy URL, 407 → ProxyAuthRequired,
// refusals with the status line, an https:// proxy, bytes that arrive in
// the same segment as the CONNECT answer, and a Proxmox .vv (ticket host)
// through a proxy that applies PVE's own check to Host:
// (test/helpers/pve-spiceproxy.ts).
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { QemuVm, freePort } from '../harness/qemu';
import { certDir, hostSubjectOf, makeCa, makeServerCert, x509Dir, type TestCa, type ServerCert } from '../helpers/certs';
import { startConnectProxy, type ConnectProxy } from '../helpers/connect-proxy';
import { connectFails, serverChannels } from '../helpers/session-checks';
import { Session } from '../../main/spice/session';
import type { Endpoint, TransportFactory } from '../../main/spice/transport';
import { createTransportFactory, defaultTransportFactory, isProxyAuthRequired, ProxyAuthRequired } from '../../main/transport/index';
import { connectTcpViaProxy } from '../../main/transport/proxy';
import { parseProxyUri } from '../../main/config/vv';
import { readVvFile } from '../../main/config/vv-file';
import { parseCommandLine, type CliOptions } from '../../main/config/cli';
import { resolveConfig } from '../../main/config/effective';
import { endpointFromConfig } from '../../main/config/endpoint';
import { PVE_CONNECT_RE, startPveSpiceProxy, type PveSpiceProxy } from '../helpers/pve-spiceproxy';

const test = (name: string, fn: () => unknown): void => void nodeTest(name, { timeout: 60_000 }, fn as any);

const PASSWORD = 'proxy-pw';
const SUBJECT = '/C=IL/L=Raanana/O=Red Hat/CN=my server';

let dir: string;
let ca: TestCa;
let server: ServerCert;
let vm: QemuVm;
let tlsPort: number;
const proxies: (ConnectProxy | PveSpiceProxy)[] = [];
const sessions: Session[] = [];

before(async () => {
  dir = certDir('spice-proxy-');
  ca = await makeCa(dir);
  server = await makeServerCert(ca, 'server', SUBJECT, ['IP:127.0.0.1', 'DNS:localhost']);
  tlsPort = await freePort();
  vm = await QemuVm.start({ name: 'proxy', password: PASSWORD, spiceExtra: `tls-port=${tlsPort},x509-dir=${x509Dir(ca, server)}` });
});

after(async () => {
  for (const s of sessions) s.disconnect();
  await Promise.all(proxies.map((p) => p.close()));
  await vm?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

async function proxy(opts: Parameters<typeof startConnectProxy>[0] = {}): Promise<ConnectProxy> {
  const p = await startConnectProxy(opts);
  proxies.push(p);
  return p;
}

function session(endpoint: Endpoint, transport: TransportFactory = defaultTransportFactory): Session {
  const s = new Session({ endpoint, password: PASSWORD, transport });
  sessions.push(s);
  return s;
}

async function serverTls(s: Session): Promise<boolean[]> {
  return (await serverChannels(vm, s)).map((c) => c.tls);
}

test('plain session through an open proxy: one CONNECT per channel, all to the SPICE port', async () => {
  const p = await proxy();
  const s = session({ host: '127.0.0.1', port: vm.spicePort, proxy: parseProxyUri(p.url()) });
  await s.connect();
  assert.deepEqual(s.channels().map((c) => c.name).sort(), ['cursor 0', 'display 0', 'inputs 0', 'main']);
  assert.equal(p.log.length, 4);
  for (const e of p.log) {
    assert.equal(e.method, 'CONNECT');
    assert.equal(e.target, `127.0.0.1:${vm.spicePort}`);
    assert.equal(e.headers.host, `127.0.0.1:${vm.spicePort}`);
    assert.equal(e.credentials, undefined);
    assert.equal(e.status, 200);
  }
  assert.deepEqual(await serverTls(s), [false, false, false, false]);
  s.disconnect();
});

test('Basic credentials and a ?token= path in the proxy URL: credentials sent, path not part of the CONNECT target', async () => {
  const p = await proxy({ auth: { user: 'alice', pass: 'p@ss:w0rd' } });
  const s = session({ host: '127.0.0.1', port: vm.spicePort, proxy: parseProxyUri(p.url('alice:p%40ss%3Aw0rd', '/?token=abc')) });
  await s.connect();
  assert.equal(s.state, 'connected');
  assert.equal(p.log.length, 4);
  for (const e of p.log) {
    assert.equal(e.credentials, 'alice:p@ss:w0rd');
    assert.equal(e.target, `127.0.0.1:${vm.spicePort}`);
    assert.equal(e.status, 200);
  }
  s.disconnect();
});

test('proxy needing credentials, none given: ProxyAuthRequired (PROXY_AUTH, not a SPICE password failure)', async () => {
  const p = await proxy({ auth: { user: 'alice', pass: 'secret' } });
  const e = await connectFails(session({ host: '127.0.0.1', port: vm.spicePort, proxy: parseProxyUri(p.url()) }));
  assert.ok(isProxyAuthRequired(e));
  assert.ok(e instanceof ProxyAuthRequired);
  assert.equal(e.code, 'PROXY_AUTH');
  assert.equal(e.linkError, undefined);
  assert.equal(e.message, `proxy 127.0.0.1:${p.port}: authentication required (407)`);
  assert.equal(e.credentialsSent, false);
  assert.equal(e.realm, 'spice-test');
  assert.deepEqual(p.log.map((l) => l.status), [407]);
});

test('proxy with wrong credentials: ProxyAuthRequired saying they were rejected', async () => {
  const p = await proxy({ auth: { user: 'alice', pass: 'secret' } });
  const e = await connectFails(session({ host: '127.0.0.1', port: vm.spicePort, proxy: parseProxyUri(p.url('alice:wrong')) }));
  assert.ok(isProxyAuthRequired(e));
  assert.equal(e.message, `proxy 127.0.0.1:${p.port}: authentication required (407): the credentials for 'alice' were rejected`);
  assert.equal(e.credentialsSent, true);
  assert.equal(p.log[0].credentials, 'alice:wrong');
});

test('TLS session through the proxy: CONNECT to the TLS port, every channel TLS on the server', async () => {
  const p = await proxy();
  const s = session({ host: '127.0.0.1', port: 0, tlsPort, tls: { ca: ca.pem, hostSubject: hostSubjectOf(SUBJECT) }, proxy: parseProxyUri(p.url()) });
  await s.connect();
  assert.deepEqual(await serverTls(s), [true, true, true, true]);
  assert.deepEqual(new Set(p.log.map((e) => e.target)), new Set([`127.0.0.1:${tlsPort}`]));
  s.disconnect();
});

test('https:// proxy (TLS to the proxy, its CA given to the factory), mixed plain/TLS channels inside', async () => {
  const proxyCert = await makeServerCert(ca, 'proxy', '/CN=test proxy', ['IP:127.0.0.1']);
  const p = await proxy({ tls: { cert: proxyCert.certPem, key: proxyCert.keyPem } });
  const ep: Endpoint = { host: '127.0.0.1', port: vm.spicePort, tlsPort, tls: { ca: ca.pem }, secureChannels: [1], proxy: parseProxyUri(p.url()) };
  const s = session(ep, createTransportFactory({ proxyCa: ca.pem }));
  await s.connect();
  assert.equal(p.log.length, 4);
  assert.deepEqual(p.log.map((e) => e.target).sort(), [`127.0.0.1:${tlsPort}`, ...Array(3).fill(`127.0.0.1:${vm.spicePort}`)].sort());
  assert.deepEqual((await serverTls(s)).sort(), [false, false, false, true]);
  s.disconnect();
  // the proxy's certificate is checked too: unknown to the system CAs
  const e = await connectFails(session(ep));
  assert.equal(e.code, 'TRANSPORT');
  assert.match(e.message, new RegExp(`^proxy 127\\.0\\.0\\.1:${p.port}: TLS to the proxy failed: `));
});

test('proxy refusing the CONNECT: the error carries the status line', async () => {
  const p = await proxy({ refuse: 403 });
  const e = await connectFails(session({ host: '127.0.0.1', port: vm.spicePort, proxy: parseProxyUri(p.url()) }));
  assert.equal(e.code, 'TRANSPORT');
  assert.equal(e.message, `proxy 127.0.0.1:${p.port}: CONNECT 127.0.0.1:${vm.spicePort} refused: HTTP/1.1 403 Refused by test proxy`);
});

test('proxy not listening: cannot connect, naming the proxy', async () => {
  const port = await freePort();
  const e = await connectFails(session({ host: '127.0.0.1', port: vm.spicePort, proxy: parseProxyUri(`http://127.0.0.1:${port}`) }));
  assert.equal(e.code, 'TRANSPORT');
  assert.match(e.message, new RegExp(`^proxy 127\\.0\\.0\\.1:${port}: cannot connect: .*ECONNREFUSED`));
});

test('bytes in the same segment as the CONNECT answer reach the transport', async () => {
  // a server that speaks first, behind a proxy that coalesces its 200 answer with those bytes
  const greet = Buffer.from('HELLO-FROM-SERVER\x00\x01\x02');
  const srv = net.createServer((c) => c.on('error', () => {}).end(greet));
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  try {
    const p = await proxy({ coalesce: true });
    const t = await connectTcpViaProxy({ host: '127.0.0.1', port: (srv.address() as net.AddressInfo).port, proxy: parseProxyUri(p.url()) });
    assert.match(t.description, /^tcp 127\.0\.0\.1:\d+ via proxy 127\.0\.0\.1:\d+$/);
    // attach late: nothing may be dropped meanwhile
    await new Promise((r) => setTimeout(r, 100));
    const got: Buffer[] = [];
    const closed = new Promise<void>((r) => (t.onClose = () => r()));
    t.onData = (d) => got.push(Buffer.from(d));
    await closed;
    assert.deepEqual(Buffer.concat(got), greet);
  } finally {
    await new Promise((r) => srv.close(r));
  }
});

/** A Proxmox-style .vv (spice_proxy ticket as host, TLS only, CA inline, host-subject) → Endpoint, as a user opens it. */
async function pveEndpoint(pve: PveSpiceProxy, ticket: string): Promise<Endpoint> {
  const file = path.join(dir, `pve-${pve.log.length}.vv`);
  fs.writeFileSync(
    file,
    [
      '[virt-viewer]',
      'type=spice',
      `host=${ticket}`,
      `tls-port=${tlsPort}`,
      `password=${PASSWORD}`,
      `proxy=http://127.0.0.1:${pve.port}`,
      `ca=${ca.pem.replace(/\n/g, '\\n')}`,
      `host-subject=${hostSubjectOf(SUBJECT)}`,
      'secure-attention=ctrl+alt+ins',
      'toggle-fullscreen=shift+f11',
      'release-cursor=ctrl+alt+r',
      'delete-this-file=1',
      '',
    ].join('\n'),
  );
  const read = await readVvFile(file, {});
  const { endpoint, password } = await endpointFromConfig(resolveConfig(parseCommandLine([file]) as CliOptions, { vv: read.config, env: {} }));
  assert.equal(password, PASSWORD);
  return endpoint;
}

test('Proxmox .vv: the ticket host goes verbatim in CONNECT and Host:, PVE\'s check passes, every channel is TLS', async () => {
  const pve = await startPveSpiceProxy();
  proxies.push(pve);
  const ticket = pve.issue(100, 'node1');
  const s = session(await pveEndpoint(pve, ticket));
  await s.connect();
  assert.ok(pve.log.length >= 2, 'one CONNECT per channel');
  for (const e of pve.log) {
    assert.equal(e.requestLine, `CONNECT ${ticket}:${tlsPort} HTTP/1.1`);
    assert.equal(e.host, `${ticket}:${tlsPort}`);
    assert.match(e.host ?? '', PVE_CONNECT_RE);
    assert.equal(e.status, 200);
  }
  const onServer = await serverTls(s);
  assert.equal(onServer.length, s.channels().length);
  assert.ok(onServer.every(Boolean), 'every channel TLS on the server');
});

test('Proxmox: an expired ticket gets 401 invalid ticket, and the error says so (not "check the proxy address")', async () => {
  const pve = await startPveSpiceProxy();
  proxies.push(pve);
  const ticket = pve.issue(100, 'node1');
  const endpoint = await pveEndpoint(pve, ticket);
  pve.expire(ticket);
  const e = await connectFails(session(endpoint));
  assert.equal(pve.log[0].status, 401);
  assert.equal(e.code, 'TRANSPORT');
  assert.equal(
    e.message,
    `proxy 127.0.0.1:${pve.port}: the ticket in the connection's host was refused (HTTP/1.1 401 invalid ticket): ${JSON.stringify(`${ticket}:${tlsPort}`.slice(0, 120))} ` +
      'has expired (Proxmox tickets live about 40 s: download a fresh .vv file and open it at once) or was changed on the way',
  );
  // the bracketed form we used to send fails PVE's check whatever the ticket's age
  assert.ok(!PVE_CONNECT_RE.test(`[${ticket}]:${tlsPort}`));
});
