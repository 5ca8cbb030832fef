// The WebAssembly QUIC decoder (renderer/display/decoders/wasm/quic.c)
// against the JavaScript one it was ported from: identical pixels for every
// image type on random, run-heavy and smooth images of odd sizes (including
// rows longer than a wait-mask segment), and the same coded error, never a
// crash or hang, on truncated and corrupted streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeQuic, decodeQuicJs, decodeQuicWasm, quicWasm } from '../../../renderer/display/decoders/quic';
import { QUIC_WASM_SOURCE_SHA256 } from '../../../renderer/display/decoders/wasm/quic-wasm';
import { SpiceError } from '../../../main/spice/wire/errors';
import type { DecodedImage } from '../../../renderer/display/types';
import { QUIC_TYPE, encodeQuic, expectedPixels, rng } from './quic-encoder';

const TYPES = Object.values(QUIC_TYPE);
const SIZES: [number, number][] = [[1, 1], [1, 9], [2, 2], [3, 3], [4, 5], [7, 13], [33, 17], [127, 9], [509, 6], [2049, 3], [4099, 2]];

/** A mix of noise, flat runs, repeated rows and gradients, so every coding path (runs, model updates, escapes) is hit. */
function image(seed: number, w: number, h: number): Uint32Array {
  const r = rng(seed);
  const px = new Uint32Array(w * h);
  for (let y = 0; y < h; y++) {
    const mode = r() % 4;
    for (let x = 0; x < w; x++) {
      const k = y * w + x;
      if (mode === 0) px[k] = r();
      else if (mode === 1) px[k] = x > 0 && r() % 8 ? px[k - 1] : r();
      else if (mode === 2 && y > 0) px[k] = r() % 16 ? px[k - w] : r();
      else px[k] = ((x * 3 + y) & 0xff) * 0x01010101 + (r() & 0x03030303);
    }
  }
  return px;
}

function same(a: DecodedImage, b: DecodedImage): boolean {
  return a.width === b.width && a.height === b.height && a.hasAlpha === b.hasAlpha && a.pixels.length === b.pixels.length && a.pixels.every((v, k) => v === b.pixels[k]);
}

/** Runs fn; the SpiceError DECODE message it throws, or the image. Anything else fails the test. */
function outcome(fn: () => DecodedImage): DecodedImage | string {
  try {
    return fn();
  } catch (e) {
    assert.ok(e instanceof SpiceError && e.code === 'DECODE', `expected SpiceError DECODE, got ${String(e)}`);
    return e.message;
  }
}

test('the embedded module is built from the current quic.c (run scripts/build-wasm.mjs)', () => {
  const src = readFileSync(new URL('../../../renderer/display/decoders/wasm/quic.c', import.meta.url));
  assert.equal(createHash('sha256').update(src).digest('hex'), QUIC_WASM_SOURCE_SHA256);
});

test('WebAssembly is available here, and QuicDecoder uses it', () => {
  assert.ok(quicWasm());
  const px = image(1, 9, 4);
  const s = encodeQuic(QUIC_TYPE.RGB32, 9, 4, px);
  assert.ok(same(decodeQuic(s), decodeQuicWasm(s)));
});

test('wasm and JS decode every type and odd size identically', () => {
  let seed = 100;
  for (const type of TYPES) {
    for (const [w, h] of SIZES) {
      const px = image(seed++, w, h);
      const s = encodeQuic(type, w, h, px);
      const js = decodeQuicJs(s);
      const wasm = decodeQuicWasm(s);
      assert.deepEqual(js.pixels, expectedPixels(type, px), `js type ${type} ${w}x${h}`);
      assert.ok(same(js, wasm), `wasm differs: type ${type} ${w}x${h}`);
      assert.equal(wasm.hasAlpha, type === QUIC_TYPE.RGBA);
    }
  }
});

test('wasm reuses its memory across sizes: large, then small, then large again', () => {
  for (const [w, h] of [[1024, 300], [5, 3], [3000, 7], [1, 1], [1024, 300]] as [number, number][]) {
    const px = image(w * h, w, h);
    const s = encodeQuic(QUIC_TYPE.RGBA, w, h, px);
    assert.deepEqual(decodeQuicWasm(s).pixels, expectedPixels(QUIC_TYPE.RGBA, px));
  }
});

test('an instance whose memory grew past 64 MiB is replaced after its decode (no huge image pins memory)', () => {
  const w = 4096;
  const h = 4200; // 17 Mpixels: ~69 MiB of output alone
  const px = new Uint32Array(w * h).fill(0xff336699);
  const big = decodeQuicWasm(encodeQuic(QUIC_TYPE.RGB32, w, h, px));
  assert.equal(big.pixels[w * h - 1], 0xff336699);
  const first = quicWasm();
  assert.ok(first && first.memory.buffer.byteLength < 1 << 20, 'a fresh instance after the big image');
  const small = image(5, 30, 7);
  assert.deepEqual(decodeQuicWasm(encodeQuic(QUIC_TYPE.RGB24, 30, 7, small)).pixels, expectedPixels(QUIC_TYPE.RGB24, small));
});

test('truncated streams: the same coded error from both, at every cut', () => {
  for (const type of TYPES) {
    const w = 37;
    const h = 11;
    const s = encodeQuic(type, w, h, image(7 + type, w, h));
    for (let cut = 0; cut < s.length; cut += type === QUIC_TYPE.RGBA ? 3 : 1) {
      const part = s.subarray(0, cut);
      const js = outcome(() => decodeQuicJs(part));
      const wasm = outcome(() => decodeQuicWasm(part));
      if (typeof js === 'string' || typeof wasm === 'string') assert.equal(wasm, js, `type ${type} cut ${cut}`);
      else assert.ok(same(js, wasm), `type ${type} cut ${cut}`);
    }
  }
});

test('corrupted streams: both decoders agree (same pixels or same coded error)', () => {
  const r = rng(4242);
  let errors = 0;
  for (let n = 0; n < 600; n++) {
    const type = TYPES[n % TYPES.length];
    const w = 1 + (r() % 70);
    const h = 1 + (r() % 12);
    const s = encodeQuic(type, w, h, image(n, w, h)).slice();
    const flips = 1 + (r() % 6);
    for (let k = 0; k < flips; k++) {
      // keep the header valid most of the time so the bitstream itself gets corrupted
      const at = 20 + (r() % Math.max(1, s.length - 20));
      if (at < s.length) s[at] ^= 1 << (r() % 8);
    }
    if (n % 7 === 0) for (let k = 24; k < s.length; k++) s[k] = r() & 0xff; // garbage body
    const js = outcome(() => decodeQuicJs(s));
    const wasm = outcome(() => decodeQuicWasm(s));
    if (typeof js === 'string') errors++;
    if (typeof js === 'string' || typeof wasm === 'string') assert.equal(wasm, js, `case ${n}`);
    else assert.ok(same(js, wasm), `case ${n}`);
  }
  assert.ok(errors > 50, `corruption produced errors (${errors})`);
  // and the decoder still works afterwards
  const px = image(9, 20, 20);
  assert.deepEqual(decodeQuicWasm(encodeQuic(QUIC_TYPE.RGB24, 20, 20, px)).pixels, expectedPixels(QUIC_TYPE.RGB24, px));
});

test('header and size checks are shared: oversize and mismatched descriptors fail before any decoding', () => {
  const s = encodeQuic(QUIC_TYPE.RGB32, 4, 4, image(3, 4, 4));
  assert.match(outcome(() => decodeQuicWasm(s, { width: 4, height: 5 })) as string, /descriptor/);
  const big = s.slice();
  new DataView(big.buffer).setUint32(12, 1 << 20, true);
  new DataView(big.buffer).setUint32(16, 1 << 20, true);
  assert.match(outcome(() => decodeQuicWasm(big)) as string, /too large/);
});
