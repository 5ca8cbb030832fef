// BITMAP image decoder (uncompressed SpiceBitmap): every SPICE bitmap format
// to 0xAARRGGBB top-down pixels, plus the palette resolution (inline /
// PAL_CACHE_ME / PAL_FROM_CACHE) shared with the LZ_PLT decoder.
// Layouts follow spice-common pixman_utils.c: 24/32-bit rows are B,G,R(,X|A)
// bytes, 16-bit is little-endian x1r5g5b5, *_BE bit/nibble order puts the
// first pixel in the high bits, *_LE in the low bits.
import { SpiceError } from '../../../preload/spice-errors';
import { BitmapFlags, BitmapFmt } from '../../../preload/spice-enums';
import type { PaletteRef, SpiceImage } from '../../../preload/contract';
import { MAX_IMAGE_PIXELS, type DecodeContext, type DecodedImage, type ImageDecoder } from '../types';

const OPAQUE = 0xff000000;

/** Throws SpiceError('DECODE') — the one failure mode of every decoder here. */
export function decodeError(message: string): never {
  throw new SpiceError('DECODE', message);
}

/** Checks image dimensions against the global limit before anything is allocated. */
export function checkDims(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    decodeError(`${what}: invalid size ${width}x${height}`);
  }
  if (width * height > MAX_IMAGE_PIXELS) decodeError(`${what}: ${width}x${height} exceeds the image size limit`);
}

/**
 * Most output units one compressed byte of an LZ-family stream (LZ, GLZ, LZ4)
 * can produce: a length is extended by bytes worth at most 255 units each,
 * and every other byte of a match or literal run adds only a bounded few.
 */
export const MAX_LZ_EXPANSION = 256;

/**
 * Compressed-size plausibility, checked before the output is allocated: a
 * stream of `bytes` cannot fill more than bytes * MAX_LZ_EXPANSION (+ slack
 * for the shortest streams) units, so a few bytes claiming a huge image fail
 * here instead of allocating it.
 */
export function checkExpansion(bytes: number, units: number, what: string): void {
  if (units > Math.max(0, bytes) * MAX_LZ_EXPANSION + 64) decodeError(`${what}: ${bytes} compressed bytes cannot fill ${units} units`);
}

/**
 * Resolves an indexed image's palette: inline (stored in the cache when
 * cacheMe / PAL_CACHE_ME), or fetched from the cache for PAL_FROM_CACHE.
 * Returns the wire entries (xRGB).
 */
export function resolvePalette(ref: PaletteRef, flags: number, ctx: DecodeContext, what: string): Uint32Array {
  if (ref === null) decodeError(`${what}: palette missing`);
  let ents: Uint32Array | undefined;
  if ('fromCache' in ref) {
    ents = ctx.palettes.get(ref.fromCache);
    if (!ents) decodeError(`${what}: palette ${ref.fromCache} not in cache`);
  } else {
    ents = ref.palette.ents;
    if (ref.cacheMe || flags & BitmapFlags.PAL_CACHE_ME) ctx.palettes.put(ref.palette.unique, ents);
  }
  if (ents.length === 0) decodeError(`${what}: empty palette`);
  return ents;
}

/**
 * 256-entry opaque colour table for an index byte. Indices past the palette
 * end (which C decoders read out of bounds) map to opaque black.
 */
export function paletteTable(ents: Uint32Array): Uint32Array {
  const t = new Uint32Array(256).fill(OPAQUE);
  const n = Math.min(256, ents.length);
  for (let i = 0; i < n; i++) t[i] = OPAQUE | (ents[i] & 0xffffff);
  return t;
}

/** x1r5g5b5 → xRGB with the 5-bit channels widened by bit replication. */
export function rgb555ToArgb(v: number): number {
  const r = (v >>> 10) & 31;
  const g = (v >>> 5) & 31;
  const b = v & 31;
  return (OPAQUE | (((r << 3) | (r >>> 2)) << 16) | (((g << 3) | (g >>> 2)) << 8) | ((b << 3) | (b >>> 2))) >>> 0;
}

/** Bits per pixel of each SpiceBitmapFmt (0 = invalid). */
function bitsPerPixel(format: number): number {
  switch (format) {
    case BitmapFmt._1BIT_LE:
    case BitmapFmt._1BIT_BE:
      return 1;
    case BitmapFmt._4BIT_LE:
    case BitmapFmt._4BIT_BE:
      return 4;
    case BitmapFmt._8BIT:
    case BitmapFmt._8BIT_A:
      return 8;
    case BitmapFmt._16BIT:
      return 16;
    case BitmapFmt._24BIT:
      return 24;
    case BitmapFmt._32BIT:
    case BitmapFmt.RGBA:
      return 32;
    default:
      return 0;
  }
}

export class BitmapDecoder implements ImageDecoder {
  decode(image: SpiceImage, ctx: DecodeContext): DecodedImage {
    const d = image.data;
    if (d.kind !== 'bitmap') decodeError(`BitmapDecoder got ${d.kind}`);
    const { format, flags, x: width, y: height, stride, data } = d;
    const bpp = bitsPerPixel(format);
    if (bpp === 0) decodeError(`bitmap: unknown format ${format}`);
    checkDims(width, height, 'bitmap');
    if (width !== image.descriptor.width || height !== image.descriptor.height) {
      decodeError(`bitmap: ${width}x${height} differs from descriptor ${image.descriptor.width}x${image.descriptor.height}`);
    }
    const rowBytes = Math.ceil((width * bpp) / 8);
    if (!Number.isInteger(stride) || stride < rowBytes) decodeError(`bitmap: stride ${stride} < row size ${rowBytes}`);
    if (data.length < stride * (height - 1) + rowBytes) {
      decodeError(`bitmap: ${data.length} bytes, need ${stride * (height - 1) + rowBytes}`);
    }
    const indexed = bpp <= 8 && format !== BitmapFmt._8BIT_A;
    const table = indexed ? paletteTable(resolvePalette(d.palette, flags, ctx, 'bitmap')) : null;
    const topDown = (flags & BitmapFlags.TOP_DOWN) !== 0;
    const pixels = new Uint32Array(width * height);
    const hasAlpha = convertRows(data, format, width, height, stride, topDown, table, pixels);
    return { width, height, pixels, hasAlpha };
  }
}

/**
 * Converts raw bitmap rows (any BitmapFmt, `stride` bytes apart, bottom-up
 * unless topDown) into 0xAARRGGBB pixels. Shared by BITMAP and LZ4 images.
 * Returns whether the format carries alpha.
 */
export function convertRows(
  data: Uint8Array,
  format: number,
  width: number,
  height: number,
  stride: number,
  topDown: boolean,
  table: Uint32Array | null,
  pixels: Uint32Array,
): boolean {
  let hasAlpha = false;
  for (let y = 0; y < height; y++) {
    let s = y * stride;
    let o = (topDown ? y : height - 1 - y) * width;
    const end = o + width;
    switch (format) {
      case BitmapFmt._32BIT:
        for (; o < end; o++, s += 4) pixels[o] = OPAQUE | (data[s + 2] << 16) | (data[s + 1] << 8) | data[s];
        break;
      case BitmapFmt.RGBA:
        hasAlpha = true;
        for (; o < end; o++, s += 4) pixels[o] = (data[s + 3] << 24) | (data[s + 2] << 16) | (data[s + 1] << 8) | data[s];
        break;
      case BitmapFmt._24BIT:
        for (; o < end; o++, s += 3) pixels[o] = OPAQUE | (data[s + 2] << 16) | (data[s + 1] << 8) | data[s];
        break;
      case BitmapFmt._16BIT:
        for (; o < end; o++, s += 2) pixels[o] = rgb555ToArgb(data[s] | (data[s + 1] << 8));
        break;
      case BitmapFmt._8BIT_A:
        hasAlpha = true;
        for (; o < end; o++, s++) pixels[o] = data[s] << 24;
        break;
      case BitmapFmt._8BIT:
        for (; o < end; o++, s++) pixels[o] = table![data[s]];
        break;
      case BitmapFmt._4BIT_BE:
      case BitmapFmt._4BIT_LE: {
        const t = table!;
        const be = format === BitmapFmt._4BIT_BE;
        for (let i = 0; o < end; i++, o++) {
          const byte = data[s + (i >>> 1)];
          const nib = (i & 1) === (be ? 0 : 1) ? byte >>> 4 : byte & 15;
          pixels[o] = t[nib];
        }
        break;
      }
      default: {
        // 1-bit: palette entry 0 = background, 1 = foreground.
        const t = table!;
        const be = format === BitmapFmt._1BIT_BE;
        for (let i = 0; o < end; i++, o++) {
          const byte = data[s + (i >>> 3)];
          const bit = be ? (byte >>> (7 - (i & 7))) & 1 : (byte >>> (i & 7)) & 1;
          pixels[o] = t[bit];
        }
      }
    }
  }
  return hasAlpha;
}
