// Raster operations of the software canvas: the SPICE ROP descriptor
// (SpiceRopd bits) reduced to one of the 16 binary rops (spice-common's
// SpiceROP, numbered like X11 GX functions), the 16 rops themselves on 32-bit
// pixels, and the 256 ternary rop3 codes (pattern/source/destination).
import { Ropd } from '../../preload/spice-enums';

/** spice-common SpiceROP; the value's bit ((!src)<<1 | !dst) is the result for that input pair. */
export const Rop = {
  CLEAR: 0x0,
  AND: 0x1,
  AND_REVERSE: 0x2,
  COPY: 0x3,
  AND_INVERTED: 0x4,
  NOOP: 0x5,
  XOR: 0x6,
  OR: 0x7,
  NOR: 0x8,
  EQUIV: 0x9,
  INVERT: 0xa,
  OR_REVERSE: 0xb,
  COPY_INVERTED: 0xc,
  OR_INVERTED: 0xd,
  NAND: 0xe,
  SET: 0xf,
} as const;

/** Which operand of a drawing the descriptor's INVERS_* bits refer to (canvas_base.c ROPInput). */
export const RopInput = { SRC: 0, BRUSH: 1, DEST: 2 } as const;
type RopInputT = (typeof RopInput)[keyof typeof RopInput];

const INVERT_MASKS = [Ropd.INVERS_SRC, Ropd.INVERS_BRUSH, Ropd.INVERS_DEST];

/**
 * canvas_base.c ropd_descriptor_to_rop: the operand called `srcInput` plays
 * "src" and `destInput` plays "dest". OP_PUT wins over OR over AND over XOR;
 * BLACKNESS / WHITENESS / INVERS ignore every INVERS_* bit; no OP bit = COPY.
 */
export function ropdToRop(desc: number, srcInput: RopInputT, destInput: RopInputT): number {
  const invS = (desc & INVERT_MASKS[srcInput]) !== 0;
  const invD = (desc & INVERT_MASKS[destInput]) !== 0;
  const invR = (desc & Ropd.INVERS_RES) !== 0;
  let f: (s: number, d: number) => number;
  if (desc & Ropd.OP_PUT) f = (s) => s;
  else if (desc & Ropd.OP_OR) f = (s, d) => s | d;
  else if (desc & Ropd.OP_AND) f = (s, d) => s & d;
  else if (desc & Ropd.OP_XOR) f = (s, d) => s ^ d;
  else if (desc & Ropd.OP_BLACKNESS) return Rop.CLEAR;
  else if (desc & Ropd.OP_WHITENESS) return Rop.SET;
  else if (desc & Ropd.OP_INVERS) return Rop.INVERT;
  else return Rop.COPY;
  // Build the truth table; it is the SpiceROP value by construction.
  let code = 0;
  for (let s = 0; s < 2; s++) {
    for (let d = 0; d < 2; d++) {
      let r = f(invS ? s ^ 1 : s, invD ? d ^ 1 : d) & 1;
      if (invR) r ^= 1;
      if (r) code |= 1 << (((s ^ 1) << 1) | (d ^ 1));
    }
  }
  return code;
}

/** One binary rop on 32-bit values. */
export function rop2(rop: number, s: number, d: number): number {
  switch (rop) {
    case Rop.CLEAR: return 0;
    case Rop.AND: return (s & d) >>> 0;
    case Rop.AND_REVERSE: return (s & ~d) >>> 0;
    case Rop.COPY: return s >>> 0;
    case Rop.AND_INVERTED: return (~s & d) >>> 0;
    case Rop.NOOP: return d >>> 0;
    case Rop.XOR: return (s ^ d) >>> 0;
    case Rop.OR: return (s | d) >>> 0;
    case Rop.NOR: return ~(s | d) >>> 0;
    case Rop.EQUIV: return (~s ^ d) >>> 0;
    case Rop.INVERT: return ~d >>> 0;
    case Rop.OR_REVERSE: return (s | ~d) >>> 0;
    case Rop.COPY_INVERTED: return ~s >>> 0;
    case Rop.OR_INVERTED: return (~s | d) >>> 0;
    case Rop.NAND: return ~(s & d) >>> 0;
    default: return 0xffffffff;
  }
}

/** dst[doff+i] = rop(color, dst[doff+i]) for n pixels; the switch sits outside the loop. */
export function ropSolidRow(rop: number, dst: Uint32Array, doff: number, n: number, color: number): void {
  const end = doff + n;
  let i = doff;
  switch (rop) {
    case Rop.CLEAR: dst.fill(0, doff, end); return;
    case Rop.COPY: dst.fill(color >>> 0, doff, end); return;
    case Rop.COPY_INVERTED: dst.fill(~color >>> 0, doff, end); return;
    case Rop.SET: dst.fill(0xffffffff, doff, end); return;
    case Rop.NOOP: return;
    case Rop.AND: for (; i < end; i++) dst[i] &= color; return;
    case Rop.OR: for (; i < end; i++) dst[i] |= color; return;
    case Rop.XOR: for (; i < end; i++) dst[i] ^= color; return;
    case Rop.INVERT: for (; i < end; i++) dst[i] = ~dst[i]; return;
    default: for (; i < end; i++) dst[i] = rop2(rop, color, dst[i]); return;
  }
}

/** dst[doff+i] = rop(src[soff+i], dst[doff+i]); src and dst must not overlap unless rop is COPY. */
export function ropCopyRow(rop: number, dst: Uint32Array, doff: number, src: Uint32Array, soff: number, n: number): void {
  switch (rop) {
    case Rop.COPY:
      if (dst === src) dst.copyWithin(doff, soff, soff + n);
      else dst.set(src.subarray(soff, soff + n), doff);
      return;
    case Rop.NOOP: return;
    case Rop.CLEAR: dst.fill(0, doff, doff + n); return;
    case Rop.SET: dst.fill(0xffffffff, doff, doff + n); return;
    case Rop.AND: for (let i = 0; i < n; i++) dst[doff + i] &= src[soff + i]; return;
    case Rop.OR: for (let i = 0; i < n; i++) dst[doff + i] |= src[soff + i]; return;
    case Rop.XOR: for (let i = 0; i < n; i++) dst[doff + i] ^= src[soff + i]; return;
    case Rop.COPY_INVERTED: for (let i = 0; i < n; i++) dst[doff + i] = ~src[soff + i]; return;
    default: for (let i = 0; i < n; i++) dst[doff + i] = rop2(rop, src[soff + i], dst[doff + i]); return;
  }
}

/**
 * Ternary raster operation (Windows ROP3 numbering, as spice-common rop3.c):
 * the code's bit (p<<2 | s<<1 | d) is the result for that bit triple
 * (pattern 0xF0, source 0xCC, destination 0xAA).
 */
export function rop3(code: number, p: number, s: number, d: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) {
    if (!((code >> i) & 1)) continue;
    r |= (i & 4 ? p : ~p) & (i & 2 ? s : ~s) & (i & 1 ? d : ~d);
  }
  return r >>> 0;
}
