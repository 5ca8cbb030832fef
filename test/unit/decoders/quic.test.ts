// QUIC decoder tests: hand-built vectors, round trips through the independent
// test encoder (quic-encoder.ts) over many shapes and all image types, and
// malformed input (bad header fields, truncation at every byte, bit flips).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuicDecoder, TABRAND_CHAOS, decodeQuic } from '../../../renderer/display/decoders/quic';
import { SpiceError } from '../../../main/spice/wire/errors';
import type { SpiceImage } from '../../../preload/contract';
import { MAX_IMAGE_PIXELS } from '../../../renderer/display/types';
import { QUIC_TYPE, encodeQuic, expectedPixels, rng } from './quic-encoder';

const ctx = { palettes: { get: () => undefined, put: () => undefined } };

function image(data: Uint8Array, width: number, height: number): SpiceImage {
  return { descriptor: { id: 1n, type: 1, flags: 0, width, height }, data: { kind: 'quic', data } };
}

/** Little-endian u32 words → bytes. */
function le(...words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 4);
  const dv = new DataView(out.buffer);
  words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  return out;
}

const MAGIC = 0x43495551;

function isDecodeError(e: unknown): boolean {
  return e instanceof SpiceError && e.code === 'DECODE';
}

// --- deterministic test images --------------------------------------------


type Pattern = (w: number, h: number, seed: number) => Uint32Array;

const patterns: Record<string, Pattern> = {
  solid: (w, h, seed) => new Uint32Array(w * h).fill(((0x80 + (seed & 0x7f)) << 24) | (seed * 0x9e3779b1) & 0xffffff),
  noise: (w, h, seed) => {
    const r = rng(seed);
    return Uint32Array.from({ length: w * h }, () => r());
  },
  gradient: (w, h) =>
    Uint32Array.from({ length: w * h }, (_, k) => {
      const x = k % w;
      const y = Math.floor(k / w);
      return ((x * 7 + y * 3) & 0xff) << 24 | ((x * 9) & 0xff) << 16 | ((y * 13) & 0xff) << 8 | ((x + y) * 5 & 0xff);
    }),
  // Few colours in horizontal strokes on a flat background: runs, run ends, short runs.
  text: (w, h, seed) => {
    const r = rng(seed);
    const px = new Uint32Array(w * h).fill(0xfff0f0f0);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = r() % 16;
        if (v < 3) px[y * w + x] = 0xff202020;
        else if (v === 3) px[y * w + x] = 0x80336699;
      }
    }
    return px;
  },
  // Vertical stripes: identical rows, so runs are predicted on every row.
  stripes: (w, h) => Uint32Array.from({ length: w * h }, (_, k) => ((k % w) >> 2) & 1 ? 0xff0000ff : 0x7fffff00),
  // Mostly flat with sparse noise: long runs broken at random places.
  sparse: (w, h, seed) => {
    const r = rng(seed);
    return Uint32Array.from({ length: w * h }, () => (r() % 50 === 0 ? r() : 0xff102030));
  },
};

const ALL_TYPES = [QUIC_TYPE.RGB32, QUIC_TYPE.RGB24, QUIC_TYPE.RGB16, QUIC_TYPE.RGBA, QUIC_TYPE.GRAY];

function roundTrip(type: number, w: number, h: number, px: Uint32Array, label: string): void {
  const stream = encodeQuic(type, w, h, px);
  const out = new QuicDecoder().decode(image(stream, w, h), ctx);
  assert.equal(out.width, w);
  assert.equal(out.height, h);
  assert.equal(out.hasAlpha, type === QUIC_TYPE.RGBA);
  const want = expectedPixels(type, px);
  for (let k = 0; k < want.length; k++) {
    if (out.pixels[k] !== want[k]) {
      assert.fail(
        `${label} type ${type} ${w}x${h}: pixel ${k % w},${Math.floor(k / w)} is ` +
          `${out.pixels[k].toString(16)}, want ${want[k].toString(16)}`,
      );
    }
  }
}

// --- tables -----------------------------------------------------------------

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

test('tabrand_chaos matches spice-common (CRC-32 of the 256 LE words taken from quic.c)', () => {
  assert.equal(TABRAND_CHAOS.length, 256);
  assert.equal(TABRAND_CHAOS[0], 0x02c57542);
  assert.equal(TABRAND_CHAOS[255], 0xe1fed4d5);
  const bytes = new Uint8Array(TABRAND_CHAOS.buffer.slice(0));
  assert.equal(crc32(bytes), 0x6370135a);
});

// --- hand-built vectors -----------------------------------------------------
// Worked by hand from quic.c: the first symbol of every channel uses code
// l = 7 (initial bestcode), where GR codewords are '1' + 7 value bits and the
// not-GR ones (n >= 128) are '0' + 7 bits of n - 128. After pixel 0 updates
// bucket 0 with a zero residual, code 0 (1 bit, '1' for 0) becomes best.

test('hand vector: 1x1 RGB32 black', () => {
  // r, g, b residual 0 → 0x80 each; then a zero pad, one zero word of flush.
  const data = le(MAGIC, 0, QUIC_TYPE.RGB32, 1, 1, 0x80808000, 0);
  const out = decodeQuic(data);
  assert.deepEqual([...out.pixels], [0xff000000]);
  assert.equal(out.hasAlpha, false);
  assert.deepEqual(encodeQuic(QUIC_TYPE.RGB32, 1, 1, Uint32Array.of(0xff000000)), data);
});

test('hand vector: 1x1 RGB24 r=1 g=255 b=128', () => {
  // U→L: 1 → 2, 255 → 1, 128 → 255. Codes: 0x82, 0x81, then 255 ≥ 128 = not-GR: 0 + 127 = 0x7f.
  const data = le(MAGIC, 0, QUIC_TYPE.RGB24, 1, 1, 0x82817f00, 0);
  const out = decodeQuic(data);
  assert.deepEqual([...out.pixels], [0xff01ff80]);
  assert.deepEqual(encodeQuic(QUIC_TYPE.RGB24, 1, 1, Uint32Array.of(0x0001ff80)), data);
});

test('hand vector: 2x1 RGB32 black uses the adapted 1-bit code for pixel 1', () => {
  // 0x80 0x80 0x80 then '1' '1' '1' (residual 0 with code 0).
  const data = le(MAGIC, 0, QUIC_TYPE.RGB32, 2, 1, 0x808080e0, 0);
  const out = decodeQuic(data);
  assert.deepEqual([...out.pixels], [0xff000000, 0xff000000]);
  assert.deepEqual(encodeQuic(QUIC_TYPE.RGB32, 2, 1, Uint32Array.of(0, 0)), data);
});

test('hand vector: 1x1 GRAY and RGBA', () => {
  // GRAY 0x10: U→L 0x20 → '1' 0100000 = 0xa0.
  assert.deepEqual([...decodeQuic(le(MAGIC, 0, QUIC_TYPE.GRAY, 1, 1, 0xa0000000, 0)).pixels], [0xff101010]);
  // RGBA r=g=b=0, a=0xff: rgb 0x80 x3, alpha 255 → L 1 → 0x81.
  const rgba = decodeQuic(le(MAGIC, 0, QUIC_TYPE.RGBA, 1, 1, 0x80808081, 0));
  assert.deepEqual([...rgba.pixels], [0xff000000]);
  assert.equal(rgba.hasAlpha, true);
});

test('hand vector: 1x1 RGB16 widens 5-bit channels like RGB16_TO_32', () => {
  // 5 bpc, first code l = 4: GR codewords are '1' + 4 bits for n < 16, not-GR '0' + 4 bits of n - 16.
  // r = 31 → L 1 → 10001; g = 16 → L 31 → 0 1111; b = 1 → L 2 → 10010. 15 bits: 100010111110010.
  const bits = '100010111110010';
  const word = parseInt(bits.padEnd(32, '0'), 2);
  const out = decodeQuic(le(MAGIC, 0, QUIC_TYPE.RGB16, 1, 1, word, 0));
  assert.deepEqual([...out.pixels], [0xffff8408]);
});

// --- round trips ------------------------------------------------------------

test('round trip: every type, widths 1..37, heights 1..5, all patterns', () => {
  let seed = 1;
  for (const type of ALL_TYPES) {
    for (const [name, pat] of Object.entries(patterns)) {
      for (let w = 1; w <= 37; w++) {
        for (let h = 1; h <= 5; h++) roundTrip(type, w, h, pat(w, h, seed++), name);
      }
    }
  }
});

test('round trip: rows longer than the 2048-pixel wait-mask step, segment cuts mid-row and mid-run', () => {
  for (const type of ALL_TYPES) {
    for (const [name, pat] of Object.entries(patterns)) {
      for (const [w, h] of [[2049, 2], [3000, 3], [700, 9], [4100, 2]] as const) roundTrip(type, w, h, pat(w, h, w + h), name);
    }
  }
});

test('round trip: larger desktop-like image with mixed content', () => {
  const w = 211;
  const h = 97;
  const r = rng(7);
  const px = new Uint32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v = 0xff3a6ea5; // background
      if (y < 12) v = 0xff000000 | ((x * 255) / w) << 8; // title bar gradient
      else if (x > 20 && x < 150 && y > 20 && y < 80) v = r() % 9 === 0 ? 0xff000000 : 0xffffffff; // text window
      else if (x >= 150) v = r() | 0xff000000; // photo
      px[y * w + x] = v;
    }
  }
  for (const type of ALL_TYPES) roundTrip(type, w, h, px, 'desktop');
});

test('decodes from an unaligned byteOffset and ignores trailing partial bytes', () => {
  const px = patterns.text(13, 4, 3);
  const stream = encodeQuic(QUIC_TYPE.RGB32, 13, 4, px);
  const buf = new Uint8Array(stream.length + 3);
  buf.set(stream, 1);
  const view = buf.subarray(1, 1 + stream.length + 2);
  assert.deepEqual(decodeQuic(view).pixels, expectedPixels(QUIC_TYPE.RGB32, px));
});

// --- malformed input ----------------------------------------------------------

function assertDecodeError(fn: () => unknown, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isDecodeError(e), `expected SpiceError DECODE, got ${String(e)}`);
    if (re) assert.match((e as Error).message, re);
    return true;
  });
}

test('rejects bad magic, version, type and sizes', () => {
  const ok = le(MAGIC, 0, QUIC_TYPE.RGB32, 1, 1, 0x80808000, 0);
  assert.equal(decodeQuic(ok).width, 1);
  assertDecodeError(() => decodeQuic(le(0x43495552, 0, 4, 1, 1, 0x80808000, 0)), /magic/);
  assertDecodeError(() => decodeQuic(le(MAGIC, 1, 4, 1, 1, 0x80808000, 0)), /version/);
  assertDecodeError(() => decodeQuic(le(MAGIC, 0x10000, 4, 1, 1, 0x80808000, 0)), /version/);
  assertDecodeError(() => decodeQuic(le(MAGIC, 0, 0, 1, 1, 0x80808000, 0)), /type/);
  assertDecodeError(() => decodeQuic(le(MAGIC, 0, 6, 1, 1, 0x80808000, 0)), /type/);
  assertDecodeError(() => decodeQuic(le(MAGIC, 0, 4, 0, 1, 0x80808000, 0)), /size/);
  assertDecodeError(() => decodeQuic(le(MAGIC, 0, 4, 1, 0, 0x80808000, 0)), /size/);
  assertDecodeError(() => decodeQuic(le(MAGIC, 0, 4, 0x80000000, 1, 0x80808000, 0)), /size/);
  assertDecodeError(() => decodeQuic(le(MAGIC, 0, 4, 16385, 16384, 0, 0)), /too large/);
  assert.ok(16385 * 16384 > MAX_IMAGE_PIXELS);
  // Plausible size but far too few bits for it: refused before allocating 64 MiB.
  assertDecodeError(() => decodeQuic(le(MAGIC, 0, 4, 4096, 4096, 0, 0, 0, 0)), /truncated/);
  assertDecodeError(() => decodeQuic(new Uint8Array(0)), /header/);
});

test('rejects a header that disagrees with the image descriptor or a non-QUIC image', () => {
  const data = encodeQuic(QUIC_TYPE.RGB32, 5, 3, patterns.noise(5, 3, 1));
  const dec = new QuicDecoder();
  assert.equal(dec.decode(image(data, 5, 3), ctx).pixels.length, 15);
  assertDecodeError(() => dec.decode(image(data, 5, 4), ctx), /descriptor/);
  assertDecodeError(() => dec.decode(image(data, 3, 5), ctx), /descriptor/);
  const lz: SpiceImage = { descriptor: { id: 1n, type: 1, flags: 0, width: 5, height: 3 }, data: { kind: 'lz_rgb', data } };
  assertDecodeError(() => dec.decode(lz, ctx), /not a QUIC/);
});

test('truncation at every byte offset throws SpiceError DECODE', () => {
  for (const type of ALL_TYPES) {
    for (const [w, h, pat] of [[9, 4, 'text'], [6, 3, 'noise'], [40, 3, 'stripes'], [1, 1, 'solid']] as const) {
      const full = encodeQuic(type, w, h, patterns[pat](w, h, 5));
      assert.equal(decodeQuic(full).pixels.length, w * h);
      for (let len = 0; len < full.length; len++) {
        assertDecodeError(() => decodeQuic(full.subarray(0, len)));
      }
    }
  }
});

test('flipped bits and random payloads either decode or throw SpiceError, promptly', () => {
  const r = rng(99);
  const t0 = Date.now();
  for (const type of ALL_TYPES) {
    const full = encodeQuic(type, 23, 5, patterns.text(23, 5, 2));
    for (let bit = 160; bit < full.length * 8; bit++) {
      const bad = full.slice();
      bad[bit >> 3] ^= 1 << (bit & 7);
      try {
        const out = decodeQuic(bad);
        assert.equal(out.pixels.length, 23 * 5);
      } catch (e) {
        assert.ok(isDecodeError(e), String(e));
      }
    }
    for (let k = 0; k < 200; k++) {
      const junk = new Uint8Array(24 + (r() % 400));
      for (let i = 0; i < junk.length; i++) junk[i] = r() & (k & 1 ? 0xff : 0x0f);
      junk.set(le(MAGIC, 0, type, 1 + (r() % 60), 1 + (r() % 8)));
      try {
        decodeQuic(junk);
      } catch (e) {
        assert.ok(isDecodeError(e), String(e));
      }
    }
  }
  // All-ones payloads stress the run-length hit loop; the limit check stops it.
  const ones = new Uint8Array(24 + 4096).fill(0xff);
  ones.set(le(MAGIC, 0, QUIC_TYPE.RGB32, 64, 64));
  try {
    decodeQuic(ones);
  } catch (e) {
    assert.ok(isDecodeError(e), String(e));
  }
  assert.ok(Date.now() - t0 < 20000, 'malformed inputs took too long');
});
