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

function client(port: number) {
  const statuses: MigrationStatus[] = [];
  const display = new DisplayState();
  const c: TestClient = { display, kinds: new Map(), lastDisplayAt: Date.now(), commands: 0, errors: [], session: null as unknown as Session };
  c.session = new Session({
    endpoint: { host: '127.0.0.1', port },
    transport: defaultTransportFactory,
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

test('seamless-migration=off: semi-seamless, same connection id, display restored', async () => {
  const src = await startMigratableVm({ seamless: false, name: 'semi-src' });
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
  const src = await startMigratableVm({ name: 'cancel-src', maxBandwidth: 1024 * 1024 }); // slow: time to cancel
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
  await src.qmp.execute('migrate', { uri: dst.migration.incomingUri });
  await sleep(200);
  await migrateCancel(src);
  const o = await outcome(statuses);
  assert.equal(o.phase, 'cancelled', o.message);
  // still on the source and working
  await src.command('pattern 1', /GUEST OK pattern 1/);
  await settle(c);
  const d = diffWithScreen(c, await src.screendump());
  assert.equal(d.diff, 0, `display after cancel: first difference ${d.first}`);
  const from = src.serialLines().length;
  c.session.input({ t: 'key', scancode: 0x1e, down: true });
  c.session.input({ t: 'key', scancode: 0x1e, down: false });
  await src.waitForSerial(/GUEST KEY 30 1/, 5000, from);
  assert.equal(c.session.state, 'connected');
  c.session.disconnect();
});
