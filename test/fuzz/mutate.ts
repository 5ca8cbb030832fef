// Seeded mutations for the fuzzer: byte-level (bit flips, boundary values,
// length fields, truncation, duplication, splicing, insertion) and
// structure-level over decoded command trees (numbers, ids, byte payloads,
// list items). Everything is driven by one PRNG so a case index replays.

/** mulberry32: small, fast, good enough for fuzzing. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
}

/** Seed of case `index` of run `seed` (splitmix-style mixing). */
export function caseSeed(seed: number, index: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index >>> 0, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x7feb352d) >>> 0;
  z = Math.imul(z ^ (z >>> 15), 0x846ca68b) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Values that sit on the edges of u8/u16/u32/i32 fields and of our limits. */
export const BOUNDARY = [
  0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 127, 128, 255, 256, 1023, 1024, 4095, 4096, 16383, 16384, 16385, 32767, 32768, 65535, 65536,
  0x7fffff, 0xffffff, 0x1000000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, -1, -2, -16384, -65536, -0x80000000,
];

function writeInt(b: Uint8Array, at: number, size: 1 | 2 | 4, v: number, le: boolean): void {
  for (let k = 0; k < size && at + k < b.length; k++) {
    const shift = 8 * (le ? k : size - 1 - k);
    b[at + k] = Math.floor(v / 2 ** shift) & 0xff;
  }
}

export type ByteMutation = 'flip' | 'boundary' | 'length' | 'truncate' | 'duplicate' | 'splice' | 'insert' | 'delete' | 'random';
export const BYTE_MUTATIONS: ByteMutation[] = ['flip', 'boundary', 'length', 'truncate', 'duplicate', 'splice', 'insert', 'delete', 'random'];

/** One byte-level mutation of b (a new array); `donor` feeds splicing. */
export function mutateBytes(rng: Rng, b: Uint8Array, donor?: Uint8Array, kind: ByteMutation = rng.pick(BYTE_MUTATIONS)): Uint8Array {
  const n = b.length;
  const at = n ? rng.int(n) : 0;
  switch (kind) {
    case 'flip': {
      if (!n) return b.slice();
      const out = b.slice();
      const flips = 1 + rng.int(4);
      for (let i = 0; i < flips; i++) out[rng.int(n)] ^= 1 << rng.int(8);
      return out;
    }
    case 'boundary':
    case 'length': {
      if (!n) return b.slice();
      const out = b.slice();
      const size = rng.pick([1, 2, 4] as const);
      const le = rng.chance(0.8); // SPICE is little-endian; LZ/GLZ/LZ4 headers are big-endian
      // a length field: the current value nudged (off by one, doubled, huge) rather than replaced
      let v = rng.pick(BOUNDARY);
      if (kind === 'length') {
        let cur = 0;
        for (let k = 0; k < size && at + k < n; k++) cur += out[at + k] * 2 ** (8 * (le ? k : size - 1 - k));
        v = rng.pick([cur + 1, cur - 1, cur * 2, cur + 4096, Math.floor(cur / 2), 2 ** (8 * size) - 1 - cur, 0]);
      }
      writeInt(out, at, size, v, le);
      return out;
    }
    case 'truncate':
      return b.slice(0, rng.int(n + 1));
    case 'duplicate': {
      const len = 1 + rng.int(Math.max(1, Math.min(n - at, 256)));
      const chunk = b.subarray(at, at + len);
      const out = new Uint8Array(n + chunk.length);
      out.set(b.subarray(0, at + chunk.length));
      out.set(chunk, at + chunk.length);
      out.set(b.subarray(at + chunk.length), at + 2 * chunk.length);
      return out;
    }
    case 'splice': {
      const d = donor && donor.length ? donor : b;
      const ds = rng.int(d.length + 1);
      const de = ds + rng.int(d.length - ds + 1);
      const cut = at + rng.int(n - at + 1);
      const out = new Uint8Array(at + (de - ds) + (n - cut));
      out.set(b.subarray(0, at));
      out.set(d.subarray(ds, de), at);
      out.set(b.subarray(cut), at + (de - ds));
      return out;
    }
    case 'insert': {
      const len = 1 + rng.int(16);
      const out = new Uint8Array(n + len);
      out.set(b.subarray(0, at));
      for (let i = 0; i < len; i++) out[at + i] = rng.chance(0.5) ? rng.int(256) : rng.pick([0, 0xff]);
      out.set(b.subarray(at), at + len);
      return out;
    }
    case 'delete': {
      const len = 1 + rng.int(Math.max(1, Math.min(n - at, 64)));
      const out = new Uint8Array(Math.max(0, n - len));
      out.set(b.subarray(0, at));
      out.set(b.subarray(at + len), at);
      return out;
    }
    default: {
      const out = b.slice();
      const len = 1 + rng.int(8);
      for (let i = 0; i < len && at + i < n; i++) out[at + i] = rng.int(256);
      return out;
    }
  }
}

/** Several stacked byte mutations. */
export function mutateBytesN(rng: Rng, b: Uint8Array, donor?: Uint8Array): Uint8Array {
  let out = b;
  const k = 1 + rng.int(3);
  for (let i = 0; i < k; i++) out = mutateBytes(rng, out, donor);
  return out;
}

/** Random chunk boundaries for delivering a stream (1 to all bytes per chunk). */
export function chunkStream(rng: Rng, b: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  const mode = rng.int(4);
  for (let i = 0; i < b.length; ) {
    const len = mode === 0 ? b.length : mode === 1 ? 1 + rng.int(8) : mode === 2 ? 1 + rng.int(512) : 1 + rng.int(b.length);
    out.push(b.subarray(i, i + len));
    i += len;
  }
  return out;
}

type Leaf = { get(): unknown; set(v: unknown): void };

/** Every mutable leaf of a plain tree: numbers, bigints, byte arrays, arrays (as lists). */
function leaves(root: unknown): { nums: Leaf[]; bytes: Leaf[]; lists: unknown[][] } {
  const nums: Leaf[] = [];
  const bytes: Leaf[] = [];
  const lists: unknown[][] = [];
  const seen = new Set<unknown>();
  const walk = (o: unknown): void => {
    if (o === null || typeof o !== 'object' || seen.has(o)) return;
    seen.add(o);
    if (o instanceof Uint8Array || ArrayBuffer.isView(o)) return;
    const entries: [string | number, unknown][] = Array.isArray(o) ? o.map((v, i) => [i, v]) : Object.entries(o);
    if (Array.isArray(o)) lists.push(o);
    for (const [k, v] of entries) {
      const rec = o as Record<string | number, unknown>;
      const leaf: Leaf = { get: () => rec[k], set: (nv) => (rec[k] = nv) };
      if (typeof v === 'number' || typeof v === 'bigint') nums.push(leaf);
      else if (v instanceof Uint8Array) bytes.push(leaf);
      else walk(v);
    }
  };
  walk(root);
  return { nums, bytes, lists };
}

function mutateNumber(rng: Rng, v: number | bigint): number | bigint {
  if (typeof v === 'bigint') return BigInt.asUintN(64, rng.pick([0n, 1n, v + 1n, v - 1n, 0xffffffffffffffffn, BigInt(rng.int(8))]));
  switch (rng.int(5)) {
    case 0: return rng.pick(BOUNDARY);
    case 1: return v + rng.pick([1, -1, 2, -2, 16, -16]);
    case 2: return (v ^ (1 << rng.int(31))) | 0;
    case 3: return v * rng.pick([2, 4, 256, 65536]);
    default: return rng.int(1 << 16) - (1 << 15);
  }
}

/**
 * Mutates a deep copy of `tree` (a decoded message / command list) in place:
 * numbers and ids get boundary or nudged values, byte payloads get byte
 * mutations (spliced with `donor`'s payloads), list items are duplicated or dropped.
 */
export function mutateTree<T>(rng: Rng, tree: T, donor?: unknown): T {
  const copy = structuredClone(tree);
  const { nums, bytes, lists } = leaves(copy);
  const donorLeaves = donor === undefined ? null : leaves(structuredClone(donor));
  const k = 1 + rng.int(4);
  for (let i = 0; i < k; i++) {
    const what = rng.int(10);
    if (what < 4 && nums.length) {
      const l = rng.pick(nums);
      l.set(mutateNumber(rng, l.get() as number | bigint));
    } else if (what < 8 && bytes.length) {
      const l = rng.pick(bytes);
      const d = donorLeaves?.bytes.length ? (rng.pick(donorLeaves.bytes).get() as Uint8Array) : undefined;
      l.set(mutateBytes(rng, l.get() as Uint8Array, d));
    } else if (lists.length) {
      const list = rng.pick(lists);
      const at = rng.int(list.length + 1);
      // items are only duplicated or dropped: a donor's item could have a shape the wire never produces
      if (rng.chance(0.5) && list.length) list.splice(at, 0, structuredClone(list[rng.int(list.length)]));
      else list.splice(at, 1);
    }
  }
  return copy;
}
