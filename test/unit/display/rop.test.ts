// ROP descriptor → binary rop mapping and the ternary rop3 codes, checked
// against independent formulas written here (not the code under test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ropd } from '../../../main/spice/protocol/enums';
import { Rop, RopInput, rop2, rop3, ropdToRop } from '../../../renderer/display/rop';

const S = 0x0ff0a53c;
const D = 0x3366cc99;
const P = 0x5a5af00f;

test('ropdToRop matches the boolean formula for every op × inversion combination', () => {
  const ops: [number, (s: number, d: number) => number][] = [
    [Ropd.OP_PUT, (s) => s],
    [Ropd.OP_OR, (s, d) => s | d],
    [Ropd.OP_AND, (s, d) => s & d],
    [Ropd.OP_XOR, (s, d) => s ^ d],
  ];
  for (const [opBit, f] of ops) {
    for (let inv = 0; inv < 8; inv++) {
      const invS = (inv & 1) !== 0;
      const invD = (inv & 2) !== 0;
      const invR = (inv & 4) !== 0;
      const desc = opBit | (invS ? Ropd.INVERS_SRC : 0) | (invD ? Ropd.INVERS_DEST : 0) | (invR ? Ropd.INVERS_RES : 0);
      let want = f(invS ? ~S : S, invD ? ~D : D);
      if (invR) want = ~want;
      const rop = ropdToRop(desc, RopInput.SRC, RopInput.DEST);
      assert.equal(rop2(rop, S, D), want >>> 0, `desc 0x${desc.toString(16)}`);
    }
  }
});

test('ropdToRop: named entries of canvas_base.c and operand mapping', () => {
  // !(!src or dest) = src and !dest
  assert.equal(ropdToRop(Ropd.OP_OR | Ropd.INVERS_RES | Ropd.INVERS_SRC, RopInput.SRC, RopInput.DEST), Rop.AND_REVERSE);
  // !src xor !dest == src xor dest
  assert.equal(ropdToRop(Ropd.OP_XOR | Ropd.INVERS_SRC | Ropd.INVERS_DEST, RopInput.SRC, RopInput.DEST), Rop.XOR);
  assert.equal(ropdToRop(Ropd.OP_PUT | Ropd.INVERS_SRC | Ropd.INVERS_RES, RopInput.SRC, RopInput.DEST), Rop.COPY);
  assert.equal(ropdToRop(Ropd.OP_PUT | Ropd.INVERS_DEST, RopInput.SRC, RopInput.DEST), Rop.COPY);
  // BLACKNESS / WHITENESS / INVERS ignore the inversion bits; no op bit = COPY.
  assert.equal(ropdToRop(Ropd.OP_BLACKNESS | Ropd.INVERS_RES, RopInput.SRC, RopInput.DEST), Rop.CLEAR);
  assert.equal(ropdToRop(Ropd.OP_WHITENESS | Ropd.INVERS_RES, RopInput.SRC, RopInput.DEST), Rop.SET);
  assert.equal(ropdToRop(Ropd.OP_INVERS | Ropd.INVERS_SRC, RopInput.SRC, RopInput.DEST), Rop.INVERT);
  assert.equal(ropdToRop(Ropd.INVERS_RES, RopInput.SRC, RopInput.DEST), Rop.COPY);
  // Precedence PUT > OR > AND > XOR.
  assert.equal(ropdToRop(Ropd.OP_OR | Ropd.OP_XOR, RopInput.SRC, RopInput.DEST), Rop.OR);
  // For fills the brush is "src": INVERS_BRUSH inverts it, INVERS_SRC is meaningless.
  assert.equal(ropdToRop(Ropd.OP_PUT | Ropd.INVERS_BRUSH, RopInput.BRUSH, RopInput.DEST), Rop.COPY_INVERTED);
  assert.equal(ropdToRop(Ropd.OP_PUT | Ropd.INVERS_SRC, RopInput.BRUSH, RopInput.DEST), Rop.COPY);
  // For opaque the source image plays "dest": INVERS_SRC inverts it.
  assert.equal(ropdToRop(Ropd.OP_AND | Ropd.INVERS_SRC, RopInput.BRUSH, RopInput.SRC), Rop.AND_REVERSE);
});

test('rop2: the 16 binary rops on 32-bit values', () => {
  const want = [0, S & D, S & ~D, S, ~S & D, D, S ^ D, S | D, ~(S | D), ~S ^ D, ~D, S | ~D, ~S, ~S | D, ~(S & D), -1];
  for (let r = 0; r < 16; r++) assert.equal(rop2(r, S, D), want[r] >>> 0, `rop ${r}`);
});

/** Bit-by-bit truth-table evaluation (the definition of a ROP3 code). */
function rop3Reference(code: number, p: number, s: number, d: number): number {
  let r = 0;
  for (let b = 0; b < 32; b++) {
    const idx = (((p >>> b) & 1) << 2) | (((s >>> b) & 1) << 1) | ((d >>> b) & 1);
    if ((code >> idx) & 1) r |= 1 << b;
  }
  return r >>> 0;
}

test('rop3: named codes and the truth-table definition', () => {
  const named: [number, number][] = [
    [0x00, 0],
    [0xff, 0xffffffff],
    [0xcc, S], // SRCCOPY
    [0x33, ~S], // NOTSRCCOPY
    [0x66, S ^ D], // SRCINVERT
    [0x88, S & D], // SRCAND
    [0xee, S | D], // SRCPAINT
    [0xf0, P], // PATCOPY
    [0x5a, P ^ D], // PATINVERT
    [0x55, ~D], // DSTINVERT
    [0xaa, D],
    [0xb8, ((D ^ P) & S) ^ P], // PSDPxax
    [0xe2, ((P ^ D) & S) ^ D], // DSPDxax
    [0xc0, P & S], // MERGECOPY
    [0xbb, ~S | D], // MERGEPAINT
    [0x1e, (D | S) ^ P], // PDSox
  ];
  for (const [code, want] of named) assert.equal(rop3(code, P, S, D), want >>> 0, `code 0x${code.toString(16)}`);
  for (let code = 0; code < 256; code++) assert.equal(rop3(code, P, S, D), rop3Reference(code, P, S, D), `code 0x${code.toString(16)}`);
  // The canonical operand bytes reproduce the code itself.
  for (let code = 0; code < 256; code++) assert.equal(rop3(code, 0xf0, 0xcc, 0xaa) & 0xff, code);
});
