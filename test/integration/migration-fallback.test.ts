// Migration fallbacks against real QEMUs, each ending in a named state the UI
// shows: semi-seamless (source with seamless-migration=off) and
// migrate_cancel after BEGIN (client stays on the source, working).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMigratableVm, startDestination, migrate, migrateCancel, finishSource } from '../harness/migration';
import type { QemuVm } from '../harness/qemu';
import { DisplayState } from '../../renderer/display/display-state';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';
import type { MigrationStatus } from '../../preload/contract';
import { diffWithScreen, settle, sleep, type TestClient } from '../helpers/client';

const vms: QemuVm[] = [];
after(async () => {
  for (const vm of vms) await vm.stop();
});

function client(port: number, password?: string, transport = defaultTransportFactory) {
  const statuses: MigrationStatus[] = [];
  const display = new DisplayState();
  const c: TestClient = { display, kinds: new Map(), lastDisplayAt: Date.now(), commands: 0, errors: [], session: null as unknown as Session };
  c.session = new Session({
    endpoint: { host: '127.0.0.1', port },
    ...(password ? { password } : {}),
    transport,
    onDisplay: (_id, cmd) => {
      c.lastDisplayAt = Date.now();
      try {
        display.apply(cmd);
      } catch (e) {
        c.errors.push(e as Error);
      }
    },
    onMigration: (m) => statuses.push(m),
  });
  return { c, statuses };
}

async function outcome(statuses: MigrationStatus[], ms = 20000): Promise<MigrationStatus> {
  const t0 = Date.now();
  for (;;) {
    const s = statuses.find((m) => ['done', 'failed', 'cancelled'].includes(m.phase));
    if (s) return s;
    if (Date.now() - t0 > ms) throw new Error(`no migration outcome; phases seen: ${statuses.map((m) => m.phase).join(',')}`);
    await sleep(20);
  }
}

/** The client is still connected to vm and a key typed now reaches its guest (Linux keycode). */
async function keyReachesGuest(c: { session: { state: string; input(ev: { t: 'key'; scancode: number; down: boolean }): void } }, vm: QemuVm, scancode: number, keycode: number): Promise<void> {
  const from = vm.serialLines().length;
  c.session.input({ t: 'key', scancode, down: true });
  c.session.input({ t: 'key', scancode, down: false });
  await vm.waitForSerial(new RegExp(`GUEST KEY ${keycode} 1`), 5000, from);
  assert.equal(c.session.state, 'connected');
}

test('seamless-migration=off: semi-seamless, same connection id, display restored', async () => {
  const src = await startMigratableVm({ seamless: false, name: 'semi-src', warmUp: true });
  vms.push(src);
  const { c, statuses } = client(src.spicePort);
  await c.session.connect();
  await src.command('pattern 3', /GUEST OK pattern 3/); // a still picture the destination must redraw
  const id = c.session.connectionId;
  const dst = await startDestination(src, { name: 'semi-dst' });
  vms.push(dst);
  const res = await migrate(src, dst);
  const o = await outcome(statuses);
  assert.equal(o.mode, 'semi-seamless');
  assert.equal(o.phase, 'done', o.message);
  assert.deepEqual(res.dstConnectionIds.map((x) => x >>> 0), [id], 'same connection id on the destination');
  await finishSource(src);
  // the new server redraws everything from scratch (caches were reset): it must match
  await settle(c);
  const d = diffWithScreen(c, await dst.screendump());
  assert.equal(d.diff, 0, `display after semi-seamless: first difference ${d.first}`);
  assert.equal(c.session.state, 'connected');
  c.session.disconnect();
});

test('migrate_cancel after BEGIN: MIGRATE_CANCEL, the client stays on the source and keeps working', async () => {
  const src = await startMigratableVm({ name: 'cancel-src', maxBandwidth: 1024 * 1024, warmUp: true }); // slow: time to cancel
  vms.push(src);
  const { c, statuses } = client(src.spicePort);
  await c.session.connect();
  const dst = await startDestination(src, { name: 'cancel-dst' });
  vms.push(dst);
  await src.qmp.execute('client_migrate_info', { protocol: 'spice', hostname: '127.0.0.1', port: dst.spicePort });
  const t0 = Date.now();
  while (!statuses.some((m) => m.phase === 'migrating')) {
    if (Date.now() - t0 > 10000) assert.fail('client never reached the destination');
    await sleep(20);
  }
  const mark = src.qmp.events.length;
  await src.qmp.execute('migrate', { uri: dst.migration.incomingUri });
  // cancel while RAM is being copied (MIGRATION events are on for migratable VMs)
  await src.qmp.waitEvents('MIGRATION', 1, 10000, (ev) => ev.data?.status === 'active', mark);
  await migrateCancel(src);
  const o = await outcome(statuses);
  assert.equal(o.phase, 'cancelled', o.message);
  // still on the source and working
  await src.command('pattern 1', /GUEST OK pattern 1/);
  await settle(c);
  const d = diffWithScreen(c, await src.screendump());
  assert.equal(d.diff, 0, `display after cancel: first difference ${d.first}`);
  await keyReachesGuest(c, src, 0x1e, 30);
  c.session.disconnect();
});

test('destination unreachable: CONNECT_ERROR, failed state, the client stays on the source', async () => {
  const src = await startMigratableVm({ name: 'unreach-src' });
  vms.push(src);
  const { c, statuses } = client(src.spicePort);
  await c.session.connect();
  const dst = await startDestination(src, { name: 'unreach-dst' });
  const deadPort = dst.spicePort;
  await dst.stop(); // killed before the client could reach it
  await src.qmp.execute('client_migrate_info', { protocol: 'spice', hostname: '127.0.0.1', port: deadPort });
  const o = await outcome(statuses);
  assert.equal(o.phase, 'failed');
  assert.match(o.message, /cannot reach the destination.*staying on the source/);
  await keyReachesGuest(c, src, 0x30, 48);
  c.session.disconnect();
});

test('different password on the destination: CONNECT_ERROR, then switch-host fails with a clear message', async () => {
  const src = await startMigratableVm({ name: 'pw-src', password: 'source-pw' });
  vms.push(src);
  const { c, statuses } = client(src.spicePort, 'source-pw');
  await c.session.connect();
  const dst = await startDestination(src, { name: 'pw-dst', dstPassword: 'other-pw' });
  vms.push(dst);
  await migrate(src, dst, { waitForClient: false });
  const t0 = Date.now();
  while (c.session.state !== 'disconnected') {
    if (Date.now() - t0 > 20000) assert.fail(`session still ${c.session.state}; phases ${statuses.map((m) => `${m.mode}/${m.phase}`).join(',')}`);
    await sleep(50);
  }
  const phases = statuses.map((m) => `${m.mode}/${m.phase}`);
  assert.ok(phases.includes('seamless/failed'), `CONNECT_ERROR path taken: ${phases}`);
  assert.ok(phases.includes('switch-host/failed'), `switch-host tried and failed: ${phases}`);
  assert.equal(c.session.error?.code, 'AUTH_FAILED');
  assert.match(c.session.error?.message ?? '', /switch-host to 127\.0\.0\.1:\d+ failed: .*authentication failed/);
});

test('client too late (its destination links are slow): switch-host reconnects as a new session', async () => {
  const src = await startMigratableVm({ name: 'late-src', warmUp: true });
  vms.push(src);
  // a slow path to the destination: its links take 3 s, the migration is over long before
  let slow = 0;
  const { c, statuses } = client(src.spicePort, undefined, async (dial) => {
    if (dial.port !== src.spicePort && slow++ < 8) await sleep(3000);
    return defaultTransportFactory(dial);
  });
  await c.session.connect();
  const oldId = c.session.connectionId;
  await src.command('freeze', /GUEST OK freeze/); // a still screen to compare
  const dst = await startDestination(src, { name: 'late-dst' });
  vms.push(dst);
  await migrate(src, dst, { waitForClient: false, marginMs: 0 });
  const t0 = Date.now();
  let last: MigrationStatus | undefined;
  while (!(last = statuses.find((m) => m.mode === 'switch-host' && (m.phase === 'done' || m.phase === 'failed')))) {
    if (Date.now() - t0 > 30000) assert.fail(`no switch-host outcome; phases ${statuses.map((m) => `${m.mode}/${m.phase}`).join(',')}`);
    await sleep(50);
  }
  assert.equal(last.phase, 'done', last.message);
  assert.equal(c.session.state, 'connected');
  assert.notEqual(c.session.connectionId, oldId, 'a new session id after switch-host');
  await settle(c);
  const d = diffWithScreen(c, await dst.screendump());
  assert.equal(d.diff, 0, `display after switch-host: first difference ${d.first}`);
  c.session.disconnect();
});
