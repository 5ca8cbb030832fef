// Pure TypeScript inflate (RFC 1951 deflate, inside an RFC 1950 zlib wrapper
// when one is present) for ZLIB_GLZ_RGB. spice-server's zlib encoder calls
// deflateInit (zlib header, adler32 trailer, no preset dictionary) and
// finishes each image as one stream; the decoded size is known up front
// (glz_data_size), so the output is allocated once and never grows.
import { decodeError } from './bitmap';

/** Largest output accepted (a GLZ stream of the biggest image stays far below). */
const MAX_INFLATE_SIZE = 1 << 30;
/** Deflate cannot expand data by more than ~1032:1. */
const MAX_RATIO = 1032;

const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [
  1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CLEN_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** Single-level lookup table: entry = symbol << 4 | code length; 0 = no code. */
interface Huffman {
  table: Int32Array;
  bits: number;
}

function buildHuffman(lengths: Uint8Array, n: number): Huffman {
  const count = new Int32Array(16);
  let maxLen = 0;
  for (let i = 0; i < n; i++) {
    count[lengths[i]]++;
    if (lengths[i] > maxLen) maxLen = lengths[i];
  }
  count[0] = 0;
  // Over-subscribed code sets are invalid; incomplete ones just leave holes.
  let left = 1;
  for (let l = 1; l <= 15; l++) {
    left = (left << 1) - count[l];
    if (left < 0) decodeError('inflate: over-subscribed Huffman code');
  }
  const bits = Math.max(maxLen, 1);
  const table = new Int32Array(1 << bits);
  const next = new Int32Array(16);
  for (let l = 1, code = 0; l <= 15; l++) {
    code = (code + count[l - 1]) << 1;
    next[l] = code;
  }
  for (let sym = 0; sym < n; sym++) {
    const len = lengths[sym];
    if (len === 0) continue;
    const code = next[len]++;
    let rev = 0;
    for (let i = 0; i < len; i++) rev |= ((code >>> i) & 1) << (len - 1 - i);
    const entry = (sym << 4) | len;
    for (let k = rev; k < 1 << bits; k += 1 << len) table[k] = entry;
  }
  return { table, bits };
}

function adler32(d: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < d.length; ) {
    const stop = Math.min(d.length, i + 5552);
    for (; i < stop; i++) {
      a += d[i];
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** LSB-first bit reader over the compressed bytes. */
class Bits {
  pos: number;
  bb = 0;
  bc = 0;
  constructor(
    readonly src: Uint8Array,
    start: number,
  ) {
    this.pos = start;
  }
  refill(): void {
    const src = this.src;
    while (this.bc <= 24 && this.pos < src.length) {
      this.bb |= src[this.pos++] << this.bc;
      this.bc += 8;
    }
  }
  get(n: number): number {
    if (n === 0) return 0;
    if (this.bc < n) {
      this.refill();
      if (this.bc < n) decodeError('inflate: stream truncated');
    }
    const v = this.bb & ((1 << n) - 1);
    this.bb >>>= n;
    this.bc -= n;
    return v;
  }
  sym(h: Huffman): number {
    if (this.bc < h.bits) this.refill();
    const e = h.table[this.bb & ((1 << h.bits) - 1)];
    const len = e & 15;
    if (len === 0 || len > this.bc) decodeError(len === 0 ? 'inflate: invalid Huffman code' : 'inflate: stream truncated');
    this.bb >>>= len;
    this.bc -= len;
    return e >>> 4;
  }
  /** Drops the bits of a partial byte and returns unread whole bytes to the stream. */
  alignToByte(): void {
    this.pos -= this.bc >>> 3;
    this.bb = 0;
    this.bc = 0;
  }
}

function fixedTables(): [Huffman, Huffman] {
  const l = new Uint8Array(288);
  l.fill(8, 0, 144);
  l.fill(9, 144, 256);
  l.fill(7, 256, 280);
  l.fill(8, 280, 288);
  const d = new Uint8Array(30).fill(5);
  return [buildHuffman(l, 288), buildHuffman(d, 30)];
}

function dynamicTables(br: Bits): [Huffman, Huffman] {
  const hlit = br.get(5) + 257;
  const hdist = br.get(5) + 1;
  const hclen = br.get(4) + 4;
  if (hlit > 286 || hdist > 30) decodeError('inflate: bad dynamic block header');
  const clen = new Uint8Array(19);
  for (let i = 0; i < hclen; i++) clen[CLEN_ORDER[i]] = br.get(3);
  const ch = buildHuffman(clen, 19);
  const lens = new Uint8Array(hlit + hdist);
  for (let i = 0; i < hlit + hdist; ) {
    const s = br.sym(ch);
    if (s < 16) {
      lens[i++] = s;
      continue;
    }
    let rep: number;
    let v = 0;
    if (s === 16) {
      if (i === 0) decodeError('inflate: repeat with no previous length');
      v = lens[i - 1];
      rep = 3 + br.get(2);
    } else if (s === 17) {
      rep = 3 + br.get(3);
    } else {
      rep = 11 + br.get(7);
    }
    if (i + rep > hlit + hdist) decodeError('inflate: code lengths overflow');
    lens.fill(v, i, i + rep);
    i += rep;
  }
  if (lens[256] === 0) decodeError('inflate: no end-of-block code');
  return [buildHuffman(lens.subarray(0, hlit), hlit), buildHuffman(lens.subarray(hlit), hdist)];
}

/**
 * Inflates a zlib (or raw deflate) stream to exactly expectedSize bytes.
 * Throws SpiceError('DECODE') on malformed, truncated or mis-sized input.
 */
export function inflate(data: Uint8Array, expectedSize: number): Uint8Array {
  if (!Number.isInteger(expectedSize) || expectedSize < 0 || expectedSize > MAX_INFLATE_SIZE) {
    decodeError(`inflate: bad expected size ${expectedSize}`);
  }
  if (expectedSize > data.length * MAX_RATIO + 64) decodeError(`inflate: ${expectedSize} bytes cannot come from ${data.length}`);
  let start = 0;
  const zlib = data.length >= 2 && (data[0] & 0x0f) === 8 && data[0] >>> 4 <= 7 && ((data[0] << 8) | data[1]) % 31 === 0;
  if (zlib) {
    if (data[1] & 0x20) decodeError('inflate: preset dictionary not supported');
    start = 2;
  }
  const out = new Uint8Array(expectedSize);
  const br = new Bits(data, start);
  let op = 0;
  let final = 0;
  while (!final) {
    final = br.get(1);
    const btype = br.get(2);
    if (btype === 0) {
      br.alignToByte();
      const p = br.pos;
      if (p + 4 > data.length) decodeError('inflate: stream truncated');
      const len = data[p] | (data[p + 1] << 8);
      const nlen = data[p + 2] | (data[p + 3] << 8);
      if ((len ^ 0xffff) !== nlen) decodeError('inflate: stored block length mismatch');
      if (p + 4 + len > data.length) decodeError('inflate: stream truncated');
      if (op + len > expectedSize) decodeError('inflate: output exceeds expected size');
      out.set(data.subarray(p + 4, p + 4 + len), op);
      op += len;
      br.pos = p + 4 + len;
      continue;
    }
    if (btype === 3) decodeError('inflate: invalid block type');
    const [lt, dt] = btype === 1 ? fixedTables() : dynamicTables(br);
    for (;;) {
      const sym = br.sym(lt);
      if (sym < 256) {
        if (op >= expectedSize) decodeError('inflate: output exceeds expected size');
        out[op++] = sym;
        continue;
      }
      if (sym === 256) break;
      const li = sym - 257;
      if (li >= 29) decodeError('inflate: invalid length symbol');
      const len = LEN_BASE[li] + br.get(LEN_EXTRA[li]);
      const ds = br.sym(dt);
      if (ds >= 30) decodeError('inflate: invalid distance symbol');
      const dist = DIST_BASE[ds] + br.get(DIST_EXTRA[ds]);
      if (dist > op) decodeError('inflate: distance before output start');
      if (op + len > expectedSize) decodeError('inflate: output exceeds expected size');
      let r = op - dist;
      const stop = op + len;
      if (dist >= len && len > 32) {
        out.copyWithin(op, r, r + len);
        op = stop;
      } else {
        while (op < stop) out[op++] = out[r++];
      }
    }
  }
  if (op !== expectedSize) decodeError(`inflate: ${op} bytes, expected ${expectedSize}`);
  if (zlib) {
    br.alignToByte();
    const p = br.pos;
    if (p + 4 > data.length) decodeError('inflate: adler32 trailer truncated');
    const want = ((data[p] << 24) | (data[p + 1] << 16) | (data[p + 2] << 8) | data[p + 3]) >>> 0;
    if (adler32(out) !== want) decodeError('inflate: adler32 mismatch');
  }
  return out;
}
