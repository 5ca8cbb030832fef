// The draw operations of spice-common canvas_base.c on top of sw_canvas.c:
// each builds the dest region (box ∩ surface ∩ clip, then the QMask), turns
// the ROP descriptor into a binary rop and paints with the raster
// primitives. Every op returns the region it painted (for damage and for
// re-applying non-32-bit surface formats).
import { AlphaFlags, CompositeFlags, ImageScaleMode, ImageType, LineFlags, MaskFlags, PathFlags, SurfaceFmt } from '../../../preload/spice-enums';
import { SpiceError } from '../../../preload/spice-errors';
import type { Brush, Clip, DisplayBase, DrawCommand, PathSegment, Point, QMask, Rect, SpiceImage } from '../../../preload/contract';
import { Rop, RopInput, rop3, ropdToRop } from '../rop';
import { colorToPixel, formatHasAlpha, is16Bit, type Surface } from '../surface';
import type { DecodedImage } from '../types';
import { addPixel, blitBox, colorkeyBox, fillBox, moveBox, mulPixel, overBox, tileBox } from './raster';
import {
  intersectBox,
  intersectRegions,
  regionBoxes,
  regionEmpty,
  regionExtents,
  regionFromBits,
  regionFromBox,
  regionFromBoxes,
  translateRegion,
  type Box,
  type Region,
} from './region';
import { canvasScale, doubleToFixed, scaleClipped } from './scale';

/** A 1-bit mask plane: one byte per pixel, nonzero = set. */
export interface MaskPlane {
  width: number;
  height: number;
  bits: Uint8Array;
}

/** What the ops need from the display state (images, caches, counters). */
export interface DrawContext {
  surface(id: number): Surface;
  /** canvas_get_image / canvas_get_surface: decoded (and cached) image, or a live view of a SURFACE. */
  image(img: SpiceImage | null): DecodedImage;
  /** canvas_touch_image: decode only what has side effects (caching, GLZ window, palette cache). */
  touch(img: SpiceImage | null): void;
  /** canvas_get_mask: the mask plane of a QMask bitmap (caching it when asked). */
  maskPlane(img: SpiceImage): MaskPlane;
  count(what: DrawCounter): void;
}

export type DrawCounter = 'compositeFallbacks' | 'strokeDashApprox' | 'skippedDraws';

export function rectToBox(r: Rect): Box {
  return { x1: r.left, y1: r.top, x2: r.right, y2: r.bottom };
}

/** canvas_clip_pixman: box ∩ surface ∩ (union of clip rects). */
export function baseRegion(s: Surface, box: Rect, clip: Clip): Region {
  let r = intersectBox(regionFromBox(box.left, box.top, box.right, box.bottom), 0, 0, s.width, s.height);
  if (clip && r.length) r = intersectRegions(r, regionFromBoxes(clip.map(rectToBox)));
  return r;
}

/** canvas_mask_pixman: keeps the pixels whose mask bit (xor INVERS) is set; mask pixel (0,0) sits at pos relative to (x, y). */
function applyMask(ctx: DrawContext, region: Region, mask: QMask, x: number, y: number): Region {
  if (!mask.bitmap || regionEmpty(region)) return region;
  const plane = ctx.maskPlane(mask.bitmap);
  const invert = (mask.flags & MaskFlags.INVERS) !== 0;
  const ext = regionExtents(region)!;
  const dx = x - mask.pos.x;
  const dy = y - mask.pos.y;
  const mx1 = Math.max(0, ext.x1 - dx);
  const my1 = Math.max(0, ext.y1 - dy);
  const mx2 = Math.min(plane.width, ext.x2 - dx);
  const my2 = Math.min(plane.height, ext.y2 - dy);
  if (mx1 >= mx2 || my1 >= my2) return [];
  const m = regionFromBits(plane.bits, plane.width, mx1, my1, mx2, my2, invert);
  return intersectRegions(region, translateRegion(m, dx, dy));
}

function sameSize(box: Rect, area: Rect): boolean {
  return box.right - box.left === area.right - area.left && box.bottom - box.top === area.bottom - area.top;
}

function boxOf(base: DisplayBase): { x: number; y: number; w: number; h: number } {
  return { x: base.box.left, y: base.box.top, w: base.box.right - base.box.left, h: base.box.bottom - base.box.top };
}

function touchBrush(ctx: DrawContext, brush: Brush): void {
  if (brush.type === 'pattern') ctx.touch(brush.pattern);
}

/** A private copy when an op would read the buffer it writes pixel by pixel. */
function detach(img: DecodedImage, dst: Surface): DecodedImage {
  return img.pixels === dst.pixels ? { ...img, pixels: img.pixels.slice() } : img;
}

/** draw_brush. */
function drawBrush(ctx: DrawContext, dst: Surface, region: Region, brush: Brush, rop: number): void {
  const boxes = regionBoxes(region);
  if (brush.type === 'pattern') {
    const tile = detach(ctx.image(brush.pattern), dst);
    for (const b of boxes) tileBox(dst, b, tile, brush.pos.x, brush.pos.y, rop);
    return;
  }
  const color = brush.type === 'solid' ? colorToPixel(dst.format, brush.color) : 0;
  for (const b of boxes) fillBox(dst, b, color, rop);
}

/** Source placed at the dest box: same size (offset blit) or scaled like sw_canvas __scale_image(_rop). */
function drawImage(dst: Surface, region: Region, src: DecodedImage, box: Rect, area: Rect, scaleMode: number, rop: number): boolean {
  if (sameSize(box, area)) {
    for (const b of regionBoxes(region)) blitBox(dst, b, src, box.left - area.left, box.top - area.top, rop);
    return true;
  }
  if (scaleMode !== ImageScaleMode.NEAREST && scaleMode !== ImageScaleMode.INTERPOLATE) return false;
  const w = box.right - box.left;
  const h = box.bottom - box.top;
  const aw = area.right - area.left;
  const ah = area.bottom - area.top;
  if (w <= 0 || h <= 0 || aw <= 0 || ah <= 0) return false;
  const p = canvasScale(area.left, area.top, aw, ah, w, h, scaleMode === ImageScaleMode.INTERPOLATE);
  const ext = regionExtents(region)!;
  const scaled = scaleClipped(opaqueView(src), p, box.left, box.top, ext);
  for (const b of regionBoxes(region)) blitBox(dst, b, scaled, ext.x1, ext.y1, rop);
  return true;
}

/** An x8r8g8b8 source as pixman fetches it (alpha 0xff), so scaled-out samples (0) stay distinguishable. */
function opaqueView(src: DecodedImage): DecodedImage {
  if (src.hasAlpha) return src;
  const px = new Uint32Array(src.pixels.length);
  const sp = src.pixels;
  for (let i = 0; i < px.length; i++) px[i] = (sp[i] | 0xff000000) >>> 0;
  return { width: src.width, height: src.height, pixels: px, hasAlpha: true };
}

function requireSrc(img: SpiceImage | null, op: string): SpiceImage {
  if (!img) throw new SpiceError('BAD_MESSAGE', `${op}: no source image`);
  return img;
}

// ------------------------------------------------------------------ ops

export function drawOp(ctx: DrawContext, cmd: DrawCommand): Region {
  const dst = ctx.surface(cmd.base.surfaceId);
  switch (cmd.op) {
    case 'fill': {
      const region = applyMask(ctx, baseRegion(dst, cmd.base.box, cmd.base.clip), cmd.mask, cmd.base.box.left, cmd.base.box.top);
      const rop = ropdToRop(cmd.ropd, RopInput.BRUSH, RopInput.DEST);
      if (rop === Rop.NOOP || regionEmpty(region)) {
        touchBrush(ctx, cmd.brush);
        return [];
      }
      drawBrush(ctx, dst, region, cmd.brush, rop);
      return region;
    }
    case 'copy':
    case 'blend': {
      // canvas_base.c: draw_blend is canvas_draw_copy.
      const region = applyMask(ctx, baseRegion(dst, cmd.base.box, cmd.base.clip), cmd.mask, cmd.base.box.left, cmd.base.box.top);
      const rop = ropdToRop(cmd.ropd, RopInput.SRC, RopInput.DEST);
      if (rop === Rop.NOOP || regionEmpty(region)) {
        ctx.touch(cmd.src);
        return [];
      }
      const src = ctx.image(requireSrc(cmd.src, cmd.op));
      if (!drawImage(dst, region, src, cmd.base.box, cmd.srcArea, cmd.scaleMode, rop)) {
        ctx.count('skippedDraws');
        return [];
      }
      return region;
    }
    case 'opaque': {
      const region = applyMask(ctx, baseRegion(dst, cmd.base.box, cmd.base.clip), cmd.mask, cmd.base.box.left, cmd.base.box.top);
      // The brush is "src" and the freshly copied image plays "dest".
      const rop = ropdToRop(cmd.ropd, RopInput.BRUSH, RopInput.SRC);
      if (rop === Rop.NOOP || regionEmpty(region)) {
        ctx.touch(cmd.src);
        touchBrush(ctx, cmd.brush);
        return [];
      }
      const src = ctx.image(requireSrc(cmd.src, 'opaque'));
      if (!drawImage(dst, region, src, cmd.base.box, cmd.srcArea, cmd.scaleMode, Rop.COPY)) {
        ctx.count('skippedDraws');
        return [];
      }
      drawBrush(ctx, dst, region, cmd.brush, rop);
      return region;
    }
    case 'blackness':
    case 'whiteness':
    case 'invers': {
      const region = applyMask(ctx, baseRegion(dst, cmd.base.box, cmd.base.clip), cmd.mask, cmd.base.box.left, cmd.base.box.top);
      const [color, rop] = cmd.op === 'blackness' ? [0, Rop.COPY] : cmd.op === 'whiteness' ? [0xffffffff, Rop.COPY] : [0, Rop.INVERT];
      for (const b of regionBoxes(region)) fillBox(dst, b, color, rop);
      return region;
    }
    case 'transparent':
      return drawTransparent(ctx, dst, cmd);
    case 'alphaBlend':
      return drawAlphaBlend(ctx, dst, cmd);
    case 'rop3':
      return drawRop3(ctx, dst, cmd);
    case 'copyBits':
      return copyBits(dst, cmd.base, cmd.srcPos);
    case 'stroke':
      return drawStroke(ctx, dst, cmd);
    case 'composite':
      return drawComposite(ctx, dst, cmd);
    default: {
      const never: never = cmd;
      throw new SpiceError('BAD_MESSAGE', `unknown draw op ${(never as { op: string }).op}`);
    }
  }
}

function drawTransparent(ctx: DrawContext, dst: Surface, cmd: Extract<DrawCommand, { op: 'transparent' }>): Region {
  const region = baseRegion(dst, cmd.base.box, cmd.base.clip);
  if (regionEmpty(region)) {
    ctx.touch(cmd.src);
    return [];
  }
  // The key is true_color in the surface's format; compare only the bits that format keeps.
  const keyMask = dst.format === SurfaceFmt._16_555 ? 0xf8f8f8 : dst.format === SurfaceFmt._16_565 ? 0xf8fcf8 : 0xffffff;
  const key = dst.format === SurfaceFmt._32_xRGB || dst.format === SurfaceFmt._32_ARGB || is16Bit(dst.format) ? cmd.trueColor : 0;
  const src = detach(ctx.image(requireSrc(cmd.src, 'transparent')), dst);
  const box = cmd.base.box;
  const area = cmd.srcArea;
  if (sameSize(box, area)) {
    for (const b of regionBoxes(region)) colorkeyBox(dst, b, src, box.left - area.left, box.top - area.top, key, keyMask);
  } else {
    const w = box.right - box.left;
    const h = box.bottom - box.top;
    const aw = area.right - area.left;
    const ah = area.bottom - area.top;
    if (aw <= 0 || ah <= 0) return [];
    const ext = regionExtents(region)!;
    const scaled = scaleClipped(src, canvasScale(area.left, area.top, aw, ah, w, h, false), box.left, box.top, ext);
    for (const b of regionBoxes(region)) colorkeyBox(dst, b, scaled, ext.x1, ext.y1, key, keyMask);
  }
  return region;
}

function drawAlphaBlend(ctx: DrawContext, dst: Surface, cmd: Extract<DrawCommand, { op: 'alphaBlend' }>): Region {
  const region = baseRegion(dst, cmd.base.box, cmd.base.clip);
  if (cmd.alpha === 0 || regionEmpty(region)) {
    ctx.touch(cmd.src);
    return [];
  }
  const srcImg = requireSrc(cmd.src, 'alphaBlend');
  let src = detach(ctx.image(srcImg), dst);
  if (srcImg.descriptor.type === ImageType.SURFACE) {
    // canvas_get_as_surface: an xRGB surface is read as ARGB only when the server says it has alpha.
    const s = ctx.surface((srcImg.data as { surfaceId: number }).surfaceId);
    src = { ...src, hasAlpha: formatHasAlpha(s.format) || (cmd.alphaFlags & AlphaFlags.SRC_SURFACE_HAS_ALPHA) !== 0 };
  }
  const dstAlpha = formatHasAlpha(dst.format) || (cmd.alphaFlags & AlphaFlags.DEST_HAS_ALPHA) !== 0;
  const box = cmd.base.box;
  const area = cmd.srcArea;
  const w = box.right - box.left;
  const h = box.bottom - box.top;
  const alpha = cmd.alpha & 0xff;
  if (sameSize(box, area)) {
    for (const b of regionBoxes(region)) overBox(dst, b, src, box.left - area.left, box.top - area.top, src.hasAlpha, dstAlpha, alpha);
  } else {
    const aw = area.right - area.left;
    const ah = area.bottom - area.top;
    if (aw <= 0 || ah <= 0) return [];
    const ext = regionExtents(region)!;
    const scaled = scaleClipped(opaqueView(src), canvasScale(area.left, area.top, aw, ah, w, h, false), box.left, box.top, ext);
    for (const b of regionBoxes(region)) overBox(dst, b, scaled, ext.x1, ext.y1, true, dstAlpha, alpha);
  }
  if (dst.format === SurfaceFmt._32_xRGB && !dstAlpha) clearDestAlpha(dst, box.left, box.top, w, h);
  return region;
}

/** sw_canvas clear_dest_alpha: pixman's OVER may set xRGB alpha bytes to 0xff; spice clears them over the whole box. */
function clearDestAlpha(s: Surface, x: number, y: number, w: number, h: number): void {
  const x1 = Math.max(0, x);
  const y1 = Math.max(0, y);
  const x2 = Math.min(s.width, x + w);
  const y2 = Math.min(s.height, y + h);
  if (x1 >= x2 || y1 >= y2) return;
  const px = s.pixels;
  if (px[y1 * s.width + x1] >>> 24 !== 0xff) return;
  for (let yy = y1; yy < y2; yy++) for (let i = yy * s.width + x1; i < yy * s.width + x2; i++) px[i] &= 0x00ffffff;
}

function mod(a: number, n: number): number {
  const r = a % n;
  return r < 0 ? r + n : r;
}

function drawRop3(ctx: DrawContext, dst: Surface, cmd: Extract<DrawCommand, { op: 'rop3' }>): Region {
  const region = applyMask(ctx, baseRegion(dst, cmd.base.box, cmd.base.clip), cmd.mask, cmd.base.box.left, cmd.base.box.top);
  const { x: bx, y: by, w, h } = boxOf(cmd.base);
  let s = detach(ctx.image(requireSrc(cmd.src, 'rop3')), dst);
  // source pixel of dest (x, y): s[(y - oy) * s.width + (x - ox)]
  let ox: number;
  let oy: number;
  const area = cmd.srcArea;
  if (!sameSize(cmd.base.box, area)) {
    // canvas_scale_surface: double scale factors, source offset ROUND(left / sx).
    const aw = area.right - area.left;
    const ah = area.bottom - area.top;
    if (w <= 0 || h <= 0 || aw <= 0 || ah <= 0) return [];
    if (cmd.scaleMode !== ImageScaleMode.NEAREST && cmd.scaleMode !== ImageScaleMode.INTERPOLATE) return [];
    const sx = aw / w;
    const sy = ah / h;
    if (regionEmpty(region)) return [];
    const ext = regionExtents(region)!;
    s = scaleClipped(
      opaqueView(s),
      {
        fsx: doubleToFixed(sx),
        fsy: doubleToFixed(sy),
        tx: 0,
        ty: 0,
        ox: Math.floor(area.left / sx + 0.5),
        oy: Math.floor(area.top / sy + 0.5),
        bilinear: cmd.scaleMode === ImageScaleMode.INTERPOLATE,
      },
      bx,
      by,
      ext,
    );
    ox = ext.x1;
    oy = ext.y1;
  } else {
    if (s.width - area.left < w || s.height - area.top < h || area.left < 0 || area.top < 0) {
      // canvas_draw_rop3: "bad src bitmap size", nothing drawn.
      ctx.count('skippedDraws');
      return [];
    }
    ox = bx - area.left;
    oy = by - area.top;
  }
  let pat: DecodedImage | null = null;
  let color = 0;
  let patPos: Point = { x: 0, y: 0 };
  if (cmd.brush.type === 'pattern') {
    pat = detach(ctx.image(cmd.brush.pattern), dst);
    patPos = cmd.brush.pos;
  }
  else if (cmd.brush.type === 'solid') color = colorToPixel(dst.format, cmd.brush.color);
  const code = cmd.rop3 & 0xff;
  const dp = dst.pixels;
  const sp = s.pixels;
  for (const b of regionBoxes(region)) {
    for (let y = b.y1; y < b.y2; y++) {
      let si = (y - oy) * s.width + (b.x1 - ox);
      let di = y * dst.width + b.x1;
      const prow = pat ? mod(y - patPos.y, pat.height) * pat.width : 0;
      for (let x = b.x1; x < b.x2; x++, si++, di++) {
        const p = pat ? pat.pixels[prow + mod(x - patPos.x, pat.width)] : color;
        dp[di] = rop3(code, p, sp[si], dp[di]);
      }
    }
  }
  return region;
}

/** canvas_copy_bits + sw_canvas copy_region: rect order chosen so overlapping moves read unmodified pixels. */
export function copyBits(dst: Surface, base: DisplayBase, srcPos: Point): Region {
  let region = baseRegion(dst, base.box, base.clip);
  const dx = base.box.left - srcPos.x;
  const dy = base.box.top - srcPos.y;
  if (dx === 0 && dy === 0) return [];
  region = intersectBox(region, dx, dy, dx + dst.width, dy + dst.height);
  const bands = region;
  const order: Box[] = [];
  const bandBoxes = (b: (typeof bands)[number], reverse: boolean): Box[] => {
    const out: Box[] = [];
    for (let k = 0; k < b.xs.length; k += 2) out.push({ x1: b.xs[k], y1: b.y1, x2: b.xs[k + 1], y2: b.y2 });
    return reverse ? out.reverse() : out;
  };
  const bandsInOrder = dy > 0 ? [...bands].reverse() : bands;
  const xReverse = dx > 0;
  for (const b of bandsInOrder) order.push(...bandBoxes(b, xReverse));
  for (const b of order) moveBox(dst, b, dx, dy);
  return region;
}

// ------------------------------------------------------------------ stroke

/** canvas_base.c fix_to_int: 28.4 fixed to int, rounding .5 down. */
export function fixToInt(v: number): number {
  const rem = v & 0x0f;
  let val = v >> 4;
  if (rem > 8) val++;
  return val;
}

const MAX_LINE_PIXELS = 1 << 17;
const DEFAULT_ZERO_LINE_BIAS = (1 << 3) | (1 << 7) | (1 << 6) | (1 << 4); // OCTANT2|3|4|5 of X11 mi
/** Budget of one DRAW_STROKE: polyline segments (beziers flattened) and pixels inside the clip extents. */
export const MAX_STROKE_SEGMENTS = 1 << 16;
export const MAX_STROKE_PIXELS = 1 << 22;

/**
 * One X11 zero-width line reduced to the steps whose pixel falls inside a
 * box: the Bresenham state of any step is known in closed form, so a line
 * far outside the clip costs nothing and the pixels drawn are exactly those
 * of the full line (no geometric clipping rounding).
 */
interface ZeroLine {
  xMajor: boolean;
  sdx: number;
  sdy: number;
  x1: number;
  y1: number;
  maj: number;
  e1: number;
  eInit: number;
  /** Steps [n0, n1) lie inside the box. */
  n0: number;
  n1: number;
}

/** Minor-axis steps taken before step n: e stays in [-2·maj, 0) after every step. */
function minorSteps(l: ZeroLine, n: number): number {
  return Math.floor((l.eInit + n * l.e1) / (2 * l.maj)) + 1;
}

function zeroLine(x1: number, y1: number, x2: number, y2: number, clip?: Box): ZeroLine | null {
  let adx = x2 - x1;
  let ady = y2 - y1;
  let sdx = 1;
  let sdy = 1;
  let octant = 0;
  if (adx < 0) {
    adx = -adx;
    sdx = -1;
    octant |= 4;
  }
  if (ady < 0) {
    ady = -ady;
    sdy = -1;
    octant |= 2;
  }
  const xMajor = adx > ady;
  if (!xMajor) octant |= 1;
  const [maj, min] = xMajor ? [adx, ady] : [ady, adx];
  if (maj > MAX_LINE_PIXELS || maj === 0) return null;
  const l: ZeroLine = { xMajor, sdx, sdy, x1, y1, maj, e1: min * 2, eInit: -maj - ((DEFAULT_ZERO_LINE_BIAS >> octant) & 1), n0: 0, n1: maj };
  if (!clip) return l;
  // Major axis: the step range is linear in n.
  const [m0, sm, lo, hi] = xMajor ? [x1, sdx, clip.x1, clip.x2] : [y1, sdy, clip.y1, clip.y2];
  let na = sm > 0 ? lo - m0 : m0 - hi + 1;
  let nb = sm > 0 ? hi - m0 : m0 - lo + 1; // exclusive
  na = Math.max(na, 0);
  nb = Math.min(nb, maj);
  if (na >= nb) return null;
  // Minor axis: minorSteps is non-decreasing in n, so the inside steps are one range found by bisection.
  const [c0, sc, clo, chi] = xMajor ? [y1, sdy, clip.y1, clip.y2] : [x1, sdx, clip.x1, clip.x2];
  const kLo = sc > 0 ? clo - c0 : c0 - chi + 1;
  const kHi = sc > 0 ? chi - 1 - c0 : c0 - clo;
  const first = (pred: (n: number) => boolean, a: number, b: number): number => {
    // smallest n in [a, b) with pred(n) (pred monotone false→true), or b
    while (a < b) {
      const mid = Math.floor((a + b) / 2);
      if (pred(mid)) b = mid;
      else a = mid + 1;
    }
    return a;
  };
  l.n0 = first((n) => minorSteps(l, n) >= kLo, na, nb);
  l.n1 = first((n) => minorSteps(l, n) > kHi, l.n0, nb);
  return l.n0 < l.n1 ? l : null;
}

/**
 * X11 miZeroLine for one segment without its endpoint (CapNotLast), as
 * 1-pixel boxes grouped in row runs; with `clip`, only the pixels inside it.
 */
export function zeroLineBoxes(x1: number, y1: number, x2: number, y2: number, clip?: Box): Box[] {
  const l = zeroLine(x1, y1, x2, y2, clip);
  return l ? zeroLineRun(l) : [];
}

function zeroLineRun(l: ZeroLine): Box[] {
  const out: Box[] = [];
  const put = (x: number, y: number): void => {
    const last = out[out.length - 1];
    if (last && last.y1 === y && last.x2 === x) last.x2++;
    else if (last && last.y1 === y && last.x1 === x + 1) last.x1--;
    else out.push({ x1: x, y1: y, x2: x + 1, y2: y + 1 });
  };
  const { xMajor, sdx, sdy, maj, e1 } = l;
  const e3 = -2 * maj;
  const k0 = minorSteps(l, l.n0);
  let e = l.eInit + l.n0 * e1 + e3 * k0;
  let x = l.x1 + (xMajor ? l.n0 * sdx : k0 * sdx);
  let y = l.y1 + (xMajor ? k0 * sdy : l.n0 * sdy);
  for (let n = l.n0; n < l.n1; n++) {
    put(x, y);
    e += e1;
    if (xMajor) {
      if (e >= 0) {
        y += sdy;
        e += e3;
      }
      x += sdx;
    } else {
      if (e >= 0) {
        x += sdx;
        e += e3;
      }
      y += sdy;
    }
  }
  return out;
}

type FixPoint = { x: number; y: number };

/** Flattens one bezier into out; false when that would pass `budget.left` points. */
function subdivideBezier(out: Point[], p0: FixPoint, p1: FixPoint, p2: FixPoint, p3: FixPoint, depth: number, budget: { left: number }): boolean {
  const i64 = (v: bigint): bigint => BigInt.asIntN(64, v);
  const dot = (ax: number, ay: number, bx: number, by: number): bigint => i64(BigInt(ax) * BigInt(bx) + BigInt(ay) * BigInt(by)) >> 4n;
  const A2 = dot(p1.x - p0.x, p1.y - p0.y, p1.x - p0.x, p1.y - p0.y);
  const B2 = dot(p3.x - p0.x, p3.y - p0.y, p3.x - p0.x, p3.y - p0.y);
  const C2 = dot(p2.x - p3.x, p2.y - p3.y, p2.x - p3.x, p2.y - p3.y);
  const AB = dot(p1.x - p0.x, p1.y - p0.y, p3.x - p0.x, p3.y - p0.y);
  const CB = dot(p2.x - p3.x, p2.y - p3.y, p0.x - p3.x, p0.y - p3.y);
  const h1 = i64(A2 * B2 - AB * AB) >> 3n;
  const h2 = i64(C2 * B2 - CB * CB) >> 3n;
  if ((h1 < B2 && h2 < B2) || depth >= 16) {
    if (--budget.left < 0) return false;
    out.push({ x: fixToInt(p3.x), y: fixToInt(p3.y) });
    return true;
  }
  const mid = (a: FixPoint, b: FixPoint): FixPoint => ({ x: Math.trunc((a.x + b.x) / 2), y: Math.trunc((a.y + b.y) / 2) });
  const p01 = mid(p0, p1);
  const p12 = mid(p1, p2);
  const p23 = mid(p2, p3);
  const p012 = mid(p01, p12);
  const p123 = mid(p12, p23);
  const p0123 = mid(p012, p123);
  return subdivideBezier(out, p0, p01, p012, p0123, depth + 1, budget) && subdivideBezier(out, p0123, p123, p23, p3, depth + 1, budget);
}

/** The polylines of a stroke path (beziers flattened), within the segment budget. */
function strokePolylines(path: PathSegment[]): Point[][] {
  const budget = { left: MAX_STROKE_SEGMENTS };
  const over = (): never => {
    throw new SpiceError('LIMIT', `stroke: path has more than ${MAX_STROKE_SEGMENTS} segments`);
  };
  const polylines: Point[][] = [];
  let lines: Point[] = [];
  const flush = (): void => {
    if (lines.length) polylines.push(lines);
    lines = [];
  };
  const push = (p: Point): void => {
    if (--budget.left < 0) over();
    lines.push(p);
  };
  for (const seg of path) {
    let k = 0;
    const pts = seg.points;
    if (seg.flags & PathFlags.BEGIN) {
      flush();
      if (pts.length) push({ x: fixToInt(pts[0].x), y: fixToInt(pts[0].y) });
      k = 1;
    }
    if (seg.flags & PathFlags.BEZIER) {
      for (; k + 2 < pts.length; k += 3) {
        const last = lines[lines.length - 1] ?? { x: 0, y: 0 };
        if (!subdivideBezier(lines, { x: last.x << 4, y: last.y << 4 }, pts[k], pts[k + 1], pts[k + 2], 0, budget)) over();
      }
    } else {
      for (; k < pts.length; k++) push({ x: fixToInt(pts[k].x), y: fixToInt(pts[k].y) });
    }
    if (seg.flags & PathFlags.END) {
      if (seg.flags & PathFlags.CLOSE && lines.length) push({ ...lines[0] });
      flush();
    }
  }
  flush();
  return polylines;
}

/**
 * canvas_draw_stroke: polylines of the path (beziers flattened), each segment
 * drawn as an X11 zero-width line. Work is bounded before anything is
 * painted: segments by MAX_STROKE_SEGMENTS, pixels inside the clip extents by
 * MAX_STROKE_PIXELS (a LIMIT error, nothing drawn).
 */
function drawStroke(ctx: DrawContext, dst: Surface, cmd: Extract<DrawCommand, { op: 'stroke' }>): Region {
  const region = baseRegion(dst, cmd.base.box, cmd.base.clip);
  if (regionEmpty(region)) {
    touchBrush(ctx, cmd.brush);
    return [];
  }
  const ext = regionExtents(region)!;
  const lines: ZeroLine[] = [];
  let pixels = 0;
  for (const pts of strokePolylines(cmd.path as PathSegment[])) {
    for (let i = 0; i + 1 < pts.length; i++) {
      const l = zeroLine(pts[i].x, pts[i].y, pts[i + 1].x, pts[i + 1].y, ext);
      if (!l) continue;
      pixels += l.n1 - l.n0;
      if (pixels > MAX_STROKE_PIXELS) throw new SpiceError('LIMIT', `stroke: more than ${MAX_STROKE_PIXELS} pixels inside the clip`);
      lines.push(l);
    }
  }
  const foreRop = ropdToRop(cmd.foreMode, RopInput.BRUSH, RopInput.DEST);
  // LineOnOffDash is not reproduced: styled lines are drawn solid.
  if (cmd.attr.flags & LineFlags.STYLED) ctx.count('strokeDashApprox');
  let tile: DecodedImage | null = null;
  let color = 0;
  if (cmd.brush.type === 'pattern') tile = detach(ctx.image(cmd.brush.pattern), dst);
  else if (cmd.brush.type === 'solid') color = colorToPixel(dst.format, cmd.brush.color);
  const brushPos = cmd.brush.type === 'pattern' ? cmd.brush.pos : { x: 0, y: 0 };

  const painted: Box[] = [];
  for (const l of lines) {
    // Each segment is filled on its own, like miZeroLine's per-segment FillSpans.
    const seg = intersectRegions(regionFromBoxes(zeroLineRun(l)), region);
    for (const b of regionBoxes(seg)) {
      if (tile) tileBox(dst, b, tile, brushPos.x, brushPos.y, foreRop);
      else fillBox(dst, b, color, foreRop);
      painted.push(b);
    }
  }
  return regionFromBoxes(painted);
}

// ------------------------------------------------------------------ composite

/** pixman_op_t values this compositor implements (Porter-Duff + ADD). */
const PD_OPS = 12;

function pdFactor(code: number, sa: number, da: number): number {
  switch (code) {
    case 0: return 0;
    case 1: return 255;
    case 2: return da;
    case 3: return 255 - da;
    case 4: return sa;
    default: return 255 - sa;
  }
}

// [Fa, Fb] per pixman op: 0=zero 1=one 2=da 3=1-da 4=sa 5=1-sa
const PD_TABLE: [number, number][] = [
  [0, 0], // CLEAR
  [1, 0], // SRC
  [0, 1], // DST
  [1, 5], // OVER
  [3, 1], // OVER_REVERSE
  [2, 0], // IN
  [0, 4], // IN_REVERSE
  [3, 0], // OUT
  [0, 5], // OUT_REVERSE
  [2, 5], // ATOP
  [3, 4], // ATOP_REVERSE
  [3, 5], // XOR
];

/** One pixman unified combiner step (premultiplied, per-term rounding, saturating add). */
export function combine(op: number, s: number, d: number): number {
  if (op === PD_OPS) return addPixel(s, d); // ADD
  const [fa, fb] = PD_TABLE[op];
  const sa = s >>> 24;
  const da = d >>> 24;
  const a = pdFactor(fa, sa, da);
  const b = pdFactor(fb, sa, da);
  const x = a === 255 ? s : a === 0 ? 0 : mulPixel(s, a);
  const y = b === 255 ? d : b === 0 ? 0 : mulPixel(d, b);
  return addPixel(x, y);
}

function isIdentity(t: number[] | null): boolean {
  // SpiceTransform t00 t01 t02 t10 t11 t12 in 16.16.
  return !t || (t.length >= 6 && t[0] === 0x10000 && t[1] === 0 && t[2] === 0 && t[3] === 0 && t[4] === 0x10000 && t[5] === 0);
}

/** pixman repeat modes for integer sample positions: NONE → -1 (transparent). */
function repeatCoord(v: number, size: number, repeat: number): number {
  if (v >= 0 && v < size) return v;
  switch (repeat) {
    case 1: return mod(v, size); // NORMAL
    case 2: return v < 0 ? 0 : size - 1; // PAD
    case 3: {
      const m = mod(v, size * 2); // REFLECT
      return m < size ? m : size * 2 - 1 - m;
    }
    default: return -1;
  }
}

function drawComposite(ctx: DrawContext, dst: Surface, cmd: Extract<DrawCommand, { op: 'composite' }>): Region {
  const region = baseRegion(dst, cmd.base.box, cmd.base.clip);
  const f = cmd.flags;
  const op = f & 0xff;
  const srcImg = requireSrc(cmd.src, 'composite');
  let src = ctx.image(srcImg);
  const srcIsSurface = srcImg.descriptor.type === ImageType.SURFACE;
  if (srcIsSurface && f & CompositeFlags.SOURCE_OPAQUE) src = { ...src, hasAlpha: false };
  let mask: DecodedImage | null = null;
  if (f & CompositeFlags.HAS_MASK) mask = ctx.image(requireSrc(cmd.mask, 'composite mask'));
  if (regionEmpty(region)) return [];
  const { x: bx, y: by } = boxOf(cmd.base);
  const srcRepeat = (f >> 14) & 3;
  const maskRepeat = (f >> 16) & 3;
  const supported =
    op <= PD_OPS &&
    !(f & CompositeFlags.COMPONENT_ALPHA) &&
    (!(f & CompositeFlags.HAS_SRC_TRANSFORM) || isIdentity(cmd.srcTransform)) &&
    (!(f & CompositeFlags.HAS_MASK_TRANSFORM) || isIdentity(cmd.maskTransform));
  if (!supported) {
    // Outside the implemented subset: place the source like a plain copy.
    ctx.count('compositeFallbacks');
    for (const b of regionBoxes(region)) blitBox(dst, b, src, bx - cmd.srcOrigin.x, by - cmd.srcOrigin.y, Rop.COPY);
    return region;
  }
  src = detach(src, dst);
  if (mask) mask = detach(mask, dst);
  // The dest image is read in the surface's pixman format (canvas_get_image_from_self ignores DEST_OPAQUE).
  const dstAlpha = formatHasAlpha(dst.format);
  const dp = dst.pixels;
  for (const b of regionBoxes(region)) {
    for (let y = b.y1; y < b.y2; y++) {
      const syr = repeatCoord(y - by + cmd.srcOrigin.y, src.height, srcRepeat);
      const myr = mask ? repeatCoord(y - by + cmd.maskOrigin.y, mask.height, maskRepeat) : 0;
      let di = y * dst.width + b.x1;
      for (let x = b.x1; x < b.x2; x++, di++) {
        let s = 0;
        const sxr = repeatCoord(x - bx + cmd.srcOrigin.x, src.width, srcRepeat);
        if (syr >= 0 && sxr >= 0) {
          s = src.pixels[syr * src.width + sxr];
          if (!src.hasAlpha) s = (s | 0xff000000) >>> 0;
        }
        if (mask) {
          const mxr = repeatCoord(x - bx + cmd.maskOrigin.x, mask.width, maskRepeat);
          let ma = 0;
          if (myr >= 0 && mxr >= 0) ma = mask.hasAlpha ? mask.pixels[myr * mask.width + mxr] >>> 24 : 0xff;
          s = ma === 0xff ? s : ma === 0 ? 0 : mulPixel(s, ma);
        }
        let d = dp[di];
        if (!dstAlpha) d = (d | 0xff000000) >>> 0;
        dp[di] = combine(op, s, d);
      }
    }
  }
  return region;
}
