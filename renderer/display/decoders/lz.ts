// LZ_RGB / LZ_PLT image decoder and the XXXA alpha decoder used by
// JPEG_ALPHA. Stream format (spice-common lz.c, lz_decompress_tmpl.c):
// a 28-byte big-endian header {magic "LZ  ", version 1.1, lz type, width,
// height, stride, top_down} then an LZ77 stream of control bytes:
//   ctrl < 32  : ctrl+1 literal pixels follow
//   ctrl >= 32 : match; length code = ctrl>>5 (7 = extended by bytes until
//                one != 255), distance = ((ctrl&31)<<8 | next byte) + 1, or
//                when that field is 31/255 a 16-bit far distance + 8192.
// Units are pixels for RGB (3 bytes per literal for RGB24/32, 2 big-endian
// bytes for RGB16) and bytes for PLT / A8 / alpha planes. RGBA carries an
// RGB32 stream followed by an alpha stream.
import type { SpiceImage } from '../../../preload/contract';
import type { DecodeContext, DecodedImage, ImageDecoder } from '../types';
import { checkDims, checkExpansion, convertRows, decodeError, paletteTable, resolvePalette, rgb555ToArgb } from './bitmap';

/** LzImageType (lz_common.h). */
export const LzImageType = {
  INVALID: 0,
  PLT1_LE: 1,
  PLT1_BE: 2,
  PLT4_LE: 3,
  PLT4_BE: 4,
  PLT8: 5,
  RGB16: 6,
  RGB24: 7,
  RGB32: 8,
  RGBA: 9,
  XXXA: 10,
  A8: 11,
} as const;

export const LZ_MAGIC = 0x20205a4c;
export const LZ_VERSION = 0x00010001;
const LZ_HEADER_SIZE = 28;
const OPAQUE = 0xff000000;
/** Matches at or below this length are copied by a plain loop (cheaper than copyWithin's call). */
const SHORT_COPY = 12;

/** Pixels packed per byte for PLT types (index = LzImageType). */
const PLT_PIXELS_PER_BYTE = [0, 8, 8, 2, 2, 1];

export interface LzHeader {
  type: number;
  width: number;
  height: number;
  stride: number;
  topDown: boolean;
}

/** Big-endian u32 (LZ/GLZ headers are big-endian). */
export function be32(d: Uint8Array, p: number): number {
  return ((d[p] << 24) | (d[p + 1] << 16) | (d[p + 2] << 8) | d[p + 3]) >>> 0;
}

/** Parses and validates the LZ header (sizes checked before any allocation). */
export function readLzHeader(data: Uint8Array): LzHeader {
  if (data.length < LZ_HEADER_SIZE) decodeError(`lz: ${data.length} bytes, header needs ${LZ_HEADER_SIZE}`);
  if (be32(data, 0) !== LZ_MAGIC) decodeError('lz: bad magic');
  if (be32(data, 4) !== LZ_VERSION) decodeError(`lz: unsupported version 0x${be32(data, 4).toString(16)}`);
  const type = be32(data, 8);
  const width = be32(data, 12);
  const height = be32(data, 16);
  const stride = be32(data, 20);
  const topDown = be32(data, 24) !== 0;
  if (type <= LzImageType.INVALID || type > LzImageType.A8) decodeError(`lz: invalid image type ${type}`);
  checkDims(width, height, 'lz');
  if (type <= LzImageType.PLT8) {
    const ppb = PLT_PIXELS_PER_BYTE[type];
    if (stride !== Math.ceil(width / ppb)) decodeError(`lz: palette stride ${stride} does not fit width ${width}`);
  } else {
    const bpp = type === LzImageType.RGB16 ? 2 : type === LzImageType.RGB24 ? 3 : type === LzImageType.A8 ? 1 : 4;
    if (stride !== width * bpp) decodeError(`lz: stride ${stride} != width ${width} * ${bpp}`);
  }
  // units: bytes of palette rows, else pixels (an RGBA's alpha stream needs as many again)
  checkExpansion(data.length - LZ_HEADER_SIZE, type <= LzImageType.PLT8 ? stride * height : width * height, 'lz');
  return { type, width, height, stride, topDown };
}

/**
 * Decodes `n` byte units (PLT indices, A8, alpha plane) from src at pos into
 * out. Returns the position after the stream.
 */
export function lzDecodeBytes(src: Uint8Array, pos: number, out: Uint8Array, n: number): number {
  const end = src.length;
  let op = 0;
  while (op < n) {
    if (pos >= end) decodeError('lz: stream truncated');
    const ctrl = src[pos++];
    if (ctrl < 32) {
      const cnt = ctrl + 1;
      if (op + cnt > n) decodeError('lz: literal run past image end');
      if (pos + cnt > end) decodeError('lz: stream truncated in literals');
      for (let i = 0; i < cnt; i++) out[op + i] = src[pos + i];
      op += cnt;
      pos += cnt;
      continue;
    }
    let len = (ctrl >>> 5) - 1;
    let ofs = (ctrl & 31) << 8;
    if (len === 6) {
      let code: number;
      do {
        code = src[pos++];
        len += code;
      } while (code === 255);
    }
    const code = src[pos++];
    ofs += code;
    if (code === 255 && ofs - code === 31 << 8) {
      ofs = ((src[pos] << 8) | src[pos + 1]) + 8191;
      pos += 2;
    }
    if (pos > end) decodeError('lz: stream truncated in match');
    len += 3; // byte units: minimum match 3
    ofs += 1;
    let ref = op - ofs;
    if (ref < 0) decodeError(`lz: match distance ${ofs} before image start`);
    if (op + len > n) decodeError('lz: match past image end');
    if (ofs === 1) {
      out.fill(out[ref], op, op + len);
      op += len;
    } else if (len <= SHORT_COPY || ofs < len) {
      const stop = op + len;
      while (op < stop) out[op++] = out[ref++];
    } else {
      out.copyWithin(op, ref, ref + len);
      op += len;
    }
  }
  return pos;
}

/**
 * Decodes `n` RGB pixels (bpp 3: RGB24/RGB32 B,G,R literals; bpp 2: RGB16
 * big-endian 555 literals) into opaque 0xFFRRGGBB values. Returns the
 * position after the stream.
 */
export function lzDecodeRgb(src: Uint8Array, pos: number, out: Uint32Array, n: number, bpp: 2 | 3): number {
  const end = src.length;
  const bias = bpp === 3 ? 1 : 2; // minimum match: 1 pixel (RGB24/32) or 2 (RGB16)
  let op = 0;
  while (op < n) {
    if (pos >= end) decodeError('lz: stream truncated');
    const ctrl = src[pos++];
    if (ctrl < 32) {
      const cnt = ctrl + 1;
      if (op + cnt > n) decodeError('lz: literal run past image end');
      if (pos + cnt * bpp > end) decodeError('lz: stream truncated in literals');
      const stop = op + cnt;
      if (bpp === 3) {
        for (; op < stop; op++, pos += 3) out[op] = OPAQUE | (src[pos + 2] << 16) | (src[pos + 1] << 8) | src[pos];
      } else {
        for (; op < stop; op++, pos += 2) out[op] = rgb555ToArgb((src[pos] << 8) | src[pos + 1]);
      }
      continue;
    }
    let len = (ctrl >>> 5) - 1;
    let ofs = (ctrl & 31) << 8;
    if (len === 6) {
      let code: number;
      do {
        code = src[pos++];
        len += code;
      } while (code === 255);
    }
    const code = src[pos++];
    ofs += code;
    if (code === 255 && ofs - code === 31 << 8) {
      ofs = ((src[pos] << 8) | src[pos + 1]) + 8191;
      pos += 2;
    }
    if (pos > end) decodeError('lz: stream truncated in match');
    len += bias;
    ofs += 1;
    let ref = op - ofs;
    if (ref < 0) decodeError(`lz: match distance ${ofs} before image start`);
    if (op + len > n) decodeError('lz: match past image end');
    if (ofs === 1) {
      out.fill(out[ref], op, op + len);
      op += len;
    } else if (len <= SHORT_COPY || ofs < len) {
      const stop = op + len;
      while (op < stop) out[op++] = out[ref++];
    } else {
      out.copyWithin(op, ref, ref + len);
      op += len;
    }
  }
  return pos;
}

/** Reverses row order in place (bottom-up streams → top-down output). */
export function flipRows(px: Uint32Array, width: number, height: number): void {
  const tmp = new Uint32Array(width);
  for (let a = 0, b = height - 1; a < b; a++, b--) {
    const ra = a * width;
    const rb = b * width;
    tmp.set(px.subarray(ra, ra + width));
    px.copyWithin(ra, rb, rb + width);
    px.set(tmp, rb);
  }
}

/**
 * Palette for decoded PLT bytes, which convertRows expands like bitmap rows
 * (LZ's PLT1_LE…PLT8 are BitmapFmt's _1BIT_LE…_8BIT numbers). lz.c takes 4-bit
 * indices modulo the palette size, so those entries repeat the palette.
 */
function pltTable(type: number, ents: Uint32Array): Uint32Array {
  const table = paletteTable(ents);
  const n = ents.length;
  if ((type === LzImageType.PLT4_LE || type === LzImageType.PLT4_BE) && n > 0 && n < 16) {
    for (let k = n; k < 16; k++) table[k] = table[k % n];
  }
  return table;
}

/**
 * Decodes an LZ stream of type XXXA (the alpha plane of JPEG_ALPHA), writing
 * only the alpha byte of each pixel of the top-down `out` image.
 */
export function lzDecodeAlpha(data: Uint8Array, width: number, height: number, out: Uint32Array): void {
  const h = readLzHeader(data);
  if (h.type !== LzImageType.XXXA) decodeError(`lz alpha: type ${h.type}, expected XXXA`);
  if (h.width !== width || h.height !== height) decodeError(`lz alpha: ${h.width}x${h.height}, expected ${width}x${height}`);
  if (out.length < width * height) decodeError('lz alpha: output too small');
  const n = width * height;
  const alpha = new Uint8Array(n);
  lzDecodeBytes(data, LZ_HEADER_SIZE, alpha, n);
  for (let y = 0; y < height; y++) {
    const s = y * width;
    const o = (h.topDown ? y : height - 1 - y) * width;
    for (let x = 0; x < width; x++) out[o + x] = (out[o + x] & 0xffffff) | (alpha[s + x] << 24);
  }
}

export class LzDecoder implements ImageDecoder {
  decode(image: SpiceImage, ctx: DecodeContext): DecodedImage {
    const d = image.data;
    if (d.kind !== 'lz_rgb' && d.kind !== 'lz_plt') decodeError(`LzDecoder got ${d.kind}`);
    const data = d.data;
    const h = readLzHeader(data);
    const { type, width, height } = h;
    if (width !== image.descriptor.width || height !== image.descriptor.height) {
      decodeError(`lz: ${width}x${height} differs from descriptor ${image.descriptor.width}x${image.descriptor.height}`);
    }
    const isPlt = type <= LzImageType.PLT8;
    if (isPlt !== (d.kind === 'lz_plt')) decodeError(`lz: image type ${type} in ${d.kind}`);
    const n = width * height;
    const pixels = new Uint32Array(n);
    let hasAlpha = false;

    if (d.kind === 'lz_plt') {
      const ents = resolvePalette(d.palette, d.flags, ctx, 'lz_plt');
      const bytes = new Uint8Array(h.stride * height);
      lzDecodeBytes(data, LZ_HEADER_SIZE, bytes, bytes.length);
      convertRows(bytes, type, width, height, h.stride, h.topDown, pltTable(type, ents), pixels);
      return { width, height, pixels, hasAlpha };
    }

    switch (type) {
      case LzImageType.RGB16:
        lzDecodeRgb(data, LZ_HEADER_SIZE, pixels, n, 2);
        break;
      case LzImageType.RGB24:
      case LzImageType.RGB32:
        lzDecodeRgb(data, LZ_HEADER_SIZE, pixels, n, 3);
        break;
      case LzImageType.RGBA: {
        const pos = lzDecodeRgb(data, LZ_HEADER_SIZE, pixels, n, 3);
        const alpha = new Uint8Array(n);
        lzDecodeBytes(data, pos, alpha, n);
        for (let i = 0; i < n; i++) pixels[i] = (pixels[i] & 0xffffff) | (alpha[i] << 24);
        hasAlpha = true;
        break;
      }
      case LzImageType.A8:
      case LzImageType.XXXA: {
        // An alpha plane alone (lz_decode leaves the colour bytes zero).
        const alpha = new Uint8Array(n);
        lzDecodeBytes(data, LZ_HEADER_SIZE, alpha, n);
        for (let i = 0; i < n; i++) pixels[i] = alpha[i] << 24;
        hasAlpha = true;
        break;
      }
      default:
        decodeError(`lz: image type ${type} cannot be decoded as LZ_RGB`);
    }
    if (!h.topDown) flipRows(pixels, width, height);
    return { width, height, pixels, hasAlpha };
  }
}
