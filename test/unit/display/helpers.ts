// Builders shared by the display compositor tests: hand-made BITMAP images,
// 1-bit masks and a DisplayState with one 8×8 primary surface.
import { BitmapFlags, BitmapFmt, ImageType, SurfaceFlags, SurfaceFmt } from '../../../main/spice/protocol/enums';
import type { DisplayBase, DrawCommand, QMask, Rect, SpiceImage } from '../../../preload/contract';
import { BitmapDecoder } from '../../../renderer/display/decoders/bitmap';
import { DisplayState, type DisplayStateOptions } from '../../../renderer/display/display-state';
import type { ImageDecoder } from '../../../renderer/display/types';

export const NO_MASK: QMask = { flags: 0, pos: { x: 0, y: 0 }, bitmap: null };

export function rect(left: number, top: number, right: number, bottom: number): Rect {
  return { left, top, right, bottom };
}

export function base(box: Rect, clip: Rect[] | null = null, surfaceId = 0): DisplayBase {
  return { surfaceId, box, clip };
}

/** A DisplayState whose registry only knows BITMAP (plus extra decoders), with surface 0 = w×h primary. */
export function makeState(w = 8, h = 8, format: number = SurfaceFmt._32_xRGB, extra: [number, ImageDecoder][] = [], opts: DisplayStateOptions = {}): DisplayState {
  const decoders = new Map<number, ImageDecoder>([[ImageType.BITMAP, new BitmapDecoder()], ...extra]);
  const st = new DisplayState({ decoders, ...opts });
  st.apply({ t: 'surfaceCreate', surfaceId: 0, width: w, height: h, format, flags: SurfaceFlags.PRIMARY });
  st.takeDamage();
  return st;
}

/** 32BIT (or RGBA) top-down bitmap; pixels are 0xRRGGBB (or 0xAARRGGBB for rgba). */
export function bitmap(w: number, h: number, pixels: number[], opts: { id?: bigint; flags?: number; rgba?: boolean; bottomUp?: boolean } = {}): SpiceImage {
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    const row = opts.bottomUp ? h - 1 - y : y;
    for (let x = 0; x < w; x++) {
      const p = pixels[y * w + x];
      const o = (row * w + x) * 4;
      data[o] = p & 0xff;
      data[o + 1] = (p >>> 8) & 0xff;
      data[o + 2] = (p >>> 16) & 0xff;
      data[o + 3] = opts.rgba ? p >>> 24 : 0;
    }
  }
  return {
    descriptor: { id: opts.id ?? 0n, type: ImageType.BITMAP, flags: opts.flags ?? 0, width: w, height: h },
    data: {
      kind: 'bitmap',
      format: opts.rgba ? BitmapFmt.RGBA : BitmapFmt._32BIT,
      flags: opts.bottomUp ? 0 : BitmapFlags.TOP_DOWN,
      x: w,
      y: h,
      stride: w * 4,
      palette: null,
      data,
    },
  };
}

/** 1BIT_BE mask bitmap from rows of '0'/'1' (first char = leftmost pixel = MSB). */
export function maskBitmap(rows: string[], opts: { id?: bigint; flags?: number; le?: boolean } = {}): SpiceImage {
  const h = rows.length;
  const w = rows[0].length;
  const stride = (w + 7) >> 3;
  const data = new Uint8Array(stride * h);
  rows.forEach((r, y) => {
    for (let x = 0; x < w; x++) {
      if (r[x] === '1') data[y * stride + (x >> 3)] |= opts.le ? 1 << (x & 7) : 0x80 >> (x & 7);
    }
  });
  return {
    descriptor: { id: opts.id ?? 0n, type: ImageType.BITMAP, flags: opts.flags ?? 0, width: w, height: h },
    data: { kind: 'bitmap', format: opts.le ? BitmapFmt._1BIT_LE : BitmapFmt._1BIT_BE, flags: BitmapFlags.TOP_DOWN, x: w, y: h, stride, palette: null, data },
  };
}

export function fromCache(id: bigint, lossless = false): SpiceImage {
  return {
    descriptor: { id, type: lossless ? ImageType.FROM_CACHE_LOSSLESS : ImageType.FROM_CACHE, flags: 0, width: 0, height: 0 },
    data: { kind: 'from_cache', lossless },
  };
}

export function surfaceImage(surfaceId: number): SpiceImage {
  return { descriptor: { id: 0n, type: ImageType.SURFACE, flags: 0, width: 0, height: 0 }, data: { kind: 'surface', surfaceId } };
}

export function copyCmd(box: Rect, src: SpiceImage, srcArea: Rect, ropd = 8, extra: Partial<Extract<DrawCommand, { op: 'copy' }>> = {}): DrawCommand {
  return { op: 'copy', base: base(box), src, srcArea, ropd, scaleMode: 1, mask: NO_MASK, ...extra };
}

/** Fills the whole surface with f(x, y). */
export function paint(st: DisplayState, f: (x: number, y: number) => number, surfaceId = 0): void {
  const s = st.surfaces.get(surfaceId)!;
  for (let y = 0; y < s.height; y++) for (let x = 0; x < s.width; x++) s.pixels[y * s.width + x] = f(x, y) >>> 0;
}

export function px(st: DisplayState, x: number, y: number, surfaceId = 0): number {
  const s = st.surfaces.get(surfaceId)!;
  return s.pixels[y * s.width + x];
}

export function snapshot(st: DisplayState, surfaceId = 0): Uint32Array {
  return st.surfaces.get(surfaceId)!.pixels.slice();
}

export function hex(v: number): string {
  return '0x' + (v >>> 0).toString(16).padStart(8, '0');
}
