// The session controller's proxy prompt against a real QEMU 7.2 behind the
// test CONNECT proxy with Basic auth (test/helpers/connect-proxy.ts): the 407
// reaches the page as diagnosis step 'proxy' + proxyAuth, and the credentials
// the page sends (memory only) get the session up through the proxy.
import { test as nodeTest, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QemuVm } from '../harness/qemu';
import { startConnectProxy, type ConnectProxy } from '../helpers/connect-proxy';
import { planLaunch } from '../../main/app/launch';
import { createSessionController, type SessionController } from '../../main/app/session-controller';
import type { EffectiveConfig } from '../../main/config/effective';
import { defaultTransportFactory } from '../../main/transport/index';
import type { SessionStatus } from '../../preload/contract';

const test = (name: string, fn: () => unknown): void => void nodeTest(name, { timeout: 90_000 }, fn as any);

const PASSWORD = 'ctl-proxy-pw';
let vm: QemuVm;
let proxy: ConnectProxy;
let controller: SessionController | undefined;

before(async () => {
  vm = await QemuVm.start({ name: 'ctl-proxy', password: PASSWORD });
  proxy = await startConnectProxy({ auth: { user: 'viewer', pass: 's3cr:t' } });
});

after(async () => {
  controller?.close();
  await proxy?.close();
  await vm?.stop();
});

async function until(seen: SessionStatus[], pred: (s: SessionStatus) => boolean, what: string): Promise<SessionStatus> {
  for (let i = 0; i < 300; i++) {
    const hit = seen.find(pred);
    if (hit) return hit;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}; last: ${JSON.stringify(seen[seen.length - 1])}`);
}

test('407 → proxy prompt; the credentials from the page connect to QEMU through the proxy', async () => {
  const p = await planLaunch([], { env: { SPICE_PROXY: proxy.url() } });
  assert.equal(p.kind, 'run');
  const cfg = (p as { config: EffectiveConfig }).config;
  const c = (controller = createSessionController({ config: cfg, transport: defaultTransportFactory }));
  const seen: SessionStatus[] = [];
  c.on('status', (s) => seen.push(s));
  c.connect(`spice://127.0.0.1:${vm.spicePort}`, PASSWORD);
  const asked = await until(seen, (s) => !!s.app?.proxyAuth, 'the proxy prompt');
  assert.equal(asked.state, 'disconnected');
  assert.equal(asked.app?.diagnosis?.step, 'proxy');
  assert.deepEqual(asked.app?.proxyAuth, { proxy: `127.0.0.1:${proxy.port}`, rejected: false });
  assert.equal(proxy.log[0].status, 407);
  seen.length = 0;
  c.setProxyCredentials?.('viewer', 's3cr:t');
  const up = await until(seen, (s) => s.state === 'connected', 'the session through the proxy');
  assert.equal(up.app?.proxyAuth, undefined);
  assert.equal(up.app?.diagnosis, undefined);
  const tunnelled = proxy.log.filter((e) => e.status === 200);
  assert.ok(tunnelled.length >= 1);
  assert.ok(tunnelled.every((e) => e.credentials === 'viewer:s3cr:t' && e.target === `127.0.0.1:${vm.spicePort}`));
  const mine = ((await vm.querySpice()).channels as { 'connection-id': number }[]).filter((ch) => ch['connection-id'] >>> 0 === c.session()?.connectionId);
  assert.ok(mine.length >= 1, 'QEMU sees our channels');
});
