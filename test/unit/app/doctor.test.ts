// Connection doctor: a table of real engine/transport error texts → the step
// that failed; drop reasons for kiosk; the copy-report text (no password).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyDrop, diagnose, failedStep, redact, type ErrorLike } from '../../../main/app/doctor';

// [code, message, linkError?] → step. Messages as main/transport/*.ts, link.ts, connection.ts,
// session.ts and the config parsers produce them.
const TABLE: [string, string, number | undefined, string][] = [
  ['CONFIG', 'invalid port "99999" in "spice://h:99999" (expected 1-65535)', undefined, 'parse'],
  ['CONFIG', 'Invalid file /tmp/x.vv: line 3: port: 70000 is not a valid port (1-65535)', undefined, 'parse'],
  ['CONFIG', 'Invalid file /tmp/x.vv: line 9: proxy: bad proxy URL', undefined, 'parse'],
  ['CONFIG', 'unsupported: vnc:// (this viewer speaks SPICE only)', undefined, 'parse'],
  ['CONFIG', 'main: needs TLS but h has no TLS port configured (tls-port)', 5, 'tls'],
  ['TRANSPORT', 'cannot connect to nosuch.invalid:5900: getaddrinfo ENOTFOUND nosuch.invalid', undefined, 'dns'],
  ['TRANSPORT', 'cannot connect to vm:5900: getaddrinfo EAI_AGAIN vm', undefined, 'dns'],
  ['TRANSPORT', 'proxy 127.0.0.1:3128 answered 407 Proxy Authentication Required', undefined, 'proxy'],
  ['AUTH_FAILED', 'proxy 127.0.0.1:3128: authentication required (407)', undefined, 'proxy'],
  ['TRANSPORT', 'cannot connect to proxy 127.0.0.1:3128: connect ECONNREFUSED 127.0.0.1:3128', undefined, 'proxy'],
  ['TRANSPORT', 'cannot connect to 127.0.0.1:5999: connect ECONNREFUSED 127.0.0.1:5999', undefined, 'tcp'],
  ['TRANSPORT', 'cannot connect to 10.9.9.9:5900: timed out after 10000 ms', undefined, 'tcp'],
  ['TRANSPORT', 'cannot connect to 10.9.9.9:5900: connect EHOSTUNREACH 10.9.9.9:5900', undefined, 'tcp'],
  ['TRANSPORT', 'tls 127.0.0.1:5901: self-signed certificate in certificate chain', undefined, 'tls'],
  ['TRANSPORT', "main: Hostname/IP does not match certificate's altnames: IP: 10.0.0.1 is not in the cert's list", undefined, 'tls'],
  ['TRANSPORT', 'tls 127.0.0.1:5901: certificate subject "CN=a" does not match host-subject "CN=b"', undefined, 'tls'],
  ['TRANSPORT', "TLS: certificate of 127.0.0.1:5901 is signed by an unknown CA (self-signed certificate); give its CA with ca= / --spice-ca-file", undefined, 'tls'],
  ['TRANSPORT', 'TLS: hostname vm.example does not match certificate names [DNS:other.example]', undefined, 'tls'],
  ['TIMEOUT', 'TLS: no handshake with 127.0.0.1:5901 within 10000 ms', undefined, 'tls'],
  ['CONFIG', "TLS: host-subject 'CN' is invalid: no '='", undefined, 'tls'],
  ['TRANSPORT', 'cannot connect to 127.0.0.1:5901 (TLS port): connect ECONNREFUSED 127.0.0.1:5901', undefined, 'tcp'],
  ['TRANSPORT', 'proxy http://127.0.0.1:3128: CONNECT 127.0.0.1:5900 refused: HTTP/1.1 403 Forbidden', undefined, 'proxy'],
  ['TIMEOUT', 'proxy http://127.0.0.1:3128: no CONNECT answer within 10000 ms', undefined, 'proxy'],
  ['LIMIT', 'proxy http://p:3128: CONNECT answer header longer than 16384 bytes', undefined, 'proxy'],
  ['AUTH_FAILED', 'main: authentication failed (connection closed during auth)', 7, 'auth'],
  ['LINK_ERROR', 'main: permission denied', 7, 'auth'],
  ['LINK_ERROR', 'display 0: channel not available', 9, 'channel'],
  ['LINK_ERROR', 'main: the server requires a secured connection', 5, 'tls'],
  ['BAD_MAGIC', 'not a SPICE server: bad link magic 0x48545450', undefined, 'channel'],
  ['BAD_VERSION', 'server speaks SPICE protocol 1.0, this client 2.2', undefined, 'channel'],
  ['TIMEOUT', 'main: no link reply within 10000 ms', undefined, 'channel'],
  ['CLOSED', 'main: server closed the connection during link', undefined, 'channel'],
];

test('doctor: every error in the table lands on its step', () => {
  for (const [code, message, linkError, step] of TABLE) {
    const e: ErrorLike = { code, message, ...(linkError !== undefined ? { linkError } : {}) };
    assert.equal(failedStep(e), step, `${code}: ${message}`);
  }
});

test('doctor: failures after the session was up are "session" unless a transport step says otherwise', () => {
  assert.equal(failedStep({ code: 'CLOSED', message: 'display 0: server closed the connection' }, true), 'session');
  assert.equal(failedStep({ code: 'UNKNOWN_MESSAGE', message: 'unknown message type 999 on the main channel' }, true), 'session');
  assert.equal(failedStep({ code: 'UNKNOWN_MESSAGE', message: 'unknown message type 999 on the main channel' }, false), 'channel');
});

test('doctor: plain-words summaries', () => {
  const ctx = { target: 'spice://127.0.0.1:5999', appVersion: '0.1.0', failedAt: 0 };
  assert.match(diagnose({ code: 'TRANSPORT', message: 'cannot connect to 127.0.0.1:5999: connect ECONNREFUSED 127.0.0.1:5999' }, ctx).summary, /VM is stopped|Nothing accepts/);
  assert.match(diagnose({ code: 'AUTH_FAILED', message: 'x', linkError: 7 }, ctx).summary, /rejected the password/);
  assert.match(diagnose({ code: 'BAD_MAGIC', message: 'not a SPICE server' }, ctx).summary, /not a SPICE server/);
  assert.match(diagnose({ code: 'TRANSPORT', message: 'getaddrinfo ENOTFOUND x' }, ctx).summary, /host name could not be resolved/);
  assert.match(diagnose({ code: 'TRANSPORT', message: 'proxy answered 407' }, ctx).summary, /user name and password/);
  const ticket = diagnose({ code: 'TRANSPORT', message: 'proxy p:3128: the ticket in the connection\'s host was refused (HTTP/1.1 401 invalid ticket): "pvespiceproxy:…" has expired' }, ctx);
  assert.equal(ticket.step, 'proxy');
  assert.match(ticket.hint, /fresh connection file/);
  assert.match(diagnose({ code: 'PROXY_AUTH', message: 'proxy 127.0.0.1:3128: authentication required (407)' }, ctx).summary, /user name and password/);
});

test('doctor: the report has target, step, code, message, timestamps, version and channels — never the password', () => {
  const d = diagnose(
    { code: 'AUTH_FAILED', message: 'main: authentication failed; tried password hunter2', linkError: 7 },
    {
      target: 'spice://vm.example:5900?password=hunter2',
      appVersion: '9.8.7',
      startedAt: Date.UTC(2024, 0, 2, 3, 4, 5),
      failedAt: Date.UTC(2024, 0, 2, 3, 4, 6),
      channels: ['main'],
      linkFailures: [{ name: 'display 0', message: 'permission denied' }],
      secrets: ['hunter2'],
    },
  );
  assert.equal(d.step, 'auth');
  assert.equal(d.stepText, 'Authentication (password)');
  const r = d.report;
  assert.ok(!r.includes('hunter2'), r);
  assert.match(r, /^Target: spice:\/\/vm\.example:5900\?password=\*\*\*$/m);
  assert.match(r, /^Failed step: auth \(Authentication \(password\)\)$/m);
  assert.match(r, /^Error: AUTH_FAILED \(link error 7\): main: authentication failed; tried password \*\*\*$/m);
  assert.match(r, /^Started: 2024-01-02T03:04:05\.000Z$/m);
  assert.match(r, /^Failed: 2024-01-02T03:04:06\.000Z \(\+1000 ms\)$/m);
  assert.match(r, /^App: spice-viewer 9\.8\.7$/m);
  assert.match(r, /^Channels linked: main$/m);
  assert.match(r, /^Channels not linked: display 0 \(permission denied\)$/m);
  assert.equal(redact('spice://h?port=1&password=abc;tls-port=2'), 'spice://h?port=1&password=***;tls-port=2');
});

test('drop reasons: taken over vs VM stopped vs network vs auth', () => {
  const closed = { code: 'CLOSED', message: 'cursor 0: server closed the connection' };
  assert.equal(classifyDrop(closed, { wasConnected: true, serverReachable: true }), 'taken-over');
  assert.equal(classifyDrop(closed, { wasConnected: true, serverReachable: false }), 'vm-stopped');
  assert.equal(classifyDrop(closed, { wasConnected: true }), 'server-closed');
  assert.equal(classifyDrop({ code: 'TRANSPORT', message: 'cannot connect to h:1: connect ECONNREFUSED h:1' }, { wasConnected: false }), 'vm-stopped');
  assert.equal(classifyDrop({ code: 'TRANSPORT', message: 'main: read ECONNRESET' }, { wasConnected: true }), 'network');
  assert.equal(classifyDrop({ code: 'TIMEOUT', message: 'main: no link reply within 10000 ms' }, { wasConnected: false }), 'network');
  assert.equal(classifyDrop({ code: 'AUTH_FAILED', message: 'main: authentication failed', linkError: 7 }, { wasConnected: false }), 'auth');
  assert.equal(classifyDrop({ code: 'TRANSPORT', message: 'tls: self-signed certificate' }, { wasConnected: false }), 'config');
  assert.equal(classifyDrop({ code: 'UNKNOWN_MESSAGE', message: 'unknown message type 999' }, { wasConnected: true }), 'protocol');
});
