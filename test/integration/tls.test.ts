// TLS against a real QEMU 7.2 / spice-server 0.15.1 (certificates made with
// openssl at test time): inline CA, host-subject, hostname checks,
// secure-channels per channel (proved with QMP query-spice `tls`), the
// server's NEED_SECURED answer (QEMU tls-channel=) and a .vv file round trip
// through main/config. Name-matching corner cases run against local node:tls
// servers with purpose-made certificates.
import { test as nodeTest, before, after, afterEach } from 'node:test';
const test = (name: string, fn: () => unknown): void => void nodeTest(name, { timeout: 60_000 }, fn as any);
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { QemuVm, freePort } from '../harness/qemu';
import { certDir, hostSubjectOf, makeCa, makeServerCert, x509Dir, type ServerCert, type TestCa } from '../helpers/certs';
import { Session } from '../../main/spice/session';
import type { Endpoint, Dial } from '../../main/spice/transport';
import { defaultTransportFactory } from '../../main/transport/index';
import { connectTls, hostnameMatches, parseHostSubject } from '../../main/transport/tls';
import { Channel } from '../../main/spice/protocol/enums';
import type { SpiceError } from '../../main/spice/wire/errors';
import { parseVvFile } from '../../main/config/vv';
import { parseCommandLine, type CliOptions } from '../../main/config/cli';
import { resolveConfig } from '../../main/config/effective';
import { endpointFromConfig } from '../../main/config/endpoint';
import { connectFails, serverChannels } from '../helpers/session-checks';

const PASSWORD = 'tls-pw';
const SUBJECT = '/C=IL/L=Raanana/O=Red Hat/CN=my server';

let dir: string;
let ca: TestCa;
let otherCa: TestCa;
let server: ServerCert;
/** port + tls-port, every channel allowed on both */
let vm: QemuVm;
let tlsPort: number;
/** tls-channel=main,tls-channel=inputs: the server refuses those on the plain port */
let vmSecured: QemuVm;
let securedTlsPort: number;
const sessions: Session[] = [];

before(async () => {
  dir = certDir('spice-tls-');
  ca = await makeCa(dir);
  otherCa = await makeCa(dir, 'other-ca', '/C=FR/O=Somebody Else/CN=Other CA');
  server = await makeServerCert(ca, 'server', SUBJECT, ['IP:127.0.0.1', 'DNS:localhost']);
  const x509 = x509Dir(ca, server);
  tlsPort = await freePort();
  securedTlsPort = await freePort();
  [vm, vmSecured] = await Promise.all([
    QemuVm.start({ name: 'tls', password: PASSWORD, spiceExtra: `tls-port=${tlsPort},x509-dir=${x509}` }),
    QemuVm.start({ name: 'tls-secured', password: PASSWORD, spiceExtra: `tls-port=${securedTlsPort},x509-dir=${x509},tls-channel=main,tls-channel=inputs` }),
  ]);
});

// A past flake: the first TLS QEMU stopped accepting midway (every later test ECONNREFUSED).
// Say whether QEMU itself was gone when a test ends.
afterEach(() => {
  for (const v of [vm, vmSecured]) if (v?.exitReason) console.log(`QEMU ${v.options.name} is gone: ${v.exitReason}`);
});

after(async () => {
  for (const s of sessions) s.disconnect();
  await Promise.all([vm?.stop(), vmSecured?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function session(endpoint: Endpoint, password = PASSWORD): Session {
  const s = new Session({ endpoint, password, transport: defaultTransportFactory });
  sessions.push(s);
  return s;
}

/** channel type → tls flag of this session's channels, as the server reports them (waits until all are listed). */
async function serverTls(v: QemuVm, s: Session): Promise<Map<number, boolean>> {
  return new Map((await serverChannels(v, s)).map((c) => [c['channel-type'], c.tls]));
}

const connectRejects = (endpoint: Endpoint): Promise<SpiceError> => connectFails(session(endpoint));

const tlsOnly = (tlsOpts: Endpoint['tls']): Endpoint => ({ host: '127.0.0.1', port: 0, tlsPort, tls: tlsOpts });

test('TLS-only endpoint with inline CA and host-subject: every channel is linked over TLS', async () => {
  const s = session(tlsOnly({ ca: ca.pem, hostSubject: 'C=IL, L=Raanana, O=Red Hat, CN=my server' }));
  await s.connect();
  assert.deepEqual(s.linkFailures, []);
  const names = s.channels().map((c) => c.name).sort();
  assert.deepEqual(names, ['cursor 0', 'display 0', 'inputs 0', 'main']);
  const flags = await serverTls(vm, s);
  assert.equal(flags.size, 4);
  for (const [type, isTls] of flags) assert.equal(isTls, true, `channel type ${type} over TLS`);
  assert.ok(s.channels().every((c) => c.connection?.secure), 'every channel recorded as encrypted');
  s.disconnect();
});

test('secureChannels "all" on an endpoint that also has a plain port: every channel over TLS', async () => {
  const s = session({ host: '127.0.0.1', port: vm.spicePort, tlsPort, tls: { ca: ca.pem }, secureChannels: 'all' });
  await s.connect();
  const flags = await serverTls(vm, s);
  assert.equal(flags.size, 4);
  assert.deepEqual([...flags.values()], [true, true, true, true]);
  s.disconnect();
});

test('secureChannels [MAIN, INPUTS]: exactly main and inputs over TLS, display and cursor plain', async () => {
  const s = session({ host: '127.0.0.1', port: vm.spicePort, tlsPort, tls: { ca: ca.pem }, secureChannels: [Channel.MAIN, Channel.INPUTS] });
  await s.connect();
  const flags = await serverTls(vm, s);
  assert.deepEqual(Object.fromEntries(flags), { [Channel.MAIN]: true, [Channel.INPUTS]: true, [Channel.DISPLAY]: false, [Channel.CURSOR]: false });
  // what Guest details shows: our own record of it agrees with the server's
  assert.deepEqual(s.channels().filter((c) => c.connection?.secure).map((c) => c.name).sort(), ['inputs 0', 'main']);
  s.disconnect();
});

test('no secure channels configured: everything plain (control for the two tests above)', async () => {
  const s = session({ host: '127.0.0.1', port: vm.spicePort, tlsPort, tls: { ca: ca.pem } });
  await s.connect();
  const flags = await serverTls(vm, s);
  assert.equal(flags.size, 4);
  assert.deepEqual([...flags.values()], [false, false, false, false]);
  s.disconnect();
});

test('server with tls-channel=main,inputs answers NEED_SECURED on the plain port: those channels are re-linked over TLS', async () => {
  const logs: string[] = [];
  const s = new Session({
    endpoint: { host: '127.0.0.1', port: vmSecured.spicePort, tlsPort: securedTlsPort, tls: { ca: ca.pem } },
    password: PASSWORD,
    transport: defaultTransportFactory,
    log: { debug() {}, info: (m) => logs.push(m), warn: (m) => logs.push(m) },
  });
  sessions.push(s);
  await s.connect();
  assert.deepEqual(s.linkFailures, []);
  const flags = await serverTls(vmSecured, s);
  assert.deepEqual(Object.fromEntries(flags), { [Channel.MAIN]: true, [Channel.INPUTS]: true, [Channel.DISPLAY]: false, [Channel.CURSOR]: false });
  assert.ok(logs.some((l) => /^main: server requires TLS; re-linking on port \d+/.test(l)), logs.join('\n'));
  assert.ok(logs.some((l) => /^inputs 0: server requires TLS/.test(l)), logs.join('\n'));
  s.disconnect();
});

test('NEED_SECURED without a TLS port in the endpoint fails with the reason', async () => {
  const e = await connectRejects({ host: '127.0.0.1', port: vmSecured.spicePort });
  assert.equal(e.code, 'LINK_ERROR');
  assert.match(e.message, /secur|TLS/i);
});




test('without host-subject the host is checked: 127.0.0.1 matches the IP subjectAltName', async () => {
  const s = session(tlsOnly({ ca: ca.pem }));
  await s.connect();
  assert.equal(s.state, 'connected');
  s.disconnect();
});

test('wrong password over TLS is AUTH_FAILED', async () => {
  const s = new Session({ endpoint: tlsOnly({ ca: ca.pem }), password: 'nope', transport: defaultTransportFactory });
  sessions.push(s);
  await assert.rejects(s.connect(), { code: 'AUTH_FAILED' });
});

test('.vv file with inline CA (\\n escapes), host-subject, secure-channels → main/config → TLS session', async () => {
  const caEscaped = ca.pem.trim().replace(/\n/g, '\\n');
  const vvPath = path.join(dir, 'tls.vv');
  fs.writeFileSync(vvPath, [
    '[virt-viewer]', 'type=spice', 'host=127.0.0.1', `port=${vm.spicePort}`, `tls-port=${tlsPort}`, `password=${PASSWORD}`,
    `ca=${caEscaped}`, 'host-subject=C=IL, L=Raanana, O=Red Hat, CN=my server', 'secure-channels=main;inputs', '',
  ].join('\n'));
  const vv = parseVvFile(fs.readFileSync(vvPath, 'utf8'));
  assert.equal(vv.ca, ca.pem.trim());
  const cli = parseCommandLine([vvPath]) as CliOptions;
  const cfg = resolveConfig(cli, { vv, env: {} });
  const { endpoint, password } = await endpointFromConfig(cfg);
  assert.deepEqual({ ...endpoint, tls: { ...endpoint.tls, ca: '…' } }, {
    host: '127.0.0.1', port: vm.spicePort, scheme: 'tcp', tlsPort,
    tls: { ca: '…', hostSubject: 'C=IL, L=Raanana, O=Red Hat, CN=my server' },
    secureChannels: [Channel.MAIN, Channel.INPUTS],
  });
  assert.equal(endpoint.tls!.ca, ca.pem.trim());
  const s = session(endpoint, password);
  await s.connect();
  const flags = await serverTls(vm, s);
  assert.deepEqual(Object.fromEntries(flags), { [Channel.MAIN]: true, [Channel.INPUTS]: true, [Channel.DISPLAY]: false, [Channel.CURSOR]: false });
  // what Guest details shows: our own record of it agrees with the server's
  assert.deepEqual(s.channels().filter((c) => c.connection?.secure).map((c) => c.name).sort(), ['inputs 0', 'main']);
  s.disconnect();
});

// ------------------------------------------------- local node:tls servers

async function localServer(cert: ServerCert, host = '127.0.0.1'): Promise<{ port: number; close: () => Promise<void> }> {
  const srv = tls.createServer({ cert: cert.certPem, key: cert.keyPem }, (s) => s.on('error', () => {}).end());
  await new Promise<void>((r) => srv.listen(0, host, () => r()));
  return { port: (srv.address() as net.AddressInfo).port, close: () => new Promise((r) => srv.close(() => r())) };
}

test('hostname check: DNS/IP subjectAltNames, CN only when there are none (spice-common verify_hostname)', async () => {
  const dnsOnly = await makeServerCert(ca, 'dns-only', '/CN=127.0.0.1', ['DNS:other.example']);
  const cnOnly = await makeServerCert(ca, 'cn-only', '/O=Acme, Inc/CN=127.0.0.1', []);
  const v6 = await makeServerCert(ca, 'v6', '/CN=v6', ['IP:::1']);
  const v4 = await makeServerCert(ca, 'v4', '/CN=v4', ['IP:127.0.0.1', 'DNS:*.example']);
  const d = (port: number, host = '127.0.0.1', hostSubject?: string): Dial => ({ host, port, secure: true, tls: { ca: ca.pem, ...(hostSubject ? { hostSubject } : {}) } });

  let srv = await localServer(dnsOnly);
  // a DNS altname exists, so the CN (which would match) is not consulted
  await assert.rejects(connectTls(d(srv.port)), { code: 'TRANSPORT', message: 'TLS: hostname 127.0.0.1 does not match certificate names [DNS:other.example]' });
  await srv.close();

  srv = await localServer(cnOnly);
  (await connectTls(d(srv.port))).close(); // no altnames: CN 127.0.0.1 matches (node's own check would refuse this)
  assert.ok(tls.checkServerIdentity('127.0.0.1', { subject: { CN: '127.0.0.1' } } as any) instanceof Error);
  (await connectTls(d(srv.port, '127.0.0.1', 'O=Acme\\, Inc,CN=127.0.0.1'))).close(); // escaped comma in a value
  await assert.rejects(connectTls(d(srv.port, '127.0.0.1', 'O=Acme,CN=127.0.0.1')), { message: "TLS: certificate subject 'O=Acme\\, Inc,CN=127.0.0.1' does not match host-subject 'O=Acme,CN=127.0.0.1'" });
  await srv.close();

  srv = await localServer(v6, '::1');
  (await connectTls(d(srv.port, '::1'))).close();
  await srv.close();

  srv = await localServer(v4, '::1');
  await assert.rejects(connectTls(d(srv.port, '::1')), { message: 'TLS: hostname ::1 does not match certificate names [DNS:*.example, IP:127.0.0.1]' });
  await srv.close();
});

test('ciphers pass through: an impossible list fails before connecting', async () => {
  await assert.rejects(connectTls({ host: '127.0.0.1', port: tlsPort, secure: true, tls: { ca: ca.pem, ciphers: 'NO-SUCH-CIPHER' } }), { code: 'CONFIG', message: /^TLS: tls-ciphers 'NO-SUCH-CIPHER': / });
  const t = await connectTls({ host: '127.0.0.1', port: tlsPort, secure: true, tls: { ca: ca.pem, ciphers: 'ECDHE-RSA-AES256-GCM-SHA384:TLS_AES_256_GCM_SHA384' } });
  t.close();
});

test('wildcard rules of _gnutls_hostname_compare', () => {
  const cases: [string, string, boolean][] = [
    ['*.example.com', 'a.example.com', true],
    ['*.example.com', 'A.EXAMPLE.COM', true],
    ['*.example.com', 'a.b.example.com', false],
    ['*.example.com', 'example.com', false],
    ['f*.example.com', 'foo.example.com', true],
    ['f*o*.example.com', 'fxoy.example.com', true],
    ['*', 'localhost', true],
    ['*', 'a.b', false],
    ['host\0.evil', 'host', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
  ];
  for (const [pattern, host, want] of cases) assert.equal(hostnameMatches(pattern, host), want, `${JSON.stringify(pattern)} vs ${host}`);
});

test('host-subject syntax (subject_to_x509_name)', () => {
  assert.deepEqual(parseHostSubject('C=IL, L=Raanana, O=Red Hat, CN=my server').map((e) => [e.key, e.value]),
    [['C', 'IL'], ['L', 'Raanana'], ['O', 'Red Hat'], ['CN', 'my server']]);
  assert.deepEqual(parseHostSubject('O=a\\,b\\\\c,CN=x,').map((e) => e.value), ['a,b\\c', 'x']);
  assert.deepEqual(parseHostSubject('2.5.4.3=x').map((e) => e.oid), ['2.5.4.3']);
  assert.deepEqual(parseHostSubject(''), []);
  for (const [bad, why] of [
    ['CN=', /'CN' has an empty value/], ['CN', /'CN' has no '=value'/], [',CN=x', /has no '=value'/],
    ['CN=a\\b', /only \\\\ and \\, may follow a backslash/], ['cn=x', /unknown attribute 'cn'/], ['C=ISR', /C must have at most 2 characters/],
    ['C =IL', /unknown attribute 'C '/],
  ] as const) {
    assert.throws(() => parseHostSubject(bad), (e: SpiceError) => e.code === 'CONFIG' && why.test(e.message), bad);
  }
});

test('endpointFromConfig: --spice-ca-file, the truststore fallback, secure-channels all, SPICE_PROXY, spice+tls', async () => {
  const cli = (args: string[]) => parseCommandLine(args) as CliOptions;
  // CA from --spice-ca-file, host-subject from the command line, TLS-only URI
  const a = await endpointFromConfig(resolveConfig(cli(['--spice-ca-file', ca.certPath, '--spice-host-subject', 'CN=x', '--spice-secure-channels', 'all', `spice+tls://127.0.0.1:${tlsPort}`]), { env: {} }));
  assert.deepEqual(a.endpoint, { host: '127.0.0.1', port: 0, scheme: 'tcp', tlsPort, tls: { ca: ca.pem, hostSubject: 'CN=x' }, secureChannels: 'all' });
  // a missing explicit CA file is an error; the ~/.spicec fallback silently means "system CAs"
  await assert.rejects(endpointFromConfig(resolveConfig(cli(['--spice-ca-file', path.join(dir, 'nope.pem'), 'spice://h:1']), { env: {} })), { code: 'CONFIG', message: /^cannot read the CA file / });
  const b = await endpointFromConfig(resolveConfig(cli([`spice://h:1?tls-port=2`]), { env: { HOME: path.join(dir, 'nohome'), SPICE_PROXY: 'http://u%20x:p@127.0.0.1:3128/?token=abc' } }));
  assert.deepEqual(b.endpoint, { host: 'h', port: 1, scheme: 'tcp', tlsPort: 2, tls: {}, proxy: { scheme: 'http', host: '127.0.0.1', port: 3128, username: 'u x', password: 'p' } });
  assert.deepEqual(b.disabledChannels, [Channel.SMARTCARD]); // smartcard is off unless asked for, as in remote-viewer
});

// Failed TLS handshakes last: on a busy host the server has once stopped answering on its
// TLS port after them, which must not take the tests above down with it.
test('wrong host-subject: the session fails naming both subjects', async () => {
  const e = await connectRejects(tlsOnly({ ca: ca.pem, hostSubject: 'C=IL,L=Raanana,O=Red Hat,CN=other server' }));
  assert.equal(e.code, 'TRANSPORT');
  assert.equal(e.message, "TLS: certificate subject 'C=IL,L=Raanana,O=Red Hat,CN=my server' does not match host-subject 'C=IL,L=Raanana,O=Red Hat,CN=other server'");
});

test('host-subject: order and count matter, case and whitespace in values do not (X509_NAME_cmp)', async () => {
  const dial = (hostSubject: string): Dial => ({ host: '127.0.0.1', port: tlsPort, secure: true, tls: { ca: ca.pem, hostSubject } });
  for (const ok of ['C=il,L=RAANANA,O=  Red   Hat ,CN=My Server', 'C=IL,L=Raanana,O=Red Hat,CN=my server,', '  countryName=IL,localityName=Raanana,organizationName=Red Hat,commonName=my server']) {
    const t = await connectTls(dial(ok));
    assert.equal(t.description, `tls 127.0.0.1:${tlsPort}`);
    t.close();
  }
  for (const bad of ['CN=my server,O=Red Hat,L=Raanana,C=IL', 'O=Red Hat,CN=my server', 'C=IL,L=Raanana,O=Red Hat,OU=x,CN=my server', 'C=IL,L=Raanana,O=RedHat,CN=my server']) {
    await assert.rejects(connectTls(dial(bad)), (e: SpiceError) => e.code === 'TRANSPORT' && e.message.includes(`does not match host-subject '${bad}'`));
  }
  await assert.rejects(connectTls(dial('cn=my server')), { code: 'CONFIG', message: /^TLS: host-subject 'cn=my server' is invalid: unknown attribute 'cn'/ });
});

test('certificate from an unknown CA: fails saying so (also with the system CAs)', async () => {
  const e = await connectRejects(tlsOnly({ ca: otherCa.pem, hostSubject: hostSubjectOf(SUBJECT) }));
  assert.equal(e.code, 'TRANSPORT');
  assert.match(e.message, new RegExp(`^TLS: certificate of 127\\.0\\.0\\.1:${tlsPort} is signed by an unknown CA \\((self-signed certificate in certificate chain|unable to get local issuer certificate)\\)`));
  const sys = await connectRejects(tlsOnly({}));
  assert.match(sys.message, /^TLS: certificate of .* is signed by an unknown CA/);
});
