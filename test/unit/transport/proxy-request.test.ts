// The CONNECT request text (Proxmox ticket hosts verbatim, IPv6 literals in
// brackets), host:port formatting. (That transport does not reach into config
// or app is an eslint rule: test/unit/lint-layers.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectRequest, ProxyAuthRequired } from '../../../main/transport/proxy';
import { hostPort } from '../../../main/transport/tcp';

const TICKET = 'pvespiceproxy:6565bd1a:100:node1::3f9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b';

test('a Proxmox ticket host goes verbatim into the request line and Host:, like remote-viewer', () => {
  const req = connectRequest({ scheme: 'http', host: 'pve1.example', port: 3128 }, TICKET, 61000);
  assert.equal(req, `CONNECT ${TICKET}:61000 HTTP/1.1\r\nHost: ${TICKET}:61000\r\nUser-Agent: spice-viewer\r\n\r\n`);
  // the Host: value passes Proxmox's own check (PVE verify_spice_connect_url)
  const host = /^Host: (.*)$/m.exec(req)![1].trimEnd();
  assert.match(host, /^pvespiceproxy:([a-z0-9]{8}):(\d+):(\S+)::([a-z0-9]{40}):(\d+)$/);
});

test('IPv6 literals (only they) are bracketed; credentials go as Basic', () => {
  assert.equal(
    connectRequest({ scheme: 'https', host: '::1', port: 8443, username: 'bob', password: 'pa:ss' }, '::1', 5900),
    `CONNECT [::1]:5900 HTTP/1.1\r\nHost: [::1]:5900\r\nUser-Agent: spice-viewer\r\nProxy-Authorization: Basic ${Buffer.from('bob:pa:ss').toString('base64')}\r\n\r\n`,
  );
  assert.equal(hostPort('2001:db8::1', 1), '[2001:db8::1]:1');
  assert.equal(hostPort('::ffff:127.0.0.1', 1), '[::ffff:127.0.0.1]:1');
  assert.equal(hostPort('127.0.0.1', 2), '127.0.0.1:2');
  assert.equal(hostPort('host.example', 3), 'host.example:3');
  assert.equal(hostPort(TICKET, 4), `${TICKET}:4`);
});

test('a proxy 407 has its own code, not AUTH_FAILED (a wrong SPICE password)', () => {
  const e = new ProxyAuthRequired('127.0.0.1:3128', true, 'alice', 'r');
  assert.equal(e.code, 'PROXY_AUTH');
  assert.equal(e.message, "proxy 127.0.0.1:3128: authentication required (407): the credentials for 'alice' were rejected");
});

test('CONNECT refuses a host that would end the request line (header injection)', () => {
  const p = { scheme: 'http' as const, host: 'proxy', port: 3128 };
  assert.throws(() => connectRequest(p, 'pvespiceproxy:x\r\nX-Injected: 1', 61000), /space or control character/);
  assert.throws(() => connectRequest(p, 'a b', 61000), /space or control character/);
});
