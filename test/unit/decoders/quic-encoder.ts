// Test-only QUIC encoder, used to round-trip the decoder. It follows the
// structure of spice-common's quic_encode() (compress_row0_seg / compress_row_seg,
// encode(), flush(), encode_state_run(), update_model()) step by step with plain
// arrays, deliberately NOT sharing the decoder's fused single-loop layout, so a
// mistake in the decoder's restructuring shows up as a round-trip mismatch.
// Only the tabrand table is shared (its checksum is tested separately).
// During development its output was checked byte-identical to spice-common's
// own quic_encode() on 360 images (all five types, widths 1..4100), built
// locally and not kept. Simplicity over speed.

import { TABRAND_CHAOS } from '../../../renderer/display/decoders/quic';

export const QUIC_TYPE = { GRAY: 1, RGB16: 2, RGB24: 3, RGB32: 4, RGBA: 5 } as const;

const MAXCLEN = 26;
const WMIMAX = 6;
const WMINEXT = 2048;
const BESTTRIGTAB_EVOL3 = [110, 550, 900, 800, 550, 400, 350, 250, 140, 160, 140];
const J = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15];

const bppmask = (n: number): number => (n >= 32 ? 0xffffffff : (2 ** n - 1));

interface Fam {
  bpc: number;
  nGR: number[];
  notGRcwlen: number[];
  codeword: number[][]; // [n][l]
  codelen: number[][]; // [n][l]
  u2l: number[];
  bucketOf: number[]; // context value -> bucket
  nBuckets: number;
}

function ceilLog2(val: number): number {
  if (val === 1) return 0;
  let result = 1;
  val -= 1;
  while ((val >>= 1)) result++;
  return result;
}

function makeFamily(bpc: number): Fam {
  const nGR: number[] = [];
  const notGRcwlen: number[] = [];
  for (let l = 0; l < bpc; l++) {
    let altprefixlen = MAXCLEN - bpc;
    if (altprefixlen > bppmask(bpc - l)) altprefixlen = bppmask(bpc - l);
    const altcodewords = bppmask(bpc) + 1 - altprefixlen * 2 ** l;
    nGR[l] = altprefixlen * 2 ** l;
    notGRcwlen[l] = altprefixlen + ceilLog2(altcodewords);
  }
  const codeword: number[][] = [];
  const codelen: number[][] = [];
  for (let n = 0; n < 256; n++) {
    codeword[n] = [];
    codelen[n] = [];
    for (let l = 0; l < bpc; l++) {
      if (n < nGR[l]) {
        // (n >> l) zeroes, a one, then the low l bits of n
        codeword[n][l] = 2 ** l + (n % 2 ** l);
        codelen[n][l] = Math.floor(n / 2 ** l) + l + 1;
      } else {
        codeword[n][l] = n - nGR[l];
        codelen[n][l] = notGRcwlen[l];
      }
    }
  }
  const levels = 2 ** bpc;
  const u2l: number[] = [];
  for (let s = 0; s < levels; s++) u2l[s] = s <= (levels - 1) / 2 ? s * 2 : (levels - 1 - s) * 2 + 1;

  // fill_model_structures with DEFevol 3: repfirst 1, firstsize 1, repnext 1, mulsize 2
  const bucketOf: number[] = [];
  let bnumber = 0;
  let bend = 0;
  let repcntr = 1 + 1;
  let bsize = 1;
  do {
    const bstart = bnumber ? bend + 1 : 0;
    if (!--repcntr) {
      repcntr = 1;
      bsize *= 2;
    }
    bend = bstart + bsize - 1;
    if (bend + bsize >= levels) bend = levels - 1;
    for (let i = bstart; i <= bend; i++) bucketOf[i] = bnumber;
    bnumber++;
  } while (bend < levels - 1);
  return { bpc, nGR, notGRcwlen, codeword, codelen, u2l, bucketOf, nBuckets: bnumber };
}

const FAM8 = makeFamily(8);
const FAM5 = makeFamily(5);

class BitWriter {
  words: number[] = [];
  private ioWord = 0;
  private avail = 32;

  // encode(): append `len` (1..31) bits of `word`, MSB first
  encode(word: number, len: number): void {
    if (len <= 0 || len >= 32 || word < 0 || word > bppmask(len)) throw new Error(`encode(${word}, ${len})`);
    let delta = this.avail - len;
    if (delta >= 0) {
      this.avail = delta;
      this.ioWord = (this.ioWord + word * 2 ** this.avail) >>> 0;
      return;
    }
    delta = -delta;
    this.ioWord = (this.ioWord + Math.floor(word / 2 ** delta)) >>> 0;
    this.words.push(this.ioWord);
    this.avail = 32 - delta;
    this.ioWord = ((word * 2 ** this.avail) % 2 ** 32) >>> 0;
  }

  encode32(word: number): void {
    this.encode(Math.floor(word / 65536), 16);
    this.encode(word % 65536, 16);
  }

  encodeOnes(n: number): void {
    for (let c = n >> 5; c; c--) this.encode32(0xffffffff);
    if ((n &= 0x1f)) this.encode(bppmask(n), n);
  }

  // flush(): pad the current word, then 32 + 1 zero bits; the last partial word is never written
  flush(): void {
    if (this.avail > 0 && this.avail !== 32) this.encode(0, this.avail);
    this.encode32(0);
    this.encode(0, 1);
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.words.length * 4);
    this.words.forEach((w, i) => {
      out[i * 4] = w & 0xff;
      out[i * 4 + 1] = (w >>> 8) & 0xff;
      out[i * 4 + 2] = (w >>> 16) & 0xff;
      out[i * 4 + 3] = (w >>> 24) & 0xff;
    });
    return out;
  }
}

interface State {
  waitcnt: number;
  seed: number;
  wmidx: number;
  wmileft: number;
  wmTrigger: number;
  melcstate: number;
  melclen: number;
  melcorder: number;
}

function newState(): State {
  return { waitcnt: 0, seed: 0xff, wmidx: 0, wmileft: WMINEXT, wmTrigger: BESTTRIGTAB_EVOL3[0], melcstate: 0, melclen: J[0], melcorder: 2 ** J[0] };
}

function tabrand(st: State): number {
  st.seed++;
  return TABRAND_CHAOS[st.seed & 0xff];
}

interface Chan {
  counters: number[][]; // [bucket][code]
  bestcode: number[];
  correlate: number[]; // index -1 lives at key -1
}

function newChan(f: Fam): Chan {
  const counters: number[][] = [];
  for (let b = 0; b < f.nBuckets; b++) counters.push(new Array(8).fill(0));
  return { counters, bestcode: new Array(f.nBuckets).fill(f.bpc - 1), correlate: [] };
}

/** One group of channels coded together (r,g,b with one state, or a single channel). */
class Group {
  constructor(
    readonly f: Fam,
    readonly st: State,
    readonly chans: Chan[],
    readonly w: BitWriter,
  ) {}

  golomb(n: number, l: number): void {
    this.w.encode(this.f.codeword[n][l], this.f.codelen[n][l]);
  }

  bucket(c: Chan, val: number): number {
    return this.f.bucketOf[val & (2 ** this.f.bpc - 1)];
  }

  updateModel(c: Chan, bucket: number, curval: number): void {
    const pc = c.counters[bucket];
    const bpp = this.f.bpc;
    let bestcode = bpp - 1;
    let bestcodelen = (pc[bestcode] += this.f.codelen[curval][bestcode]);
    for (let i = bpp - 2; i >= 0; i--) {
      const ith = (pc[i] += this.f.codelen[curval][i]);
      if (ith < bestcodelen) {
        bestcode = i;
        bestcodelen = ith;
      }
    }
    c.bestcode[bucket] = bestcode;
    if (bestcodelen > this.st.wmTrigger) for (let i = 0; i < bpp; i++) pc[i] >>>= 1;
  }

  updateAll(index: number): void {
    for (const c of this.chans) this.updateModel(c, this.bucket(c, c.correlate[index - 1]), c.correlate[index]);
  }

  code(c: Chan, index: number, value: number): void {
    c.correlate[index] = value;
    this.golomb(value, c.bestcode[this.bucket(c, c.correlate[index - 1])]);
  }

  setWmTrigger(): void {
    this.st.wmTrigger = BESTTRIGTAB_EVOL3[Math.min(this.st.wmidx, 10)];
  }

  encodeRun(runlen: number): void {
    const st = this.st;
    let hits = 0;
    while (runlen >= st.melcorder) {
      hits++;
      runlen -= st.melcorder;
      if (st.melcstate < 31) {
        st.melclen = J[++st.melcstate];
        st.melcorder = 2 ** st.melclen;
      }
    }
    this.w.encodeOnes(hits);
    this.w.encode(runlen, st.melclen + 1);
    if (st.melcstate) {
      st.melclen = J[--st.melcstate];
      st.melcorder = 2 ** st.melclen;
    }
  }

  // cur[c][i]: channel c value of pixel i
  row0Seg(i: number, cur: number[][], end: number, waitmask: number): void {
    const st = this.st;
    const m = 2 ** this.f.bpc - 1;
    const one0 = (): void => this.chans.forEach((c, k) => this.code(c, 0, this.f.u2l[cur[k][0]]));
    const one = (idx: number): void =>
      this.chans.forEach((c, k) => this.code(c, idx, this.f.u2l[(cur[k][idx] - cur[k][idx - 1]) & m]));
    let stopidx: number;
    if (i === 0) {
      one0();
      if (st.waitcnt) st.waitcnt--;
      else {
        st.waitcnt = tabrand(st) & waitmask;
        this.updateAll(0);
      }
      stopidx = ++i + st.waitcnt;
    } else {
      stopidx = i + st.waitcnt;
    }
    while (stopidx < end) {
      for (; i <= stopidx; i++) one(i);
      this.updateAll(stopidx);
      stopidx = i + (tabrand(st) & waitmask);
    }
    for (; i < end; i++) one(i);
    st.waitcnt = stopidx - end;
  }

  rowSeg(i: number, prev: number[][], cur: number[][], end: number, waitmask: number): void {
    const st = this.st;
    const m = 2 ** this.f.bpc - 1;
    const same = (ra: number[][], x: number, rb: number[][], y: number): boolean => ra.every((ch, k) => ch[x] === rb[k][y]);
    const one0 = (): void => this.chans.forEach((c, k) => this.code(c, 0, this.f.u2l[(cur[k][0] - prev[k][0]) & m]));
    const one = (idx: number): void =>
      this.chans.forEach((c, k) =>
        this.code(c, idx, this.f.u2l[(cur[k][idx] - ((cur[k][idx - 1] + prev[k][idx]) >> 1)) & m]),
      );
    let stopidx: number;
    let runIndex = 0;
    if (i === 0) {
      one0();
      if (st.waitcnt) st.waitcnt--;
      else {
        st.waitcnt = tabrand(st) & waitmask;
        this.updateAll(0);
      }
      stopidx = ++i + st.waitcnt;
    } else {
      stopidx = i + st.waitcnt;
    }
    // The C code jumps (goto do_run) from inside the loops; this flag-driven loop does the same.
    for (;;) {
      let runAt = -1;
      outer: {
        while (stopidx < end) {
          for (; i <= stopidx; i++) {
            if (same(prev, i - 1, prev, i) && runIndex !== i && i > 2 && same(cur, i - 1, cur, i - 2)) {
              runAt = i;
              break outer;
            }
            one(i);
          }
          this.updateAll(stopidx);
          stopidx = i + (tabrand(st) & waitmask);
        }
        for (; i < end; i++) {
          if (same(prev, i - 1, prev, i) && runIndex !== i && i > 2 && same(cur, i - 1, cur, i - 2)) {
            runAt = i;
            break outer;
          }
          one(i);
        }
        st.waitcnt = stopidx - end;
        return;
      }
      // do_run:
      runIndex = runAt;
      st.waitcnt = stopidx - i;
      let runSize = 0;
      while (same(cur, i, cur, i - 1)) {
        runSize++;
        if (++i === end) {
          this.encodeRun(runSize);
          return;
        }
      }
      this.encodeRun(runSize);
      stopidx = i + st.waitcnt;
    }
  }

  /** compress_row0 / compress_row: cut the row where the wait mask widens. */
  row(prev: number[][] | null, cur: number[][], width: number): void {
    const st = this.st;
    for (const c of this.chans) c.correlate[-1] = prev ? c.correlate[0] : 0;
    let pos = 0;
    while (WMIMAX > st.wmidx && st.wmileft <= width) {
      if (st.wmileft) {
        if (prev) this.rowSeg(pos, prev, cur, pos + st.wmileft, bppmask(st.wmidx));
        else this.row0Seg(pos, cur, pos + st.wmileft, bppmask(st.wmidx));
        width -= st.wmileft;
        pos += st.wmileft;
      }
      st.wmidx++;
      this.setWmTrigger();
      st.wmileft = WMINEXT;
    }
    if (width) {
      if (prev) this.rowSeg(pos, prev, cur, pos + width, bppmask(st.wmidx));
      else this.row0Seg(pos, cur, pos + width, bppmask(st.wmidx));
      if (WMIMAX > st.wmidx) st.wmileft -= width;
    }
  }
}

/**
 * Encodes `pixels` (0xAARRGGBB, top-down) as a QUIC stream of `type`.
 * RGB16 codes the top 5 bits of each of r, g, b; GRAY codes the blue byte.
 */
export function encodeQuic(type: number, width: number, height: number, pixels: Uint32Array): Uint8Array {
  const w = new BitWriter();
  w.encode32(0x43495551);
  w.encode32(0);
  w.encode32(type);
  w.encode32(width);
  w.encode32(height);

  const f = type === QUIC_TYPE.RGB16 ? FAM5 : FAM8;
  const drop = type === QUIC_TYPE.RGB16 ? 3 : 0;
  const rowPlanes = (y: number): { rgb: number[][]; a: number[][]; gray: number[][] } => {
    const r: number[] = [];
    const g: number[] = [];
    const b: number[] = [];
    const a: number[] = [];
    for (let x = 0; x < width; x++) {
      const p = pixels[y * width + x];
      r.push(((p >>> 16) & 0xff) >> drop);
      g.push(((p >>> 8) & 0xff) >> drop);
      b.push((p & 0xff) >> drop);
      a.push(p >>> 24);
    }
    return { rgb: [r, g, b], a: [a], gray: [b] };
  };

  if (type === QUIC_TYPE.GRAY) {
    const grp = new Group(f, newState(), [newChan(f)], w);
    let prev: number[][] | null = null;
    for (let y = 0; y < height; y++) {
      const cur = rowPlanes(y).gray;
      grp.row(prev, cur, width);
      prev = cur;
    }
  } else {
    const rgb = new Group(f, newState(), [newChan(f), newChan(f), newChan(f)], w);
    const alpha = type === QUIC_TYPE.RGBA ? new Group(f, newState(), [newChan(f)], w) : null;
    let prev: { rgb: number[][]; a: number[][] } | null = null;
    for (let y = 0; y < height; y++) {
      const cur = rowPlanes(y);
      rgb.row(prev ? prev.rgb : null, cur.rgb, width);
      if (alpha) alpha.row(prev ? prev.a : null, cur.a, width);
      prev = cur;
    }
  }
  w.flush();
  return w.bytes();
}

/** What the decoder must output for `pixels` encoded as `type`. */
export function expectedPixels(type: number, pixels: Uint32Array): Uint32Array {
  const out = new Uint32Array(pixels.length);
  const widen = (v: number): number => ((v << 3) | (v >> 2)) & 0xff;
  for (let k = 0; k < pixels.length; k++) {
    const p = pixels[k];
    let v: number;
    switch (type) {
      case QUIC_TYPE.GRAY:
        v = 0xff000000 | ((p & 0xff) * 0x010101);
        break;
      case QUIC_TYPE.RGB16:
        v = 0xff000000 | (widen((p >>> 19) & 0x1f) << 16) | (widen((p >>> 11) & 0x1f) << 8) | widen((p >>> 3) & 0x1f);
        break;
      case QUIC_TYPE.RGBA:
        v = p;
        break;
      default:
        v = 0xff000000 | (p & 0xffffff);
    }
    out[k] = v >>> 0;
  }
  return out;
}

/** Deterministic xorshift32 for test and bench images. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}
