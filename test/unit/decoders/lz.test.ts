import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LzDecoder, lzDecodeAlpha } from '../../../renderer/display/decoders/lz';
import { BitmapFlags, ImageType } from '../../../main/spice/protocol/enums';
import { T, lzEncode, mixedImage, rng, to555 } from './lz-test-encoders';
import { assertDecodeError, decodesOrRejects, eqPixels, expand555, img, makeCtx } from './lz-helpers';

const dec = new LzDecoder();

function header(type: number, w: number, h: number, stride: number, topDown: number): number[] {
  const b: number[] = [];
  for (const v of [0x20205a4c, 0x00010001, type, w, h, stride, topDown]) b.push(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  return b;
}
function rgb(w: number, h: number, bytes: number[]) {
  return img(ImageType.LZ_RGB, w, h, { kind: 'lz_rgb', data: Uint8Array.from(bytes) });
}

describe('LZ golden vectors (hand-built)', () => {
  it('RGB32: one literal then a 3-pixel run', () => {
    const s = [...header(T.RGB32, 4, 1, 16, 1), 0x00, 0x10, 0x20, 0x30, 0x60, 0x00];
    const r = dec.decode(rgb(4, 1, s), makeCtx());
    assert.deepEqual([...r.pixels], [0xff302010, 0xff302010, 0xff302010, 0xff302010]);
    assert.equal(r.hasAlpha, false);
  });

  it('RGB24 bottom-up: stream row 0 is the bottom row', () => {
    const s = [...header(T.RGB24, 1, 2, 3, 0), 0x01, 1, 2, 3, 4, 5, 6];
    const r = dec.decode(rgb(1, 2, s), makeCtx());
    assert.deepEqual([...r.pixels], [0xff060504, 0xff030201]);
  });

  it('RGB32: match of length 1 copies a pixel two back', () => {
    // A B then ctrl 0x20 (L'=1 → 1 pixel), distance byte 1 (→ 2 back) copies A
    const s = [...header(T.RGB32, 3, 1, 12, 1), 0x01, 0xaa, 0, 0, 0xbb, 0, 0, 0x20, 0x01];
    assert.deepEqual([...dec.decode(rgb(3, 1, s), makeCtx()).pixels], [0xff0000aa, 0xff0000bb, 0xff0000aa]);
  });

  it('RGB16: big-endian 555 literals and a run (minimum match 2)', () => {
    const s = [...header(T.RGB16, 3, 1, 6, 1), 0x00, 0x04, 0x21, 0x20, 0x00];
    assert.deepEqual([...dec.decode(rgb(3, 1, s), makeCtx()).pixels], [0xff080808, 0xff080808, 0xff080808]);
    const s2 = [...header(T.RGB16, 2, 1, 4, 1), 0x01, 0x7c, 0x00, 0x03, 0xe0];
    assert.deepEqual([...dec.decode(rgb(2, 1, s2), makeCtx()).pixels], [0xffff0000, 0xff00ff00]);
  });

  it('extended length and far (16-bit) distance', () => {
    // A, B literals; run of B with L'=8190 (7 + 32×255 + 23); far match D=8192 copies A,B,B.
    const s = [...header(T.RGB32, 8195, 1, 8195 * 4, 1), 0x01, 0xa, 0, 0, 0xb, 0, 0, 0xe0, ...Array(32).fill(255), 23, 0x00];
    s.push((3 << 5) | 31, 255, 0, 0);
    const r = dec.decode(rgb(8195, 1, s), makeCtx());
    assert.equal(r.pixels[0], 0xff00000a);
    for (let i = 1; i < 8192; i++) assert.equal(r.pixels[i], 0xff00000b);
    assert.deepEqual([...r.pixels.subarray(8192)], [0xff00000a, 0xff00000b, 0xff00000b]);
  });

  it('PLT1_BE with stride padding, and PLT4_LE nibble order', () => {
    const ctx = makeCtx();
    const pal = { palette: { unique: 7n, ents: Uint32Array.from([0x000000, 0xffffff]) }, cacheMe: false };
    // width 10 → stride 2; row bytes 0b10100000 0b01000000 → pixels 1,0,1,0,0,0,0,0,0,1
    const s = [...header(T.PLT1_BE, 10, 1, 2, 1), 0x01, 0xa0, 0x40];
    const r = dec.decode(img(ImageType.LZ_PLT, 10, 1, { kind: 'lz_plt', flags: BitmapFlags.TOP_DOWN, palette: pal, data: Uint8Array.from(s) }), ctx);
    const W = 0xffffffff;
    const B = 0xff000000;
    assert.deepEqual([...r.pixels], [W, B, W, B, B, B, B, B, B, W]);
    const pal4 = { palette: { unique: 8n, ents: Uint32Array.from([0x11, 0x22, 0x33]) }, cacheMe: false };
    // byte 0x21 little-endian nibbles → 1, 2; byte 0x05 → 5 % 3 = 2 (lz.c takes 4-bit indices modulo size)
    const s4 = [...header(T.PLT4_LE, 3, 1, 2, 1), 0x01, 0x21, 0x05];
    const r4 = dec.decode(img(ImageType.LZ_PLT, 3, 1, { kind: 'lz_plt', flags: 0, palette: pal4, data: Uint8Array.from(s4) }), ctx);
    assert.deepEqual([...r4.pixels], [0xff000022, 0xff000033, 0xff000033]);
  });
});

const SIZES: [number, number][] = [
  [1, 1],
  [3, 5],
  [17, 9],
  [64, 33],
  [1, 40],
  [301, 7],
];

function expectedFor(type: number, px: Uint32Array): Uint32Array {
  switch (type) {
    case T.RGB16:
      return px.map((p) => expand555(to555(p)));
    case T.RGB24:
    case T.RGB32:
      return px.map((p) => (p | 0xff000000) >>> 0);
    case T.A8:
    case T.XXXA:
      return px.map((p) => (p & 0xff000000) >>> 0);
    default:
      return px.slice();
  }
}

describe('LZ round trips through the test encoder', () => {
  for (const type of [T.RGB16, T.RGB24, T.RGB32, T.RGBA, T.A8, T.XXXA]) {
    for (const [w, h] of SIZES) {
      for (const topDown of [true, false]) {
        it(`type ${type} ${w}x${h} ${topDown ? 'top-down' : 'bottom-up'}`, () => {
          const px = mixedImage(w, h, w * 31 + h + type, type === T.RGBA || type === T.A8 || type === T.XXXA);
          for (const literalsOnly of [false, true]) {
            const data = lzEncode({ type, width: w, height: h, topDown, pixels: px }, { literalsOnly });
            const r = dec.decode(rgb(w, h, [...data]), makeCtx());
            eqPixels(r.pixels, expectedFor(type, px), `type ${type} literalsOnly=${literalsOnly}`);
            assert.equal(r.hasAlpha, type === T.RGBA || type === T.A8 || type === T.XXXA);
          }
        });
      }
    }
  }

  for (const type of [T.PLT1_LE, T.PLT1_BE, T.PLT4_LE, T.PLT4_BE, T.PLT8]) {
    for (const [w, h] of SIZES) {
      it(`palette type ${type} ${w}x${h}`, () => {
        const r0 = rng(type * 1000 + w * h);
        const nEnts = type <= T.PLT1_BE ? 2 : type <= T.PLT4_BE ? 16 : 256;
        const ents = Uint32Array.from({ length: nEnts }, () => Math.floor(r0() * 0x1000000));
        const idx = new Uint8Array(w * h);
        for (let i = 0; i < idx.length; i++) idx[i] = r0() < 0.5 ? 1 : Math.floor(r0() * nEnts);
        const expected = Uint32Array.from(idx, (i) => (0xff000000 | ents[i]) >>> 0);
        for (const topDown of [true, false]) {
          const ctx = makeCtx();
          const data = lzEncode({ type, width: w, height: h, topDown, indices: idx });
          // first image caches its palette, second takes it from the cache
          const a = dec.decode(img(ImageType.LZ_PLT, w, h, { kind: 'lz_plt', flags: BitmapFlags.PAL_CACHE_ME, palette: { palette: { unique: 42n, ents }, cacheMe: true }, data }), ctx);
          eqPixels(a.pixels, expected, `inline palette type ${type}`);
          assert.ok(ctx.map.has(42n));
          const b = dec.decode(img(ImageType.LZ_PLT, w, h, { kind: 'lz_plt', flags: BitmapFlags.PAL_FROM_CACHE, palette: { fromCache: 42n }, data }), ctx);
          eqPixels(b.pixels, expected, `cached palette type ${type}`);
        }
      });
    }
  }

  it('distances beyond 8191 pixels use the far form and decode', () => {
    const w = 200;
    const h = 120;
    const px = mixedImage(w, h, 5);
    const r0 = rng(9);
    for (let i = 0; i < 600; i++) px[i] = (0xff000000 | Math.floor(r0() * 0x1000000)) >>> 0;
    px.copyWithin(20000, 0, 600); // repeat 20000 pixels later
    const data = lzEncode({ type: T.RGB32, width: w, height: h, topDown: true, pixels: px });
    assert.ok(data.length < w * h * 3, 'compressed');
    eqPixels(dec.decode(rgb(w, h, [...data]), makeCtx()).pixels, px, 'far');
  });
});

describe('LZ errors', () => {
  const px = mixedImage(7, 5, 3, true);
  const rgba = lzEncode({ type: T.RGBA, width: 7, height: 5, topDown: false, pixels: px });
  const idx = Uint8Array.from({ length: 35 }, (_, i) => (i * 7) % 16);
  const plt = lzEncode({ type: T.PLT4_BE, width: 7, height: 5, topDown: true, indices: idx });
  const pal = { palette: { unique: 1n, ents: new Uint32Array(16) }, cacheMe: false };

  it('truncation at every byte offset throws DECODE', () => {
    for (let n = 0; n < rgba.length; n++) assertDecodeError(() => dec.decode(rgb(7, 5, [...rgba.subarray(0, n)]), makeCtx()), `rgba cut at ${n}`);
    for (let n = 0; n < plt.length; n++) {
      assertDecodeError(() => dec.decode(img(ImageType.LZ_PLT, 7, 5, { kind: 'lz_plt', flags: 0, palette: pal, data: plt.subarray(0, n) }), makeCtx()), `plt cut at ${n}`);
    }
  });

  it('random corruption decodes or throws DECODE, never anything else', () => {
    const r0 = rng(77);
    for (let k = 0; k < 2000; k++) {
      const bad = rgba.slice();
      for (let j = 0; j < 3; j++) bad[28 + Math.floor(r0() * (bad.length - 28))] = Math.floor(r0() * 256);
      decodesOrRejects(() => dec.decode(rgb(7, 5, [...bad]), makeCtx()));
    }
  });

  it('header checks: magic, version, type, stride, descriptor size, size limit', () => {
    const bad = (mut: (b: number[]) => void, w = 7, h = 5) => {
      const b = [...rgba];
      mut(b);
      assertDecodeError(() => dec.decode(rgb(w, h, b), makeCtx()));
    };
    bad((b) => (b[0] = 0));
    bad((b) => (b[7] = 2));
    bad((b) => (b[11] = 12));
    bad((b) => (b[23] = 27)); // stride
    bad(() => {}, 8, 5); // descriptor mismatch
    // 70000×70000 passes no stride check until the size limit rejects it
    const huge = header(T.RGB32, 70000, 70000, 280000, 1);
    assertDecodeError(() => dec.decode(rgb(70000, 70000, huge), makeCtx()));
  });

  it('palette missing from cache, and palette stream in LZ_RGB', () => {
    assertDecodeError(() => dec.decode(img(ImageType.LZ_PLT, 7, 5, { kind: 'lz_plt', flags: BitmapFlags.PAL_FROM_CACHE, palette: { fromCache: 99n }, data: plt }), makeCtx()));
    assertDecodeError(() => dec.decode(rgb(7, 5, [...plt]), makeCtx()));
  });
});

describe('lzDecodeAlpha (JPEG_ALPHA plane)', () => {
  for (const topDown of [true, false]) {
    it(`writes only alpha bytes (${topDown ? 'top-down' : 'bottom-up'} stream)`, () => {
      const w = 13;
      const h = 6;
      const src = mixedImage(w, h, 11, true);
      const data = lzEncode({ type: T.XXXA, width: w, height: h, topDown, pixels: src });
      const out = Uint32Array.from({ length: w * h }, (_, i) => 0x00123456 + i);
      lzDecodeAlpha(data, w, h, out);
      for (let i = 0; i < w * h; i++) assert.equal(out[i], ((src[i] & 0xff000000) | (0x00123456 + i)) >>> 0);
    });
  }
  it('rejects other types, wrong sizes and truncation', () => {
    const src = mixedImage(4, 4, 1, true);
    const data = lzEncode({ type: T.XXXA, width: 4, height: 4, topDown: true, pixels: src });
    const out = new Uint32Array(16);
    assertDecodeError(() => lzDecodeAlpha(data, 5, 4, out));
    assertDecodeError(() => lzDecodeAlpha(lzEncode({ type: T.A8, width: 4, height: 4, topDown: true, pixels: src }), 4, 4, out));
    for (let n = 0; n < data.length; n++) assertDecodeError(() => lzDecodeAlpha(data.subarray(0, n), 4, 4, out));
  });
});
