// Baseline JPEG decoder for SPICE JPEG and JPEG_ALPHA images and MJPEG stream
// frames (spice-server encodes all three with libjpeg defaults: 8-bit, huffman,
// YCbCr 4:2:0, JFIF). Pure TypeScript, no DOM: runs in a worker and in Node.
//
// Pipeline: markers → entropy-decode each block straight into a dequantized
// Float64 workspace → AAN float IDCT into one Uint8ClampedArray plane per
// component → fancy (triangle) chroma upsampling + YCbCr→RGB into 0xFFRRGGBB.
// Everything hot works on typed arrays allocated once per decoder, never per
// block.
import { JpegAlphaFlags } from '../../../preload/spice-enums';
import { SpiceError } from '../../../preload/spice-errors';
import type { SpiceImage } from '../../../preload/contract';
import { MAX_IMAGE_PIXELS, type DecodeContext, type DecodedImage, type ImageDecoder } from '../types';
import { lzDecodeAlpha, readLzHeader } from './lz';

export interface JpegLimits {
  /** Largest width×height accepted; defaults to MAX_IMAGE_PIXELS. */
  maxPixels?: number;
}

// ------------------------------------------------------------------ constants

/** zigzag index → natural (row-major) index. */
const ZIGZAG = new Uint8Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
  28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
  54, 47, 55, 62, 63,
]);

/** AAN IDCT input scale factors: 1 for k=0, √2·cos(kπ/16) otherwise. */
const AAN_SCALE = (() => {
  const s = new Float64Array(8);
  for (let k = 0; k < 8; k++) s[k] = k === 0 ? 1 : Math.SQRT2 * Math.cos((k * Math.PI) / 16);
  return s;
})();

// YCbCr→RGB per JFIF in 16.16 fixed point (the same constants libjpeg uses):
// R = Y + 1.402·Cr', G = Y − 0.34414·Cb' − 0.71414·Cr', B = Y + 1.772·Cb'.
const FIX_R_CR = 91881;
const FIX_G_CB = -22554;
const FIX_G_CR = -46802;
const FIX_B_CB = 116130;
const HALF = 32768;
const CR_R = new Int32Array(256);
const CB_B = new Int32Array(256);
const CR_G = new Int32Array(256);
const CB_G = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  CR_R[i] = (FIX_R_CR * x + HALF) >> 16;
  CB_B[i] = (FIX_B_CB * x + HALF) >> 16;
  CR_G[i] = FIX_G_CR * x;
  CB_G[i] = FIX_G_CB * x + HALF;
}
/** clamp table: CLAMP[v + CLAMP_OFS] = min(255, max(0, v)); covers Y + chroma offsets. */
const CLAMP_OFS = 512;
const CLAMP = (() => {
  const t = new Uint8Array(1536);
  for (let i = 0; i < t.length; i++) t[i] = Math.min(255, Math.max(0, i - CLAMP_OFS));
  return t;
})();

/** 0xFF000000 as an int32 (pixels are written through an Int32Array view). */
const OPAQUE = -16777216;

/** Component planes up to this many samples (a 4K frame's luma) are kept for the next decode. */
const RETAIN_PLANE_SAMPLES = 1 << 24;

// markers
const M_SOI = 0xd8;
const M_EOI = 0xd9;
const M_SOS = 0xda;
const M_DQT = 0xdb;
const M_DNL = 0xdc;
const M_DRI = 0xdd;
const M_DHT = 0xc4;
const M_RST0 = 0xd0;
const M_TEM = 0x01;

function fail(message: string): never {
  throw new SpiceError('DECODE', `JPEG: ${message}`);
}

// ------------------------------------------------------------------ huffman

/** Decoding tables for one huffman table: a 9-bit direct lookup plus canonical-code limits for longer codes. */
class HuffTable {
  /** (length << 8) | symbol for every 9-bit prefix starting with a code of ≤ 9 bits, else 0. */
  readonly fast = new Uint16Array(512);
  /** largest code of each length 1..16, -1 when none. */
  readonly maxCode = new Int32Array(18);
  /** symbol index = code + valOffset[len]. */
  readonly valOffset = new Int32Array(17);
  readonly values = new Uint8Array(256);
  /**
   * AC shortcut: for 9-bit prefixes holding a whole code plus its magnitude
   * bits, (value << 8) | (run << 4) | total bits; else 0.
   */
  readonly fastAc = new Int32Array(512);

  constructor(counts: Uint8Array, symbols: Uint8Array) {
    let code = 0;
    let k = 0;
    for (let len = 1; len <= 16; len++) {
      const n = counts[len - 1];
      this.valOffset[len] = k - code;
      for (let i = 0; i < n; i++) {
        const sym = symbols[k];
        this.values[k] = sym;
        if (len <= 9) {
          const shift = 9 - len;
          const base = code << shift;
          const e = (len << 8) | sym;
          for (let j = 0; j < 1 << shift; j++) this.fast[base + j] = e;
        }
        code++;
        k++;
      }
      this.maxCode[len] = n ? code - 1 : -1;
      // the all-ones code of a length is reserved; reaching it means the counts overflow the code space
      if (code >= 1 << len) fail('bad huffman table');
      code <<= 1;
    }
    this.maxCode[17] = 0x7fffffff;
    for (let look = 0; look < 512; look++) {
      const e = this.fast[look];
      if (e === 0) continue;
      const len = e >> 8;
      const s = e & 15;
      if (s === 0 || len + s > 9) continue;
      const bits = (look >> (9 - len - s)) & ((1 << s) - 1);
      const value = bits < 1 << (s - 1) ? bits - (1 << s) + 1 : bits;
      this.fastAc[look] = (value << 8) | (e & 0xf0) | (len + s);
    }
  }
}

// ------------------------------------------------------------------ frame state

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** downsampled size of the component's real samples (libjpeg's downsampled_width/height). */
  cw: number;
  ch: number;
  /** plane covers whole MCUs: planeW = mcusX·h·8, planeH = mcusY·v·8. */
  planeW: number;
  planeH: number;
  plane: Uint8ClampedArray | null;
  /** dequantization multipliers in zigzag order, pre-scaled for the AAN IDCT. */
  qt: Float64Array;
  dc: HuffTable | null;
  ac: HuffTable | null;
  pred: number;
  scanned: boolean;
}

interface Frame {
  width: number;
  height: number;
  hmax: number;
  vmax: number;
  mcusX: number;
  mcusY: number;
  comps: Component[];
}

/**
 * The reusable decoding machinery. One instance per JpegDecoder / MJPEG stream
 * so component planes, row buffers and (for abbreviated MJPEG frames) the
 * quantization and huffman tables survive between frames.
 */
class JpegCore {
  private data: Uint8Array = new Uint8Array(0);
  // bit reader
  private pos = 0;
  private buf = 0;
  private cnt = 0;
  /** zero bits fed after the entropy-coded data ended (marker or end of input). */
  private padBits = 0;
  private markerHit = false;

  private readonly quant: (Uint16Array | null)[] = [null, null, null, null];
  private readonly dcTables: (HuffTable | null)[] = [null, null, null, null];
  private readonly acTables: (HuffTable | null)[] = [null, null, null, null];
  private restartInterval = 0;

  private readonly blk = new Float64Array(64);
  private readonly ws = new Float64Array(64);
  private planes: Uint8ClampedArray[] = [];
  private rowBufs: Uint8ClampedArray[] = [];
  private colSum = new Int32Array(0);
  /** offset of the row returned by row() inside the returned array. */
  private rowOff = 0;
  private target: Uint32Array | undefined;

  constructor(private readonly keepTables: boolean) {}

  /** target: optional caller-owned pixel buffer to fill instead of allocating (see MjpegFrameDecoder). */
  decode(data: Uint8Array, limits?: JpegLimits, target?: Uint32Array): DecodedImage {
    this.target = target;
    const maxPixels = limits?.maxPixels ?? MAX_IMAGE_PIXELS;
    this.data = data;
    if (!this.keepTables) {
      this.quant.fill(null);
      this.dcTables.fill(null);
      this.acTables.fill(null);
    }
    this.restartInterval = 0;
    try {
      return this.run(maxPixels);
    } finally {
      this.data = new Uint8Array(0);
      this.target = undefined;
      // keep planes for the next frame, but not the planes of one huge image
      if (this.planes.some((pl) => pl && pl.length > RETAIN_PLANE_SAMPLES)) this.planes = [];
    }
  }

  private run(maxPixels: number): DecodedImage {
    const d = this.data;
    if (d.length < 4 || d[0] !== 0xff || d[1] !== M_SOI) fail('missing SOI marker');
    let p = 2;
    let frame: Frame | null = null;
    let jfif = false;
    let adobeTransform = -1;
    let afterScan = false;

    for (;;) {
      // find the next marker; only after a scan may stray bytes precede it
      if (afterScan) {
        p = this.findMarker(p);
        if (p < 0) fail('truncated: no EOI after scan');
      }
      if (p >= d.length) fail('truncated: no EOI');
      if (d[p] !== 0xff) fail(`expected marker at offset ${p}`);
      while (p < d.length && d[p] === 0xff) p++;
      if (p >= d.length) fail('truncated marker');
      const marker = d[p++];
      afterScan = false;

      if (marker === M_EOI) break;
      if (marker === M_SOI) fail('unexpected SOI');
      if (marker === M_TEM) continue;
      if (marker >= M_RST0 && marker <= M_RST0 + 7) fail('restart marker outside a scan');

      if (p + 2 > d.length) fail('truncated segment length');
      const len = (d[p] << 8) | d[p + 1];
      if (len < 2) fail('bad segment length');
      const end = p + len;
      if (end > d.length) fail('truncated segment');
      const s = p + 2;

      switch (marker) {
        case M_DQT:
          this.readDqt(s, end);
          break;
        case M_DHT:
          this.readDht(s, end);
          break;
        case M_DRI:
          if (len !== 4) fail('bad DRI length');
          this.restartInterval = (d[s] << 8) | d[s + 1];
          break;
        case 0xc0: // SOF0 baseline
        case 0xc1: // SOF1 extended sequential, huffman (same decoding for 8-bit)
          if (frame) fail('multiple SOF markers');
          frame = this.readSof(s, end, maxPixels);
          break;
        case 0xc2:
        case 0xc6:
        case 0xca:
        case 0xce:
          return fail('progressive JPEG is not supported');
        case 0xc3:
        case 0xc5:
        case 0xc7:
        case 0xcb:
        case 0xcf:
          return fail('lossless JPEG is not supported');
        case 0xc9:
        case 0xcd:
          return fail('arithmetic-coded JPEG is not supported');
        case 0xc8:
        case 0xde:
        case 0xdf:
          return fail('hierarchical/extension JPEG is not supported');
        case M_DNL:
          return fail('DNL marker is not supported');
        case M_SOS: {
          if (!frame) fail('SOS before SOF');
          p = this.readScan(frame, s, end);
          afterScan = true;
          continue;
        }
        case 0xe0: // APP0: JFIF says YCbCr
          if (len >= 7 && d[s] === 0x4a && d[s + 1] === 0x46 && d[s + 2] === 0x49 && d[s + 3] === 0x46 && d[s + 4] === 0)
            jfif = true;
          break;
        case 0xee: // APP14 Adobe: transform flag decides RGB vs YCbCr
          if (len >= 14 && d[s] === 0x41 && d[s + 1] === 0x64 && d[s + 2] === 0x6f && d[s + 3] === 0x62 && d[s + 4] === 0x65)
            adobeTransform = d[s + 11];
          break;
        default:
          break; // other APPn, COM, reserved: skipped
      }
      p = end;
    }

    if (!frame) fail('no frame (SOF) before EOI');
    for (const c of frame.comps) if (!c.scanned) fail(`component ${c.id} has no scan`);
    return this.output(frame, this.isYcc(frame, jfif, adobeTransform));
  }

  /** libjpeg's colour-space guess for 3-component files. */
  private isYcc(frame: Frame, jfif: boolean, adobeTransform: number): boolean {
    if (frame.comps.length !== 3) return false;
    if (jfif) return true;
    if (adobeTransform >= 0) return adobeTransform !== 0;
    const [a, b, c] = frame.comps;
    return !(a.id === 0x52 && b.id === 0x47 && c.id === 0x42); // 'R','G','B'
  }

  /** Position of the next marker at or after p (skipping entropy bytes and stuffing), or -1. */
  private findMarker(p: number): number {
    const d = this.data;
    for (; p + 1 < d.length; p++) {
      if (d[p] !== 0xff) continue;
      const n = d[p + 1];
      if (n !== 0 && n !== 0xff) return p;
    }
    return -1;
  }

  private readDqt(s: number, end: number): void {
    const d = this.data;
    while (s < end) {
      const pq = d[s] >> 4;
      const tq = d[s] & 15;
      s++;
      if (pq > 1 || tq > 3) fail('bad DQT');
      const n = pq ? 128 : 64;
      if (s + n > end) fail('truncated DQT');
      const t = new Uint16Array(64);
      for (let k = 0; k < 64; k++) t[k] = pq ? (d[s + 2 * k] << 8) | d[s + 2 * k + 1] : d[s + k]; // zigzag order
      this.quant[tq] = t;
      s += n;
    }
  }

  private readDht(s: number, end: number): void {
    const d = this.data;
    while (s < end) {
      if (s + 17 > end) fail('truncated DHT');
      const tc = d[s] >> 4;
      const th = d[s] & 15;
      if (tc > 1 || th > 3) fail('bad DHT');
      const counts = d.subarray(s + 1, s + 17);
      let total = 0;
      for (let i = 0; i < 16; i++) total += counts[i];
      if (total > 256) fail('bad DHT symbol count');
      s += 17;
      if (s + total > end) fail('truncated DHT');
      const table = new HuffTable(counts, d.subarray(s, s + total));
      (tc ? this.acTables : this.dcTables)[th] = table;
      s += total;
    }
  }

  private readSof(s: number, end: number, maxPixels: number): Frame {
    const d = this.data;
    if (end - s < 6) fail('truncated SOF');
    if (d[s] !== 8) fail(`${d[s]}-bit samples are not supported`);
    const height = (d[s + 1] << 8) | d[s + 2];
    const width = (d[s + 3] << 8) | d[s + 4];
    const nf = d[s + 5];
    if (width === 0 || height === 0) fail('zero image size (DNL is not supported)');
    if (nf !== 1 && nf !== 3) fail(`${nf} components are not supported`);
    if (end - s < 6 + 3 * nf) fail('truncated SOF');
    if (width * height > maxPixels) {
      throw new SpiceError('LIMIT', `JPEG: ${width}x${height} exceeds ${maxPixels} pixels`);
    }
    const comps: Component[] = [];
    let hmax = 1;
    let vmax = 1;
    for (let i = 0; i < nf; i++) {
      const o = s + 6 + 3 * i;
      const id = d[o];
      const h = d[o + 1] >> 4;
      const v = d[o + 1] & 15;
      const tq = d[o + 2];
      if (h < 1 || h > 4 || v < 1 || v > 4) fail('bad sampling factor');
      if (tq > 3) fail('bad quantization table index');
      if (comps.some((c) => c.id === id)) fail('duplicate component id');
      hmax = Math.max(hmax, h);
      vmax = Math.max(vmax, v);
      comps.push({
        id, h, v, tq, cw: 0, ch: 0, planeW: 0, planeH: 0, plane: null,
        qt: new Float64Array(64), dc: null, ac: null, pred: 0, scanned: false,
      });
    }
    const mcusX = Math.ceil(width / (8 * hmax));
    const mcusY = Math.ceil(height / (8 * vmax));
    for (const c of comps) {
      // the upsampler only handles integral ratios (all libjpeg/spice-server output is)
      if (hmax % c.h || vmax % c.v) fail('unsupported sampling factors');
      c.cw = Math.ceil((width * c.h) / hmax);
      c.ch = Math.ceil((height * c.v) / vmax);
      c.planeW = mcusX * c.h * 8;
      c.planeH = mcusY * c.v * 8;
    }
    return { width, height, hmax, vmax, mcusX, mcusY, comps };
  }

  /** Parses an SOS header at s..end, decodes the entropy-coded data after it; returns where it stopped. */
  private readScan(frame: Frame, s: number, end: number): number {
    const d = this.data;
    const ns = d[s];
    if (ns < 1 || ns > frame.comps.length || end - s !== 4 + 2 * ns) fail('bad SOS');
    const comps: Component[] = [];
    for (let i = 0; i < ns; i++) {
      const id = d[s + 1 + 2 * i];
      const t = d[s + 2 + 2 * i];
      const c = frame.comps.find((x) => x.id === id);
      if (!c || comps.includes(c)) fail('bad scan component');
      const dc = this.dcTables[t >> 4];
      const ac = this.acTables[t & 15];
      if ((t >> 4) > 3 || (t & 15) > 3 || !dc || !ac) fail('scan uses an undefined huffman table');
      const q = this.quant[c.tq];
      if (!q) fail('scan uses an undefined quantization table');
      c.dc = dc;
      c.ac = ac;
      for (let k = 0; k < 64; k++) {
        const n = ZIGZAG[k];
        c.qt[k] = (q[k] * AAN_SCALE[n >> 3] * AAN_SCALE[n & 7]) / 8;
      }
      comps.push(c);
    }
    const o = s + 1 + 2 * ns;
    if (d[o] !== 0 || d[o + 1] !== 63 || d[o + 2] !== 0) fail('progressive JPEG is not supported');

    let blocks: number;
    if (ns === 1) {
      const c = comps[0];
      blocks = Math.ceil(c.cw / 8) * Math.ceil(c.ch / 8);
    } else {
      let perMcu = 0;
      for (const c of comps) perMcu += c.h * c.v;
      if (perMcu > 10) fail('too many blocks per MCU');
      blocks = frame.mcusX * frame.mcusY * perMcu;
    }
    // every block costs at least 2 bits (a DC code and an EOB); refuse before allocating planes
    if ((d.length - end) * 8 < blocks * 2) fail('truncated scan data');
    for (const c of comps) {
      const idx = frame.comps.indexOf(c);
      const size = c.planeW * c.planeH;
      let plane = this.planes[idx];
      if (!plane || plane.length < size) plane = this.planes[idx] = new Uint8ClampedArray(size);
      c.plane = plane;
      c.scanned = true;
    }

    this.pos = end;
    this.buf = 0;
    this.cnt = 0;
    this.padBits = 0;
    this.markerHit = false;
    for (const c of comps) c.pred = 0;
    this.decodeScan(frame, comps);
    // stray bits of the last byte are padding; resume the marker search at the first unread byte
    return this.pos;
  }

  // ---------------------------------------------------------------- entropy decoding

  private fill(): void {
    const d = this.data;
    while (this.cnt <= 24) {
      let byte = 0;
      if (!this.markerHit && this.pos < d.length) {
        byte = d[this.pos];
        if (byte === 0xff) {
          const next = this.pos + 1 < d.length ? d[this.pos + 1] : -1;
          if (next === 0) {
            this.pos += 2;
          } else {
            // a marker (or end of data) ends the segment: feed zeros from here on
            this.markerHit = true;
            byte = 0;
            this.padBits += 8;
          }
        } else {
          this.pos++;
        }
      } else {
        this.padBits += 8;
      }
      this.buf = (this.buf << 8) | byte;
      this.cnt += 8;
    }
  }

  private decodeSymbol(t: HuffTable): number {
    if (this.cnt < 16) this.fill();
    const e = t.fast[(this.buf >>> (this.cnt - 9)) & 511];
    if (e !== 0) {
      this.cnt -= e >> 8;
      return e & 255;
    }
    const code16 = (this.buf >>> (this.cnt - 16)) & 0xffff;
    for (let len = 10; len <= 16; len++) {
      const code = code16 >>> (16 - len);
      if (code <= t.maxCode[len]) {
        this.cnt -= len;
        return t.values[code + t.valOffset[len]];
      }
    }
    return fail('invalid huffman code');
  }

  /**
   * Decodes one block's coefficients, dequantized, into this.blk (natural
   * order). Returns the last zigzag index set. The bit buffer lives in locals
   * here (the hot loop of the decoder) and is synced to the fields around
   * refills and slow-path symbol decodes.
   */
  private decodeBlock(c: Component): number {
    const blk = this.blk;
    const qt = c.qt;
    const ac = c.ac!;
    const dc = c.dc!;
    let buf = this.buf;
    let cnt = this.cnt;

    if (cnt < 16) {
      this.cnt = cnt;
      this.fill();
      buf = this.buf;
      cnt = this.cnt;
    }
    let e = dc.fast[(buf >>> (cnt - 9)) & 511];
    let s: number;
    if (e !== 0) {
      cnt -= e >> 8;
      s = e & 255;
    } else {
      this.cnt = cnt;
      s = this.decodeSymbol(dc);
      buf = this.buf;
      cnt = this.cnt;
    }
    if (s !== 0) {
      if (s > 11) fail('bad DC magnitude');
      if (cnt < s) {
        this.cnt = cnt;
        this.fill();
        buf = this.buf;
        cnt = this.cnt;
      }
      let v = (buf >>> (cnt - s)) & ((1 << s) - 1);
      cnt -= s;
      if (v < 1 << (s - 1)) v -= (1 << s) - 1;
      c.pred += v;
    }
    blk[0] = c.pred * qt[0];

    const fastAc = ac.fastAc;
    const fast = ac.fast;
    let last = 0;
    for (let k = 1; k < 64; ) {
      if (cnt < 16) {
        this.cnt = cnt;
        this.fill();
        buf = this.buf;
        cnt = this.cnt;
      }
      const look = (buf >>> (cnt - 9)) & 511;
      const f = fastAc[look];
      if (f !== 0) {
        cnt -= f & 15;
        k += (f >> 4) & 15;
        if (k > 63) fail('coefficient index out of range');
        blk[ZIGZAG[k]] = (f >> 8) * qt[k];
        last = k;
        k++;
        continue;
      }
      let rs: number;
      e = fast[look];
      if (e !== 0) {
        cnt -= e >> 8;
        rs = e & 255;
      } else {
        this.cnt = cnt;
        rs = this.decodeSymbol(ac);
        buf = this.buf;
        cnt = this.cnt;
      }
      s = rs & 15;
      if (s === 0) {
        if (rs !== 0xf0) break; // EOB
        k += 16; // ZRL
        continue;
      }
      k += rs >> 4;
      if (k > 63) fail('coefficient index out of range');
      if (cnt < s) {
        this.cnt = cnt;
        this.fill();
        buf = this.buf;
        cnt = this.cnt;
      }
      let v = (buf >>> (cnt - s)) & ((1 << s) - 1);
      cnt -= s;
      if (v < 1 << (s - 1)) v -= (1 << s) - 1;
      blk[ZIGZAG[k]] = v * qt[k];
      last = k;
      k++;
    }
    this.buf = buf;
    this.cnt = cnt;
    return last;
  }

  /** Fails when decoding consumed bits past the end of the entropy-coded data. */
  private checkOverrun(): void {
    if (this.padBits > this.cnt) fail('truncated or corrupt entropy-coded data');
  }

  private decodeScan(frame: Frame, comps: Component[]): void {
    const ri = this.restartInterval;
    let nextRst = 0;
    let todo = ri;
    let mcusX: number, mcusY: number;
    const single = comps.length === 1;
    if (single) {
      mcusX = Math.ceil(comps[0].cw / 8);
      mcusY = Math.ceil(comps[0].ch / 8);
    } else {
      mcusX = frame.mcusX;
      mcusY = frame.mcusY;
    }
    for (let my = 0; my < mcusY; my++) {
      for (let mx = 0; mx < mcusX; mx++) {
        if (ri !== 0) {
          if (todo === 0) {
            this.restart(nextRst, comps);
            nextRst = (nextRst + 1) & 7;
            todo = ri;
          }
          todo--;
        }
        if (single) {
          const c = comps[0];
          this.block(c, (my * 8) * c.planeW + mx * 8);
        } else {
          for (let ci = 0; ci < comps.length; ci++) {
            const c = comps[ci];
            const stride = c.planeW;
            const base = my * c.v * 8 * stride + mx * c.h * 8;
            for (let by = 0; by < c.v; by++) {
              for (let bx = 0; bx < c.h; bx++) this.block(c, base + by * 8 * stride + bx * 8);
            }
          }
        }
      }
      this.checkOverrun();
    }
  }

  /** Handles an RSTn between restart intervals: byte-align, check the marker, reset DC predictors. */
  private restart(expected: number, comps: Component[]): void {
    this.checkOverrun();
    const d = this.data;
    const p = this.findMarker(this.pos);
    if (p < 0 || d[p + 1] !== M_RST0 + expected) fail(`expected RST${expected}`);
    this.pos = p + 2;
    this.buf = 0;
    this.cnt = 0;
    this.padBits = 0;
    this.markerHit = false;
    for (const c of comps) c.pred = 0;
  }

  private block(c: Component, offset: number): void {
    const last = this.decodeBlock(c);
    const plane = c.plane!;
    const stride = c.planeW;
    const blk = this.blk;
    if (last === 0) {
      // DC only: a flat block, the common case in screen content
      const v = (blk[0] + 128.5) | 0;
      blk[0] = 0;
      for (let y = 0; y < 8; y++) {
        const o = offset + y * stride;
        plane[o] = v; plane[o + 1] = v; plane[o + 2] = v; plane[o + 3] = v;
        plane[o + 4] = v; plane[o + 5] = v; plane[o + 6] = v; plane[o + 7] = v;
      }
      return;
    }
    idct8x8(blk, this.ws, plane, offset, stride);
    blk.fill(0);
  }

  // ---------------------------------------------------------------- output

  private output(frame: Frame, ycc: boolean): DecodedImage {
    const { width, height, comps } = frame;
    const n = width * height;
    const t = this.target;
    const pixels = t && t.length >= n ? t.subarray(0, n) : new Uint32Array(n);
    // Int32Array view: storing 0xFF…-topped int32 values into it avoids a uint32 conversion per pixel
    const out = new Int32Array(pixels.buffer, pixels.byteOffset, n);
    if (comps.length === 1) {
      for (let y = 0; y < height; y++) {
        const r0 = this.row(frame, 0, y);
        grayRow(out, y * width, width, r0, this.rowOff);
      }
      return { width, height, pixels, hasAlpha: false };
    }
    const [cy, cb, cr] = comps;
    const hs = frame.hmax / cb.h;
    const vs = frame.vmax / cb.v;
    if (
      ycc && cy.h === frame.hmax && cy.v === frame.vmax && hs === 2 && (vs === 1 || vs === 2) &&
      cr.h === cb.h && cr.v === cb.v && cr.planeW === cb.planeW && cb.cw > 2
    ) {
      // 4:2:2 / 4:2:0 (what spice-server sends): fancy upsampling fused with colour conversion
      const yp = cy.plane!;
      const cbp = cb.plane!;
      const crp = cr.plane!;
      const cstride = cb.planeW;
      const wb = vs === 2 ? 1 : 0;
      const wa = vs === 2 ? 3 : 1;
      const shift = vs === 2 ? 4 : 2;
      const biasEven = vs === 2 ? 8 : 1;
      const biasOdd = vs === 2 ? 7 : 2;
      for (let y = 0; y < height; y++) {
        const j = vs === 2 ? y >> 1 : y;
        // lower row of a pair blends with the chroma row below, upper with the one above
        const nb = vs === 1 ? j : y & 1 ? Math.min(j + 1, cb.ch - 1) : Math.max(j - 1, 0);
        yccRowH2(
          out, y * width, width, yp, y * cy.planeW, cbp, crp, j * cstride, nb * cstride, cb.cw,
          wa, wb, biasEven, biasOdd, shift,
        );
      }
      return { width, height, pixels, hasAlpha: false };
    }
    for (let y = 0; y < height; y++) {
      const r0 = this.row(frame, 0, y);
      const o0 = this.rowOff;
      const r1 = this.row(frame, 1, y);
      const o1 = this.rowOff;
      const r2 = this.row(frame, 2, y);
      const o2 = this.rowOff;
      if (ycc) yccRow(out, y * width, width, r0, o0, r1, o1, r2, o2);
      else rgbRow(out, y * width, width, r0, o0, r1, o1, r2, o2);
    }
    return { width, height, pixels, hasAlpha: false };
  }

  /**
   * Output row y of component ci at full resolution: the plane itself when not
   * subsampled, else a row buffer filled by libjpeg-style "fancy" (triangle)
   * upsampling for 2:1 ratios and replication for other ratios. Edges replicate
   * the last real sample (cw/ch), as libjpeg does. The choices follow
   * libjpeg-turbo's jdsample.c so output matches djpeg within IDCT rounding.
   */
  private row(frame: Frame, ci: number, y: number): Uint8ClampedArray {
    const c = frame.comps[ci];
    const hs = frame.hmax / c.h;
    const vs = frame.vmax / c.v;
    const plane = c.plane!;
    const stride = c.planeW;
    if (hs === 1 && vs === 1) {
      this.rowOff = y * stride;
      return plane;
    }
    this.rowOff = 0;

    const need = c.cw * hs + 2;
    let out = this.rowBufs[ci];
    if (!out || out.length < need) out = this.rowBufs[ci] = new Uint8ClampedArray(need);
    const cw = c.cw;
    const last = cw - 1;

    // like libjpeg(-turbo), 2:1 horizontal fancy upsampling only when there are more than 2 chroma columns
    if (vs === 2 && (hs === 1 || (hs === 2 && cw > 2))) {
      const j = y >> 1;
      // lower output row of a pair blends with the row below, upper with the row above
      const nb = y & 1 ? Math.min(j + 1, c.ch - 1) : Math.max(j - 1, 0);
      const a = j * stride;
      const b = nb * stride;
      if (hs === 1) {
        const bias = y & 1 ? 2 : 1;
        for (let x = 0; x < cw; x++) out[x] = (3 * plane[a + x] + plane[b + x] + bias) >> 2;
        return out;
      }
      if (this.colSum.length < cw) this.colSum = new Int32Array(cw + 16);
      const cs = this.colSum;
      for (let x = 0; x < cw; x++) cs[x] = 3 * plane[a + x] + plane[b + x];
      out[0] = (cs[0] * 4 + 8) >> 4;
      out[1] = (cs[0] * 3 + cs[1] + 7) >> 4;
      for (let x = 1; x < last; x++) {
        const t = cs[x] * 3;
        out[2 * x] = (t + cs[x - 1] + 8) >> 4;
        out[2 * x + 1] = (t + cs[x + 1] + 7) >> 4;
      }
      out[2 * last] = (cs[last] * 3 + cs[last - 1] + 8) >> 4;
      out[2 * last + 1] = (cs[last] * 4 + 7) >> 4;
      return out;
    }

    if (vs === 1 && hs === 2 && cw > 2) {
      const a = y * stride;
      out[0] = plane[a];
      out[1] = (plane[a] * 3 + plane[a + 1] + 2) >> 2;
      for (let x = 1; x < last; x++) {
        const t = plane[a + x] * 3;
        out[2 * x] = (t + plane[a + x - 1] + 1) >> 2;
        out[2 * x + 1] = (t + plane[a + x + 1] + 2) >> 2;
      }
      out[2 * last] = (plane[a + last] * 3 + plane[a + last - 1] + 1) >> 2;
      out[2 * last + 1] = plane[a + last];
      return out;
    }

    // other integral ratios: box replication
    const a = Math.floor(y / vs) * stride;
    for (let x = 0, o = 0; x < cw; x++) {
      const v = plane[a + x];
      for (let k = 0; k < hs; k++) out[o++] = v;
    }
    return out;
  }
}

function grayRow(out: Int32Array, o: number, width: number, r: Uint8ClampedArray, ro: number): void {
  for (let x = 0; x < width; x++) out[o + x] = OPAQUE | (r[ro + x] * 0x010101);
}

function yccRow(
  out: Int32Array, o: number, width: number,
  r0: Uint8ClampedArray, o0: number, r1: Uint8ClampedArray, o1: number, r2: Uint8ClampedArray, o2: number,
): void {
  for (let x = 0; x < width; x++) {
    const yy = r0[o0 + x] + CLAMP_OFS;
    const cb = r1[o1 + x];
    const cr = r2[o2 + x];
    out[o + x] =
      OPAQUE |
      (CLAMP[yy + CR_R[cr]] << 16) |
      (CLAMP[yy + ((CB_G[cb] + CR_G[cr]) >> 16)] << 8) |
      CLAMP[yy + CB_B[cb]];
  }
}

/**
 * One output row of 2:1 horizontally subsampled YCbCr: libjpeg's triangle
 * filter (h2v1: (3·near + far + 1|2) >> 2; h2v2 on column sums 3·near-row +
 * far-row: (3·near + far + 8|7) >> 4), with edge samples replicated, fused
 * with the colour conversion. Chroma rows a (nearest) and b (neighbour row).
 */
function yccRowH2(
  out: Int32Array, o: number, width: number, yp: Uint8ClampedArray, yo: number,
  cbp: Uint8ClampedArray, crp: Uint8ClampedArray, a: number, b: number, cw: number,
  wa: number, wb: number, biasEven: number, biasOdd: number, shift: number,
): void {
  let cbCur = wa * cbp[a] + wb * cbp[b];
  let crCur = wa * crp[a] + wb * crp[b];
  let cbPrev = cbCur;
  let crPrev = crCur;
  const pairs = width >> 1; // chroma sample i covers pixels 2i and 2i+1
  const last = cw - 1;
  let yi = yo;
  let oi = o;
  for (let i = 0; i < pairs; i++) {
    const n = i < last ? i + 1 : last;
    const cbNext = wa * cbp[a + n] + wb * cbp[b + n];
    const crNext = wa * crp[a + n] + wb * crp[b + n];
    const cb3 = 3 * cbCur;
    const cr3 = 3 * crCur;
    let u = (cb3 + cbPrev + biasEven) >> shift;
    let v = (cr3 + crPrev + biasEven) >> shift;
    let yy = yp[yi] + CLAMP_OFS;
    out[oi] = OPAQUE | (CLAMP[yy + CR_R[v]] << 16) | (CLAMP[yy + ((CB_G[u] + CR_G[v]) >> 16)] << 8) | CLAMP[yy + CB_B[u]];
    u = (cb3 + cbNext + biasOdd) >> shift;
    v = (cr3 + crNext + biasOdd) >> shift;
    yy = yp[yi + 1] + CLAMP_OFS;
    out[oi + 1] = OPAQUE | (CLAMP[yy + CR_R[v]] << 16) | (CLAMP[yy + ((CB_G[u] + CR_G[v]) >> 16)] << 8) | CLAMP[yy + CB_B[u]];
    yi += 2;
    oi += 2;
    cbPrev = cbCur;
    crPrev = crCur;
    cbCur = cbNext;
    crCur = crNext;
  }
  if (width & 1) {
    const u = (3 * cbCur + cbPrev + biasEven) >> shift;
    const v = (3 * crCur + crPrev + biasEven) >> shift;
    const yy = yp[yi] + CLAMP_OFS;
    out[oi] = OPAQUE | (CLAMP[yy + CR_R[v]] << 16) | (CLAMP[yy + ((CB_G[u] + CR_G[v]) >> 16)] << 8) | CLAMP[yy + CB_B[u]];
  }
}

function rgbRow(
  out: Int32Array, o: number, width: number,
  r0: Uint8ClampedArray, o0: number, r1: Uint8ClampedArray, o1: number, r2: Uint8ClampedArray, o2: number,
): void {
  for (let x = 0; x < width; x++) out[o + x] = OPAQUE | (r0[o0 + x] << 16) | (r1[o1 + x] << 8) | r2[o2 + x];
}

/**
 * AAN float IDCT of a dequantized, pre-scaled block (natural order) into an
 * 8×8 area of a plane, adding the 128 level shift. The Uint8ClampedArray store
 * rounds and clamps.
 */
function idct8x8(blk: Float64Array, ws: Float64Array, out: Uint8ClampedArray, offset: number, stride: number): void {
  // columns
  for (let c = 0; c < 8; c++) {
    const i0 = blk[c], i1 = blk[8 + c], i2 = blk[16 + c], i3 = blk[24 + c];
    const i4 = blk[32 + c], i5 = blk[40 + c], i6 = blk[48 + c], i7 = blk[56 + c];
    if (i1 === 0 && i2 === 0 && i3 === 0 && i4 === 0 && i5 === 0 && i6 === 0 && i7 === 0) {
      ws[c] = ws[8 + c] = ws[16 + c] = ws[24 + c] = ws[32 + c] = ws[40 + c] = ws[48 + c] = ws[56 + c] = i0;
      continue;
    }
    // even part
    const e10 = i0 + i4;
    const e11 = i0 - i4;
    const e13 = i2 + i6;
    const e12 = (i2 - i6) * 1.414213562 - e13;
    const e0 = e10 + e13;
    const e3 = e10 - e13;
    const e1 = e11 + e12;
    const e2 = e11 - e12;
    // odd part
    const z13 = i5 + i3;
    const z10 = i5 - i3;
    const z11 = i1 + i7;
    const z12 = i1 - i7;
    const o7 = z11 + z13;
    const o11 = (z11 - z13) * 1.414213562;
    const z5 = (z10 + z12) * 1.847759065;
    const o10 = z5 - z12 * 1.082392200;
    const o12 = z5 - z10 * 2.613125930;
    const o6 = o12 - o7;
    const o5 = o11 - o6;
    const o4 = o10 - o5;
    ws[c] = e0 + o7;
    ws[56 + c] = e0 - o7;
    ws[8 + c] = e1 + o6;
    ws[48 + c] = e1 - o6;
    ws[16 + c] = e2 + o5;
    ws[40 + c] = e2 - o5;
    ws[24 + c] = e3 + o4;
    ws[32 + c] = e3 - o4;
  }
  // rows, with the +128 level shift and +0.5 for rounding folded into the DC
  // term, so |0 (truncation) rounds; negatives clamp to 0 on store anyway
  for (let r = 0; r < 8; r++) {
    const b = r * 8;
    const i0 = ws[b] + 128.5, i1 = ws[b + 1], i2 = ws[b + 2], i3 = ws[b + 3];
    const i4 = ws[b + 4], i5 = ws[b + 5], i6 = ws[b + 6], i7 = ws[b + 7];
    const e10 = i0 + i4;
    const e11 = i0 - i4;
    const e13 = i2 + i6;
    const e12 = (i2 - i6) * 1.414213562 - e13;
    const e0 = e10 + e13;
    const e3 = e10 - e13;
    const e1 = e11 + e12;
    const e2 = e11 - e12;
    const z13 = i5 + i3;
    const z10 = i5 - i3;
    const z11 = i1 + i7;
    const z12 = i1 - i7;
    const o7 = z11 + z13;
    const o11 = (z11 - z13) * 1.414213562;
    const z5 = (z10 + z12) * 1.847759065;
    const o10 = z5 - z12 * 1.082392200;
    const o12 = z5 - z10 * 2.613125930;
    const o6 = o12 - o7;
    const o5 = o11 - o6;
    const o4 = o10 - o5;
    const o = offset + r * stride;
    out[o] = (e0 + o7) | 0;
    out[o + 7] = (e0 - o7) | 0;
    out[o + 1] = (e1 + o6) | 0;
    out[o + 6] = (e1 - o6) | 0;
    out[o + 2] = (e2 + o5) | 0;
    out[o + 5] = (e2 - o5) | 0;
    out[o + 3] = (e3 + o4) | 0;
    out[o + 4] = (e3 - o4) | 0;
  }
}

// ------------------------------------------------------------------ public API

/**
 * Decodes one baseline (or extended-sequential huffman) 8-bit JPEG with 1 or 3
 * components into 0xFFRRGGBB pixels, top-down. Throws SpiceError('DECODE') on
 * any invalid or truncated input (including progressive JPEG) and
 * SpiceError('LIMIT') when width×height exceeds limits.maxPixels.
 */
export function decodeJpeg(data: Uint8Array, limits?: JpegLimits): DecodedImage {
  return new JpegCore(false).decode(data, limits);
}

/**
 * Decoder for consecutive frames of one MJPEG stream: keeps its working
 * buffers, and keeps DQT/DHT tables across frames so abbreviated frames
 * (tables omitted, as libjpeg allows after the first frame) decode like
 * libjpeg would.
 */
export class MjpegFrameDecoder {
  private readonly core = new JpegCore(true);
  /**
   * target: a caller-owned buffer of at least width×height pixels to decode
   * into (the result's pixels is then a view of it). Reusing one saves a fresh
   * multi-megabyte allocation per frame, the largest fixed cost at 1024×768.
   */
  decode(frame: Uint8Array, limits?: JpegLimits, target?: Uint32Array): DecodedImage {
    return this.core.decode(frame, limits, target);
  }
}

function checkSize(img: DecodedImage, image: SpiceImage): void {
  const { width, height } = image.descriptor;
  if (img.width !== width || img.height !== height) {
    fail(`image is ${img.width}x${img.height}, descriptor says ${width}x${height}`);
  }
}

function descriptorLimit(image: SpiceImage): JpegLimits {
  return { maxPixels: Math.min(MAX_IMAGE_PIXELS, Math.max(0, image.descriptor.width * image.descriptor.height)) };
}

/** SPICE_IMAGE_TYPE_JPEG. */
export class JpegDecoder implements ImageDecoder {
  private readonly core = new JpegCore(false);
  decode(image: SpiceImage, _ctx: DecodeContext): DecodedImage {
    if (image.data.kind !== 'jpeg') fail(`JpegDecoder got ${image.data.kind}`);
    // the descriptor size bounds the allocation (the JPEG header could claim more)
    const img = this.core.decode(image.data.data, descriptorLimit(image));
    checkSize(img, image);
    return img;
  }
}

/**
 * SPICE_IMAGE_TYPE_JPEG_ALPHA: jpegSize bytes of JPEG (the RGB) followed by an
 * LZ XXXA stream holding the alpha plane. As in spice-common canvas_base.c the
 * LZ rows run top-down when flags has TOP_DOWN, else bottom row first; the LZ
 * header's own top_down bit must agree (lzDecodeAlpha checks the header).
 */
export class JpegAlphaDecoder implements ImageDecoder {
  private readonly core = new JpegCore(false);
  decode(image: SpiceImage, _ctx: DecodeContext): DecodedImage {
    const src = image.data;
    if (src.kind !== 'jpeg_alpha') fail(`JpegAlphaDecoder got ${src.kind}`);
    if (!Number.isInteger(src.jpegSize) || src.jpegSize < 0 || src.jpegSize > src.data.length) {
      fail(`jpeg_size ${src.jpegSize} exceeds the ${src.data.length}-byte payload`);
    }
    const img = this.core.decode(src.data.subarray(0, src.jpegSize), descriptorLimit(image));
    checkSize(img, image);
    const { width, height, pixels } = img;
    const alpha = src.data.subarray(src.jpegSize);
    // canvas_get_jpeg_alpha refuses an LZ header whose top_down disagrees with the flags
    if (readLzHeader(alpha).topDown !== ((src.flags & JpegAlphaFlags.TOP_DOWN) !== 0)) {
      fail('JPEG_ALPHA flags and LZ header disagree on row order');
    }
    lzDecodeAlpha(alpha, width, height, pixels);
    return { width, height, pixels, hasAlpha: true };
  }
}
