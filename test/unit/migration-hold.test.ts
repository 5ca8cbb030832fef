// MigrationController's output hold: from CONNECTED_SEAMLESS, input and device
// data wait (queued, never dropped) until the destination VM runs; proof of
// running is device data from the destination, else a grace period after its
// MULTI_MEDIA_TIME; a pre-switch hold has a limit; a cancel gives the held
// output to the source. Real channels and connections over fake transports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MainChannel, type MainEvents } from '../../main/spice/channels/main-channel';
import { InputsChannel } from '../../main/spice/channels/inputs-channel';
import { PortChannel } from '../../main/spice/channels/port-channel';
import { SpicevmcDeviceChannel } from '../../main/spice/channels/spicevmc-channel';
import type { Channel } from '../../main/spice/channels/base-channel';
import { DESTINATION_START_GRACE_MS, MigrationController, SMARTCARD_SWITCH_HOLD_MAX_MS, SWITCH_HOLD_MAX_MS } from '../../main/spice/migration';
import { quietLogger } from '../../main/spice/session';
import { Channel as ChannelType, MainCap, Msg, MsgcInputs, MsgcMain, MsgcSpicevmc, MsgMain, MsgSpicevmc } from '../../main/spice/protocol/enums';
import { FakeTransport } from '../helpers/fake-transport';
import { Bytes, miniMsg } from '../helpers/spice-bytes';
import { linkFake as link } from '../helpers/linked-channel';
import { clientTypes as types } from '../helpers/client-messages';
import { testMigrationHost } from '../helpers/migration-host';

/** The main channel's events reach the controller the way Session wires them; the rest are ignored. */
function mainEvents(ctl: () => MigrationController): MainEvents {
  const wired: Partial<MainEvents> = {
    onMultiMediaTime: () => ctl().onVmStartHint(),
    onMigrateCancel: () => ctl().cancel(),
  };
  return new Proxy(wired, { get: (o, k) => (o as Record<string | symbol, unknown>)[k] ?? (() => {}) }) as MainEvents;
}

/** Lets pending promise jobs and I/O run (setImmediate: not faked by the timer mocks). */
const flush = () => new Promise((r) => setImmediate(r));

/** Waits (real time, at most 5 s) until cond holds: linking encrypts the ticket with WebCrypto, which takes a while the first time. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await flush();
  }
}

/** A session of main + inputs + port + smartcard on the source, mid seamless migration (CONNECTED_SEAMLESS sent). */
async function migrating() {
  let ctlRef: MigrationController | null = null;
  const main = new MainChannel(quietLogger, mainEvents(() => ctlRef!));
  const inputs = new InputsChannel(0, quietLogger);
  const port = new PortChannel(0, quietLogger);
  const smartcard = new SpicevmcDeviceChannel(ChannelType.SMARTCARD, 0, quietLogger);
  const chans: Channel[] = [main, inputs, port, smartcard];
  const src = new Map<Channel, FakeTransport>();
  const dst = new Map<Channel, FakeTransport>();
  for (const ch of chans) {
    const { t, conn } = await link(ch.type);
    ch.attach(conn);
    t.written = [];
    src.set(ch, t);
  }
  const { host, statuses } = testMigrationHost(main, chans, async (ch) => {
    const { t, conn } = await link(ch.type, ch.type === ChannelType.MAIN ? [1 << MainCap.SEAMLESS_MIGRATE] : []);
    dst.set(ch, t);
    return conn;
  });

  const ctl = new MigrationController(host);
  ctlRef = ctl;
  for (const ch of chans) {
    ch.onMigrate = (c) => ctl.onChannelMigrate(c);
    ch.onSwapped = (c, old) => ctl.onChannelSwapped(c, old);
  }
  ctl.begin({ port: 5999, sport: 0, host: '127.0.0.1', certSubject: null, srcMigVersion: 1 }, true);
  await until(() => !!dst.get(main), 'the destination main link');
  dst.get(main)!.deliver(miniMsg(MsgMain.MIGRATE_DST_SEAMLESS_ACK));
  await until(() => ctl.state === 'migrating', 'every destination link and CONNECTED_SEAMLESS');
  assert.deepEqual(types(src.get(main)!), [MsgcMain.MIGRATE_CONNECTED_SEAMLESS]);
  /** Server MIGRATE (flags 0: no flush, no data) on every source channel: all swap. */
  const switchAll = () => {
    for (const ch of chans) src.get(ch)!.deliver(miniMsg(Msg.MIGRATE, new Bytes().u32(0).build()));
  };
  return { main, inputs, port, smartcard, src, dst, ctl, statuses, switchAll };
}

test('from CONNECTED_SEAMLESS, keys and port data wait; device data from the destination releases them there', async () => {
  const m = await migrating();
  m.inputs.now = () => 0; // both keys at one instant (on a loaded machine the switch between them took > 3 ms: a paced replay)
  m.inputs.keyDown(0x1e);
  m.port.write(new Uint8Array([1, 2, 3]));
  assert.deepEqual(types(m.src.get(m.inputs)!), [], 'no key to the source once the migration is imminent');
  assert.deepEqual(types(m.src.get(m.port)!), [], 'no device data to the source either');
  m.switchAll();
  assert.equal(m.statuses.at(-1)?.phase, 'done');
  m.inputs.keyUp(0x1e);
  assert.deepEqual(types(m.dst.get(m.inputs)!), [], 'swapped, but the destination VM has not started');
  assert.deepEqual(types(m.dst.get(m.port)!), []);
  // the guest side of the port speaks: the destination VM runs
  m.dst.get(m.port)!.deliver(miniMsg(MsgSpicevmc.DATA, new Uint8Array([9])));
  assert.equal(m.ctl.lastInputHold?.why, 'vm-start');
  assert.deepEqual(types(m.dst.get(m.port)!), [MsgcSpicevmc.DATA], 'held device data delivered to the destination');
  // replayed with the user's own gap ÷ 3: under load keyDown and keyUp may be ms apart
  await until(() => types(m.dst.get(m.inputs)!).length >= 2, 'the held keys replayed to the destination');
  assert.deepEqual(types(m.dst.get(m.inputs)!), [MsgcInputs.KEY_DOWN, MsgcInputs.KEY_UP], 'held keys replayed to the destination, in order');
  assert.deepEqual(types(m.src.get(m.inputs)!), [], 'none went to the source');
  const st = m.statuses.at(-1)!;
  assert.equal(st.channels.reduce((n, c) => n + c.droppedBytes, 0), 0);
});

test('without device data, the hold ends a grace period after the destination MULTI_MEDIA_TIME', async (t) => {
  const m = await migrating();
  m.inputs.keyDown(0x1e);
  m.switchAll();
  t.mock.timers.enable({ apis: ['setTimeout'] });
  m.dst.get(m.main)!.deliver(miniMsg(MsgMain.MULTI_MEDIA_TIME, new Bytes().u32(1234).build()));
  t.mock.timers.tick(DESTINATION_START_GRACE_MS - 1);
  assert.deepEqual(types(m.dst.get(m.inputs)!), [], 'MULTI_MEDIA_TIME comes before the VM runs: still held');
  t.mock.timers.tick(1);
  assert.equal(m.ctl.lastInputHold?.why, 'grace');
  assert.deepEqual(types(m.dst.get(m.inputs)!), [MsgcInputs.KEY_DOWN]);
});

test('a migration still on the source after the pre-switch limit gives the held output to the source', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const m = await migrating();
  m.inputs.keyDown(0x1e);
  m.port.write(new Uint8Array([1]));
  t.mock.timers.tick(SWITCH_HOLD_MAX_MS - 1);
  assert.deepEqual(types(m.src.get(m.inputs)!), []);
  t.mock.timers.tick(1);
  assert.equal(m.ctl.lastInputHold?.why, 'timeout');
  assert.deepEqual(types(m.src.get(m.inputs)!), [MsgcInputs.KEY_DOWN]);
  assert.deepEqual(types(m.src.get(m.port)!), [MsgcSpicevmc.DATA]);
});

test('a smartcard answer is not given to a source that may be stopping: it waits for the switch (or a minute)', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const m = await migrating();
  m.smartcard.write(new Uint8Array([7, 7]));
  m.port.write(new Uint8Array([1]));
  t.mock.timers.tick(SWITCH_HOLD_MAX_MS);
  assert.deepEqual(types(m.src.get(m.port)!), [MsgcSpicevmc.DATA], 'other device data goes to the source after the pre-switch limit');
  assert.deepEqual(types(m.src.get(m.smartcard)!), [], 'the card answer stays held: QEMU 7.2 loses one that lands in a stopping source');
  m.switchAll();
  assert.equal(m.statuses.at(-1)?.phase, 'done');
  assert.deepEqual(types(m.dst.get(m.smartcard)!), [], 'swapped, the destination VM not running yet');
  m.dst.get(m.port)!.deliver(miniMsg(MsgSpicevmc.DATA, new Uint8Array([9])));
  assert.deepEqual(types(m.dst.get(m.smartcard)!), [MsgcSpicevmc.DATA], 'delivered to the destination once it runs');
  assert.deepEqual(types(m.src.get(m.smartcard)!), [], 'never to the source');
});

test('a migration that stays on the source a minute gives the held card answer to the source too', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const m = await migrating();
  m.smartcard.write(new Uint8Array([7, 7]));
  t.mock.timers.tick(SMARTCARD_SWITCH_HOLD_MAX_MS - 1);
  assert.deepEqual(types(m.src.get(m.smartcard)!), []);
  t.mock.timers.tick(1);
  assert.deepEqual(types(m.src.get(m.smartcard)!), [MsgcSpicevmc.DATA]);
});

test('MIGRATE_CANCEL gives the held output to the source, in order', async () => {
  const m = await migrating();
  m.inputs.keyDown(0x1e);
  m.inputs.keyUp(0x1e);
  m.src.get(m.main)!.deliver(miniMsg(MsgMain.MIGRATE_CANCEL));
  assert.equal(m.ctl.state, 'none');
  assert.equal(m.statuses.at(-1)?.phase, 'cancelled');
  assert.deepEqual(types(m.src.get(m.inputs)!), [MsgcInputs.KEY_DOWN, MsgcInputs.KEY_UP]);
  m.inputs.keyDown(0x30);
  assert.equal(types(m.src.get(m.inputs)!).length, 3, 'and input flows normally again');
});
