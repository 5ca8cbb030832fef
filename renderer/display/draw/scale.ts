// Image scaling as pixman does it for the canvas: a scale (+ translate)
// transform in 16.16 fixed point applied at pixel centres, REPEAT_NONE
// (samples outside the source are transparent black), NEAREST or BILINEAR
// with pixman's 7-bit interpolation weights (PIXMAN_FILTER_GOOD is bilinear).
import type { DecodedImage } from '../types';
import type { Box } from './region';

export interface ScaleParams {
  /** 16.16 source step per dest pixel (the transform's diagonal). */
  fsx: number;
  fsy: number;
  /** 16.16 translation added after scaling. */
  tx: number;
  ty: number;
  /** Source-space origin of dest pixel 0 before transform (composite src_x / src_y). */
  ox: number;
  oy: number;
  bilinear: boolean;
}

/** sw_canvas __scale_image: fs = (src_size << 16) / dest_size, translated by the src_area origin. */
export function canvasScale(srcX: number, srcY: number, srcW: number, srcH: number, dstW: number, dstH: number, bilinear: boolean): ScaleParams {
  return {
    fsx: Math.floor((srcW * 65536) / dstW),
    fsy: Math.floor((srcH * 65536) / dstH),
    tx: srcX * 65536,
    ty: srcY * 65536,
    ox: 0,
    oy: 0,
    bilinear,
  };
}

/** pixman_double_to_fixed: truncation of d·65536. */
export function doubleToFixed(d: number): number {
  return Math.trunc(d * 65536);
}

/** Fixed-point source coordinates of dest pixels 0..n-1 along one axis (pixman_transform_point_31_16 rounding). */
function coords(n: number, fs: number, t: number, o: number): Float64Array {
  const out = new Float64Array(n);
  const half = Math.floor((fs + 1) / 2); // (fs·0x8000 + 0x8000) >> 16
  for (let i = 0; i < n; i++) out[i] = (i + o) * fs + half + t;
  return out;
}

/** Renders the dw×dh scaled image; its pixel (i,j) is what pixman composites at dest offset (i,j). */
export function scaleImage(src: DecodedImage, p: ScaleParams, dw: number, dh: number): DecodedImage {
  const out = new Uint32Array(dw * dh);
  const xs = coords(dw, p.fsx, p.tx, p.ox);
  const ys = coords(dh, p.fsy, p.ty, p.oy);
  const sw = src.width;
  const sh = src.height;
  const sp = src.pixels;
  const opaque = src.hasAlpha ? 0 : 0xff000000;
  if (!p.bilinear) {
    // NEAREST: pixman_fixed_to_int(v - pixman_fixed_e).
    const xi = new Int32Array(dw);
    for (let i = 0; i < dw; i++) xi[i] = Math.floor((xs[i] - 1) / 65536);
    for (let j = 0; j < dh; j++) {
      const sy = Math.floor((ys[j] - 1) / 65536);
      const o = j * dw;
      if (sy < 0 || sy >= sh) continue;
      const row = sy * sw;
      for (let i = 0; i < dw; i++) {
        const sx = xi[i];
        if (sx >= 0 && sx < sw) out[o + i] = sp[row + sx];
      }
    }
    return { width: dw, height: dh, pixels: out, hasAlpha: src.hasAlpha };
  }
  const x1s = new Int32Array(dw);
  const wxs = new Int32Array(dw);
  for (let i = 0; i < dw; i++) {
    const x = xs[i] - 32768;
    const xi = Math.floor(x / 65536);
    x1s[i] = xi;
    wxs[i] = ((x - xi * 65536) >> 9) & 0x7f;
  }
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= sw || y >= sh ? 0 : (sp[y * sw + x] | opaque) >>> 0);
  for (let j = 0; j < dh; j++) {
    const y = ys[j] - 32768;
    const y1 = Math.floor(y / 65536);
    const wy = (((y - y1 * 65536) >> 9) & 0x7f) << 1;
    const o = j * dw;
    for (let i = 0; i < dw; i++) {
      const x1 = x1s[i];
      const wx = wxs[i] << 1;
      const tl = at(x1, y1);
      const tr = at(x1 + 1, y1);
      const bl = at(x1, y1 + 1);
      const br = at(x1 + 1, y1 + 1);
      // pixman bilinear_interpolation: weights out of 256×256, result >> 16 per channel.
      const wxy = wx * wy;
      const wxiy = (wx << 8) - wxy;
      const wixy = (wy << 8) - wxy;
      const wixiy = 65536 - (wy << 8) - (wx << 8) + wxy;
      let r = 0;
      for (let sh8 = 0; sh8 < 32; sh8 += 8) {
        const c =
          ((tl >>> sh8) & 0xff) * wixiy + ((tr >>> sh8) & 0xff) * wxiy + ((bl >>> sh8) & 0xff) * wixy + ((br >>> sh8) & 0xff) * wxy;
        r |= (c >>> 16) << sh8;
      }
      out[o + i] = r >>> 0;
    }
  }
  return { width: dw, height: dh, pixels: out, hasAlpha: src.hasAlpha };
}

/**
 * Only the part of the scaled image under dest box `ext`, for a scaled image
 * whose pixel (0,0) lands on dest (x0, y0): work and memory follow the clipped
 * area, never the (server-chosen) size of the whole dest box. Pixel (i,j) of
 * the result is dest (ext.x1 + i, ext.y1 + j), the same value scaleImage gives.
 */
export function scaleClipped(src: DecodedImage, p: ScaleParams, x0: number, y0: number, ext: Box): DecodedImage {
  return scaleImage(src, { ...p, ox: p.ox + ext.x1 - x0, oy: p.oy + ext.y1 - y0 }, ext.x2 - ext.x1, ext.y2 - ext.y1);
}
