// Pixel primitives of sw_canvas.c / pixman_utils.c on 32-bit pixel buffers:
// solid and tiled fills (with rop), blits with rop and source clipping,
// colour-key blits, in-surface rect moves and pixman's OVER. Every function
// takes one dest box that the caller has already clipped to the surface.
import { Rop, ropCopyRow, ropSolidRow } from '../rop';
import type { Surface } from '../surface';
import type { DecodedImage } from '../types';
import type { Box } from './region';

/** spice_pixman_fill_rect(_rop). */
export function fillBox(dst: Surface, b: Box, color: number, rop: number): void {
  const w = b.x2 - b.x1;
  for (let y = b.y1; y < b.y2; y++) ropSolidRow(rop, dst.pixels, y * dst.width + b.x1, w, color);
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}

/** spice_pixman_tile_rect(_rop): tile pixel for dest (x,y) is ((x - ox) mod w, (y - oy) mod h). */
export function tileBox(dst: Surface, b: Box, tile: DecodedImage, ox: number, oy: number, rop: number): void {
  const tw = tile.width;
  const th = tile.height;
  const tp = tile.pixels;
  const dp = dst.pixels;
  const sx0 = mod(b.x1 - ox, tw);
  for (let y = b.y1; y < b.y2; y++) {
    const trow = mod(y - oy, th) * tw;
    let d = y * dst.width + b.x1;
    let x = b.x1;
    let sx = sx0;
    while (x < b.x2) {
      const n = Math.min(tw - sx, b.x2 - x);
      ropCopyRow(rop, dp, d, tp, trow + sx, n);
      d += n;
      x += n;
      sx = 0;
    }
  }
}

/**
 * spice_pixman_blit(_rop): dest box b gets src pixels at (x - offX, y - offY);
 * the part of b whose source falls outside the image is left untouched.
 */
export function blitBox(dst: Surface, b: Box, src: DecodedImage, offX: number, offY: number, rop: number): void {
  const c = clipToSource(b, src, offX, offY);
  if (!c) return;
  const w = c.x2 - c.x1;
  const dp = dst.pixels;
  const sp = src.pixels;
  if (sp === dp && rop !== Rop.COPY) {
    // Reading and writing the same buffer: work from a snapshot of the source rows.
    const tmp = new Uint32Array(w);
    for (let y = c.y1; y < c.y2; y++) {
      const so = (y - offY) * src.width + (c.x1 - offX);
      tmp.set(sp.subarray(so, so + w));
      ropCopyRow(rop, dp, y * dst.width + c.x1, tmp, 0, w);
    }
    return;
  }
  const down = sp === dp && offY > 0;
  for (let k = 0; k < c.y2 - c.y1; k++) {
    const y = down ? c.y2 - 1 - k : c.y1 + k;
    ropCopyRow(rop, dp, y * dst.width + c.x1, sp, (y - offY) * src.width + (c.x1 - offX), w);
  }
}

function clipToSource(b: Box, src: { width: number; height: number }, offX: number, offY: number): Box | null {
  const x1 = Math.max(b.x1, offX);
  const y1 = Math.max(b.y1, offY);
  const x2 = Math.min(b.x2, offX + src.width);
  const y2 = Math.min(b.y2, offY + src.height);
  return x1 < x2 && y1 < y2 ? { x1, y1, x2, y2 } : null;
}

/** spice_pixman_blit_colorkey: copies source pixels whose (value & keyMask) differs from key. */
export function colorkeyBox(dst: Surface, b: Box, src: DecodedImage, offX: number, offY: number, key: number, keyMask: number): void {
  const c = clipToSource(b, src, offX, offY);
  if (!c) return;
  const k = (key & keyMask) >>> 0;
  const dp = dst.pixels;
  const sp = src.pixels;
  for (let y = c.y1; y < c.y2; y++) {
    let s = (y - offY) * src.width + (c.x1 - offX);
    let d = y * dst.width + c.x1;
    for (let x = c.x1; x < c.x2; x++, s++, d++) {
      const v = sp[s];
      if (((v & keyMask) >>> 0) !== k) dp[d] = v;
    }
  }
}

/** spice_pixman_copy_rect: moves one box within the surface by (dx, dy), overlap-safe. */
export function moveBox(s: Surface, b: Box, dx: number, dy: number): void {
  const px = s.pixels;
  const w = b.x2 - b.x1;
  const h = b.y2 - b.y1;
  const W = s.width;
  if (dy > 0) {
    for (let y = b.y2 - 1; y >= b.y1; y--) px.copyWithin(y * W + b.x1, (y - dy) * W + b.x1 - dx, (y - dy) * W + b.x1 - dx + w);
  } else {
    for (let k = 0; k < h; k++) {
      const y = b.y1 + k;
      px.copyWithin(y * W + b.x1, (y - dy) * W + b.x1 - dx, (y - dy) * W + b.x1 - dx + w);
    }
  }
}

/** pixman MUL_UN8: a*b/255 rounded. */
export function mulUn8(a: number, b: number): number {
  const t = a * b + 0x80;
  return ((t >> 8) + t) >> 8;
}

/** UN8x4_MUL_UN8: every channel of a pixel times a. */
export function mulPixel(p: number, a: number): number {
  return (
    ((mulUn8(p >>> 24, a) << 24) | (mulUn8((p >>> 16) & 0xff, a) << 16) | (mulUn8((p >>> 8) & 0xff, a) << 8) | mulUn8(p & 0xff, a)) >>> 0
  );
}

/** Saturating per-channel add (UN8x4_ADD_UN8x4). */
export function addPixel(a: number, b: number): number {
  const c0 = Math.min(255, (a & 0xff) + (b & 0xff));
  const c1 = Math.min(255, ((a >>> 8) & 0xff) + ((b >>> 8) & 0xff));
  const c2 = Math.min(255, ((a >>> 16) & 0xff) + ((b >>> 16) & 0xff));
  const c3 = Math.min(255, (a >>> 24) + (b >>> 24));
  return ((c3 << 24) | (c2 << 16) | (c1 << 8) | c0) >>> 0;
}

/** pixman combine OVER for one premultiplied pixel: s + d·(1 − αs). */
export function overPixel(s: number, d: number): number {
  const ia = 255 - (s >>> 24);
  if (ia === 0) return s >>> 0;
  if (ia === 255) return d >>> 0;
  return addPixel(s, mulPixel(d, ia));
}

/**
 * OVER of src onto dst over box b (source at (x - offX, y - offY)), with an
 * optional constant mask alpha (sw_canvas __blend_image). Source pixels are
 * read with alpha 0xff unless srcAlpha; dest alpha is read as 0xff unless
 * dstAlpha. Dest pixels whose source is outside the image stay (pixman
 * REPEAT_NONE gives a transparent source there).
 */
export function overBox(dst: Surface, b: Box, src: DecodedImage, offX: number, offY: number, srcAlpha: boolean, dstAlpha: boolean, maskAlpha: number): void {
  const c = clipToSource(b, src, offX, offY);
  if (!c) return;
  const dp = dst.pixels;
  const sp = src.pixels;
  for (let y = c.y1; y < c.y2; y++) {
    let s = (y - offY) * src.width + (c.x1 - offX);
    let d = y * dst.width + c.x1;
    for (let x = c.x1; x < c.x2; x++, s++, d++) {
      let sv = sp[s];
      if (!srcAlpha) sv = (sv | 0xff000000) >>> 0;
      if (maskAlpha !== 0xff) sv = mulPixel(sv, maskAlpha);
      let dv = dp[d];
      if (!dstAlpha) dv = (dv | 0xff000000) >>> 0;
      dp[d] = overPixel(sv, dv);
    }
  }
}

