// Inputs channel: key codes on the wire, MOTION_ACK flow control with
// coalescing, and the exact client message bytes (decoded independently).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { Connection } from '../../main/spice/connection';
import { InputsChannel, keyCode } from '../../main/spice/channels/inputs-channel';
import { quietLogger } from '../../main/spice/session';
import { FakeTransport, tick } from '../helpers/fake-transport';
import { Bytes, concat, hex, linkReply, miniMsg } from '../helpers/spice-bytes';

const spki = new Uint8Array(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }));

test('key codes: plain and E0-extended, make and break', () => {
  assert.equal(keyCode(0x1e, true), 0x1e); // A down
  assert.equal(keyCode(0x1e, false), 0x9e);
  assert.equal(keyCode(0x138, true), 0x38e0); // AltGr: E0 38
  assert.equal(keyCode(0x138, false), 0xb8e0); // E0 B8
  assert.equal(keyCode(0x148, true), 0x48e0); // Up arrow
});

async function linkedInputs() {
  const t = new FakeTransport();
  const p = Connection.link(t, { connectionId: 1, channelType: 3, channelId: 0, channelCaps: [], password: '', name: 'inputs' });
  t.deliver(concat(linkReply({ pubKey: spki }), new Bytes().u32(0).build()));
  const conn = await p;
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
