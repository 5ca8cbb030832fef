// Pixel regions as y-x banded lists of disjoint rectangles, the same shape
// as pixman_region32: drawing walks the rects band by band (y, then x), so a
// rop is applied once per pixel even when clip rects overlap, and copyBits can
// order its rect copies like sw_canvas.c copy_region.

/** One horizontal band [y1, y2) with sorted disjoint x intervals xs = [x1, x2, x1, x2, ...]. */
export interface Band {
  y1: number;
  y2: number;
  xs: number[];
}
export type Region = Band[];

export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

function sameXs(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Appends a band, merging it with the previous one when they touch and have equal spans. */
function pushBand(out: Region, y1: number, y2: number, xs: number[]): void {
  if (xs.length === 0 || y1 >= y2) return;
  const last = out[out.length - 1];
  if (last && last.y2 === y1 && sameXs(last.xs, xs)) last.y2 = y2;
  else out.push({ y1, y2, xs });
}

export function regionFromBox(x1: number, y1: number, x2: number, y2: number): Region {
  if (x1 >= x2 || y1 >= y2) return [];
  return [{ y1, y2, xs: [x1, x2] }];
}

/** Union of possibly overlapping boxes (a clip's rect list, stroke spans). */
export function regionFromBoxes(boxes: Box[]): Region {
  const valid = boxes.filter((b) => b.x1 < b.x2 && b.y1 < b.y2);
  if (valid.length === 0) return [];
  if (valid.length === 1) return regionFromBox(valid[0].x1, valid[0].y1, valid[0].x2, valid[0].y2);
  const ys = Array.from(new Set(valid.flatMap((b) => [b.y1, b.y2]))).sort((a, b) => a - b);
  const out: Region = [];
  for (let k = 0; k + 1 < ys.length; k++) {
    const y1 = ys[k];
    const y2 = ys[k + 1];
    const iv = valid.filter((b) => b.y1 <= y1 && b.y2 >= y2).sort((a, b) => a.x1 - b.x1);
    const xs: number[] = [];
    for (const b of iv) {
      const n = xs.length;
      if (n > 0 && b.x1 <= xs[n - 1]) {
        if (b.x2 > xs[n - 1]) xs[n - 1] = b.x2;
      } else {
        xs.push(b.x1, b.x2);
      }
    }
    pushBand(out, y1, y2, xs);
  }
  return out;
}

function intersectXs(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x1 = Math.max(a[i], b[j]);
    const x2 = Math.min(a[i + 1], b[j + 1]);
    if (x1 < x2) out.push(x1, x2);
    if (a[i + 1] < b[j + 1]) i += 2;
    else j += 2;
  }
  return out;
}

export function intersectRegions(a: Region, b: Region): Region {
  const out: Region = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const A = a[i];
    const B = b[j];
    const y1 = Math.max(A.y1, B.y1);
    const y2 = Math.min(A.y2, B.y2);
    if (y1 < y2) pushBand(out, y1, y2, intersectXs(A.xs, B.xs));
    if (A.y2 < B.y2) i++;
    else if (A.y2 > B.y2) j++;
    else {
      i++;
      j++;
    }
  }
  return out;
}

export function intersectBox(a: Region, x1: number, y1: number, x2: number, y2: number): Region {
  return intersectRegions(a, regionFromBox(x1, y1, x2, y2));
}

export function translateRegion(a: Region, dx: number, dy: number): Region {
  return a.map((b) => ({ y1: b.y1 + dy, y2: b.y2 + dy, xs: b.xs.map((x) => x + dx) }));
}

export function regionEmpty(a: Region): boolean {
  return a.length === 0;
}

export function regionExtents(a: Region): Box | null {
  if (a.length === 0) return null;
  let x1 = Infinity;
  let x2 = -Infinity;
  for (const b of a) {
    if (b.xs[0] < x1) x1 = b.xs[0];
    if (b.xs[b.xs.length - 1] > x2) x2 = b.xs[b.xs.length - 1];
  }
  return { x1, y1: a[0].y1, x2, y2: a[a.length - 1].y2 };
}

/** The region's rects in pixman order (bands top-down, x ascending inside a band). */
export function regionBoxes(a: Region): Box[] {
  const out: Box[] = [];
  for (const b of a) for (let k = 0; k < b.xs.length; k += 2) out.push({ x1: b.xs[k], y1: b.y1, x2: b.xs[k + 1], y2: b.y2 });
  return out;
}

/**
 * Region of the set pixels of a bit plane (one byte per pixel, nonzero = set)
 * restricted to [x1,x2)×[y1,y2) of the plane, one band per distinct row run.
 */
export function regionFromBits(bits: Uint8Array, width: number, x1: number, y1: number, x2: number, y2: number, invert: boolean): Region {
  const out: Region = [];
  const want = invert ? 0 : 1;
  for (let y = y1; y < y2; y++) {
    const row = y * width;
    const xs: number[] = [];
    let x = x1;
    while (x < x2) {
      while (x < x2 && (bits[row + x] ? 1 : 0) !== want) x++;
      if (x >= x2) break;
      const start = x;
      while (x < x2 && (bits[row + x] ? 1 : 0) === want) x++;
      xs.push(start, x);
    }
    pushBand(out, y, y + 1, xs);
  }
  return out;
}
