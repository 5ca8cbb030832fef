import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Lz4Decoder } from '../../../renderer/display/decoders/lz4';
import { BitmapFmt, ImageType } from '../../../main/spice/protocol/enums';
import { lz4EncodeBlock, lz4EncodeImage, rng, mixedImage } from './lz-test-encoders';
import { assertDecodeError, decodesOrRejects, eqPixels, expand555, img, makeCtx } from './lz-helpers';

const dec = new Lz4Decoder();
const lz4Img = (w: number, h: number, data: number[] | Uint8Array) => img(ImageType.LZ4, w, h, { kind: 'lz4', data: Uint8Array.from(data) });
const be32 = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

/** Raw rows of an image in a bitmap format, and the pixels the decoder must produce (independent conversion). */
function rawFor(format: number, px: Uint32Array, w: number, h: number, topDown: boolean, pad = 0): { raw: Uint8Array; stride: number; expected: Uint32Array } {
  const bpp = format === BitmapFmt._16BIT ? 2 : format === BitmapFmt._24BIT ? 3 : 4;
  const stride = w * bpp + pad;
  const raw = new Uint8Array(stride * h);
  const expected = new Uint32Array(w * h);
  for (let y = 0; y < h; y++) {
    const sy = topDown ? y : h - 1 - y; // stream row sy holds image row y
    for (let x = 0; x < w; x++) {
      const p = px[y * w + x];
      const o = sy * stride + x * bpp;
      const [a, r, g, b] = [p >>> 24, (p >>> 16) & 255, (p >>> 8) & 255, p & 255];
      if (bpp === 2) {
        const v = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3);
        raw[o] = v & 255;
        raw[o + 1] = v >> 8;
        expected[y * w + x] = expand555(v);
      } else {
        raw[o] = b;
        raw[o + 1] = g;
        raw[o + 2] = r;
        if (bpp === 4) raw[o + 3] = format === BitmapFmt.RGBA ? a : (x * 37 + y * 11) & 255; // 32BIT: x byte is junk
        expected[y * w + x] = format === BitmapFmt.RGBA ? p : (p | 0xff000000) >>> 0;
      }
    }
  }
  return { raw, stride, expected };
}

describe('LZ4 golden vectors (hand-built)', () => {
  it('literals-only block, 32BIT top-down', () => {
    const d = [1, BitmapFmt._32BIT, ...be32(9), 0x80, 1, 2, 3, 0x44, 4, 5, 6, 0x55];
    const r = dec.decode(lz4Img(2, 1, d), makeCtx());
    assert.deepEqual([...r.pixels], [0xff030201, 0xff060504]);
    assert.equal(r.hasAlpha, false);
  });

  it('32BIT with opaque x bytes and whole-pixel matches', () => {
    // pixel A (x = ff), match offset 4 length 8 (two more A), 4 literals (pixel B) → A A A B
    const blk = [0x44, 1, 2, 3, 0xff, 0x04, 0x00, 0x40, 7, 8, 9, 0xff];
    const r = dec.decode(lz4Img(4, 1, [1, BitmapFmt._32BIT, ...be32(blk.length), ...blk]), makeCtx());
    assert.deepEqual([...r.pixels], [0xff030201, 0xff030201, 0xff030201, 0xff090807]);
  });

  it('overlapping match, 24BIT', () => {
    // 3 literals (A), match offset 3 length 4, then 5 literals → A A A B
    const d = [1, BitmapFmt._24BIT, ...be32(12), 0x30, 0x0a, 0x0b, 0x0c, 0x03, 0x00, 0x50, 0x0b, 0x0c, 0x01, 0x02, 0x03];
    assert.deepEqual([...dec.decode(lz4Img(4, 1, d), makeCtx()).pixels], [0xff0c0b0a, 0xff0c0b0a, 0xff0c0b0a, 0xff030201]);
  });

  it('a match reaching into the previous block, RGBA bottom-up', () => {
    const b1 = [0x80, 1, 2, 3, 4, 5, 6, 7, 8];
    const b2 = [0x00, 0x08, 0x00, 0x40, 9, 10, 11, 12]; // 4 bytes from 8 back, then 4 literals
    const d = [0, BitmapFmt.RGBA, ...be32(b1.length), ...b1, ...be32(b2.length), ...b2];
    const r = dec.decode(lz4Img(2, 2, d), makeCtx());
    // stream row 0 (bytes 1..8) is the bottom row
    assert.deepEqual([...r.pixels], [0x04030201, 0x0c0b0a09, 0x04030201, 0x08070605]);
    assert.equal(r.hasAlpha, true);
  });

  it('32BIT: a match offset of a non-whole pixel still yields opaque pixels', () => {
    // literals 01 02 03 00 05, match offset 5 length 4 (copies 01 02 03 00), literals 09 0a 0b
    const blk = [0x50, 1, 2, 3, 0, 5, 0x05, 0x00, 0x30, 9, 10, 11];
    const r = dec.decode(lz4Img(3, 1, [1, BitmapFmt._32BIT, ...be32(blk.length), ...blk]), makeCtx());
    assert.deepEqual([...r.pixels], [0xff030201, 0xff020105, 0xff0a0900]);
  });

  it('extended literal and match lengths', () => {
    // 20 literal bytes (15 + 5), match offset 4 of 4+15+10 = 29 bytes, 7 literals: 56 bytes = 14 px of 32BIT
    const lits = Array.from({ length: 20 }, (_, i) => i + 1);
    const tail = [90, 91, 92, 93, 94, 95, 96];
    const d = [1, BitmapFmt._32BIT];
    const blk = [0xff, 5, ...lits, 0x04, 0x00, 10, 0x70, ...tail];
    d.push(...be32(blk.length), ...blk);
    const raw = [...lits];
    for (let i = 0; i < 29; i++) raw.push(raw[raw.length - 4]);
    raw.push(...tail);
    const r = dec.decode(lz4Img(14, 1, d), makeCtx());
    for (let x = 0; x < 14; x++) assert.equal(r.pixels[x], (0xff000000 | (raw[x * 4 + 2] << 16) | (raw[x * 4 + 1] << 8) | raw[x * 4]) >>> 0);
  });
});

describe('LZ4 round trips through the test block encoder', () => {
  const formats = [BitmapFmt._16BIT, BitmapFmt._24BIT, BitmapFmt._32BIT, BitmapFmt.RGBA];
  for (const format of formats) {
    for (const [w, h] of [
      [1, 1],
      [5, 3],
      [33, 17],
      [200, 9],
    ]) {
      it(`format ${format} ${w}x${h}`, () => {
        const px = mixedImage(w, h, w * h + format, format === BitmapFmt.RGBA);
        for (const topDown of [true, false]) {
          for (const rows of [1, 3, h]) {
            for (const literalsOnly of [false, true]) {
              const { raw, stride, expected } = rawFor(format, px, w, h, topDown);
              const data = lz4EncodeImage(raw, stride, h, topDown, format, rows, literalsOnly);
              eqPixels(dec.decode(lz4Img(w, h, data), makeCtx()).pixels, expected, `td=${topDown} rows=${rows} lit=${literalsOnly}`);
            }
          }
        }
      });
    }
  }

  it('rows padded past width*bpp (the server sends its stride)', () => {
    const px = mixedImage(7, 6, 1);
    const { raw, stride, expected } = rawFor(BitmapFmt._24BIT, px, 7, 6, true, 3);
    const data = lz4EncodeImage(raw, stride, 6, true, BitmapFmt._24BIT, 2);
    eqPixels(dec.decode(lz4Img(7, 6, data), makeCtx()).pixels, expected, 'padded');
  });

  it('the block encoder really emits matches (compresses a repetitive image)', () => {
    const raw = new Uint8Array(4000).fill(9);
    assert.ok(lz4EncodeBlock(raw, 0, raw.length).length < 100);
  });
});

describe('LZ4 errors', () => {
  const px = mixedImage(6, 4, 3, true);
  const { raw, stride } = rawFor(BitmapFmt.RGBA, px, 6, 4, true);
  const data = lz4EncodeImage(raw, stride, 4, true, BitmapFmt.RGBA, 2);

  it('truncation at every byte offset throws DECODE', () => {
    for (let n = 0; n < data.length; n++) assertDecodeError(() => dec.decode(lz4Img(6, 4, data.subarray(0, n)), makeCtx()), `cut at ${n}`);
  });

  it('bad format, zero offset, offset before start, output overflow, size mismatch', () => {
    assertDecodeError(() => dec.decode(lz4Img(1, 1, [1, BitmapFmt._8BIT, ...be32(2), 0x10, 1]), makeCtx()));
    assertDecodeError(() => dec.decode(lz4Img(2, 1, [1, BitmapFmt._32BIT, ...be32(8), 0x10, 1, 0x00, 0x00, 0x30, 1, 2, 3]), makeCtx()));
    assertDecodeError(() => dec.decode(lz4Img(2, 1, [1, BitmapFmt._32BIT, ...be32(8), 0x10, 1, 0x05, 0x00, 0x30, 1, 2, 3]), makeCtx()));
    assertDecodeError(() => dec.decode(lz4Img(1, 1, [1, BitmapFmt._32BIT, ...be32(9), 0x80, 1, 2, 3, 4, 5, 6, 7, 8]), makeCtx()));
    assertDecodeError(() => dec.decode(lz4Img(3, 1, [1, BitmapFmt._32BIT, ...be32(9), 0x80, 1, 2, 3, 4, 5, 6, 7, 8]), makeCtx()));
    assertDecodeError(() => dec.decode(lz4Img(70000, 70000, [1, BitmapFmt._32BIT]), makeCtx()));
  });

  it('random corruption decodes or throws DECODE', () => {
    const r = rng(4);
    for (let k = 0; k < 3000; k++) {
      const bad = data.slice();
      bad[2 + Math.floor(r() * (bad.length - 2))] = Math.floor(r() * 256);
      decodesOrRejects(() => dec.decode(lz4Img(6, 4, bad), makeCtx()));
    }
  });
});
