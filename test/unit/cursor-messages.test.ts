// Cursor channel codecs against byte vectors written by hand from spice.proto
// (CursorChannel, SpiceCursor, SpiceCursorHeader), and the channel's cursor
// cache driven by those bytes through a linked connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as m from '../../main/spice/messages/cursor';
import { CursorChannel } from '../../main/spice/channels/cursor-channel';
import { quietLogger } from '../../main/spice/session';
import type { CursorCommand } from '../../preload/contract';
import { tick } from '../helpers/fake-transport';
import { linkFake } from '../helpers/linked-channel';
import { fromHex, miniMsg } from '../helpers/spice-bytes';
import { assertShortAtEveryOffset, isSpiceError } from '../helpers/truncation';

const HEADER = // SpiceCursorHeader
  '8877665544332211' + // unique 0x1122334455667788
  '00' + // type ALPHA
  '0200' + // width 2
  '0100' + // height 1
  '0100' + // hot_spot_x 1
  '0000'; // hot_spot_y 0
const PIXELS = '0102030405060708'; // 2x1 ALPHA: two 32-bit ARGB pixels

const INIT = fromHex(
  '0a00' + 'feff' + // position (10, -2)
    '0300' + // trail_length 3
    '0500' + // trail_frequency 5
    '01' + // visible
    '0200' + // cursor flags CACHE_ME
    HEADER +
    PIXELS,
);
const INIT_FIXED = 2 + 2 + 2 + 2 + 1 + 2 + 17; // everything before the shape's data

const shape = (data: string) => ({ unique: 0x1122334455667788n, type: 0, width: 2, height: 1, hotX: 1, hotY: 0, data: fromHex(data) });

test('CURSOR_INIT: position, trail, visible, then SpiceCursor with header and data to the end', () => {
  assert.deepEqual(m.decodeCursorInit(INIT), {
    position: { x: 10, y: -2 },
    trailLength: 3,
    trailFrequency: 5,
    visible: true,
    cursor: { flags: 2, shape: shape(PIXELS) },
  });
  // cut inside the fixed part: SHORT_READ; cut inside the data (data[] runs to the end): fewer bytes
  assertShortAtEveryOffset(m.decodeCursorInit, INIT, INIT_FIXED);
  for (let i = INIT_FIXED; i <= INIT.length; i++) {
    assert.equal(m.decodeCursorInit(INIT.slice(0, i)).cursor.shape!.data.length, i - INIT_FIXED);
  }
});

test('CURSOR_SET: NONE has no header; FROM_CACHE has the header and no data', () => {
  const none = fromHex('0500' + '0600' + '00' + '0100'); // (5, 6), hidden, flags NONE
  assert.deepEqual(m.decodeCursorSet(none), { position: { x: 5, y: 6 }, visible: false, cursor: { flags: 1, shape: null } });
  assertShortAtEveryOffset(m.decodeCursorSet, none);
  const fromCache = fromHex('0100' + '0200' + '01' + '0400' + HEADER); // (1, 2), visible, FROM_CACHE
  assert.deepEqual(m.decodeCursorSet(fromCache), { position: { x: 1, y: 2 }, visible: true, cursor: { flags: 4, shape: shape('') } });
  assertShortAtEveryOffset(m.decodeCursorSet, fromCache);
});

test('a shape wider or taller than 1024 is LIMIT (a cached one is only looked up)', () => {
  const wide = fromHex('00000000' + '01' + '0000' + '8877665544332211' + '00' + '0104' + '0100' + '00000000'); // width 1025
  assert.throws(() => m.decodeCursorSet(wide), isSpiceError('LIMIT'));
  const tall = fromHex('00000000' + '01' + '0000' + '8877665544332211' + '00' + '0100' + '0104' + '00000000');
  assert.throws(() => m.decodeCursorSet(tall), isSpiceError('LIMIT'));
  const cachedWide = wide.slice();
  cachedWide[5] = 4; // FROM_CACHE
  assert.equal(m.decodeCursorSet(cachedWide).cursor.shape!.width, 1025);
});

test('CURSOR_MOVE, TRAIL, INVAL_ONE', () => {
  const move = fromHex('38ff' + '1400'); // (-200, 20)
  assert.deepEqual(m.decodeCursorMove(move), { x: -200, y: 20 });
  assertShortAtEveryOffset(m.decodeCursorMove, move);
  const trail = fromHex('0400' + '1000');
  assert.deepEqual(m.decodeCursorTrail(trail), { length: 4, frequency: 16 });
  assertShortAtEveryOffset(m.decodeCursorTrail, trail);
  const inval = fromHex('8877665544332211');
  assert.equal(m.decodeCursorInvalOne(inval), 0x1122334455667788n);
  assertShortAtEveryOffset(m.decodeCursorInvalOne, inval);
});

async function linkedCursor() {
  const { t, conn } = await linkFake(4);
  const out: CursorCommand[] = [];
  const ch = new CursorChannel(0, quietLogger, (c) => out.push(c));
  const errors: string[] = [];
  ch.onFailure = (e) => errors.push(e.code);
  ch.attach(conn);
  return { t, ch, out, errors };
}

test('cursor channel: INIT caches the shape (own copy), SET FROM_CACHE reuses it, INVAL_ONE drops it', async () => {
  const { t, ch, out, errors } = await linkedCursor();
  const wire = miniMsg(101, INIT);
  t.deliver(wire); // INIT
  await tick();
  wire.fill(0xee); // message bodies are views into the socket's chunk: the cached shape must be a copy
  t.deliver(miniMsg(103, fromHex('0100' + '0200' + '01' + '0400' + HEADER))); // SET FROM_CACHE
  t.deliver(miniMsg(104, fromHex('0300' + '0400'))); // MOVE
  t.deliver(miniMsg(107, fromHex('8877665544332211'))); // INVAL_ONE
  await tick();
  assert.deepEqual(errors, []);
  assert.deepEqual(out, [
    { t: 'set', pos: { x: 10, y: -2 }, visible: true, shape: shape(PIXELS) },
    { t: 'trail', length: 3, frequency: 5 },
    { t: 'set', pos: { x: 1, y: 2 }, visible: true, shape: shape(PIXELS) },
    { t: 'move', pos: { x: 3, y: 4 } },
    { t: 'invalOne', id: 0x1122334455667788n },
  ]);
  assert.deepEqual(ch.position, { x: 3, y: 4 });
  t.deliver(miniMsg(103, fromHex('0100' + '0200' + '01' + '0400' + HEADER))); // FROM_CACHE after INVAL_ONE
  await tick();
  assert.deepEqual(errors, ['PROTOCOL']);
});

test('cursor channel: a truncated SET fails the channel with SHORT_READ', async () => {
  const { t, errors } = await linkedCursor();
  t.deliver(miniMsg(103, fromHex('0100' + '0200' + '01' + '0000' + '88776655'))); // header cut after 4 bytes of unique
  await tick();
  assert.deepEqual(errors, ['SHORT_READ']);
});
