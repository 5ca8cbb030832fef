// QUIC image decoder (SPICE_IMAGE_TYPE_QUIC). Owns parsing and decoding of the
// stream spice-server's quic_encode() emits: five u32 header words (magic
// "QUIC", version, image type, width, height) followed by an MSB-first
// bitstream packed in little-endian u32 words. The bitstream is SFALIC-style
// adaptive Golomb-Rice coding of prediction residuals with per-channel context
// buckets, plus MELCODE run lengths for pixels repeating their left neighbour.
// Output matches spice-common's quic_decode() bit for bit (RGB16 is widened the
// way its RGB16_TO_32 path does).
//
// Speed: the row decoders hold the bit reader, the wait-mask state, the last
// two pixels and each channel's context in locals, look the Golomb code up per
// context value (kept in step with the buckets by updateModel), write packed
// pixels directly and read the previous row back from the output, so nothing
// is allocated per pixel or per row.
//
// wasm/quic.c is a line-for-line C port of the row decoders below, compiled
// to WebAssembly (scripts/build-wasm.mjs) and 1.3-2.5x faster: decodeQuic
// uses it wherever WebAssembly can be instantiated, this JS elsewhere. A
// change to the algorithm goes into both (quic-wasm.test.ts compares them).

import { SpiceError } from '../../../preload/spice-errors';
import type { SpiceImage } from '../../../preload/contract';
import { MAX_IMAGE_PIXELS, type DecodeContext, type DecodedImage, type ImageDecoder } from '../types';
import { QUIC_WASM_BASE64 } from './wasm/quic-wasm';

/** ASCII "QUIC" read as a little-endian u32. */
export const QUIC_MAGIC = 0x43495551;
/** (major 0 << 16) | minor 0: the only version spice-common writes or accepts. */
export const QUIC_VERSION = 0;

/** QuicImageType from spice-common quic.h. */
export const QuicImageType = {
  INVALID: 0,
  GRAY: 1,
  RGB16: 2,
  RGB24: 3,
  RGB32: 4,
  RGBA: 5,
} as const;

/** Codeword length limit (DEFmaxclen). */
const DEF_MAXCLEN = 26;
/** Final wait-mask index (DEFwmimax) and symbols per wait-mask step (DEFwminext). */
const DEF_WMIMAX = 6;
const DEF_WMINEXT = 2048;
/** besttrigtab row for DEFevol = 3, indexed by wait-mask index (never above DEF_WMIMAX). */
const WM_TRIGGER = Int32Array.of(110, 550, 900, 800, 550, 400, 350);
/** MELCODE state → remainder length (J[] in quic.c). */
const MELC_J = Int32Array.of(
  0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15,
);
const MELC_LAST_STATE = 31;
/** Every counter array is laid out with this stride (MAXNUMCODES). */
const NCOUNTERS = 8;

/** tabrand_chaos[]: pseudo-random wait counts shared by encoder and decoder. */
export const TABRAND_CHAOS = Uint32Array.of(
  0x02c57542, 0x35427717, 0x2f5a2153, 0x9244f155, 0x7bd26d07, 0x354c6052, 0x57329b28, 0x2993868e,
  0x6cd8808c, 0x147b46e0, 0x99db66af, 0xe32b4cac, 0x1b671264, 0x9d433486, 0x62a4c192, 0x06089a4b,
  0x9e3dce44, 0xdaabee13, 0x222425ea, 0xa46f331d, 0xcd589250, 0x8bb81d7f, 0xc8b736b9, 0x35948d33,
  0xd7ac7fd0, 0x5fbe2803, 0x2cfbc105, 0x013dbc4e, 0x7a37820f, 0x39f88e9e, 0xedd58794, 0xc5076689,
  0xfcada5a4, 0x64c2f46d, 0xb3ba3243, 0x8974b4f9, 0x5a05aebd, 0x20afcd00, 0x39e2b008, 0x88a18a45,
  0x600bde29, 0xf3971ace, 0xf37b0a6b, 0x7041495b, 0x70b707ab, 0x06beffbb, 0x4206051f, 0xe13c4ee3,
  0xc1a78327, 0x91aa067c, 0x8295f72a, 0x732917a6, 0x1d871b4d, 0x4048f136, 0xf1840e7e, 0x6a6048c1,
  0x696cb71a, 0x7ff501c3, 0x0fc6310b, 0x57e0f83d, 0x8cc26e74, 0x11a525a2, 0x946934c7, 0x7cd888f0,
  0x8f9d8604, 0x4f86e73b, 0x04520316, 0xdeeea20c, 0xf1def496, 0x67687288, 0xf540c5b2, 0x22401484,
  0x3478658a, 0xc2385746, 0x01979c2c, 0x5dad73c8, 0x0321f58b, 0xf0fedbee, 0x92826ddf, 0x284bec73,
  0x5b1a1975, 0x03df1e11, 0x20963e01, 0xa17cf12b, 0x740d776e, 0xa7a6bf3c, 0x01b5cce4, 0x1118aa76,
  0xfc6fac0a, 0xce927e9b, 0x00bf2567, 0x806f216c, 0xbca69056, 0x795bd3e9, 0xc9dc4557, 0x8929b6c2,
  0x789d52ec, 0x3f3fbf40, 0xb9197368, 0xa38c15b5, 0xc3b44fa8, 0xca8333b0, 0xb7e8d590, 0xbe807feb,
  0xbf5f8360, 0xd99e2f5c, 0x372928e1, 0x7c757c4c, 0x0db5b154, 0xc01ede02, 0x1fc86e78, 0x1f3985be,
  0xb4805c77, 0x00c880fa, 0x974c1b12, 0x35ab0214, 0xb2dc840d, 0x5b00ae37, 0xd313b026, 0xb260969d,
  0x7f4c8879, 0x1734c4d3, 0x49068631, 0xb9f6a021, 0x6b863e6f, 0xcee5debf, 0x29f8c9fb, 0x53dd6880,
  0x72b61223, 0x1f67a9fd, 0x0a0f6993, 0x13e59119, 0x11cca12e, 0xfe6b6766, 0x16b6effc, 0x97918fc4,
  0xc2b8a563, 0x94f2f741, 0x0bfa8c9a, 0xd1537ae8, 0xc1da349c, 0x873c60ca, 0x95005b85, 0x9b5c080e,
  0xbc8abbd9, 0xe1eab1d2, 0x6dac9070, 0x4ea9ebf1, 0xe0cf30d4, 0x1ef5bd7b, 0xd161043e, 0x5d2fa2e2,
  0xff5d3cae, 0x86ed9f87, 0x2aa1daa1, 0xbd731a34, 0x9e8f4b22, 0xb1c2c67a, 0xc21758c9, 0xa182215d,
  0xccb01948, 0x8d168df7, 0x04238cfe, 0x368c3dbc, 0x0aeadca5, 0xbad21c24, 0x0a71fee5, 0x9fc5d872,
  0x54c152c6, 0xfc329483, 0x6783384a, 0xeddb3e1c, 0x65f90e30, 0x884ad098, 0xce81675a, 0x4b372f7d,
  0x68bf9a39, 0x43445f1e, 0x40f8d8cb, 0x90d5acb6, 0x4cd07282, 0x349eeb06, 0x0c9d5332, 0x520b24ef,
  0x80020447, 0x67976491, 0x2f931ca3, 0xfe9b0535, 0xfcd30220, 0x61a9e6cc, 0xa487d8d7, 0x3f7c5dd1,
  0x7d0127c5, 0x48f51d15, 0x60dea871, 0xc9a91cb7, 0x58b53bb3, 0x9d5e0b2d, 0x624a78b4, 0x30dbee1b,
  0x9bdf22e7, 0x1df5c299, 0x2d5643a7, 0xf4dd35ff, 0x03ca8fd6, 0x53b47ed8, 0x6f2c19aa, 0xfeb0c1f4,
  0x49e54438, 0x2f2577e6, 0xbf876969, 0x72440ea9, 0xfa0bafb8, 0x74f5b3a0, 0x7dd357cd, 0x89ce1358,
  0x6ef2cdda, 0x1e7767f3, 0xa6be9fdb, 0x4f5f88f8, 0xba994a3a, 0x08ca6b65, 0xe0893818, 0x9e00a16a,
  0xf42bfc8f, 0x9972eedc, 0x749c8b51, 0x32c05f5e, 0xd706805f, 0x6bfbb7cf, 0xd9210a10, 0x31a1db97,
  0x923a9559, 0x37a7a1f6, 0x059f8861, 0xca493e62, 0x65157e81, 0x8f6467dd, 0xab85ff9f, 0x9331aff2,
  0x8616b9f5, 0xedbd5695, 0xee7e29b1, 0x313ac44f, 0xb903112f, 0x432ef649, 0xdc0a36c0, 0x61cf2bba,
  0x81474925, 0xa8b6c7ad, 0xee5931de, 0xb2f8158d, 0x59fb7409, 0x2e3dfaed, 0x9af25a3f, 0xe1fed4d5,
);

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Code tables of one bits-per-channel family (8 for RGB24/32/RGBA/GRAY, 5 for RGB16). */
interface Family {
  bpc: number;
  /** Largest channel value. */
  mask: number;
  /** 8 - bpc: where the channel value sits inside an output byte. */
  drop: number;
  /** Per code l: a codeword with fewer leading zeroes than this is plain Golomb-Rice. */
  altPrefixLen: Int32Array;
  /** Per code l: (1 << l) - 1. */
  grMask: Int32Array;
  /** Per code l: number of unmodified GR codewords. */
  nGRcodewords: Int32Array;
  notGRcwlen: Int32Array;
  notGRsuffixMask: Int32Array;
  /** golomb_code_len[n][l] at [n * NCOUNTERS + l], for every byte n. */
  codeLen: Uint8Array;
  /** xlatL2U: residual in L order → U order (0 beyond the family's levels, as in C). */
  l2u: Int32Array;
  /** Context value (a correlated byte) → bucket index. */
  bucketOf: Uint8Array;
  /** First and last context value of each bucket (buckets cover contiguous ranges). */
  bucketFirst: Int32Array;
  bucketLast: Int32Array;
  nBuckets: number;
  /** Channel value → 8-bit output (identity for 8 bpc, 5→8 bit widening for RGB16). */
  expand: Int32Array;
}

function ceilLog2(val: number): number {
  if (val <= 1) return 0;
  let r = 1;
  let v = val - 1;
  while ((v >>= 1)) r++;
  return r;
}

function buildFamily(bpc: number): Family {
  const levels = 1 << bpc;
  const altPrefixLen = new Int32Array(NCOUNTERS);
  const grMask = new Int32Array(NCOUNTERS);
  const nGRcodewords = new Int32Array(NCOUNTERS);
  const notGRcwlen = new Int32Array(NCOUNTERS);
  const notGRsuffixMask = new Int32Array(NCOUNTERS);
  const codeLen = new Uint8Array(256 * NCOUNTERS);
  for (let l = 0; l < bpc; l++) {
    let apl = DEF_MAXCLEN - bpc;
    const cap = (1 << (bpc - l)) - 1;
    if (apl > cap) apl = cap;
    const nGR = apl << l;
    const suffixLen = ceilLog2(levels - nGR);
    altPrefixLen[l] = apl;
    grMask[l] = (1 << l) - 1;
    nGRcodewords[l] = nGR;
    notGRcwlen[l] = apl + suffixLen;
    notGRsuffixMask[l] = (1 << suffixLen) - 1;
    for (let n = 0; n < 256; n++) {
      codeLen[n * NCOUNTERS + l] = n < nGR ? (n >> l) + l + 1 : apl + suffixLen;
    }
  }
  const mask = levels - 1;
  const l2u = new Int32Array(256);
  for (let s = 0; s < levels; s++) l2u[s] = s & 1 ? mask - (s >> 1) : s >> 1;

  // Buckets for DEFevol = 3 hold 1, 2, 4, 8, ... contexts; the last one
  // swallows the rest when a following bucket would not fit.
  const bucketOfLevel = new Uint8Array(levels);
  const bucketFirst = new Int32Array(levels);
  const bucketLast = new Int32Array(levels);
  let nBuckets = 0;
  let bend = 0;
  let bsize = 1;
  let repcntr = 2; // repfirst + 1
  do {
    const bstart = nBuckets ? bend + 1 : 0;
    if (!--repcntr) {
      repcntr = 1; // repnext
      bsize *= 2; // mulsize
    }
    bend = bstart + bsize - 1;
    if (bend + bsize >= levels) bend = levels - 1;
    for (let v = bstart; v <= bend; v++) bucketOfLevel[v] = nBuckets;
    bucketFirst[nBuckets] = bstart;
    bucketLast[nBuckets] = bend;
    nBuckets++;
  } while (bend < levels - 1);
  const bucketOf = new Uint8Array(256);
  for (let v = 0; v < 256; v++) bucketOf[v] = bucketOfLevel[v & mask];

  const expand = new Int32Array(256);
  for (let v = 0; v < 256; v++) expand[v] = bpc === 8 ? v : ((v << 3) | ((v & 0x1f) >> 2)) & 0xff;

  return {
    bpc, mask, drop: 8 - bpc, altPrefixLen, grMask, nGRcodewords, notGRcwlen, notGRsuffixMask,
    codeLen, l2u, bucketOf, bucketFirst, bucketLast, nBuckets, expand,
  };
}

const FAMILY_8BPC = buildFamily(8);
const FAMILY_5BPC = buildFamily(5);

/** CommonState of quic.c: wait-mask schedule, random seed and MELCODE state of one channel group. */
interface CommonState {
  waitcnt: number;
  tabrandSeed: number;
  wmidx: number;
  wmileft: number;
  melcstate: number;
  melclen: number;
  melcorder: number;
}

function newState(): CommonState {
  return { waitcnt: 0, tabrandSeed: 0xff, wmidx: 0, wmileft: DEF_WMINEXT, melcstate: 0, melclen: MELC_J[0], melcorder: 1 << MELC_J[0] };
}

/** Per-channel model: bucket counters, best code per bucket and the correlate row. */
interface Channel {
  counters: Int32Array;
  bestcode: Uint8Array;
  /** bestcode of the bucket of each context value (levels entries), kept in step by updateModel. */
  ctxBest: Uint8Array;
  /** correlate_row shifted by one: [0] is correlate_row[-1], [i + 1] is correlate_row[i]. */
  corr: Uint8Array;
}

function newChannel(fam: Family, width: number): Channel {
  return {
    counters: new Int32Array(fam.nBuckets * NCOUNTERS),
    bestcode: new Uint8Array(fam.nBuckets).fill(fam.bpc - 1),
    ctxBest: new Uint8Array(fam.mask + 1).fill(fam.bpc - 1),
    corr: new Uint8Array(width + 1),
  };
}

/**
 * Bit reader over the stream's u32 words. `io` holds the reader registers in
 * an Int32Array (full 32-bit values there never get boxed as they would in
 * object fields): [IO_WORD] the next 32 bits, MSB first; [IO_NEXT] the last
 * word loaded, of which the low [IO_AVAIL] bits are not yet in IO_WORD;
 * [IO_POS] the index of the next word to load.
 */
interface Stream {
  words: Int32Array;
  io: Int32Array;
}
const IO_WORD = 0;
const IO_NEXT = 1;
const IO_AVAIL = 2;
const IO_POS = 3;

function fail(msg: string): never {
  throw new SpiceError('DECODE', `quic: ${msg}`);
}

function truncated(): never {
  return fail('truncated bitstream');
}

/** decode_eatbits for the cold paths (run lengths); the hot loops inline it. */
function eatBits(s: Stream, len: number): void {
  const io = s.io;
  let word = io[IO_WORD] << len;
  const avail = io[IO_AVAIL];
  if (avail >= len) {
    io[IO_AVAIL] = avail - len;
    word |= io[IO_NEXT] >>> (avail - len);
  } else {
    const d = len - avail;
    word |= io[IO_NEXT] << d;
    const pos = io[IO_POS];
    if (pos >= s.words.length) truncated();
    const next = s.words[pos];
    io[IO_POS] = pos + 1;
    io[IO_NEXT] = next;
    io[IO_AVAIL] = 32 - d;
    word |= next >>> (32 - d);
  }
  io[IO_WORD] = word;
}

/** decode_state_run: MELCODE run length, refused as soon as it exceeds `limit`. */
function decodeRun(s: Stream, st: CommonState, limit: number): number {
  let run = 0;
  for (;;) {
    let ones = Math.clz32(~s.io[IO_WORD]);
    if (ones > 8) ones = 8;
    for (let h = 0; h < ones; h++) {
      run += st.melcorder;
      if (st.melcstate < MELC_LAST_STATE) {
        st.melclen = MELC_J[++st.melcstate];
        st.melcorder = 1 << st.melclen;
      }
    }
    if (run > limit) fail('run past end of row segment');
    if (ones !== 8) {
      eatBits(s, ones + 1); // the hits and the 0 that ends them
      break;
    }
    eatBits(s, 8);
  }
  if (st.melclen) {
    run += s.io[IO_WORD] >>> (32 - st.melclen);
    eatBits(s, st.melclen);
  }
  if (st.melcstate) {
    st.melclen = MELC_J[--st.melcstate];
    st.melcorder = 1 << st.melclen;
  }
  if (run > limit) fail('run past end of row segment');
  return run;
}

/** update_model: charge `curval` to every code of the bucket, keep the cheapest, halve on overflow. */
function updateModel(ch: Channel, fam: Family, bucket: number, curval: number, trigger: number): void {
  const counters = ch.counters;
  const codeLen = fam.codeLen;
  const bpc = fam.bpc;
  const cb = bucket * NCOUNTERS;
  const lb = curval * NCOUNTERS;
  let best = bpc - 1;
  let bestLen = (counters[cb + best] += codeLen[lb + best]);
  for (let l = bpc - 2; l >= 0; l--) {
    const len = (counters[cb + l] += codeLen[lb + l]);
    if (len < bestLen) {
      best = l;
      bestLen = len;
    }
  }
  if (ch.bestcode[bucket] !== best) {
    ch.bestcode[bucket] = best;
    ch.ctxBest.fill(best, fam.bucketFirst[bucket], fam.bucketLast[bucket] + 1);
  }
  if (bestLen > trigger) {
    for (let l = 0; l < bpc; l++) counters[cb + l] >>= 1;
  }
}

/**
 * One row of the three-channel (r, g, b) group into packed pixels at out[base..].
 * prevBase < 0 marks row 0 (no previous row: left-neighbour prediction, no runs).
 * Alpha bits of `out` are written as 0xFF and ignored by comparisons.
 */
function decodeRgbRow(
  s: Stream,
  st: CommonState,
  fam: Family,
  chR: Channel,
  chG: Channel,
  chB: Channel,
  out: Int32Array,
  base: number,
  prevBase: number,
  width: number,
): void {
  const l2u = fam.l2u;
  const bucketOf = fam.bucketOf;
  const aplT = fam.altPrefixLen;
  const grMaskT = fam.grMask;
  const nGRT = fam.nGRcodewords;
  const cwlenT = fam.notGRcwlen;
  const sufT = fam.notGRsuffixMask;
  const expand = fam.expand;
  const wide = fam.bpc !== 8;
  const mask = fam.mask;
  const shR = 16 + fam.drop;
  const shG = 8 + fam.drop;
  const shB = fam.drop;
  const cR = chR.corr;
  const cG = chG.corr;
  const cB = chB.corr;
  const bR = chR.ctxBest;
  const bG = chG.ctxBest;
  const bB = chB.ctxBest;
  const words = s.words;
  const nwords = words.length;
  const io = s.io;
  let word = io[IO_WORD];
  let next = io[IO_NEXT];
  let avail = io[IO_AVAIL];
  let pos = io[IO_POS];
  let waitcnt = st.waitcnt;
  let seed = st.tabrandSeed;
  let wmidx = st.wmidx;
  let wmileft = st.wmileft;
  const row0 = prevBase < 0;

  // correlate_row[-1]: 0 on row 0, else the previous row's correlate_row[0].
  if (row0) {
    cR[0] = 0;
    cG[0] = 0;
    cB[0] = 0;
  } else {
    cR[0] = cR[1];
    cG[0] = cG[1];
    cB[0] = cB[1];
  }

  let x = 0;
  let left = width;
  while (left > 0) {
    // Rows are cut where the wait mask widens (every DEF_WMINEXT pixels until DEF_WMIMAX).
    const widen = wmidx < DEF_WMIMAX && wmileft <= left;
    const end = x + (widen ? wmileft : left);
    const waitmask = (1 << wmidx) - 1;
    const trigger = WM_TRIGGER[wmidx];
    let i = x;
    let stopidx = i + waitcnt;
    let runIndex = 0;
    let endedByRun = false;

    // a*: the left neighbour's values. At column 0 the predictor is the pixel
    // above (or 0 on row 0); seeding a = b makes (a + b) >> 1 yield exactly that.
    let aR = 0;
    let aG = 0;
    let aB = 0;
    if (i > 0 || !row0) {
      const p = i > 0 ? out[base + i - 1] : out[prevBase];
      aR = (p >>> shR) & mask;
      aG = (p >>> shG) & mask;
      aB = (p >>> shB) & mask;
    }
    // Carried in locals instead of re-read: the pixels at i-1 and i-2, the
    // pixel above i-1, and each channel's context (correlate_row[i - 1]).
    let cur1 = i > 0 ? out[base + i - 1] : 0;
    let cur2 = i > 1 ? out[base + i - 2] : 0;
    let upPrev = i > 0 && !row0 ? out[prevBase + i - 1] : 0;
    let kR = cR[i];
    let kG = cG[i];
    let kB = cB[i];

    while (i < end) {
      let pR = aR;
      let pG = aG;
      let pB = aB;
      if (!row0) {
        const up = out[prevBase + i];
        if (((upPrev ^ up) & 0xffffff) === 0 && i > 2 && runIndex !== i && ((cur1 ^ cur2) & 0xffffff) === 0) {
          waitcnt = stopidx - i;
          runIndex = i;
          io[IO_WORD] = word;
          io[IO_NEXT] = next;
          io[IO_AVAIL] = avail;
          io[IO_POS] = pos;
          const run = decodeRun(s, st, end - i);
          word = io[IO_WORD];
          next = io[IO_NEXT];
          avail = io[IO_AVAIL];
          pos = io[IO_POS];
          if (run > 0) {
            const stop = base + i + run;
            for (let k = base + i; k < stop; k++) out[k] = cur1;
            i += run;
            if (i === end) {
              endedByRun = true;
              break;
            }
            // Run pixels leave correlate_row untouched: contexts come from older rows.
            cur2 = cur1;
            upPrev = out[prevBase + i - 1];
            kR = cR[i];
            kG = cG[i];
            kB = cB[i];
          }
          stopidx = i + waitcnt;
          continue;
        }
        upPrev = up;
        pR = (aR + ((up >>> shR) & mask)) >> 1;
        pG = (aG + ((up >>> shG) & mask)) >> 1;
        pB = (aB + ((up >>> shB) & mask)) >> 1;
      }

      // --- r ---
      {
        const l = bR[kR & mask];
        const z = Math.clz32(word);
        let len: number;
        if (z < aplT[l]) {
          len = z + 1 + l;
          kR = (z << l) | ((word >>> (32 - len)) & grMaskT[l]);
        } else {
          len = cwlenT[l];
          kR = (nGRT[l] + ((word >>> (32 - len)) & sufT[l])) & 0xff;
        }
        cR[i + 1] = kR;
        aR = (l2u[kR] + pR) & mask;
        word <<= len;
        if (avail >= len) {
          avail -= len;
          word |= next >>> avail;
        } else {
          const d = len - avail;
          word |= next << d;
          if (pos >= nwords) truncated();
          next = words[pos++];
          avail = 32 - d;
          word |= next >>> avail;
        }
      }
      // --- g ---
      {
        const l = bG[kG & mask];
        const z = Math.clz32(word);
        let len: number;
        if (z < aplT[l]) {
          len = z + 1 + l;
          kG = (z << l) | ((word >>> (32 - len)) & grMaskT[l]);
        } else {
          len = cwlenT[l];
          kG = (nGRT[l] + ((word >>> (32 - len)) & sufT[l])) & 0xff;
        }
        cG[i + 1] = kG;
        aG = (l2u[kG] + pG) & mask;
        word <<= len;
        if (avail >= len) {
          avail -= len;
          word |= next >>> avail;
        } else {
          const d = len - avail;
          word |= next << d;
          if (pos >= nwords) truncated();
          next = words[pos++];
          avail = 32 - d;
          word |= next >>> avail;
        }
      }
      // --- b ---
      {
        const l = bB[kB & mask];
        const z = Math.clz32(word);
        let len: number;
        if (z < aplT[l]) {
          len = z + 1 + l;
          kB = (z << l) | ((word >>> (32 - len)) & grMaskT[l]);
        } else {
          len = cwlenT[l];
          kB = (nGRT[l] + ((word >>> (32 - len)) & sufT[l])) & 0xff;
        }
        cB[i + 1] = kB;
        aB = (l2u[kB] + pB) & mask;
        word <<= len;
        if (avail >= len) {
          avail -= len;
          word |= next >>> avail;
        } else {
          const d = len - avail;
          word |= next << d;
          if (pos >= nwords) truncated();
          next = words[pos++];
          avail = 32 - d;
          word |= next >>> avail;
        }
      }
      cur2 = cur1;
      cur1 = wide
        ? 0xff000000 | (expand[aR] << 16) | (expand[aG] << 8) | expand[aB]
        : 0xff000000 | (aR << 16) | (aG << 8) | aB;
      out[base + i] = cur1;

      if (i === stopidx) {
        updateModel(chR, fam, bucketOf[cR[i]], cR[i + 1], trigger);
        updateModel(chG, fam, bucketOf[cG[i]], cG[i + 1], trigger);
        updateModel(chB, fam, bucketOf[cB[i]], cB[i + 1], trigger);
        i++;
        seed = (seed + 1) & 0xff;
        stopidx = i + (TABRAND_CHAOS[seed] & waitmask);
      } else {
        i++;
      }
    }
    // A run that reaches the segment end leaves waitcnt as set when it began.
    if (!endedByRun) waitcnt = stopidx - end;

    const n = end - x;
    left -= n;
    x = end;
    if (widen) {
      wmidx++;
      wmileft = DEF_WMINEXT;
    } else if (wmidx < DEF_WMIMAX) {
      wmileft -= n;
    }
  }

  io[IO_WORD] = word;
  io[IO_NEXT] = next;
  io[IO_AVAIL] = avail;
  io[IO_POS] = pos;
  st.waitcnt = waitcnt;
  st.tabrandSeed = seed;
  st.wmidx = wmidx;
  st.wmileft = wmileft;
}

/**
 * One row of a single 8-bit channel with its own state (GRAY, or the alpha of
 * RGBA) into plane[base..]; prevBase < 0 marks row 0.
 */
function decodeOneRow(
  s: Stream,
  st: CommonState,
  ch: Channel,
  plane: Uint8Array,
  base: number,
  prevBase: number,
  width: number,
): void {
  const fam = FAMILY_8BPC;
  const l2u = fam.l2u;
  const bucketOf = fam.bucketOf;
  const aplT = fam.altPrefixLen;
  const grMaskT = fam.grMask;
  const nGRT = fam.nGRcodewords;
  const cwlenT = fam.notGRcwlen;
  const sufT = fam.notGRsuffixMask;
  const corr = ch.corr;
  const best = ch.ctxBest;
  const words = s.words;
  const nwords = words.length;
  const io = s.io;
  let word = io[IO_WORD];
  let next = io[IO_NEXT];
  let avail = io[IO_AVAIL];
  let pos = io[IO_POS];
  let waitcnt = st.waitcnt;
  let seed = st.tabrandSeed;
  let wmidx = st.wmidx;
  let wmileft = st.wmileft;
  const row0 = prevBase < 0;

  corr[0] = row0 ? 0 : corr[1];

  let x = 0;
  let left = width;
  while (left > 0) {
    const widen = wmidx < DEF_WMIMAX && wmileft <= left;
    const end = x + (widen ? wmileft : left);
    const waitmask = (1 << wmidx) - 1;
    const trigger = WM_TRIGGER[wmidx];
    let i = x;
    let stopidx = i + waitcnt;
    let runIndex = 0;
    let endedByRun = false;
    let a = i > 0 ? plane[base + i - 1] : row0 ? 0 : plane[prevBase];

    while (i < end) {
      let p = a;
      if (!row0) {
        const up = plane[prevBase + i];
        if (i > 2 && runIndex !== i && plane[prevBase + i - 1] === up && plane[base + i - 1] === plane[base + i - 2]) {
          waitcnt = stopidx - i;
          runIndex = i;
          io[IO_WORD] = word;
          io[IO_NEXT] = next;
          io[IO_AVAIL] = avail;
          io[IO_POS] = pos;
          const run = decodeRun(s, st, end - i);
          word = io[IO_WORD];
          next = io[IO_NEXT];
          avail = io[IO_AVAIL];
          pos = io[IO_POS];
          plane.fill(a, base + i, base + i + run);
          i += run;
          if (i === end) {
            endedByRun = true;
            break;
          }
          stopidx = i + waitcnt;
          continue;
        }
        p = (a + up) >> 1;
      }

      const l = best[corr[i]];
      const z = Math.clz32(word);
      let v: number;
      let len: number;
      if (z < aplT[l]) {
        len = z + 1 + l;
        v = (z << l) | ((word >>> (32 - len)) & grMaskT[l]);
      } else {
        len = cwlenT[l];
        v = (nGRT[l] + ((word >>> (32 - len)) & sufT[l])) & 0xff;
      }
      corr[i + 1] = v;
      a = (l2u[v] + p) & 0xff;
      plane[base + i] = a;
      word <<= len;
      if (avail >= len) {
        avail -= len;
        word |= next >>> avail;
      } else {
        const d = len - avail;
        word |= next << d;
        if (pos >= nwords) truncated();
        next = words[pos++];
        avail = 32 - d;
        word |= next >>> avail;
      }

      if (i === stopidx) {
        updateModel(ch, fam, bucketOf[corr[i]], corr[i + 1], trigger);
        i++;
        seed = (seed + 1) & 0xff;
        stopidx = i + (TABRAND_CHAOS[seed] & waitmask);
      } else {
        i++;
      }
    }
    if (!endedByRun) waitcnt = stopidx - end;

    const n = end - x;
    left -= n;
    x = end;
    if (widen) {
      wmidx++;
      wmileft = DEF_WMINEXT;
    } else if (wmidx < DEF_WMIMAX) {
      wmileft -= n;
    }
  }

  io[IO_WORD] = word;
  io[IO_NEXT] = next;
  io[IO_AVAIL] = avail;
  io[IO_POS] = pos;
  st.waitcnt = waitcnt;
  st.tabrandSeed = seed;
  st.wmidx = wmidx;
  st.wmileft = wmileft;
}

/** Parsed QUIC header. */
export interface QuicHeader {
  type: number;
  width: number;
  height: number;
}

/** Views `bytes` as LE u32 words (whole words only, like spice-gtk's `len >> 2`). */
function toWords(bytes: Uint8Array): Int32Array {
  const n = bytes.length >>> 2;
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Int32Array(bytes.buffer, bytes.byteOffset, n);
  const w = new Int32Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    w[i] = bytes[j] | (bytes[j + 1] << 8) | (bytes[j + 2] << 16) | (bytes[j + 3] << 24);
  }
  return w;
}

/** Header words 0..4 of a QUIC stream, validated; throws SpiceError('DECODE'). */
export function parseQuicHeader(words: Int32Array): QuicHeader {
  // quic_decode_begin needs the header plus the first bitstream word.
  if (words.length < 6) fail('stream shorter than its header');
  if (words[0] >>> 0 !== QUIC_MAGIC) fail('bad magic');
  if (words[1] >>> 0 !== QUIC_VERSION) fail(`unsupported version 0x${(words[1] >>> 0).toString(16)}`);
  const type = words[2] >>> 0;
  if (type < QuicImageType.GRAY || type > QuicImageType.RGBA) fail(`bad image type ${type}`);
  // Width and height are C ints in quic.c: values with the top bit set are invalid.
  const width = words[3];
  const height = words[4];
  if (width <= 0 || height <= 0) fail(`invalid size ${words[3] >>> 0}x${words[4] >>> 0}`);
  if (width * height > MAX_IMAGE_PIXELS) fail(`image too large: ${width}x${height}`);
  return { type, width, height };
}

/**
 * Header checks shared by both implementations: magic, version, type, size
 * limits, the descriptor size when given, and a minimum stream length.
 */
function checkStream(bytes: Uint8Array, expect?: { width: number; height: number }): QuicHeader {
  // the header's six words only: the WebAssembly path never needs the stream as words
  const header = parseQuicHeader(toWords(bytes.subarray(0, 24)));
  const { type, width, height } = header;
  if (expect && (expect.width !== width || expect.height !== height)) {
    fail(`stream is ${width}x${height}, descriptor says ${expect.width}x${expect.height}`);
  }

  // Every codeword is at least one bit: row 0 codes each pixel of each channel,
  // later rows at least pixels 0..2 (runs start at column 3) plus one run
  // symbol; the reader also looks 32 bits ahead. Refusing streams shorter than
  // that bounds allocation by input size before any pixel buffer exists.
  const nch = type === QuicImageType.GRAY ? 1 : type === QuicImageType.RGBA ? 4 : 3;
  const minBits = 160 + width * nch + (height - 1) * Math.min(width, 3) * nch + 32;
  if ((bytes.length >>> 2) * 32 < minBits) truncated();
  return header;
}

/**
 * Decodes one QUIC stream with the WebAssembly decoder when it is available
 * (see quicWasm), else in JavaScript. `expect` (the image descriptor size)
 * must match the stream header when given.
 */
export function decodeQuic(bytes: Uint8Array, expect?: { width: number; height: number }): DecodedImage {
  return quicWasm() ? decodeQuicWasm(bytes, expect) : decodeQuicJs(bytes, expect);
}

/** The JavaScript decoder (the fallback where WebAssembly is unavailable, and the reference for the C port). */
export function decodeQuicJs(bytes: Uint8Array, expect?: { width: number; height: number }): DecodedImage {
  const { type, width, height } = checkStream(bytes, expect);
  const words = toWords(bytes);

  const fam = type === QuicImageType.RGB16 ? FAMILY_5BPC : FAMILY_8BPC;
  // init_decode_io after the five header words: word 5 is both window and last load.
  const s: Stream = { words, io: Int32Array.of(words[5], words[5], 0, 6) };
  const pixels = new Uint32Array(width * height);

  if (type === QuicImageType.GRAY) {
    const plane = new Uint8Array(width * height);
    const st = newState();
    const ch = newChannel(fam, width);
    for (let y = 0, base = 0; y < height; y++, base += width) {
      decodeOneRow(s, st, ch, plane, base, base - width, width);
    }
    for (let k = 0; k < plane.length; k++) pixels[k] = 0xff000000 | (plane[k] * 0x010101);
    return { width, height, pixels, hasAlpha: false };
  }

  // The row decoder works on an Int32Array view: packed pixels with alpha 0xFF
  // stay small integers for the JIT instead of becoming doubles above 2^31.
  const out = new Int32Array(pixels.buffer);
  const rgbState = newState();
  const chR = newChannel(fam, width);
  const chG = newChannel(fam, width);
  const chB = newChannel(fam, width);
  if (type !== QuicImageType.RGBA) {
    for (let y = 0, base = 0; y < height; y++, base += width) {
      decodeRgbRow(s, rgbState, fam, chR, chG, chB, out, base, base - width, width);
    }
    return { width, height, pixels, hasAlpha: false };
  }

  // RGBA: each row codes r, g, b first, then alpha with its own state.
  const alpha = new Uint8Array(width * height);
  const alphaState = newState();
  const chA = newChannel(fam, width);
  for (let y = 0, base = 0; y < height; y++, base += width) {
    decodeRgbRow(s, rgbState, fam, chR, chG, chB, out, base, base - width, width);
    decodeOneRow(s, alphaState, chA, alpha, base, base - width, width);
  }
  for (let k = 0; k < alpha.length; k++) pixels[k] = (pixels[k] & 0xffffff) | (alpha[k] << 24);
  return { width, height, pixels, hasAlpha: true };
}

/** Exports of wasm/quic.c. */
interface QuicWasm {
  memory: WebAssembly.Memory;
  quic_prepare(inBytes: number, width: number, height: number, type: number): number;
  quic_decode(): number;
  quic_output(): number;
}

/** Error codes of quic_decode() (QUIC_ERR_* in wasm/quic.c) → the JS decoder's messages. */
const WASM_ERRORS: Record<number, string> = { 1: 'truncated bitstream', 2: 'run past end of row segment', 3: 'decoder state' };

/** Compiled once; null when WebAssembly is missing or refused. */
let wasmModule: WebAssembly.Module | null | undefined;
let wasmInstance: QuicWasm | undefined;
/**
 * An instance whose memory grew past this (an image of ~12 Mpixels) is
 * dropped after its decode, so one huge image does not pin its memory for
 * the worker's lifetime; the next QUIC image gets a fresh instance.
 */
const WASM_KEEP_BYTES = 64 << 20;

/**
 * The WebAssembly decoder, instantiated synchronously on first use (the
 * module is ~20 KB, embedded as base64), or null where WebAssembly is
 * missing or refused (e.g. a CSP without 'wasm-unsafe-eval'): then the
 * JavaScript decoder runs. Its memory grows to the largest image decoded
 * (input + pixels + scratch) and is reused for later ones, up to WASM_KEEP_BYTES.
 */
export function quicWasm(): QuicWasm | null {
  if (wasmInstance) return wasmInstance;
  if (wasmModule === undefined) {
    try {
      const bin = atob(QUIC_WASM_BASE64);
      const bytes = new Uint8Array(bin.length);
      for (let k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
      wasmModule = new WebAssembly.Module(bytes);
    } catch {
      wasmModule = null;
    }
  }
  if (!wasmModule) return null;
  try {
    wasmInstance = new WebAssembly.Instance(wasmModule, {}).exports as unknown as QuicWasm;
  } catch {
    wasmModule = null;
    return null;
  }
  return wasmInstance;
}

/** The WebAssembly decoder; throws SpiceError('DECODE') when it is unavailable. */
export function decodeQuicWasm(bytes: Uint8Array, expect?: { width: number; height: number }): DecodedImage {
  const w = quicWasm();
  if (!w) fail('WebAssembly decoder unavailable');
  const { type, width, height } = checkStream(bytes, expect);
  // The result is allocated first, as in the JS decoder: before any decoding work.
  const pixels = new Uint32Array(width * height);
  // Whole words only, as the JS reader (toWords) sees them.
  const inBytes = bytes.length & ~3;
  try {
    const inPtr = w.quic_prepare(inBytes, width, height, type);
    if (!inPtr) fail(`out of memory for ${width}x${height}`);
    new Uint8Array(w.memory.buffer, inPtr, inBytes).set(bytes.subarray(0, inBytes));
    const err = w.quic_decode();
    if (err) fail(WASM_ERRORS[err] ?? `error ${err}`);
    pixels.set(new Uint32Array(w.memory.buffer, w.quic_output(), width * height));
  } finally {
    if (w.memory.buffer.byteLength > WASM_KEEP_BYTES) wasmInstance = undefined;
  }
  return { width, height, pixels, hasAlpha: type === QuicImageType.RGBA };
}

/** ImageDecoder for SPICE_IMAGE_TYPE_QUIC images. Stateless between images. */
export class QuicDecoder implements ImageDecoder {
  decode(image: SpiceImage, _ctx: DecodeContext): DecodedImage {
    if (image.data.kind !== 'quic') fail(`not a QUIC image (${image.data.kind})`);
    const { width, height } = image.descriptor;
    return decodeQuic(image.data.data, { width, height });
  }
}
