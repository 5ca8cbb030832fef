// Inputs channel: MOTION_ACK flow control with coalescing, and the exact
// client message bytes (decoded independently). The codecs: inputs-messages.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputsChannel } from '../../main/spice/channels/inputs-channel';
import { quietLogger } from '../../main/spice/session';
import { type FakeTransport, tick } from '../helpers/fake-transport';
import { linkFake } from '../helpers/linked-channel';
import { hex, miniMsg } from '../helpers/spice-bytes';

async function linkedInputs() {
  const { t, conn } = await linkFake(3);
  const ch = new InputsChannel(0, quietLogger);
  ch.attach(conn);
  t.written = [];
  return { t, ch };
}

/** Independent mini-header parse of what the client wrote. */
function sent(t: FakeTransport): { type: number; body: string }[] {
  const all = t.allWritten();
  const out = [];
  for (let i = 0; i < all.length; ) {
    const type = all[i] | (all[i + 1] << 8);
    const size = all[i + 2] | (all[i + 3] << 8) | (all[i + 4] << 16) | (all[i + 5] << 24);
    out.push({ type, body: hex(all.subarray(i + 6, i + 6 + size)) });
    i += 6 + size;
  }
  return out;
}

test('client input messages have the spice.proto layouts', async () => {
  const { t, ch } = await linkedInputs();
  ch.keyDown(0x138);
  ch.keyUp(0x1e);
  ch.setLocks(0x4);
  ch.mousePosition(300, 200, 1, 0);
  ch.mouseMotion(-3, 4, 0);
  ch.mouseButton(3, true, 4);
  assert.deepEqual(sent(t), [
    { type: 101, body: 'e0380000' },
    { type: 102, body: '9e000000' },
    { type: 103, body: '0400' },
    { type: 112, body: '2c010000' + 'c8000000' + '0100' + '00' },
    { type: 111, body: 'fdffffff' + '04000000' + '0000' },
    { type: 113, body: '03' + '0400' },
  ]);
});

test('KEY_SCANCODE carries the raw bytes as they are (Pause: E1 1D 45 E1 9D C5, no make/break pair)', async () => {
  const { t, ch } = await linkedInputs();
  ch.keyScancodes([0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5]);
  ch.keyScancodes(Uint8Array.from([0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d]));
  assert.deepEqual(sent(t), [
    { type: 104, body: 'e11d45e19dc5' },
    { type: 104, body: '1d38e053e0d3b89d' },
  ]);
});

test('motion beyond 2 unacked bunches is coalesced, not dropped, and flushed on MOTION_ACK', async () => {
  const { t, ch } = await linkedInputs();
  for (let i = 0; i < 20; i++) ch.mouseMotion(1, 2, 0);
  let msgs = sent(t);
  assert.equal(msgs.length, 8, 'only 2 bunches in flight');
  t.written = [];
  t.deliver(miniMsg(111)); // MOUSE_MOTION_ACK
  await tick();
  msgs = sent(t);
  assert.equal(msgs.length, 1, 'the remaining 12 motions went out as one');
  assert.equal(msgs[0].body, '0c000000' + '18000000' + '0000', 'dx=12 dy=24: nothing lost');
});

test('a button press sends coalesced motion first even with the window full, so the click lands where the pointer is', async () => {
  const { t, ch } = await linkedInputs();
  for (let i = 0; i < 8; i++) ch.mouseMotion(1, 0, 0);
  ch.mouseMotion(5, 6, 0);
  ch.mousePosition(40, 50, 0, 0);
  t.written = [];
  ch.mouseButton(1, true, 1);
  assert.deepEqual(sent(t), [
    { type: 111, body: '05000000' + '06000000' + '0000' },
    { type: 112, body: '28000000' + '32000000' + '0000' + '00' },
    { type: 113, body: '01' + '0100' },
  ]);
  assert.equal(ch.unackedMotion, 10);
});

// Held input (migration): replayed with the user's timing, sped up, never in one burst.
test('held input is replayed in order with its gaps shortened by the speedup; new input waits behind it', async (t) => {
  const { t: tr, ch } = await linkedInputs();
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let clock = 1000;
  ch.now = () => clock;
  ch.pauseOutput();
  ch.keyDown(0x1e); // A at 1000
  ch.keyUp(0x1e);
  clock += 90;
  ch.keyDown(0x30); // B at 1090
  ch.keyUp(0x30);
  clock += 300;
  ch.keyDown(0x2e); // C at 1390
  assert.equal(sent(tr).length, 0, 'nothing leaves while paused');
  ch.resumeOutput({ speedup: 3 });
  assert.deepEqual(sent(tr).map((m) => m.body), ['1e000000', '9e000000'], 'A down and up at once, as typed');
  ch.keyDown(0x20); // D typed during the replay
  t.mock.timers.tick(29);
  assert.equal(sent(tr).length, 2, 'B not before 90/3 ms');
  t.mock.timers.tick(1);
  assert.deepEqual(sent(tr).slice(2).map((m) => m.body), ['30000000', 'b0000000']);
  t.mock.timers.tick(99);
  assert.equal(sent(tr).length, 4, 'C not before 300/3 ms after B');
  t.mock.timers.tick(1);
  // C, then D which waited behind the replay (its own gap after C is shortened too, but it was produced later)
  assert.equal(sent(tr)[4].body, '2e000000');
  t.mock.timers.tick(1000);
  assert.deepEqual(sent(tr).map((m) => m.body), ['1e000000', '9e000000', '30000000', 'b0000000', '2e000000', '20000000']);
  assert.equal(ch.queuedMessages, 0);
  ch.keyUp(0x20);
  assert.equal(sent(tr).length, 7, 'caught up: input goes straight out again');
});

test('a pause during the replay stops it; resuming continues where it stopped; failing counts the rest as dropped', async (t) => {
  const { t: tr, ch } = await linkedInputs();
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let clock = 0;
  ch.now = () => clock;
  ch.pauseOutput();
  for (let i = 0; i < 4; i++) {
    ch.keyDown(0x1e);
    clock += 30;
  }
  ch.resumeOutput({ speedup: 3 });
  assert.equal(sent(tr).length, 1);
  ch.pauseOutput();
  t.mock.timers.tick(100);
  assert.equal(sent(tr).length, 1, 'paused: the replay waits');
  ch.resumeOutput();
  assert.equal(sent(tr).length, 2, 'the replay goes on with its own pacing');
  t.mock.timers.tick(10);
  assert.equal(sent(tr).length, 3);
  ch.pauseOutput();
  const errs: string[] = [];
  ch.onFailure = (e) => errs.push(e.code);
  ch.fail(new (await import('../../main/spice/wire/errors')).SpiceError('CLOSED', 'gone'));
  assert.deepEqual(errs, ['CLOSED']);
  assert.equal(ch.migration.droppedBytes, 4, 'the one unsent key (4 bytes) is reported dropped');
});

test('MOTION_ACK times the round trip: each 4th motion message sent → its ACK; median of the last ones; held messages are not timed', async () => {
  const { t, ch } = await linkedInputs();
  let now = 1000;
  ch.now = () => now;
  const seen: number[] = [];
  ch.onRoundTrip = (ms) => seen.push(ms);
  assert.equal(ch.roundTripMs, undefined);
  for (let i = 0; i < 4; i++) ch.mouseMotion(1, 0, 0); // bunch 1 complete at t=1000
  now = 1030;
  for (let i = 0; i < 4; i++) ch.mousePosition(i, i, 0, 0); // bunch 2 complete at t=1030
  now = 1042;
  t.deliver(miniMsg(111));
  await tick();
  now = 1100;
  t.deliver(miniMsg(111));
  await tick();
  assert.deepEqual(seen, [42, 70]);
  assert.equal(ch.roundTripMs, 70, 'median of [42, 70]');
  // output held (a migration switch): the bunch waits in the queue and is not timed
  ch.pauseOutput();
  for (let i = 0; i < 4; i++) ch.mouseMotion(1, 0, 0);
  now = 5000;
  ch.resumeOutput();
  now = 5010;
  t.deliver(miniMsg(111));
  await tick();
  assert.deepEqual(seen, [42, 70], 'the held bunch has no sample');
  for (let i = 0; i < 4; i++) ch.mouseMotion(1, 0, 0);
  now = 5013;
  t.deliver(miniMsg(111));
  await tick();
  assert.deepEqual(seen, [42, 70, 3], 'the next bunch is timed against its own ACK');
});
