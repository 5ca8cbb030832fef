import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BitmapDecoder } from '../../../renderer/display/decoders/bitmap';
import { BitmapFlags, BitmapFmt, ImageType } from '../../../main/spice/protocol/enums';
import type { PaletteRef } from '../../../preload/contract';
import { assertDecodeError, img, makeCtx } from './lz-helpers';

const dec = new BitmapDecoder();
const TD = BitmapFlags.TOP_DOWN;
function bmp(format: number, flags: number, w: number, h: number, stride: number, bytes: number[], palette: PaletteRef = null) {
  return img(ImageType.BITMAP, w, h, { kind: 'bitmap', format, flags, x: w, y: h, stride, palette, data: Uint8Array.from(bytes) });
}
const pal = (ents: number[], cacheMe = false, unique = 5n): PaletteRef => ({ palette: { unique, ents: Uint32Array.from(ents) }, cacheMe });

describe('BITMAP formats (hand-built rows)', () => {
  it('32BIT with stride padding, top-down and bottom-up', () => {
    const rows = [1, 2, 3, 99, 4, 5, 6, 99, 0xee, 7, 8, 9, 0, 10, 11, 12, 0, 0xee];
    const td = dec.decode(bmp(BitmapFmt._32BIT, TD, 2, 2, 9, rows), makeCtx());
    assert.deepEqual([...td.pixels], [0xff030201, 0xff060504, 0xff090807, 0xff0c0b0a]);
    assert.equal(td.hasAlpha, false);
    const bu = dec.decode(bmp(BitmapFmt._32BIT, 0, 2, 2, 9, rows), makeCtx());
    assert.deepEqual([...bu.pixels], [0xff090807, 0xff0c0b0a, 0xff030201, 0xff060504]);
  });

  it('RGBA keeps alpha; 8BIT_A is alpha only', () => {
    const r = dec.decode(bmp(BitmapFmt.RGBA, TD, 1, 1, 4, [1, 2, 3, 0x80]), makeCtx());
    assert.deepEqual([...r.pixels], [0x80030201]);
    assert.equal(r.hasAlpha, true);
    const a = dec.decode(bmp(BitmapFmt._8BIT_A, TD, 3, 1, 4, [0, 0x7f, 0xff, 0]), makeCtx());
    assert.deepEqual([...a.pixels], [0x00000000, 0x7f000000, 0xff000000]);
    assert.equal(a.hasAlpha, true);
  });

  it('24BIT and 16BIT (little-endian x1r5g5b5)', () => {
    assert.deepEqual([...dec.decode(bmp(BitmapFmt._24BIT, TD, 2, 1, 6, [1, 2, 3, 4, 5, 6]), makeCtx()).pixels], [0xff030201, 0xff060504]);
    // 0x7c00 red, 0x03e0 green, 0x001f blue, 0x4210 (16,16,16) → 0x84
    const r = dec.decode(bmp(BitmapFmt._16BIT, TD, 4, 1, 8, [0x00, 0x7c, 0xe0, 0x03, 0x1f, 0x00, 0x10, 0x42]), makeCtx());
    assert.deepEqual([...r.pixels], [0xffff0000, 0xff00ff00, 0xff0000ff, 0xff848484]);
  });

  it('8BIT palette (out-of-range index → black), PAL_CACHE_ME then PAL_FROM_CACHE', () => {
    const ctx = makeCtx();
    const r = dec.decode(bmp(BitmapFmt._8BIT, TD | BitmapFlags.PAL_CACHE_ME, 3, 1, 3, [0, 1, 7], pal([0x112233, 0xaabbcc], true, 77n)), ctx);
    assert.deepEqual([...r.pixels], [0xff112233, 0xffaabbcc, 0xff000000]);
    assert.ok(ctx.map.has(77n));
    const c = dec.decode(bmp(BitmapFmt._8BIT, TD | BitmapFlags.PAL_FROM_CACHE, 1, 1, 1, [1], { fromCache: 77n }), ctx);
    assert.deepEqual([...c.pixels], [0xffaabbcc]);
  });

  it('4BIT_BE / 4BIT_LE nibble order', () => {
    const p = pal([0x000000, 0x111111, 0x222222, 0x333333]);
    assert.deepEqual([...dec.decode(bmp(BitmapFmt._4BIT_BE, TD, 3, 1, 2, [0x12, 0x30], p), makeCtx()).pixels], [0xff111111, 0xff222222, 0xff333333]);
    assert.deepEqual([...dec.decode(bmp(BitmapFmt._4BIT_LE, TD, 3, 1, 2, [0x12, 0x03], p), makeCtx()).pixels], [0xff222222, 0xff111111, 0xff333333]);
  });

  it('1BIT_BE / 1BIT_LE bit order, bottom-up', () => {
    const p = pal([0x0000ff, 0xff0000]);
    const B = 0xff0000ff;
    const R = 0xffff0000;
    // 10 pixels, stride 4 (padded); two rows, bottom-up
    const be = dec.decode(bmp(BitmapFmt._1BIT_BE, 0, 10, 2, 4, [0x80, 0x40, 0, 0, 0xff, 0xc0, 0, 0], p), makeCtx());
    assert.deepEqual([...be.pixels.subarray(0, 10)], Array(10).fill(R));
    assert.deepEqual([...be.pixels.subarray(10)], [R, B, B, B, B, B, B, B, B, R]);
    const le = dec.decode(bmp(BitmapFmt._1BIT_LE, TD, 10, 1, 2, [0x01, 0x02], p), makeCtx());
    assert.deepEqual([...le.pixels], [R, B, B, B, B, B, B, B, B, R]);
  });
});

describe('BITMAP errors', () => {
  it('short data, small stride, unknown format, palette problems, size checks', () => {
    assertDecodeError(() => dec.decode(bmp(BitmapFmt._32BIT, TD, 2, 2, 8, Array(15).fill(0)), makeCtx()));
    assertDecodeError(() => dec.decode(bmp(BitmapFmt._32BIT, TD, 2, 2, 7, Array(16).fill(0)), makeCtx()));
    assertDecodeError(() => dec.decode(bmp(99, TD, 1, 1, 4, [0, 0, 0, 0]), makeCtx()));
    assertDecodeError(() => dec.decode(bmp(BitmapFmt._8BIT, TD, 1, 1, 1, [0]), makeCtx()));
    assertDecodeError(() => dec.decode(bmp(BitmapFmt._8BIT, TD, 1, 1, 1, [0], { fromCache: 1n }), makeCtx()));
    assertDecodeError(() => dec.decode(bmp(BitmapFmt._8BIT, TD, 1, 1, 1, [0], pal([])), makeCtx()));
    assertDecodeError(() => dec.decode(bmp(BitmapFmt._32BIT, TD, 0, 1, 0, []), makeCtx()));
    assertDecodeError(() => dec.decode(bmp(BitmapFmt._8BIT_A, TD, 70000, 70000, 70000, [0]), makeCtx()));
    const mismatch = bmp(BitmapFmt._32BIT, TD, 1, 1, 4, [0, 0, 0, 0]);
    mismatch.descriptor.width = 2;
    assertDecodeError(() => dec.decode(mismatch, makeCtx()));
  });
});
