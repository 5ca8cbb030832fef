// Shared test plumbing for the LZ-family decoder tests: image wrappers, a
// palette cache, independent pixel conversions and error assertions.
import assert from 'node:assert/strict';
import type { ImageData_, SpiceImage } from '../../../preload/contract';
import type { DecodeContext, PaletteLookup } from '../../../renderer/display/types';
import { SpiceError } from '../../../main/spice/wire/errors';

export function makeCtx(): DecodeContext & { map: Map<bigint, Uint32Array> } {
  const map = new Map<bigint, Uint32Array>();
  const palettes: PaletteLookup = {
    get: (id) => map.get(id),
    put: (id, ents) => void map.set(id, ents),
  };
  return { palettes, map };
}

export function img(type: number, width: number, height: number, data: ImageData_, id = 1n): SpiceImage {
  return { descriptor: { id, type, flags: 0, width, height }, data };
}

/** 5-bit channel widened by bit replication (independent of the decoder's helper). */
export function expand555(v: number): number {
  const c = (s: number) => {
    const x = (v >> s) & 31;
    return (x << 3) | (x >> 2);
  };
  return (0xff000000 + c(10) * 65536 + c(5) * 256 + c(0)) >>> 0;
}

export function assertDecodeError(fn: () => unknown, msg?: string): void {
  assert.throws(fn, (e: unknown) => e instanceof SpiceError && e.code === 'DECODE', msg);
}

/** Runs fn; passes when it returns or throws SpiceError('DECODE') — anything else fails. */
export function decodesOrRejects(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof SpiceError && e.code === 'DECODE') return false;
    throw e;
  }
}

export function eqPixels(actual: Uint32Array, expected: Uint32Array, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      assert.fail(`${what}: pixel ${i} is 0x${actual[i].toString(16)}, expected 0x${expected[i].toString(16)}`);
    }
  }
}
