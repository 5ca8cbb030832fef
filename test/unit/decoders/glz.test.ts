import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GlzDecoder } from '../../../renderer/display/decoders/glz';
import { ImageType } from '../../../main/spice/protocol/enums';
import { GlzTestEncoder, T, mixedImage, rng, to555 } from './lz-test-encoders';
import { assertDecodeError, decodesOrRejects, eqPixels, expand555, img, makeCtx } from './lz-helpers';

function glzHeader(type: number, topDown: boolean, w: number, h: number, id: number, winHeadDist: number): number[] {
  const b: number[] = [];
  const p32 = (v: number) => b.push(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  p32(0x20205a4c);
  p32(0x00010001);
  b.push(type | (topDown ? 0x10 : 0));
  p32(w);
  p32(h);
  p32(w * 4);
  p32(0);
  p32(id);
  p32(winHeadDist);
  return b;
}
const glzImg = (w: number, h: number, data: Uint8Array | number[]) => img(ImageType.GLZ_RGB, w, h, { kind: 'glz_rgb', data: Uint8Array.from(data) });

function expected(type: number, px: Uint32Array): Uint32Array {
  if (type === T.RGB16) return px.map((p) => expand555(to555(p)));
  if (type === T.RGBA) return px.slice();
  return px.map((p) => (p | 0xff000000) >>> 0);
}

describe('GLZ golden vectors (hand-built)', () => {
  it('literal + run, then a cross-image reference with the short form', () => {
    const d = new GlzDecoder();
    const ctx = makeCtx();
    // image 5: 4×1: literal 0x112233, run of 3 (L'=3, distance 1 → pd 0, image_dist 0)
    const a = [...glzHeader(T.RGB32, true, 4, 1, 5, 0), 0x00, 0x33, 0x22, 0x11, 0x60, 0x00, 0x00];
    assert.deepEqual([...d.decode(glzImg(4, 1, a), ctx).pixels], Array(4).fill(0xff112233));
    // image 6: literal, then 2 pixels from image 5 at offset 2 (image_dist 1), bottom-up 3×1
    const b = [...glzHeader(T.RGB32, false, 3, 1, 6, 1), 0x00, 0x01, 0x02, 0x03, 0x42, 0x00, 0x01];
    assert.deepEqual([...d.decode(glzImg(3, 1, b), ctx).pixels], [0xff030201, 0xff112233, 0xff112233]);
  });

  it('short, medium and long pixel offsets with 1- and 2-byte image distances', () => {
    const d = new GlzDecoder();
    const ctx = makeCtx();
    // image 100: 300×500 of distinct pixels (value = index), 25-pixel literal runs
    const w = 300;
    const h = 500;
    const a = glzHeader(T.RGB32, true, w, h, 100, 0);
    for (let i = 0; i < w * h; i += 25) {
      a.push(24);
      for (let k = i; k < i + 25; k++) a.push(k & 255, (k >>> 8) & 255, k >>> 16);
    }
    d.decode(glzImg(w, h, a), ctx);
    // image 170 (image_dist 70), 6×1: three 2-pixel matches
    const long = 140000;
    const med = 5000;
    const b = [...glzHeader(T.RGB32, true, 6, 1, 170, 70)];
    b.push((2 << 5) | (10 & 15), 10 >> 4, 0x40 | (70 & 0x3f), 70 >> 6); // short pd 10, image_dist 70 in 2 bytes
    b.push((2 << 5) | 16 | (med & 15), (med >> 4) & 255, 0x40 | ((med >> 12) & 31), 70); // medium
    b.push((2 << 5) | 16 | (long & 15), (long >> 4) & 255, 0x20 | 0x40 | ((long >> 12) & 31), 70, long >> 17); // long
    const r = d.decode(glzImg(6, 1, b), ctx);
    assert.deepEqual([...r.pixels], [10, 11, med, med + 1, long, long + 1].map((v) => (0xff000000 | v) >>> 0));
  });

  it('extended match length', () => {
    const d = new GlzDecoder();
    // literal, then run of 7 + 255 + 3 = 265 pixels (RGB32 length is unbiased)
    const a = [...glzHeader(T.RGB32, true, 266, 1, 1, 0), 0x00, 9, 9, 9, 0xe0, 255, 3, 0x00, 0x00];
    const r = d.decode(glzImg(266, 1, a), makeCtx());
    assert.ok(r.pixels.every((p) => p === 0xff090909));
  });
});

describe('GLZ round trips across images', () => {
  for (const topDown of [true, false]) {
    it(`a sequence of related images (${topDown ? 'top-down' : 'bottom-up'})`, () => {
      const enc = new GlzTestEncoder();
      const d = new GlzDecoder();
      const ctx = makeCtx();
      const base = mixedImage(61, 23, 1);
      const types = [T.RGB32, T.RGB32, T.RGB24, T.RGBA, T.RGB32, T.RGBA, T.RGB24, T.RGB16, T.RGB32];
      let id = 1000n;
      for (let k = 0; k < types.length; k++, id++) {
        const type = types[k];
        // each image: the base shifted by k pixels with a few new pixels
        const px = new Uint32Array(base.length);
        for (let i = 0; i < px.length; i++) px[i] = base[(i + k * 7) % base.length];
        const r0 = rng(k);
        for (let j = 0; j < 20; j++) px[Math.floor(r0() * px.length)] = (Math.floor(r0() * 0x1000000) | 0xff000000) >>> 0;
        if (type === T.RGBA) for (let i = 0; i < px.length; i++) px[i] = ((px[i] & 0xffffff) | ((i % 5 === 0 ? 0x80 : 0xff) << 24)) >>> 0;
        const data = enc.encode(type, id, Math.min(k, 4), 61, 23, topDown, px);
        const r = d.decode(glzImg(61, 23, data), ctx);
        eqPixels(r.pixels, expected(type, px), `image ${k} type ${type}`);
        assert.equal(r.hasAlpha, type === T.RGBA);
      }
      assert.ok(enc.crossRefs > 20, `cross-image references exercised (${enc.crossRefs})`);
      assert.ok(d.windowStats.images <= 5, 'window released old images');
    });
  }

  it('odd sizes and every RGB type without cross references', () => {
    for (const [w, h] of [
      [1, 1],
      [3, 5],
      [127, 3],
      [2, 90],
    ]) {
      for (const type of [T.RGB16, T.RGB24, T.RGB32, T.RGBA]) {
        const enc = new GlzTestEncoder();
        const px = mixedImage(w, h, w + h * 3, type === T.RGBA);
        const r = new GlzDecoder().decode(glzImg(w, h, enc.encode(type, 7n, 0, w, h, w % 2 === 0, px)), makeCtx());
        eqPixels(r.pixels, expected(type, px), `${w}x${h} type ${type}`);
      }
    }
  });

  it('an opaque image copying from an RGBA image stays opaque', () => {
    const enc = new GlzTestEncoder();
    const d = new GlzDecoder();
    const px = mixedImage(40, 10, 3, true);
    d.decode(glzImg(40, 10, enc.encode(T.RGBA, 1n, 0, 40, 10, true, px)), makeCtx());
    const before = enc.crossRefs;
    const r = d.decode(glzImg(40, 10, enc.encode(T.RGB32, 2n, 1, 40, 10, true, px)), makeCtx());
    assert.ok(enc.crossRefs > before);
    eqPixels(r.pixels, expected(T.RGB32, px), 'opaque copy');
  });

  it('alpha carried through an opaque image into a third one is still cleared (the window remembers who carries it)', () => {
    const d = new GlzDecoder();
    const ctx = makeCtx();
    // image 1: RGBA 1x1, RGB literal 0x445566, alpha literal 0x80
    const a = [...glzHeader(T.RGBA, true, 1, 1, 1, 0), 0x00, 0x66, 0x55, 0x44, 0x00, 0x80];
    assert.deepEqual([...d.decode(glzImg(1, 1, a), ctx).pixels], [0x80445566]);
    // image 2: RGB32, its one pixel from image 1 (its window copy keeps the 0x80); image 3 from image 2 only
    const ref = (id: number) => [...glzHeader(T.RGB32, true, 1, 1, id, 1), 0x20, 0x00, 0x01];
    assert.deepEqual([...d.decode(glzImg(1, 1, ref(2)), ctx).pixels], [0xff445566]);
    assert.deepEqual([...d.decode(glzImg(1, 1, ref(3)), ctx).pixels], [0xff445566]);
    // an opaque chain stays as is (and takes the copy without a pass per pixel)
    const b = [...glzHeader(T.RGB32, true, 1, 1, 4, 0), 0x00, 0x03, 0x02, 0x01];
    assert.deepEqual([...d.decode(glzImg(1, 1, b), ctx).pixels], [0xff010203]);
    assert.deepEqual([...d.decode(glzImg(1, 1, ref(5)), ctx).pixels], [0xff010203]);
  });
});

describe('GLZ window management', () => {
  const lit1 = (id: number, whd: number, v: number) => [...glzHeader(T.RGB32, true, 1, 1, id, whd), 0x00, v, 0, 0];
  const ref1 = (id: number, whd: number, dist: number) => [...glzHeader(T.RGB32, true, 1, 1, id, whd), 0x20, 0x00, dist];

  it('releases images older than the window head and rejects references to them', () => {
    const d = new GlzDecoder();
    const ctx = makeCtx();
    for (let id = 0; id < 10; id++) d.decode(glzImg(1, 1, lit1(id, 2, id)), ctx);
    assert.deepEqual(d.windowStats, { images: 3, pixels: 3 });
    assert.equal(d.decode(glzImg(1, 1, ref1(10, 3, 3)), ctx).pixels[0], 0xff000007);
    assertDecodeError(() => d.decode(glzImg(1, 1, ref1(11, 10, 5)), ctx));
  });

  it('waits for a gap in ids before releasing (out-of-order images)', () => {
    const d = new GlzDecoder();
    const ctx = makeCtx();
    d.decode(glzImg(1, 1, lit1(0, 0, 1)), ctx);
    d.decode(glzImg(1, 1, lit1(1, 1, 2)), ctx);
    d.decode(glzImg(1, 1, lit1(3, 1, 4)), ctx); // id 2 still missing: nothing released below it
    assert.equal(d.windowStats.images, 3);
    assert.equal(d.decode(glzImg(1, 1, ref1(2, 2, 2)), ctx).pixels[0], 0xff000001); // refers to id 0
    assert.equal(d.windowStats.images, 2); // tail reached 3: ids below 3-1 released
  });

  it('reset() clears the window', () => {
    const d = new GlzDecoder();
    d.decode(glzImg(1, 1, lit1(0, 0, 1)), makeCtx());
    d.reset();
    assert.deepEqual(d.windowStats, { images: 0, pixels: 0 });
    assertDecodeError(() => d.decode(glzImg(1, 1, ref1(1, 1, 1)), makeCtx()));
  });

  it('large images reuse released buffers without leaking old pixels', () => {
    const enc = new GlzTestEncoder();
    const d = new GlzDecoder();
    const w = 300;
    const h = 240; // 72000 pixels: large enough for buffer reuse
    for (let k = 0; k < 6; k++) {
      const px = mixedImage(w, h, 100 + k);
      const r = d.decode(glzImg(w, h, enc.encode(T.RGB32, BigInt(k), 1, w, h, k % 2 === 0, px)), makeCtx());
      eqPixels(r.pixels, expected(T.RGB32, px), `large image ${k}`);
    }
    assert.equal(d.windowStats.images, 2);
  });

  it('a pixel budget bounds the window when ids never close their gap', () => {
    const d = new GlzDecoder({ maxWindowPixels: 4 });
    for (let id = 0; id < 20; id += 2) d.decode(glzImg(1, 1, lit1(id, 100, id)), makeCtx());
    assert.ok(d.windowStats.pixels <= 4);
  });
});

describe('GLZ errors', () => {
  const enc = new GlzTestEncoder();
  const px1 = mixedImage(9, 4, 8, true);
  const first = enc.encode(T.RGBA, 50n, 0, 9, 4, true, px1);
  const second = enc.encode(T.RGBA, 51n, 1, 9, 4, false, px1.map((p, i) => px1[(i + 3) % px1.length]));
  assert.ok(enc.crossRefs > 0);

  it('truncation at every byte offset throws DECODE and leaves the window usable', () => {
    const d = new GlzDecoder();
    d.decode(glzImg(9, 4, first), makeCtx());
    for (let n = 0; n < second.length; n++) assertDecodeError(() => d.decode(glzImg(9, 4, second.subarray(0, n)), makeCtx()), `cut at ${n}`);
    const r = d.decode(glzImg(9, 4, second), makeCtx());
    assert.equal(r.width, 9);
  });

  it('random corruption decodes or throws DECODE', () => {
    const r0 = rng(5);
    for (let k = 0; k < 2000; k++) {
      const d = new GlzDecoder();
      d.decode(glzImg(9, 4, first), makeCtx());
      const bad = second.slice();
      for (let j = 0; j < 3; j++) bad[33 + Math.floor(r0() * (bad.length - 33))] = Math.floor(r0() * 256);
      decodesOrRejects(() => d.decode(glzImg(9, 4, bad), makeCtx()));
    }
  });

  it('rejects palette types, bad magic, size mismatch and oversize images', () => {
    const d = new GlzDecoder();
    const plt = [...glzHeader(T.PLT8, true, 1, 1, 1, 0), 0x00, 1];
    assertDecodeError(() => d.decode(glzImg(1, 1, plt), makeCtx()));
    const bad = first.slice();
    bad[0] = 0;
    assertDecodeError(() => d.decode(glzImg(9, 4, bad), makeCtx()));
    assertDecodeError(() => d.decode(glzImg(9, 5, first), makeCtx()));
    assertDecodeError(() => d.decode(glzImg(70000, 70000, glzHeader(T.RGB32, true, 70000, 70000, 1, 0)), makeCtx()));
  });
});
