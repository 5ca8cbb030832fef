// Display message codecs against hand-built bytes (pointer offsets computed
// by hand from spice.proto's layout), plus malformed-input behaviour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeDraw, decodeDisplayMessage, encodeDisplayInit } from '../../main/spice/messages/display';
import { SpiceError } from '../../main/spice/wire/errors';
import { Bytes, hex } from '../helpers/spice-bytes';

const rect = (b: Bytes, t: number, l: number, bo: number, r: number) => b.i32(t).i32(l).i32(bo).i32(r);

test('DRAW_COPY with a 2x2 32-bit BITMAP, two clip rects and no mask', () => {
  const b = new Bytes();
  b.u32(0); // surface_id
  rect(b, 10, 20, 12, 22); // box
  b.u8(1).u32(2); // clip RECTS, 2 rects
  rect(b, 10, 20, 11, 22);
  rect(b, 11, 20, 12, 21);
  const srcPtrAt = b.length;
  b.u32(0); // src_bitmap pointer, patched below
  rect(b, 0, 0, 2, 2); // src_area
  b.u16(8); // ropd OP_PUT
  b.u8(1); // scale NEAREST
  b.u8(0).i32(0).i32(0).u32(0); // mask: flags, pos, NULL bitmap
  const imageAt = b.length;
  b.u64(0x1234567890n).u8(0).u8(1).u32(2).u32(2); // descriptor: id, BITMAP, CACHE_ME, 2x2
  b.u8(8).u8(4).u32(2).u32(2).u32(8).u32(0); // 32BIT, TOP_DOWN, x, y, stride, palette NULL
  b.u32(0xff0000).u32(0x00ff00).u32(0x0000ff).u32(0xffffff);
  const bytes = b.build();
  new DataView(bytes.buffer).setUint32(srcPtrAt, imageAt, true);
  const cmd = decodeDraw(304, bytes);
  assert.equal(cmd.op, 'copy');
  if (cmd.op !== 'copy') return;
  assert.deepEqual(cmd.base.box, { top: 10, left: 20, bottom: 12, right: 22 });
  assert.equal(cmd.base.clip?.length, 2);
  assert.deepEqual(cmd.base.clip?.[1], { top: 11, left: 20, bottom: 12, right: 21 });
  assert.equal(cmd.ropd, 8);
  assert.equal(cmd.scaleMode, 1);
  assert.equal(cmd.mask.bitmap, null);
  assert.equal(cmd.src?.descriptor.id, 0x1234567890n);
  assert.equal(cmd.src?.descriptor.flags, 1);
  assert.equal(cmd.src?.data.kind, 'bitmap');
  if (cmd.src?.data.kind !== 'bitmap') return;
  assert.equal(cmd.src.data.stride, 8);
  assert.equal(hex(cmd.src.data.data), '0000ff0000ff0000ff000000ffffff00');
});

test('DRAW_FILL with a solid brush and a QUIC-less mask pointer NULL', () => {
  const b = new Bytes().u32(3);
  rect(b, 0, 0, 5, 5);
  b.u8(0); // no clip
  b.u8(1).u32(0x00abcdef); // solid brush
  b.u16(0x0408 & 0xffff); // OP_PUT | INVERS_RES? use raw value
  b.u8(1).i32(2).i32(3).u32(0); // mask flags INVERS, pos, NULL
  const cmd = decodeDraw(302, b.build());
  assert.equal(cmd.op, 'fill');
  if (cmd.op !== 'fill') return;
  assert.equal(cmd.base.surfaceId, 3);
  assert.equal(cmd.base.clip, null);
  assert.deepEqual(cmd.brush, { type: 'solid', color: 0x00abcdef });
  assert.equal(cmd.ropd, 0x0408);
  assert.deepEqual(cmd.mask, { flags: 1, pos: { x: 2, y: 3 }, bitmap: null });
});

test('COPY_BITS and SURFACE_CREATE / INVAL_LIST / MONITORS_CONFIG', () => {
  const cb = new Bytes().u32(0);
  rect(cb, 0, 0, 10, 10);
  cb.u8(0).i32(5).i32(6);
  const c = decodeDraw(104, cb.build());
  assert.deepEqual(c.op === 'copyBits' && c.srcPos, { x: 5, y: 6 });
  assert.deepEqual(decodeDisplayMessage(314, new Bytes().u32(0).u32(1024).u32(768).u32(32).u32(1).build()), {
    t: 'surfaceCreate', surfaceId: 0, width: 1024, height: 768, format: 32, flags: 1,
  });
  assert.deepEqual(decodeDisplayMessage(105, new Bytes().u16(2).u8(1).u64(7).u8(1).u64(1n << 40n).build()), {
    t: 'invalList', resources: [{ type: 1, id: 7n }, { type: 1, id: 1n << 40n }],
  });
  const mc = decodeDisplayMessage(317, new Bytes().u16(1).u16(4).u32(0).u32(0).u32(800).u32(600).u32(0).u32(0).u32(0).build());
  assert.deepEqual(mc, { t: 'monitorsConfig', maxAllowed: 4, heads: [{ id: 0, surfaceId: 0, width: 800, height: 600, x: 0, y: 0, flags: 0 }] });
});

test('LZ_PLT image with an inline palette (pointer) and PAL_CACHE_ME', () => {
  const b = new Bytes().u32(0);
  rect(b, 0, 0, 1, 4);
  b.u8(0);
  const srcPtrAt = b.length;
  b.u32(0);
  rect(b, 0, 0, 1, 4);
  b.u16(8).u8(0).u8(0).i32(0).i32(0).u32(0);
  const imageAt = b.length;
  b.u64(1).u8(100).u8(0).u32(4).u32(1); // LZ_PLT 4x1
  const palPtrAt = b.length + 5;
  b.u8(1).u32(3).u32(0); // flags PAL_CACHE_ME, data_size 3, palette pointer (patched)
  b.raw([1, 2, 3]);
  const palAt = b.length;
  b.u64(99).u16(2).u32(0x112233).u32(0x445566);
  const bytes = b.build();
  const dv = new DataView(bytes.buffer);
  dv.setUint32(srcPtrAt, imageAt, true);
  dv.setUint32(palPtrAt, palAt, true);
  const cmd = decodeDraw(304, bytes);
  assert.ok(cmd.op === 'copy' && cmd.src?.data.kind === 'lz_plt');
  if (cmd.op !== 'copy' || cmd.src?.data.kind !== 'lz_plt') return;
  assert.equal(hex(cmd.src.data.data), '010203');
  const pal = cmd.src.data.palette;
  assert.ok(pal && 'palette' in pal);
  if (!pal || !('palette' in pal)) return;
  assert.equal(pal.cacheMe, true);
  assert.equal(pal.palette.unique, 99n);
  assert.deepEqual([...pal.palette.ents], [0x112233, 0x445566]);
});

test('malformed display messages give coded errors, not crashes', () => {
  const isErr = (code: string) => (e: unknown) => e instanceof SpiceError && e.code === code;
  // image pointer past the end of the message
  const b = new Bytes().u32(0);
  rect(b, 0, 0, 1, 1);
  b.u8(0).u32(9999);
  rect(b, 0, 0, 1, 1);
  b.u16(8).u8(0).u8(0).i32(0).i32(0).u32(0);
  assert.throws(() => decodeDraw(304, b.build()), isErr('SHORT_READ'));
  // clip claims a huge number of rects
  const c = new Bytes().u32(0);
  rect(c, 0, 0, 1, 1);
  c.u8(1).u32(0x10000000);
  assert.throws(() => decodeDraw(302, c.build()), isErr('BAD_MESSAGE'));
  // unknown brush type
  const d = new Bytes().u32(0);
  rect(d, 0, 0, 1, 1);
  d.u8(0).u8(9);
  assert.throws(() => decodeDraw(302, d.build()), isErr('BAD_MESSAGE'));
  // every truncation of a valid SURFACE_CREATE
  const sc = new Bytes().u32(0).u32(1024).u32(768).u32(32).u32(1).build();
  for (let i = 0; i < sc.length; i++) assert.throws(() => decodeDisplayMessage(314, sc.subarray(0, i)), isErr('SHORT_READ'));
});

test('DISPLAY_INIT bytes: cache id, i64 cache size (pixels), glz id, i32 window', () => {
  assert.equal(
    hex(encodeDisplayInit({ pixmapCacheId: 1, pixmapCacheSize: 0x1400000n, glzDictionaryId: 1, glzDictionaryWindowSize: 0x400000 })),
    '01' + '0000400100000000' + '01' + '00004000',
  );
});
