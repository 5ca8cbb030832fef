// Display surfaces: every SPICE surface format is held as 0xAARRGGBB Uint32
// pixels, top-down, and the format's meaning is kept by normalising the
// pixels an operation wrote (16_555: channels cut to 5 bits and widened by
// bit replication, as a pixman x1r5g5b5 store + fetch does; 8_A / 1_A: only
// the alpha byte exists). Bitwise rops commute with that bit replication, so
// running them on the widened values gives the 16-bit canvas's result.
// For 32_xRGB surfaces the alpha byte is whatever the drawing left (as in
// pixman x8r8g8b8) and carries no meaning for display.
import { SurfaceFmt } from '../../preload/spice-enums';
import { SpiceError } from '../../preload/spice-errors';
import { MAX_IMAGE_PIXELS, type DecodedImage } from './types';

export interface Surface {
  id: number;
  width: number;
  height: number;
  /** SpiceSurfaceFmt. */
  format: number;
  primary: boolean;
  /** 0xAARRGGBB, row-major, top-down. */
  pixels: Uint32Array;
}

const KNOWN_FORMATS: number[] = [SurfaceFmt._1_A, SurfaceFmt._8_A, SurfaceFmt._16_555, SurfaceFmt._16_565, SurfaceFmt._32_xRGB, SurfaceFmt._32_ARGB];

export function createSurface(id: number, width: number, height: number, format: number, primary: boolean): Surface {
  if (!KNOWN_FORMATS.includes(format)) throw new SpiceError('PROTOCOL', `surface ${id}: unknown format ${format}`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new SpiceError('PROTOCOL', `surface ${id}: invalid size ${width}x${height}`);
  }
  if (width * height > MAX_IMAGE_PIXELS) throw new SpiceError('LIMIT', `surface ${id}: ${width}x${height} is too large`);
  return { id, width, height, format, primary, pixels: new Uint32Array(width * height) };
}

/** The surface's pixels have meaningful alpha (pixman a8r8g8b8 / a8 / a1). */
export function formatHasAlpha(format: number): boolean {
  return format === SurfaceFmt._32_ARGB || format === SurfaceFmt._8_A || format === SurfaceFmt._1_A;
}

export function is16Bit(format: number): boolean {
  return format === SurfaceFmt._16_555 || format === SurfaceFmt._16_565;
}

/** canvas_16bpp_to_32bpp: x1r5g5b5 → xRGB with bit replication. */
export function rgb555To32(c: number): number {
  return (
    (((c & 0x001f) << 3) | ((c & 0x001c) >> 2) | ((c & 0x03e0) << 6) | ((c & 0x0380) << 1) | ((c & 0x7c00) << 9) | ((c & 0x7000) << 4)) >>>
    0
  );
}

/** rgb_32_to_16_555. */
export function rgb32To555(c: number): number {
  return ((c >>> 3) & 0x001f) | ((c >>> 6) & 0x03e0) | ((c >>> 9) & 0x7c00);
}

function rgb565To32(c: number): number {
  const r = (c >>> 11) & 31;
  const g = (c >>> 5) & 63;
  const b = c & 31;
  return (((r << 3) | (r >>> 2)) << 16) | (((g << 2) | (g >>> 4)) << 8) | ((b << 3) | (b >>> 2));
}

/**
 * A brush / solid colour as the server sends it (in the surface's own pixel
 * format, like the value pixman_fill writes) turned into our pixel value.
 */
export function colorToPixel(format: number, color: number): number {
  switch (format) {
    case SurfaceFmt._16_555: return (0xff000000 | rgb555To32(color & 0xffff)) >>> 0;
    case SurfaceFmt._16_565: return (0xff000000 | rgb565To32(color & 0xffff)) >>> 0;
    case SurfaceFmt._8_A: return ((color & 0xff) << 24) >>> 0;
    case SurfaceFmt._1_A: return color & 1 ? 0xff000000 : 0;
    default: return color >>> 0;
  }
}

/** Re-applies the surface format to the pixels of [x1,x2)×[y1,y2) after a write. No-op for 32-bit surfaces. */
export function normalizeRect(s: Surface, x1: number, y1: number, x2: number, y2: number): void {
  const f = s.format;
  if (f === SurfaceFmt._32_xRGB || f === SurfaceFmt._32_ARGB) return;
  const px = s.pixels;
  for (let y = y1; y < y2; y++) {
    const row = y * s.width;
    for (let i = row + x1; i < row + x2; i++) {
      const v = px[i];
      switch (f) {
        case SurfaceFmt._16_555:
          px[i] = (0xff000000 | (v & 0xf8f8f8) | ((v >>> 5) & 0x070707)) >>> 0;
          break;
        case SurfaceFmt._16_565:
          px[i] = (0xff000000 | (v & 0xf8fcf8) | ((v >>> 5) & 0x070007) | ((v >>> 6) & 0x000300)) >>> 0;
          break;
        case SurfaceFmt._8_A:
          px[i] = (v & 0xff000000) >>> 0;
          break;
        default:
          px[i] = v & 0x80000000 ? 0xff000000 : 0;
      }
    }
  }
}

/** A surface read as an image (SURFACE images, patterns, masks); `hasAlpha` as pixman would see it. */
export function surfaceAsImage(s: Surface, forceAlpha = false): DecodedImage {
  return { width: s.width, height: s.height, pixels: s.pixels, hasAlpha: forceAlpha || formatHasAlpha(s.format) };
}
