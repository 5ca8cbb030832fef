// Shared shapes of the display pipeline (pure TypeScript: runs in a renderer
// worker, in the page, and in Node tests).
//
// Pixel format everywhere: Uint32Array, one 0xAARRGGBB value per pixel,
// row-major, top-down. In little-endian memory that is B,G,R,A bytes — the
// SPICE 32_xRGB/32_ARGB surface layout — so surfaces, decoders and
// QMP screendump comparisons need no byte shuffling.
import type { SpiceImage } from '../../preload/contract';

export interface DecodedImage {
  width: number;
  height: number;
  pixels: Uint32Array;
  /** True when the alpha byte carries meaning (RGBA bitmaps, JPEG_ALPHA, LZ RGBA). */
  hasAlpha: boolean;
}

/** Resolves palettes sent as PAL_FROM_CACHE (owned by the display state). */
export interface PaletteLookup {
  get(id: bigint): Uint32Array | undefined;
  put(id: bigint, ents: Uint32Array): void;
}

export interface DecodeContext {
  palettes: PaletteLookup;
}

/**
 * One decoder per SPICE image type. State that lives across images (the GLZ
 * window, zlib streams) belongs to the decoder instance.
 * decode() throws SpiceError('DECODE', …) on invalid data; it never reads out
 * of bounds and checks sizes against limits before allocating.
 */
export interface ImageDecoder {
  decode(image: SpiceImage, ctx: DecodeContext): DecodedImage;
  /** Drops cross-image state (GLZ window) on display RESET / INVAL_ALL_PIXMAPS where the spec asks. */
  reset?(): void;
}

/** Largest image we accept from the wire: 16384×16384 (spice-server's own limit is smaller). */
export const MAX_IMAGE_PIXELS = 16384 * 16384;
