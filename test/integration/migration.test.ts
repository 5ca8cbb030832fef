// Seamless migration between two real QEMU 7.2 processes, checked on the
// recorded wire and on the servers' own logs and screendumps.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMigratableVm, startDestination, migrate, finishSource } from '../harness/migration';
import type { QemuVm } from '../harness/qemu';
import { Session } from '../../main/spice/session';
import { DisplayState } from '../../renderer/display/display-state';
import { WireRecorder } from '../helpers/wire-recorder';
import { diffWithScreen, settle, sleep, type TestClient } from '../helpers/client';
import type { MigrationStatus } from '../../preload/contract';
import { Msg, Msgc, MsgcDisplay, MsgcMain } from '../../main/spice/protocol/enums';

const vms: QemuVm[] = [];
after(async () => {
  for (const vm of vms) await vm.stop();
});

function migratingClient(port: number, rec: WireRecorder) {
  const statuses: MigrationStatus[] = [];
  const display = new DisplayState();
  const client: TestClient = { display, kinds: new Map(), lastDisplayAt: Date.now(), commands: 0, errors: [], session: null as unknown as Session };
  client.session = new Session({
    endpoint: { host: '127.0.0.1', port },
    transport: rec.factory,
    onDisplay: (_id, cmd) => {
      client.commands++;
      client.lastDisplayAt = Date.now();
      try {
        display.apply(cmd);
      } catch (e) {
        client.errors.push(e as Error);
      }
    },
    onMigration: (m) => { statuses.push(m); if (process.env.MIG_DEBUG) console.log('MIG', m.phase, m.message); },
    log: process.env.MIG_DEBUG ? { debug: () => {}, info: (m) => console.log('I', m), warn: (m) => console.log('W', m) } : undefined,
  });
  return { client, statuses };
}

async function waitFor<T>(fn: () => T | undefined | false, what: string, ms = 20000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

test('seamless: one migration, verified on the wire, in the server logs and on screen', async () => {
  const src = await startMigratableVm({ serverDebug: !process.env.NO_DEBUG, warmUp: true });
  vms.push(src);
  const rec = new WireRecorder();
  const { client, statuses } = migratingClient(src.spicePort, rec);
  await client.session.connect();
  const sessionId = client.session.connectionId;
  const dst = await startDestination(src, { serverDebug: !process.env.NO_DEBUG });
  vms.push(dst);
  await src.command('pattern 1', /GUEST OK pattern 1/);
  await settle(client);

  const res = await migrate(src, dst);
  const done = await waitFor(() => statuses.find((s) => s.phase === 'done' || s.phase === 'failed'), 'migration outcome');
  assert.equal(done.phase, 'done', `outcome: ${done.message}`);
  assert.equal(done.mode, 'seamless');
  // QMP prints the u32 id as a signed int
  assert.deepEqual(res.dstConnectionIds.map((id) => id >>> 0), [sessionId], 'destination keeps the source connection-id');
  assert.ok(done.durationMs !== undefined && done.durationMs >= 0);

  // wire: per channel, source side and destination side
  const srcConns = rec.connections.filter((c) => c.port === src.spicePort);
  const dstConns = rec.connections.filter((c) => c.port === dst.spicePort);
  assert.equal(dstConns.length, srcConns.length, 'one destination link per channel');
  for (const s of srcConns) {
    const name = `${s.channelType}:${s.channelId}`;
    const d = dstConns.find((x) => x.channelType === s.channelType && x.channelId === s.channelId);
    assert.ok(d, `${name} linked on the destination`);
    const fromSrc = WireRecorder.serverMessages(s);
    const toSrc = WireRecorder.clientMessages(s);
    const toDst = WireRecorder.clientMessages(d);
    const mig = fromSrc.find((m) => m.type === Msg.MIGRATE);
    assert.ok(mig, `${name}: source sent MIGRATE`);
    const flags = mig.body.readUInt32LE(0);
    assert.equal(toSrc.filter((m) => m.type === Msgc.MIGRATE_FLUSH_MARK).length, flags & 1 ? 1 : 0, `${name}: exactly one FLUSH_MARK when asked`);
    const data = fromSrc.find((m) => m.type === Msg.MIGRATE_DATA);
    if (flags & 2) {
      assert.ok(data, `${name}: MIGRATE_DATA from source`);
      // main's first message on the destination is DST_DO_SEAMLESS; MIGRATE_DATA follows it
      const first = toDst.find((m) => !(s.channelType === 1 && m.type === MsgcMain.MIGRATE_DST_DO_SEAMLESS));
      assert.equal(first?.type, Msgc.MIGRATE_DATA, `${name}: MIGRATE_DATA is the first message on the destination`);
      assert.ok(first!.body.equals(data.body), `${name}: MIGRATE_DATA forwarded byte-identical (${data.body.length} bytes)`);
    }
    for (const m of toDst) {
      assert.ok(!(s.channelType === 2 && m.type === MsgcDisplay.INIT), `${name}: no DISPLAY_INIT to the destination`);
      assert.ok(!(s.channelType === 1 && (m.type === MsgcMain.ATTACH_CHANNELS || m.type === MsgcMain.AGENT_START)), `${name}: no ATTACH_CHANNELS/AGENT_START`);
    }
    assert.ok(s.closed, `${name}: source socket closed`);
    assert.ok(!d.closed, `${name}: destination socket open`);
  }

  // QEMU's stderr reaches us after the wire does: wait for the line, do not read once
  const dstLog = await waitFor(() => (/reds_on_client_seamless_migrate_complete/.test(dst.serverLog()) ? dst.serverLog() : undefined), 'reds_on_client_seamless_migrate_complete in the destination log', 10000);
  assert.doesNotMatch(dstLog, /display_channel_wait_for_migrate_data: timeout/);

  // input was held from CONNECTED_SEAMLESS and released once the destination ran
  // (this guest sends no device data: by the grace period after MULTI_MEDIA_TIME, not the 3 s fallback)
  const hold = await waitFor(() => client.session.migration.lastInputHold ?? undefined, 'input hold released', 5000);
  assert.ok(['grace', 'vm-start'].includes(hold.why), `released by ${hold.why}`);
  assert.ok(hold.afterSwapMs < 3000 && hold.heldMs >= hold.afterSwapMs, JSON.stringify(hold));
  assert.equal(client.session.inputs?.isOutputPaused, false);

  // the display keeps updating and equals the destination's screendump
  await dst.command('pattern 2', /GUEST OK pattern 2/);
  await settle(client);
  const diff = diffWithScreen(client, await dst.screendump());
  assert.equal(diff.diff, 0, `after the switch: first difference ${diff.first}`);
  assert.equal(client.errors.length, 0, client.errors.map((e) => e.message).join('; '));
  const fin = await finishSource(src);
  assert.ok(fin.completed, 'source reported SPICE_MIGRATE_COMPLETED');
  client.session.disconnect();
});
