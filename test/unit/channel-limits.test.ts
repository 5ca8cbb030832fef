// Limits of the base channel: SPICE_MSG_LIST depth 1 without shared bytes
// (issue 9 finding 5), coded errors for nested lists and full queues, and
// producer flow control on a held spicevmc channel (issue 8).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputsChannel } from '../../main/spice/channels/inputs-channel';
import { SpicevmcDeviceChannel, SPICEVMC_MAX_CHUNK } from '../../main/spice/channels/spicevmc-channel';
import type { Channel } from '../../main/spice/channels/base-channel';
import { quietLogger } from '../../main/spice/session';
import { SpiceError } from '../../main/spice/wire/errors';
import { Channel as ChannelType, MigrateFlags, Msg, MsgcSpicevmc, MsgPlayback } from '../../main/spice/protocol/enums';
import { GenericChannel } from '../../main/spice/channels/generic-channel';
import { Bytes, concat } from '../helpers/spice-bytes';
import { linkFake as linked } from '../helpers/linked-channel';
import { clientMessages as sent } from '../helpers/client-messages';
import { until } from '../helpers/fake-spice-server';

function failures(ch: Channel): SpiceError[] {
  const out: SpiceError[] = [];
  ch.onFailure = (e) => out.push(e);
  return out;
}

/** SpiceSubMessageList body: u16 n, u32 offsets[n], then the given sub-messages at those offsets. */
function list(subs: { type: number; body: Uint8Array }[], offsets?: number[]): Uint8Array {
  const head = 2 + 4 * (offsets?.length ?? subs.length);
  const b = new Bytes().u16(offsets?.length ?? subs.length);
  let at = head;
  const offs: number[] = [];
  for (const s of subs) {
    offs.push(at);
    at += 6 + s.body.length;
  }
  for (const o of offsets ?? offs) b.u32(o);
  for (const s of subs) b.u16(s.type).u32(s.body.length).raw(s.body);
  return b.build();
}

const ping = (id: number) => ({ type: Msg.PING, body: new Bytes().u32(id).u64(0).build() });
const msg = (type: number, body: Uint8Array) => ({ type, body, serial: 1n });

test('SPICE_MSG_LIST: sub-messages are handled in order', () => {
  const ch = new InputsChannel(0, quietLogger);
  const errs = failures(ch);
  ch.dispatch(msg(Msg.LIST, list([ping(1), ping(2)])));
  assert.deepEqual(errs, []);
  assert.equal(ch.received.get(Msg.PING), 2);
  assert.equal(ch.queuedMessages, 2, 'two PONGs queued (no connection)');
});

test('SPICE_MSG_LIST inside a list is refused (BAD_MESSAGE), nothing of it handled', () => {
  const ch = new InputsChannel(0, quietLogger);
  const errs = failures(ch);
  ch.dispatch(msg(Msg.LIST, list([ping(1), { type: Msg.LIST, body: list([ping(2)]) }])));
  assert.equal(errs.length, 1);
  assert.equal(errs[0].code, 'BAD_MESSAGE');
  assert.match(errs[0].message, /do not nest/);
  assert.equal(ch.received.get(Msg.PING) ?? 0, 0, 'checked before any sub-message runs');
});

test('SPICE_MSG_LIST with shared or overlapping offsets is refused', () => {
  const p = ping(1);
  const pingBytes = new Bytes().u16(p.type).u32(p.body.length).raw(p.body).build();
  // shared: both entries name the one ping at offset 10 (after a 2-entry table)
  const shared = concat(new Bytes().u16(2).u32(10).u32(10).build(), pingBytes);
  // overlapping: an ignored WAIT_FOR_CHANNELS at 10 whose body holds a whole ping, and an entry for that ping (16)
  const outer = new Bytes().u16(Msg.WAIT_FOR_CHANNELS).u32(pingBytes.length).raw(pingBytes).build();
  const overlapping = concat(new Bytes().u16(2).u32(10).u32(16).build(), outer);
  for (const [what, body] of [['shared', shared], ['overlapping', overlapping]] as const) {
    const ch = new InputsChannel(0, quietLogger);
    const errs = failures(ch);
    ch.dispatch(msg(Msg.LIST, body));
    assert.equal(errs.length, 1, what);
    assert.equal(errs[0].code, 'BAD_MESSAGE', `${what}: ${errs[0].message}`);
    assert.match(errs[0].message, /overlaps/);
    assert.equal(ch.received.get(Msg.PING) ?? 0, 0, what);
  }
});

test('a 20-deep list whose levels share one inner list costs one error, not 2^20 handler calls', () => {
  // every level: a 2-entry table whose entries both name the same sub-message: the next level down
  const p = ping(1);
  let sub = new Bytes().u16(p.type).u32(p.body.length).raw(p.body).build();
  let body = sub;
  for (let i = 0; i < 20; i++) {
    body = concat(new Bytes().u16(2).u32(10).u32(10).build(), sub);
    sub = new Bytes().u16(Msg.LIST).u32(body.length).raw(body).build();
  }
  const ch = new InputsChannel(0, quietLogger);
  const errs = failures(ch);
  const t0 = performance.now();
  ch.dispatch(msg(Msg.LIST, body));
  assert.ok(performance.now() - t0 < 1000, 'bounded work');
  assert.equal(errs.length, 1);
  assert.equal(errs[0].code, 'BAD_MESSAGE');
  assert.equal(ch.received.get(Msg.PING) ?? 0, 0);
});

test('the outgoing queue of a channel with no connection is bounded: past it, a coded LIMIT failure', () => {
  const ch = new InputsChannel(0, quietLogger);
  const errs = failures(ch);
  ch.queueLimits = { maxBytes: 1000, maxMessages: 10 };
  for (let i = 0; i < 10; i++) ch.keyDown(0x1e);
  assert.equal(errs.length, 0);
  assert.equal(ch.queueStats.messages, 10);
  ch.keyDown(0x1e);
  assert.equal(errs.length, 1);
  assert.equal(errs[0].code, 'LIMIT');
  assert.equal(ch.queueStats.messages, 0, 'the failed channel released its queue (counted as dropped)');
  assert.ok(ch.migration.droppedBytes > 0, 'and counted as dropped');

  const big = new InputsChannel(0, quietLogger);
  const bigErrs = failures(big);
  big.queueLimits = { maxBytes: 10, maxMessages: 1000 };
  big.keyDown(0x1e);
  big.keyDown(0x1e);
  assert.equal(bigErrs.length, 0);
  big.keyDown(0x1e); // 12 bytes
  assert.equal(bigErrs[0]?.code, 'LIMIT');
  assert.equal(big.queueStats.bytes, 0, 'released on failure');
});

test('a held spicevmc channel stops its producer at the high-water mark and resumes it after release', async () => {
  const ch = new SpicevmcDeviceChannel(ChannelType.USBREDIR, 0, quietLogger);
  const errs = failures(ch);
  const { t, conn } = await linked(ChannelType.USBREDIR);
  ch.attach(conn);
  ch.highWaterBytes = 4 * SPICEVMC_MAX_CHUNK;
  ch.lowWaterBytes = SPICEVMC_MAX_CHUNK;
  // a producer that reads its "device" while the channel lets it
  let reading = true;
  let produced = 0;
  ch.onPause = () => (reading = false);
  ch.onResume = () => (reading = true);
  const pump = () => {
    while (reading && produced < 16 * SPICEVMC_MAX_CHUNK) {
      produced += SPICEVMC_MAX_CHUNK;
      if (!ch.write(new Uint8Array(SPICEVMC_MAX_CHUNK).fill(produced / SPICEVMC_MAX_CHUNK))) break;
    }
  };

  ch.pauseOutput(); // what the migration does from CONNECTED_SEAMLESS
  pump();
  assert.equal(reading, false, 'the producer was told to stop');
  assert.equal(ch.flowStats.paused, true);
  assert.equal(ch.queueStats.bytes, 4 * SPICEVMC_MAX_CHUNK, 'it stopped at the mark');
  assert.equal(produced, 4 * SPICEVMC_MAX_CHUNK);
  assert.deepEqual(sent(t), [], 'nothing sent while held');

  let resumed = 0;
  ch.onResume = () => {
    resumed++;
    reading = true;
    queueMicrotask(pump); // a real producer goes on from its own callback
  };
  ch.resumeOutput();
  assert.equal(resumed, 1, 'the producer was told to go on');
  await until(() => produced === 16 * SPICEVMC_MAX_CHUNK, 'the producer to finish');
  const msgs = sent(t);
  assert.equal(msgs.length, 16);
  assert.ok(msgs.every((m) => m.type === MsgcSpicevmc.DATA && m.size === SPICEVMC_MAX_CHUNK));
  // order kept: chunk n carries byte n
  const all = t.allWritten();
  for (let i = 0; i < 16; i++) assert.equal(all[i * (6 + SPICEVMC_MAX_CHUNK) + 6], i + 1, `chunk ${i}`);
  assert.equal(ch.queueStats.peakBytes, 4 * SPICEVMC_MAX_CHUNK, 'held bytes are reported');
  assert.equal(ch.flowStats.pauses, 1);
  assert.deepEqual(errs, []);
});

test('a producer that ignores the pause hits the hard bound: coded LIMIT, the queue never grows past it', () => {
  const ch = new SpicevmcDeviceChannel(ChannelType.SMARTCARD, 0, quietLogger);
  const errs = failures(ch);
  ch.queueLimits = { ...ch.queueLimits, maxBytes: 8 * SPICEVMC_MAX_CHUNK };
  ch.pauseOutput();
  for (let i = 0; i < 20 && !errs.length; i++) ch.write(new Uint8Array(SPICEVMC_MAX_CHUNK));
  assert.equal(errs.length, 1);
  assert.equal(errs[0].code, 'LIMIT');
  assert.match(errs[0].message, /smartcard 0: outgoing queue full/);
  assert.ok(ch.queueStats.bytes <= 8 * SPICEVMC_MAX_CHUNK);
});

test('write() splits device data in SPICEVMC_MAX_CHUNK pieces', async () => {
  const ch = new SpicevmcDeviceChannel(ChannelType.WEBDAV, 0, quietLogger);
  const { t, conn } = await linked(ChannelType.WEBDAV);
  ch.attach(conn);
  assert.equal(ch.write(new Uint8Array(2 * SPICEVMC_MAX_CHUNK + 5)), true);
  assert.deepEqual(
    sent(t).map((m) => m.size),
    [SPICEVMC_MAX_CHUNK, SPICEVMC_MAX_CHUNK, 5],
  );
  assert.equal(ch.bytesOut, 2 * SPICEVMC_MAX_CHUNK + 5);
});

test('a write split in chunks leaves in one socket write; the messages are the same as sent one by one', async () => {
  const ch = new SpicevmcDeviceChannel(ChannelType.USBREDIR, 0, quietLogger);
  const { t, conn } = await linked(ChannelType.USBREDIR);
  ch.attach(conn);
  const writes: number[] = [];
  const write = t.write.bind(t);
  t.write = (b) => { writes.push(b.length); write(b); };
  const data = Uint8Array.from({ length: SPICEVMC_MAX_CHUNK + 7 }, (_, i) => i & 0xff);
  assert.equal(ch.write(data), true);
  assert.deepEqual(writes, [2 * 6 + SPICEVMC_MAX_CHUNK + 7], 'two mini-header messages in one write');
  assert.deepEqual(sent(t).slice(-2).map((m) => [m.type, m.size]), [[MsgcSpicevmc.DATA, SPICEVMC_MAX_CHUNK], [MsgcSpicevmc.DATA, 7]]);
  const all = t.allWritten();
  const tail = all.subarray(all.length - (2 * 6 + data.length));
  assert.deepEqual(concat(tail.subarray(6, 6 + SPICEVMC_MAX_CHUNK), tail.subarray(12 + SPICEVMC_MAX_CHUNK)), data);
});

test('playback/record go through the handler table: after MIGRATE only MIGRATE_DATA is accepted', async () => {
  const ch = new GenericChannel(ChannelType.PLAYBACK, 0, quietLogger);
  const errs = failures(ch);
  const src = await linked(ChannelType.PLAYBACK);
  ch.attach(src.conn);
  ch.dispatch(msg(MsgPlayback.DATA, new Uint8Array(8)));
  assert.equal(ch.dataMessages, 1);
  const dst = await linked(ChannelType.PLAYBACK);
  ch.holdTarget(dst.conn);
  ch.dispatch(msg(Msg.MIGRATE, new Bytes().u32(MigrateFlags.NEED_DATA_TRANSFER).build()));
  assert.equal(ch.migrationPhase, 'awaiting-data');
  ch.dispatch(msg(MsgPlayback.DATA, new Uint8Array(8)));
  assert.equal(errs.length, 1);
  assert.equal(errs[0].code, 'PROTOCOL');
  assert.match(errs[0].message, /expected MIGRATE_DATA/);
  assert.equal(ch.dataMessages, 1, 'not counted as data');
});

test('many tiny writes pause the producer by message count, long before the message bound', () => {
  const ch = new SpicevmcDeviceChannel(ChannelType.SMARTCARD, 0, quietLogger);
  const errs = failures(ch);
  ch.pauseOutput();
  let n = 0;
  while (ch.write(new Uint8Array(1))) n++;
  assert.equal(n + 1, ch.highWaterMessages);
  assert.ok(ch.queueStats.messages < ch.queueLimits.maxMessages);
  assert.equal(errs.length, 0);
});

test('a socket the server stops reading pauses the producer: write() false at highWaterBytes unsent, onResume on drain; a new connection releases it', async () => {
  const ch = new SpicevmcDeviceChannel(ChannelType.WEBDAV, 0, quietLogger);
  const { t, conn } = await linked(ChannelType.WEBDAV);
  // the OS takes nothing: every byte written stays unsent until the test drains it
  let unsent = 0;
  const tt = t as typeof t & { unsentBytes(): number; onDrain: (() => void) | null };
  const write = t.write.bind(t);
  t.write = (b) => { unsent += b.length; write(b); };
  tt.unsentBytes = () => unsent;
  tt.onDrain = null;
  ch.attach(conn);
  const events: string[] = [];
  ch.onPause = () => events.push('pause');
  ch.onResume = () => events.push('resume');
  let n = 0;
  while (n < 1000 && ch.write(new Uint8Array(SPICEVMC_MAX_CHUNK))) n++;
  assert.equal(n + 1, Math.ceil(ch.highWaterBytes / (SPICEVMC_MAX_CHUNK + 6)), 'paused once the unsent bytes reach the mark');
  assert.deepEqual(events, ['pause']);
  assert.equal(ch.queueStats.bytes, 0, 'nothing queued in the channel: the bytes sit in the socket');
  assert.equal(ch.canWrite, false);
  unsent = 0;
  tt.onDrain!();
  assert.deepEqual(events, ['pause', 'resume']);
  assert.equal(ch.canWrite, true);
  // full again, then the channel gets another connection (a switch): the old socket no longer holds it
  for (let i = 0; i < 1000 && ch.write(new Uint8Array(SPICEVMC_MAX_CHUNK)); i++);
  assert.deepEqual(events, ['pause', 'resume', 'pause']);
  const other = await linked(ChannelType.WEBDAV);
  ch.attach(other.conn);
  assert.deepEqual(events, ['pause', 'resume', 'pause', 'resume']);
});
