// Test-only encoders written from the format descriptions (spice-common
// lz_compress_tmpl.c / lz.c, spice server glz-encode-match.tmpl.c, the LZ4
// block format) — independent of the decoders under test — plus synthetic
// image generators. Greedy, simple, and deliberately explicit.

export const T = { PLT1_LE: 1, PLT1_BE: 2, PLT4_LE: 3, PLT4_BE: 4, PLT8: 5, RGB16: 6, RGB24: 7, RGB32: 8, RGBA: 9, XXXA: 10, A8: 11 };

/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function push32(out: number[], v: number): void {
  out.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
}

/** Reorders top-down rows into stream order (bottom-up when !topDown). */
export function streamOrder<A extends Uint32Array | Uint8Array | Int32Array>(a: A, rowLen: number, height: number, topDown: boolean): A {
  if (topDown) return a.slice() as A;
  const r = a.slice() as A;
  for (let y = 0; y < height; y++) r.set(a.subarray((height - 1 - y) * rowLen, (height - y) * rowLen), y * rowLen);
  return r;
}

// ------------------------------------------------------------------ LZ

export interface LzEncOpts {
  /** Never emit matches (literals only). */
  literalsOnly?: boolean;
}

/**
 * LZ77 body of one plane. units: values compared for matching; lit(i, out)
 * appends the literal bytes of unit i; minMatch: 1 (RGB24/32), 2 (RGB16),
 * 3 (bytes).
 */
export function lzEncodeUnits(units: Int32Array, lit: (i: number, out: number[]) => void, minMatch: number, out: number[], opts: LzEncOpts = {}): void {
  const n = units.length;
  const HB = 16;
  const table = new Int32Array(1 << HB).fill(-1);
  const hash = (i: number) => (Math.imul(units[i] ^ Math.imul(units[i + 1], 0x9e3779b1) ^ Math.imul(units[i + 2], 0x85ebca6b), 0x27d4eb2f) >>> (32 - HB));
  let litStart = 0;
  let i = 0;
  const flush = (to: number) => {
    while (litStart < to) {
      const cnt = Math.min(32, to - litStart);
      out.push(cnt - 1);
      for (let k = 0; k < cnt; k++) lit(litStart + k, out);
      litStart += cnt;
    }
  };
  while (i < n) {
    let best = 0;
    let bestD = 0;
    if (!opts.literalsOnly) {
      if (i > 0) {
        let l = 0;
        while (i + l < n && units[i + l] === units[i - 1]) l++;
        best = l;
        bestD = 1;
      }
      if (i + 2 < n) {
        const h = hash(i);
        const c = table[h];
        table[h] = i;
        if (c >= 0 && i - c <= 73727) {
          let l = 0;
          while (i + l < n && units[c + l] === units[i + l]) l++;
          if (l > best) {
            best = l;
            bestD = i - c;
          }
        }
      }
    }
    if (best >= Math.max(minMatch, 2)) {
      flush(i);
      // length code L' (3 bits, 7 = extended): actual = L' - 1 + minMatch
      const code = best - minMatch + 1;
      const d = bestD - 1;
      const top = code < 7 ? code : 7;
      const far = d >= 8191;
      out.push((top << 5) | (far ? 31 : d >>> 8));
      if (code >= 7) {
        let rest = code - 7;
        for (; rest >= 255; rest -= 255) out.push(255);
        out.push(rest);
      }
      if (far) {
        const d2 = d - 8191;
        out.push(255, d2 >>> 8, d2 & 255);
      } else {
        out.push(d & 255);
      }
      i += best;
      litStart = i;
    } else {
      i++;
    }
  }
  flush(n);
}

export interface LzImageSpec {
  type: number;
  width: number;
  height: number;
  topDown: boolean;
  /** Top-down 0xAARRGGBB pixels (RGB types, alpha for RGBA/XXXA/A8). */
  pixels?: Uint32Array;
  /** Top-down palette indices (PLT types). */
  indices?: Uint8Array;
}

const PPB: Record<number, number> = { 1: 8, 2: 8, 3: 2, 4: 2, 5: 1 };

/** Packs palette indices into rows of stride bytes (spec bit/nibble order). */
export function packPlt(type: number, idx: Uint8Array, width: number, height: number): { bytes: Uint8Array; stride: number } {
  const ppb = PPB[type];
  const stride = Math.ceil(width / ppb);
  const bytes = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = idx[y * width + x];
      const b = y * stride + Math.floor(x / ppb);
      const k = x % ppb;
      if (ppb === 1) bytes[b] = v;
      else if (ppb === 2) bytes[b] |= type === T.PLT4_BE ? (k === 0 ? v << 4 : v) : k === 0 ? v : v << 4;
      else bytes[b] |= (v & 1) << (type === T.PLT1_BE ? 7 - k : k);
    }
  }
  return { bytes, stride };
}

export function to555(p: number): number {
  return (((p >>> 19) & 31) << 10) | (((p >>> 11) & 31) << 5) | ((p >>> 3) & 31);
}

/** Full LZ stream (header + planes) of an image. */
export function lzEncode(spec: LzImageSpec, opts: LzEncOpts = {}): Uint8Array {
  const { type, width, height, topDown } = spec;
  const out: number[] = [];
  push32(out, 0x20205a4c);
  push32(out, 0x00010001);
  push32(out, type);
  push32(out, width);
  push32(out, height);
  let stride: number;
  let planes: (() => void)[] = [];
  if (type <= T.PLT8) {
    const p = packPlt(type, spec.indices!, width, height);
    stride = p.stride;
    const rows = streamOrder(p.bytes, stride, height, topDown);
    const units = Int32Array.from(rows);
    planes = [() => lzEncodeUnits(units, (i, o) => o.push(rows[i]), 3, out, opts)];
  } else {
    const px = streamOrder(spec.pixels!, width, height, topDown);
    const alpha = Int32Array.from(px, (v) => v >>> 24);
    const alphaPlane = () => lzEncodeUnits(alpha, (i, o) => o.push(alpha[i]), 3, out, opts);
    if (type === T.RGB16) {
      stride = width * 2;
      const u = Int32Array.from(px, to555);
      planes = [() => lzEncodeUnits(u, (i, o) => o.push(u[i] >>> 8, u[i] & 255), 2, out, opts)];
    } else if (type === T.RGB24 || type === T.RGB32 || type === T.RGBA) {
      stride = width * (type === T.RGB24 ? 3 : 4);
      const u = Int32Array.from(px, (v) => v & 0xffffff);
      planes = [() => lzEncodeUnits(u, (i, o) => o.push(u[i] & 255, (u[i] >>> 8) & 255, u[i] >>> 16), 1, out, opts)];
      if (type === T.RGBA) planes.push(alphaPlane);
    } else {
      stride = type === T.A8 ? width : width * 4;
      planes = [alphaPlane];
    }
  }
  push32(out, stride);
  push32(out, topDown ? 1 : 0);
  for (const p of planes) p();
  return Uint8Array.from(out);
}

// ------------------------------------------------------------------ GLZ

interface GlzPast {
  id: bigint;
  units: Int32Array; // rgb units (stream order)
  alpha: Int32Array | null; // alpha units when RGBA
  table: Int32Array;
  alphaTable: Int32Array | null;
}

const GHB = 16;
function ghash(u: Int32Array, i: number): number {
  return Math.imul(u[i] ^ Math.imul(u[i + 1], 0x9e3779b1) ^ Math.imul(u[i + 2], 0x85ebca6b), 0x27d4eb2f) >>> (32 - GHB);
}
function indexUnits(u: Int32Array): Int32Array {
  const t = new Int32Array(1 << GHB).fill(-1);
  for (let i = 0; i + 2 < u.length; i++) t[ghash(u, i)] = i;
  return t;
}

/** encode_match of glz-encode-match.tmpl.c: lenCode already biased. */
export function glzPushMatch(out: number[], lenCode: number, imageDist: number, pd: number): void {
  const short = pd < 4096;
  const top = lenCode < 7 ? lenCode : 7;
  out.push((top << 5) | (short ? 0 : 16) | (pd & 15));
  if (lenCode >= 7) {
    let rest = lenCode - 7;
    for (; rest >= 255; rest -= 255) out.push(255);
    out.push(rest);
  }
  out.push((pd >>> 4) & 255);
  if (short) {
    if (imageDist < 64) out.push(imageDist & 0x3f);
    else if (imageDist < 16384) out.push(0x40 | (imageDist & 0x3f), (imageDist >>> 6) & 255);
    else if (imageDist < 4194304) out.push(0x80 | (imageDist & 0x3f), (imageDist >>> 6) & 255, (imageDist >>> 14) & 255);
    else out.push(0xc0 | (imageDist & 0x3f), (imageDist >>> 6) & 255, (imageDist >>> 14) & 255, (imageDist >>> 22) & 255);
  } else {
    const ldc = pd < 131072 ? 0 : 32;
    const hi = (pd >>> 12) & 31;
    if (imageDist === 0) out.push(ldc | hi);
    else if (imageDist < 256) out.push(ldc | 0x40 | hi, imageDist & 255);
    else if (imageDist < 65536) out.push(ldc | 0x80 | hi, imageDist & 255, (imageDist >>> 8) & 255);
    else out.push(ldc | 0xc0 | hi, imageDist & 255, (imageDist >>> 8) & 255, (imageDist >>> 16) & 255);
    if (ldc) out.push((pd >>> 17) & 255);
  }
}

/** Test GLZ encoder with its own dictionary of earlier images. */
export class GlzTestEncoder {
  past: GlzPast[] = [];
  crossRefs = 0;

  /** bias: matches of length < bias+1 cannot be coded (0 RGB24/32, 1 RGB16, 2 alpha). */
  private plane(units: Int32Array, alphaPlane: boolean, id: bigint, oldest: bigint, lit: (i: number, o: number[]) => void, bias: number, out: number[], allowCross: boolean): void {
    const n = units.length;
    const table = new Int32Array(1 << GHB).fill(-1);
    let litStart = 0;
    const flush = (to: number) => {
      while (litStart < to) {
        const cnt = Math.min(32, to - litStart);
        out.push(cnt - 1);
        for (let k = 0; k < cnt; k++) lit(litStart + k, out);
        litStart += cnt;
      }
    };
    let i = 0;
    while (i < n) {
      let best = 0;
      let bestD = 0; // in-image distance
      let bestImg = 0; // image dist
      let bestOfs = 0;
      if (i > 0) {
        let l = 0;
        while (i + l < n && units[i + l] === units[i - 1]) l++;
        best = l;
        bestD = 1;
      }
      if (i + 2 < n) {
        const h = ghash(units, i);
        const c = table[h];
        table[h] = i;
        if (c >= 0 && i - c < 1 << 25) {
          let l = 0;
          while (i + l < n && units[c + l] === units[i + l]) l++;
          if (l > best) {
            best = l;
            bestD = i - c;
          }
        }
        if (allowCross) {
          for (const p of this.past) {
            if (p.id < oldest) continue;
            const pu = alphaPlane ? p.alpha : p.units;
            const pt = alphaPlane ? p.alphaTable : p.table;
            if (!pu || !pt) continue;
            const c2 = pt[h];
            if (c2 < 0 || c2 >= 1 << 25) continue;
            let l = 0;
            while (i + l < n && c2 + l < pu.length && pu[c2 + l] === units[i + l]) l++;
            if (l > best + 1) {
              best = l;
              bestImg = Number(id - p.id);
              bestOfs = c2;
            }
          }
        }
      }
      if (best >= bias + 1 && best >= 2) {
        flush(i);
        if (bestImg) {
          glzPushMatch(out, best - bias, bestImg, bestOfs);
          this.crossRefs++;
        } else {
          glzPushMatch(out, best - bias, 0, bestD - 1);
        }
        i += best;
        litStart = i;
      } else {
        i++;
      }
    }
    flush(n);
  }

  /** Encodes one image (top-down ARGB pixels) with dictionary id and window head distance. */
  encode(type: number, id: bigint, winHeadDist: number, width: number, height: number, topDown: boolean, pixels: Uint32Array, allowCross = true): Uint8Array {
    const out: number[] = [];
    push32(out, 0x20205a4c);
    push32(out, 0x00010001);
    out.push((type & 15) | (topDown ? 16 : 0));
    push32(out, width);
    push32(out, height);
    push32(out, width * (type === T.RGB16 ? 2 : type === T.RGB24 ? 3 : 4));
    push32(out, Number(id >> 32n));
    push32(out, Number(id & 0xffffffffn));
    push32(out, winHeadDist);
    const oldest = id - BigInt(winHeadDist);
    const px = streamOrder(pixels, width, height, topDown);
    let units: Int32Array;
    if (type === T.RGB16) {
      units = Int32Array.from(px, to555);
      this.plane(units, false, id, oldest, (i, o) => o.push(units[i] >>> 8, units[i] & 255), 1, out, allowCross);
    } else {
      units = Int32Array.from(px, (v) => v & 0xffffff);
      this.plane(units, false, id, oldest, (i, o) => o.push(units[i] & 255, (units[i] >>> 8) & 255, units[i] >>> 16), 0, out, allowCross);
    }
    let alpha: Int32Array | null = null;
    if (type === T.RGBA) {
      const a = Int32Array.from(px, (v) => v >>> 24);
      alpha = a;
      this.plane(a, true, id, oldest, (i, o) => o.push(a[i]), 2, out, allowCross);
    }
    // Cross-image matches compare decoded values: RGB16 images decode to
    // expanded 888, so only same-type images would match; keep units per type.
    this.past.push({ id, units: type === T.RGB16 ? units.map(() => -1) : units, alpha, table: indexUnits(units), alphaTable: alpha ? indexUnits(alpha) : null });
    this.past = this.past.filter((p) => p.id >= oldest);
    return Uint8Array.from(out);
  }
}

// ------------------------------------------------------------------ LZ4

/**
 * Greedy LZ4 block encoder: encodes src[start, end) using src[histStart, start)
 * as history (offsets <= 65535), per the LZ4 block format end rules.
 */
export function lz4EncodeBlock(src: Uint8Array, start: number, end: number, histStart = start, literalsOnly = false): Uint8Array {
  const out: number[] = [];
  const table = new Map<number, number>();
  const key = (i: number) => src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24);
  for (let i = Math.max(histStart, start - 65535); i + 4 <= start; i++) table.set(key(i), i);
  let anchor = start;
  let i = start;
  const matchLimit = end - 12; // last match must start >= 12 bytes before the end
  const pushLen = (v: number) => {
    for (; v >= 255; v -= 255) out.push(255);
    out.push(v);
  };
  while (!literalsOnly && i < matchLimit) {
    const k = key(i);
    const c = table.get(k);
    table.set(k, i);
    if (c !== undefined && i - c <= 65535 && i - c > 0) {
      let l = 4;
      while (i + l < end - 5 && src[c + l] === src[i + l]) l++;
      const lit = i - anchor;
      const ml = l - 4;
      out.push(((lit >= 15 ? 15 : lit) << 4) | (ml >= 15 ? 15 : ml));
      if (lit >= 15) pushLen(lit - 15);
      for (let j = anchor; j < i; j++) out.push(src[j]);
      out.push((i - c) & 255, (i - c) >>> 8);
      if (ml >= 15) pushLen(ml - 15);
      i += l;
      anchor = i;
    } else {
      i++;
    }
  }
  const lit = end - anchor;
  out.push((lit >= 15 ? 15 : lit) << 4);
  if (lit >= 15) pushLen(lit - 15);
  for (let j = anchor; j < end; j++) out.push(src[j]);
  return Uint8Array.from(out);
}

/** SPICE LZ4 image payload: top_down, format, then BE-size-prefixed blocks of `rowsPerBlock` rows. */
export function lz4EncodeImage(raw: Uint8Array, stride: number, height: number, topDown: boolean, format: number, rowsPerBlock: number, literalsOnly = false): Uint8Array {
  const parts: number[] = [topDown ? 1 : 0, format];
  for (let y = 0; y < height; y += rowsPerBlock) {
    const s = y * stride;
    const e = Math.min(height, y + rowsPerBlock) * stride;
    const blk = lz4EncodeBlock(raw, s, e, 0, literalsOnly);
    push32(parts, blk.length);
    for (const b of blk) parts.push(b);
  }
  return Uint8Array.from(parts);
}

// ------------------------------------------------------------------ images

/** A desktop-like screen: flat background, windows with title bars, text-ish glyph runs, an icon grid, a photo-ish patch. */
export function desktopImage(width: number, height: number, seed: number): Uint32Array {
  const r = rng(seed);
  const px = new Uint32Array(width * height);
  for (let y = 0; y < height; y++) {
    const c = 0xff000000 | ((0x20 + ((y * 0x40) / height) | 0) << 16) | (0x50 << 8) | 0x90;
    px.fill(c, y * width, (y + 1) * width);
  }
  const rect = (x0: number, y0: number, w: number, h: number, c: number) => {
    for (let y = Math.max(0, y0); y < Math.min(height, y0 + h); y++) px.fill(c, y * width + Math.max(0, x0), y * width + Math.min(width, x0 + w));
  };
  for (let wdw = 0; wdw < 4; wdw++) {
    const x0 = Math.floor(r() * width * 0.5);
    const y0 = Math.floor(r() * height * 0.5);
    const w = Math.floor(width * (0.3 + r() * 0.4));
    const h = Math.floor(height * (0.3 + r() * 0.4));
    rect(x0, y0, w, h, 0xfff0f0f0);
    for (let y = 0; y < 24; y++) rect(x0, y0 + y, w, 1, 0xff000000 | ((0x30 + y * 4) << 16) | ((0x60 + y * 3) << 8) | 0xc0);
    // text lines: glyph-like short dark runs
    for (let ty = y0 + 34; ty < y0 + h - 12; ty += 16) {
      let tx = x0 + 8;
      while (tx < x0 + w - 40) {
        const word = 3 + Math.floor(r() * 8);
        for (let ch = 0; ch < word; ch++) {
          const glyph = Math.floor(r() * 40);
          for (let gy = 0; gy < 10; gy++) {
            for (let gx = 0; gx < 6; gx++) {
              if (((glyph * 7 + gx * 3 + gy * 5) % 11) < 4) {
                const xx = tx + gx;
                const yy = ty + gy;
                if (xx < width && yy < height) px[yy * width + xx] = gy === 9 ? 0xff808080 : 0xff202020;
              }
            }
          }
          tx += 7;
        }
        tx += 6;
      }
    }
  }
  for (let i = 0; i < 8; i++) {
    const x0 = 16;
    const y0 = 16 + i * 72;
    for (let y = 0; y < 48; y++) for (let x = 0; x < 48; x++) {
      const yy = y0 + y;
      const xx = x0 + x;
      if (yy < height && xx < width) px[yy * width + xx] = 0xff000000 | ((i * 37 + x * 5) & 255) << 16 | ((y * 5) & 255) << 8 | ((x * y) & 255);
    }
  }
  // photo-like noisy patch
  const pw = Math.min(160, width >> 2);
  const ph = Math.min(120, height >> 2);
  for (let y = 0; y < ph; y++) for (let x = 0; x < pw; x++) {
    const yy = height - ph - 8 + y;
    const xx = width - pw - 8 + x;
    if (yy >= 0 && xx >= 0) px[yy * width + xx] = 0xff000000 | (Math.floor(r() * 256) << 16) | (Math.floor(r() * 256) << 8) | Math.floor(r() * 256);
  }
  return px;
}

/** Small images mixing runs, repeats and noise. */
export function mixedImage(width: number, height: number, seed: number, alpha = false): Uint32Array {
  const r = rng(seed);
  const px = new Uint32Array(width * height);
  const palette = Array.from({ length: 6 }, () => (Math.floor(r() * 0x1000000) | 0) >>> 0);
  let i = 0;
  while (i < px.length) {
    const mode = r();
    const len = 1 + Math.floor(r() * 40);
    for (let k = 0; k < len && i < px.length; k++, i++) {
      let v: number;
      if (mode < 0.4) v = palette[0];
      else if (mode < 0.7) v = palette[(k % 3) + 1];
      else if (mode < 0.85 && i > width) v = px[i - width] & 0xffffff;
      else v = Math.floor(r() * 0x1000000);
      const a = alpha ? (mode < 0.5 ? 0xff : Math.floor(r() * 256)) : 0xff;
      px[i] = ((a << 24) | v) >>> 0;
    }
  }
  return px;
}
