import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteReader } from '../../main/spice/wire/byte-reader';
import { ByteWriter } from '../../main/spice/wire/byte-writer';
import { SpiceError } from '../../main/spice/wire/errors';
import { fromHex, hex } from '../helpers/spice-bytes';

test('ByteReader reads little-endian fields', () => {
  const r = new ByteReader(fromHex('01 0302 07060504 0f0e0d0c0b0a0908 ff ffff'));
  assert.equal(r.u8(), 1);
  assert.equal(r.u16(), 0x0203);
  assert.equal(r.u32(), 0x04050607);
  assert.equal(r.u64(), 0x08090a0b0c0d0e0fn);
  assert.equal(r.i8(), -1);
  assert.equal(r.i16(), -1);
  assert.equal(r.remaining, 0);
});

test('ByteReader u32 above 2^31 stays positive, u64 keeps all bits (spice-html5 bugs)', () => {
  const r = new ByteReader(fromHex('ffffffff ffffffffffffffff'));
  assert.equal(r.u32(), 4294967295);
  assert.equal(r.u64(), 0xffffffffffffffffn);
});

test('ByteReader throws SHORT_READ with the field name instead of reading past the end', () => {
  const r = new ByteReader(fromHex('0102 03'));
  r.u16();
  assert.throws(() => r.u32('size'), (e: unknown) => e instanceof SpiceError && e.code === 'SHORT_READ' && /size at offset 2/.test(e.message));
  assert.throws(() => r.sub(1, 5), (e: unknown) => e instanceof SpiceError && e.code === 'SHORT_READ');
  assert.throws(() => r.seek(4), (e: unknown) => e instanceof SpiceError && e.code === 'SHORT_READ');
});

test('ByteReader windows do not see bytes outside them', () => {
  const bytes = fromHex('aa bb cc dd');
  const r = new ByteReader(bytes, 1, 3);
  assert.equal(r.u16(), 0xccbb);
  assert.throws(() => r.u8());
});

test('ByteWriter grows, chains and patches', () => {
  const w = new ByteWriter(1);
  w.u8(1).u16(0x0203).u32(0x04050607).u64(0x08090a0b0c0d0e0fn).i32(-2).zeros(2);
  w.patchU32(3, 0xdeadbeef);
  assert.equal(hex(w.finish()), '010302efbeadde0f0e0d0c0b0a0908feffffff0000');
});
