// Tests for renderer/display/decoders/jpeg.ts. JPEGs are produced at run time
// by libjpeg-turbo's cjpeg and the expected pixels come from its djpeg (an
// independent decoder). Needs Debian package libjpeg-turbo-progs (cjpeg, djpeg).
//
// Tolerances: against `djpeg -dct float` (same IDCT family, same fancy
// upsampling and JFIF colour conversion) pixels may differ by 1-2 levels from
// float rounding; against djpeg's default integer "islow" IDCT by up to 3
// levels, because the two IDCTs round differently and the error can grow
// through chroma upsampling and colour conversion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJpeg, JpegAlphaDecoder, JpegDecoder, MjpegFrameDecoder } from '../../../renderer/display/decoders/jpeg';
import type { DecodedImage, DecodeContext } from '../../../renderer/display/types';
import type { SpiceImage } from '../../../preload/contract';
import { ImageType } from '../../../main/spice/protocol/enums';
import { SpiceError } from '../../../main/spice/wire/errors';

const dir = mkdtempSync(join(tmpdir(), 'jpeg-test-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
assert.ok(hasTool('cjpeg') && hasTool('djpeg'), 'these tests need cjpeg/djpeg: apt-get install libjpeg-turbo-progs');

// ------------------------------------------------------------------ helpers

/** Deterministic test picture: smooth waves, hard-edged checkers (stress chroma upsampling) and noise. */
function makeRgb(w: number, h: number, seed: number): Uint8Array {
  const px = new Uint8Array(w * h * 3);
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      const checker = ((x >> 3) ^ (y >> 2)) & 1;
      px[i] = clamp(128 + 100 * Math.sin(x * 0.21 + y * 0.05 + seed) + 20 * rnd());
      px[i + 1] = clamp((x * 255) / Math.max(1, w - 1) + 15 * rnd());
      px[i + 2] = clamp(checker ? 220 + 20 * rnd() : 30 + 20 * rnd());
    }
  }
  return px;
}
function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

let fileNo = 0;
function cjpeg(w: number, h: number, args: string[], seed = 1): Uint8Array {
  const src = join(dir, `src${fileNo++}.ppm`);
  writeFileSync(src, Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), makeRgb(w, h, seed)]));
  // stderr captured: cjpeg warns about 16-bit tables at very low quality
  return new Uint8Array(execFileSync('cjpeg', [...args, src], { stdio: ['ignore', 'pipe', 'pipe'] }));
}

interface Pnm {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}
function djpeg(jpg: Uint8Array, args: string[] = []): Pnm {
  const f = join(dir, `ref${fileNo++}.jpg`);
  writeFileSync(f, jpg);
  const out = new Uint8Array(execFileSync('djpeg', ['-pnm', ...args, f]));
  // P5/P6 header: magic, width, height, maxval, single whitespace
  const head = Buffer.from(out.subarray(0, 64)).toString('latin1');
  const m = /^(P[56])\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(head);
  assert.ok(m, 'djpeg output is not a PNM');
  return { channels: m[1] === 'P6' ? 3 : 1, width: +m[2], height: +m[3], data: out.subarray(m[0].length) };
}

/** Largest per-channel difference between our output and a djpeg PNM; also checks opaque alpha. */
function maxDiff(img: DecodedImage, ref: Pnm): number {
  assert.equal(img.width, ref.width);
  assert.equal(img.height, ref.height);
  assert.equal(img.pixels.length, ref.width * ref.height);
  let max = 0;
  for (let i = 0; i < img.pixels.length; i++) {
    const p = img.pixels[i];
    assert.equal(p >>> 24, 0xff, 'alpha must be opaque');
    for (let c = 0; c < 3; c++) {
      const got = (p >>> (16 - 8 * c)) & 255;
      const want = ref.data[i * ref.channels + (ref.channels === 3 ? c : 0)];
      const d = Math.abs(got - want);
      if (d > max) max = d;
    }
  }
  return max;
}

function checkAgainstDjpeg(jpg: Uint8Array, label: string): DecodedImage {
  const img = decodeJpeg(jpg);
  const dFloat = maxDiff(img, djpeg(jpg, ['-dct', 'float']));
  assert.ok(dFloat <= 2, `${label}: max diff ${dFloat} vs djpeg -dct float`);
  const dInt = maxDiff(img, djpeg(jpg));
  assert.ok(dInt <= 3, `${label}: max diff ${dInt} vs djpeg (islow)`);
  return img;
}

function assertDecodeError(fn: () => unknown, re?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SpiceError, `expected SpiceError, got ${String(e)}`);
    assert.equal(e.code, 'DECODE', e.message);
    if (re) assert.match(e.message, re);
    return true;
  });
}

/** Offset of the code byte (after 0xFF) of the first header segment with that marker. */
function markerAt(jpg: Uint8Array, code: number): number {
  for (let p = 2; jpg[p + 1] !== 0xda; p += 2 + ((jpg[p + 2] << 8) | jpg[p + 3])) {
    assert.equal(jpg[p], 0xff);
    if (jpg[p + 1] === code) return p + 1;
  }
  assert.fail(`marker ${code.toString(16)} not found`);
}

/** Offset of the first byte of entropy-coded data (just after the first SOS segment). */
function scanStart(jpg: Uint8Array): number {
  let p = 2;
  for (;;) {
    assert.equal(jpg[p], 0xff);
    const m = jpg[p + 1];
    const len = (jpg[p + 2] << 8) | jpg[p + 3];
    if (m === 0xda) return p + 2 + len;
    p += 2 + len;
  }
}

/** The file with every segment whose marker is in `drop` removed (header part only, before SOS). */
function withoutSegments(jpg: Uint8Array, drop: number[]): Uint8Array {
  const parts: Uint8Array[] = [jpg.subarray(0, 2)];
  let p = 2;
  for (;;) {
    const m = jpg[p + 1];
    const len = (jpg[p + 2] << 8) | jpg[p + 3];
    if (m === 0xda) {
      parts.push(jpg.subarray(p));
      break;
    }
    if (!drop.includes(m)) parts.push(jpg.subarray(p, p + 2 + len));
    p += 2 + len;
  }
  return new Uint8Array(Buffer.concat(parts));
}

const ctx: DecodeContext = { palettes: { get: () => undefined, put: () => {} } };
function spiceImage(type: number, width: number, height: number, data: SpiceImage['data']): SpiceImage {
  return { descriptor: { id: 1n, type, flags: 0, width, height }, data };
}

// ------------------------------------------------------------------ pixels vs djpeg

const cases: { name: string; w: number; h: number; args: string[] }[] = [
  { name: 'grayscale 50x30', w: 50, h: 30, args: ['-grayscale'] },
  { name: 'grayscale 1x1', w: 1, h: 1, args: ['-grayscale'] },
  { name: '4:2:0 (spice-server default) 64x48 q80', w: 64, h: 48, args: ['-quality', '80'] },
  { name: '4:2:0 1x1', w: 1, h: 1, args: ['-sample', '2x2'] },
  { name: '4:2:0 17x9', w: 17, h: 9, args: ['-sample', '2x2'] },
  { name: '4:2:0 1023x5', w: 1023, h: 5, args: ['-sample', '2x2', '-quality', '90'] },
  { name: '4:2:0 2x2', w: 2, h: 2, args: ['-sample', '2x2'] },
  { name: '4:2:0 4x4 (2 chroma columns: no fancy upsampling)', w: 4, h: 4, args: ['-sample', '2x2'] },
  { name: '4:2:0 5x6', w: 5, h: 6, args: ['-sample', '2x2'] },
  { name: '4:2:0 65x33 q100', w: 65, h: 33, args: ['-sample', '2x2', '-quality', '100'] },
  { name: '4:4:4 41x23', w: 41, h: 23, args: ['-sample', '1x1'] },
  { name: '4:4:4 1x1', w: 1, h: 1, args: ['-sample', '1x1'] },
  { name: '4:2:2 17x9', w: 17, h: 9, args: ['-sample', '2x1'] },
  { name: '4:2:2 1023x5', w: 1023, h: 5, args: ['-sample', '2x1'] },
  { name: '4:2:2 1x3', w: 1, h: 3, args: ['-sample', '2x1'] },
  { name: '4:2:2 3x3 (2 chroma columns: no fancy upsampling)', w: 3, h: 3, args: ['-sample', '2x1'] },
  { name: '4:4:0 3x2', w: 3, h: 2, args: ['-sample', '1x2'] },
  { name: '4:4:0 33x47', w: 33, h: 47, args: ['-sample', '1x2'] },
  { name: '4:1:1 40x17', w: 40, h: 17, args: ['-sample', '4x1'] },
  { name: 'RGB (no colour transform) 20x13', w: 20, h: 13, args: ['-rgb'] },
  { name: 'optimized huffman tables, q30', w: 100, h: 70, args: ['-optimize', '-quality', '30'] },
  { name: 'SOF1 with 16-bit quantization tables (q1)', w: 24, h: 24, args: ['-quality', '1'] },
  { name: 'restart every MCU row, 4:2:0', w: 70, h: 50, args: ['-restart', '1'] },
  { name: 'restart every MCU, 4:2:0 (RST0..7 wrap)', w: 70, h: 50, args: ['-restart', '1B'] },
  { name: 'restart every 3 MCUs, grayscale', w: 45, h: 21, args: ['-grayscale', '-restart', '3B'] },
  { name: 'restart every MCU, 4:2:2 1023x5', w: 1023, h: 5, args: ['-sample', '2x1', '-restart', '1B'] },
];
for (const c of cases) {
  test(`pixels match djpeg: ${c.name}`, () => {
    const jpg = cjpeg(c.w, c.h, c.args);
    if (c.name.startsWith('SOF1')) assert.ok(markerAt(jpg, 0xc1) > 0);
    const img = checkAgainstDjpeg(jpg, c.name);
    assert.equal(img.hasAlpha, false);
  });
}

test('non-interleaved baseline scans (one scan per component)', () => {
  const scans = join(dir, 'scans.txt');
  writeFileSync(scans, '0: 0 63 0 0;\n2: 0 63 0 0;\n1: 0 63 0 0;\n');
  const jpg = cjpeg(37, 29, ['-scans', scans, '-sample', '2x2']);
  // three SOS markers really are present
  let sos = 0;
  for (let i = 0; i + 1 < jpg.length; i++) if (jpg[i] === 0xff && jpg[i + 1] === 0xda) sos++;
  assert.equal(sos, 3);
  checkAgainstDjpeg(jpg, 'non-interleaved');
});

test('APPn/COM segments and 0xFF fill bytes before markers are skipped', () => {
  const jpg = cjpeg(30, 20, []);
  const app1 = [0xff, 0xe1, 0x00, 0x08, 0x45, 0x78, 0x69, 0x66, 0x00, 0x00]; // "Exif\0\0"
  const com = [0xff, 0xfe, 0x00, 0x07, ...Buffer.from('hello')];
  const app15 = [0xff, 0xef, 0x00, 0x02];
  const sos = scanStart(jpg);
  // find the SOS marker itself to put fill bytes before it
  let sosMarker = 2;
  for (let p = 2; ; ) {
    const len = (jpg[p + 2] << 8) | jpg[p + 3];
    if (jpg[p + 1] === 0xda) {
      sosMarker = p;
      break;
    }
    p += 2 + len;
  }
  assert.ok(sosMarker < sos);
  const mod = new Uint8Array([
    ...jpg.subarray(0, 2), ...app1, ...com, ...app15, ...jpg.subarray(2, sosMarker),
    0xff, 0xff, 0xff, // fill bytes (JPEG B.1.1.2)
    ...jpg.subarray(sosMarker, jpg.length - 2),
    0xff, 0xff, 0xd9,
  ]);
  assert.deepEqual(decodeJpeg(mod).pixels, decodeJpeg(jpg).pixels);
  checkAgainstDjpeg(mod, 'with APP/COM');
});

// ------------------------------------------------------------------ errors

test('progressive JPEG → clear DECODE error', () => {
  const jpg = cjpeg(16, 16, ['-progressive']);
  assertDecodeError(() => decodeJpeg(jpg), /progressive/);
});

test('arithmetic coding, 12-bit, CMYK-like component counts are refused', () => {
  const jpg = cjpeg(16, 16, []);
  const sof = markerAt(jpg, 0xc0);
  const arith = jpg.slice();
  arith[sof] = 0xc9;
  assertDecodeError(() => decodeJpeg(arith), /arithmetic/);
  const p12 = jpg.slice();
  p12[sof + 3] = 12; // precision byte
  assertDecodeError(() => decodeJpeg(p12), /12-bit/);
  const lossless = jpg.slice();
  lossless[sof] = 0xc3;
  assertDecodeError(() => decodeJpeg(lossless), /lossless/);
});

test('not a JPEG / empty input', () => {
  assertDecodeError(() => decodeJpeg(new Uint8Array(0)));
  assertDecodeError(() => decodeJpeg(new Uint8Array([0x89, 0x50, 0x4e, 0x47])));
  assertDecodeError(() => decodeJpeg(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])), /no frame/);
});

test('truncated at every offset → SpiceError DECODE, never hangs', () => {
  for (const args of [['-sample', '2x2'], ['-restart', '1B'], ['-grayscale']]) {
    const jpg = cjpeg(40, 24, args);
    assert.ok(jpg.length < 4000);
    const t0 = performance.now();
    for (let n = 0; n < jpg.length; n++) {
      assertDecodeError(() => decodeJpeg(jpg.subarray(0, n)));
    }
    assert.ok(performance.now() - t0 < 10000, 'truncation sweep took too long');
    assert.equal(decodeJpeg(jpg).width, 40);
  }
});

test('corrupt huffman data (a run of 1-bits is no valid code) → DECODE', () => {
  const jpg = cjpeg(64, 64, ['-quality', '90']);
  const s = scanStart(jpg);
  const bad = jpg.slice();
  for (let i = 0; i < 16; i += 2) {
    bad[s + 20 + i] = 0xff; // stuffed 0xFF 0x00 = eight 1-bits
    bad[s + 21 + i] = 0x00;
  }
  assertDecodeError(() => decodeJpeg(bad), /huffman|coefficient|corrupt/);
});

test('wrong restart marker number → DECODE', () => {
  const jpg = cjpeg(64, 16, ['-restart', '1B', '-sample', '1x1']);
  const s = scanStart(jpg);
  let found = -1;
  for (let i = s; i + 1 < jpg.length; i++) {
    if (jpg[i] === 0xff && jpg[i + 1] === 0xd2) {
      found = i;
      break;
    }
  }
  assert.ok(found > 0, 'RST2 present');
  const bad = jpg.slice();
  bad[found + 1] = 0xd5;
  assertDecodeError(() => decodeJpeg(bad), /RST2/);
});

test('fuzz: random corruption gives an image of the right size or a SpiceError, nothing else', () => {
  const jpgs = [cjpeg(48, 40, ['-sample', '2x2']), cjpeg(48, 40, ['-restart', '1B', '-sample', '2x1'])];
  let seed = 12345;
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  let errors = 0;
  let images = 0;
  for (const jpg of jpgs) {
    for (let iter = 0; iter < 400; iter++) {
      const bad = jpg.slice();
      const flips = 1 + rnd(6);
      for (let k = 0; k < flips; k++) bad[rnd(bad.length)] = rnd(256);
      try {
        const img = decodeJpeg(bad);
        assert.equal(img.pixels.length, img.width * img.height);
        images++;
      } catch (e) {
        assert.ok(e instanceof SpiceError, `non-SpiceError: ${String(e)}`);
        assert.ok(e.code === 'DECODE' || e.code === 'LIMIT', e.code);
        errors++;
      }
    }
  }
  assert.ok(errors > 100, `only ${errors} errors`);
  assert.ok(images > 0);
});

test('size limits are checked before allocating', () => {
  const jpg = cjpeg(40, 30, []);
  assert.throws(() => decodeJpeg(jpg, { maxPixels: 40 * 30 - 1 }), (e: unknown) => e instanceof SpiceError && e.code === 'LIMIT');
  assert.equal(decodeJpeg(jpg, { maxPixels: 40 * 30 }).width, 40);
  // a header claiming 16000x16000 with a tiny scan must fail fast, not allocate ~700 MB of planes
  const sof = markerAt(jpg, 0xc0);
  const big = jpg.slice();
  big[sof + 4] = 16000 >> 8;
  big[sof + 5] = 16000 & 255;
  big[sof + 6] = 16000 >> 8;
  big[sof + 7] = 16000 & 255;
  const t0 = performance.now();
  assertDecodeError(() => decodeJpeg(big), /truncated/);
  assert.ok(performance.now() - t0 < 1000);
  // zero height (DNL) is refused
  const zero = jpg.slice();
  zero[sof + 4] = 0;
  zero[sof + 5] = 0;
  assertDecodeError(() => decodeJpeg(zero), /DNL|zero/);
});

// ------------------------------------------------------------------ MJPEG / decoder classes

test('MjpegFrameDecoder keeps tables for abbreviated frames and reuses buffers across sizes', () => {
  const f1 = cjpeg(96, 64, ['-quality', '75'], 1);
  const f2 = cjpeg(96, 64, ['-quality', '75'], 2);
  const f3 = cjpeg(33, 17, ['-quality', '75'], 3);
  const abbreviated = withoutSegments(f2, [0xdb, 0xc4]); // no DQT / DHT
  assert.ok(abbreviated.length < f2.length);
  assertDecodeError(() => decodeJpeg(abbreviated), /undefined/);
  const dec = new MjpegFrameDecoder();
  assert.deepEqual(dec.decode(f1).pixels, decodeJpeg(f1).pixels);
  assert.deepEqual(dec.decode(abbreviated).pixels, decodeJpeg(f2).pixels);
  assert.deepEqual(dec.decode(f3).pixels, decodeJpeg(f3).pixels);
  const target = new Uint32Array(96 * 64 + 5);
  const img = dec.decode(f1, undefined, target);
  assert.equal(img.pixels.buffer, target.buffer);
  assert.deepEqual(img.pixels, decodeJpeg(f1).pixels);
  // a failed frame does not poison the next one
  assertDecodeError(() => dec.decode(f1.subarray(0, 200)));
  assert.deepEqual(dec.decode(f2).pixels, decodeJpeg(f2).pixels);
});

test('JpegDecoder decodes SpiceImage jpeg data and checks the descriptor size', () => {
  const jpg = cjpeg(30, 20, []);
  const dec = new JpegDecoder();
  const img = dec.decode(spiceImage(ImageType.JPEG, 30, 20, { kind: 'jpeg', data: jpg }), ctx);
  assert.deepEqual(img.pixels, decodeJpeg(jpg).pixels);
  assert.equal(img.hasAlpha, false);
  assertDecodeError(() => dec.decode(spiceImage(ImageType.JPEG, 31, 20, { kind: 'jpeg', data: jpg }), ctx), /descriptor/);
  // the instance reuses planes: a second, different image must not see stale data
  const jpg2 = cjpeg(64, 40, ['-sample', '1x1'], 9);
  assert.deepEqual(dec.decode(spiceImage(ImageType.JPEG, 64, 40, { kind: 'jpeg', data: jpg2 }), ctx).pixels, decodeJpeg(jpg2).pixels);
});

/** Hand-built LZ XXXA stream (spice-common lz.c layout): 28-byte BE header, then literal runs of ≤ 32 bytes. */
function lzAlpha(width: number, height: number, topDown: boolean, rows: Uint8Array[]): Uint8Array {
  const head = Buffer.alloc(28);
  head.writeUInt32BE(0x20205a4c, 0); // "LZ  " magic as spice writes it
  head.writeUInt32BE(0x00010001, 4); // version 1.1
  head.writeUInt32BE(10, 8); // LZ_IMAGE_TYPE_XXXA
  head.writeUInt32BE(width, 12);
  head.writeUInt32BE(height, 16);
  head.writeUInt32BE(width * 4, 20); // stride of the 32-bit source
  head.writeUInt32BE(topDown ? 1 : 0, 24);
  const bytes = Buffer.concat(rows);
  const body: number[] = [];
  for (let i = 0; i < bytes.length; i += 32) {
    const run = bytes.subarray(i, i + 32);
    body.push(run.length - 1, ...run); // ctrl < 32: ctrl+1 literal bytes
  }
  return new Uint8Array(Buffer.concat([head, Buffer.from(body)]));
}

test('JpegAlphaDecoder: RGB from the JPEG, alpha from the LZ plane, rows oriented by TOP_DOWN', () => {
  const w = 13;
  const h = 7;
  const jpg = cjpeg(w, h, []);
  const rgb = decodeJpeg(jpg).pixels;
  const alphaOf = (x: number, y: number) => (x * 17 + y * 31) & 255;
  const imageRows = Array.from({ length: h }, (_, y) => Uint8Array.from({ length: w }, (_, x) => alphaOf(x, y)));
  const dec = new JpegAlphaDecoder();
  for (const topDown of [true, false]) {
    // bottom-up streams carry the image's last row first (canvas_get_jpeg_alpha)
    const streamRows = topDown ? imageRows : [...imageRows].reverse();
    const data = new Uint8Array(Buffer.concat([jpg, lzAlpha(w, h, topDown, streamRows)]));
    const img = dec.decode(
      spiceImage(ImageType.JPEG_ALPHA, w, h, { kind: 'jpeg_alpha', flags: topDown ? 1 : 0, jpegSize: jpg.length, data }),
      ctx,
    );
    assert.equal(img.hasAlpha, true);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = img.pixels[y * w + x];
        assert.equal(p >>> 24, alphaOf(x, y), `alpha at ${x},${y} topDown=${topDown}`);
        assert.equal(p & 0xffffff, rgb[y * w + x] & 0xffffff);
      }
    }
    // flags disagreeing with the LZ header's top_down are refused, as in spice-common
    assertDecodeError(() =>
      dec.decode(spiceImage(ImageType.JPEG_ALPHA, w, h, { kind: 'jpeg_alpha', flags: topDown ? 0 : 1, jpegSize: jpg.length, data }), ctx),
    );
  }
  const data = new Uint8Array(Buffer.concat([jpg, lzAlpha(w, h, true, imageRows)]));
  assertDecodeError(() =>
    dec.decode(spiceImage(ImageType.JPEG_ALPHA, w, h, { kind: 'jpeg_alpha', flags: 1, jpegSize: data.length + 1, data }), ctx),
  );
  // truncated alpha stream
  assert.throws(
    () => dec.decode(spiceImage(ImageType.JPEG_ALPHA, w, h, { kind: 'jpeg_alpha', flags: 1, jpegSize: jpg.length, data: data.subarray(0, data.length - 3) }), ctx),
    (e: unknown) => e instanceof SpiceError,
  );
});
