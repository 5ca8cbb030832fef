// Inputs channel codecs against byte vectors written by hand from spice.proto
// (InputsChannel) and the set-1 make/break bytes a PC keyboard sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as m from '../../main/spice/messages/inputs';
import { fromHex, hex } from '../helpers/spice-bytes';
import { assertShortAtEveryOffset } from '../helpers/truncation';

test('server INIT / KEY_MODIFIERS: u16 keyboard_modifier_flags; every cut is SHORT_READ', () => {
  const body = fromHex('0700'); // SCROLL|NUM|CAPS
  assert.equal(m.decodeKeyModifiers(body), 7);
  assert.equal(m.decodeKeyModifiers(fromHex('0400')), 4);
  assertShortAtEveryOffset(m.decodeKeyModifiers, body);
});

test('KEY_DOWN / KEY_UP: u32 code holding the make/break bytes LSB first', () => {
  assert.equal(hex(m.encodeKey(0x1e, true)), '1e000000'); // A: 1E
  assert.equal(hex(m.encodeKey(0x1e, false)), '9e000000'); // A: 9E
  assert.equal(hex(m.encodeKey(0x138, true)), 'e0380000'); // AltGr: E0 38
  assert.equal(hex(m.encodeKey(0x138, false)), 'e0b80000'); // AltGr: E0 B8
  assert.equal(hex(m.encodeKey(0x148, false)), 'e0c80000'); // Up: E0 C8
  assert.equal(m.keyCode(0x15b, true), 0x5be0); // left Meta: E0 5B
});

test('KEY_SCANCODE: the raw bytes (Pause: E1 1D 45 E1 9D C5)', () => {
  assert.equal(hex(m.encodeKeyScancode([0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5])), 'e11d45e19dc5');
});

test('client KEY_MODIFIERS, MOUSE_MOTION, MOUSE_POSITION, MOUSE_PRESS / RELEASE bodies', () => {
  assert.equal(hex(m.encodeKeyModifiers(6)), '0600'); // NUM|CAPS
  assert.equal(hex(m.encodeMouseMotion({ dx: -3, dy: 4, buttons: 1 })), 'fdffffff' + '04000000' + '0100'); // i32 dx, i32 dy, u16 buttons
  assert.equal(hex(m.encodeMousePosition({ x: 300, y: 200, buttons: 4, displayId: 1 })), '2c010000' + 'c8000000' + '0400' + '01');
  assert.equal(hex(m.encodeMouseButton(3, 4)), '03' + '0400'); // RIGHT, RIGHT_MASK
  assert.equal(hex(m.encodeMouseButton(5, 0)), '05' + '0000'); // wheel DOWN released
});
