// LZ4 image decoder. Framing (spice server lz4-encoder.c, spice-common
// canvas_base.c canvas_get_lz4): byte 0 = top_down flag, byte 1 = SpiceBitmapFmt
// (16BIT, 24BIT, 32BIT or RGBA), then a sequence of {u32 big-endian compressed
// size, LZ4 block}. The blocks come from one LZ4 stream (compress_continue), so
// a match may reach back into the output of earlier blocks: all blocks decode
// into one contiguous buffer of raw rows, which is then converted to pixels.
import { BitmapFmt } from '../../../preload/spice-enums';
import type { SpiceImage } from '../../../preload/contract';
import type { DecodeContext, DecodedImage, ImageDecoder } from '../types';
import { checkDims, checkExpansion, convertRows, decodeError } from './bitmap';
import { be32, flipRows } from './lz';

const OPAQUE = 0xff000000;
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * Tracks whether a 32BIT image may end up with an x byte other than 0xff:
 * when every literal x byte is 0xff and every match moves whole pixels, the
 * decoded pixels are already opaque and the forcing pass can be skipped.
 */
export interface OpaqueState {
  needsFix: boolean;
}

/**
 * Decodes one LZ4 block (lz4 block format) from src[start, end) into
 * out at op, with earlier bytes of out as history. Returns the new op, or -1
 * when the output would not fit in out. out32, when given, is a word view of
 * out's bytes (out.byteOffset % 4 === 0) used for aligned matches; opaque,
 * when given, is updated for 32BIT images (see OpaqueState).
 */
export function lz4DecodeBlock(
  src: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  op: number,
  out32: Uint32Array | null = null,
  opaque: OpaqueState | null = null,
): number {
  let ip = start;
  const oend = out.length;
  for (;;) {
    if (ip >= end) decodeError('lz4: block truncated');
    const token = src[ip++];
    let lit = token >>> 4;
    if (lit === 15) {
      let b: number;
      do {
        if (ip >= end) decodeError('lz4: block truncated in literal length');
        b = src[ip++];
        lit += b;
      } while (b === 255);
    }
    if (ip + lit > end) decodeError('lz4: literals past block end');
    if (op + lit > oend) return -1;
    if (lit < 64) for (let i = 0; i < lit; i++) out[op + i] = src[ip + i];
    else out.set(src.subarray(ip, ip + lit), op);
    if (opaque !== null && !opaque.needsFix) {
      for (let a = op | 3, stop = op + lit; a < stop; a += 4) if (out[a] !== 0xff) opaque.needsFix = true;
    }
    ip += lit;
    op += lit;
    if (ip === end) return op; // the last sequence has literals only
    if (ip + 2 > end) decodeError('lz4: block truncated in offset');
    const ofs = src[ip] | (src[ip + 1] << 8);
    ip += 2;
    if (ofs === 0 || ofs > op) decodeError(`lz4: bad match offset ${ofs}`);
    let mlen = (token & 15) + 4;
    if (mlen === 19) {
      let b: number;
      do {
        if (ip >= end) decodeError('lz4: block truncated in match length');
        b = src[ip++];
        mlen += b;
      } while (b === 255);
    }
    if (op + mlen > oend) return -1;
    // A match whose offset is not whole pixels can move colour bytes into alpha.
    if (opaque !== null && (ofs & 3) !== 0) opaque.needsFix = true;
    let r = op - ofs;
    if (out32 !== null && ((op | ofs) & 3) === 0) {
      // Word-aligned match (pixel data): copy 4 bytes at a time; ofs >= 4
      // keeps the forward copy's overlap semantics.
      const words = mlen >>> 2;
      let o = op >>> 2;
      let q = r >>> 2;
      const stop = o + words;
      while (o < stop) out32[o++] = out32[q++];
      op += words << 2;
      r += words << 2;
      const bstop = op + (mlen & 3);
      while (op < bstop) out[op++] = out[r++];
    } else if (mlen <= 32) {
      const stop = op + mlen;
      while (op < stop) out[op++] = out[r++];
    } else if (ofs >= mlen) {
      out.copyWithin(op, r, r + mlen);
      op += mlen;
    } else {
      // Overlapping match = the last `ofs` bytes repeated: copy in doubling
      // chunks, each a whole number of periods long.
      for (let done = 0; done < mlen; ) {
        const chunk = Math.min(mlen - done, op + done - r);
        out.copyWithin(op + done, r, r + chunk);
        done += chunk;
      }
      op += mlen;
    }
  }
}

/** Decodes the size-prefixed block sequence after the 2-byte header into out; -1 when out is too small. */
function decodeBlocks(data: Uint8Array, out: Uint8Array, opaque: OpaqueState | null = null): number {
  let pos = 2;
  let op = 0;
  const out32 = out.byteOffset % 4 === 0 ? new Uint32Array(out.buffer, out.byteOffset, out.length >>> 2) : null;
  do {
    if (pos + 4 > data.length) decodeError('lz4: block size truncated');
    const size = be32(data, pos);
    pos += 4;
    if (size === 0 || size > data.length - pos) decodeError(`lz4: block size ${size} past data end`);
    const before = op;
    op = lz4DecodeBlock(data, pos, pos + size, out, op, out32, opaque);
    if (op < 0) return -1;
    if (op === before) decodeError('lz4: empty block');
    pos += size;
  } while (pos < data.length);
  return op;
}

export class Lz4Decoder implements ImageDecoder {
  decode(image: SpiceImage, _ctx: DecodeContext): DecodedImage {
    const d = image.data;
    if (d.kind !== 'lz4') decodeError(`Lz4Decoder got ${d.kind}`);
    const data = d.data;
    const { width, height } = image.descriptor;
    checkDims(width, height, 'lz4');
    if (data.length < 2) decodeError('lz4: missing header');
    const topDown = data[0] !== 0;
    const format = data[1];
    const bpp =
      format === BitmapFmt._16BIT ? 2 : format === BitmapFmt._24BIT ? 3 : format === BitmapFmt._32BIT || format === BitmapFmt.RGBA ? 4 : 0;
    if (bpp === 0) decodeError(`lz4: unsupported bitmap format ${format}`);
    const rowBytes = width * bpp;
    checkExpansion(data.length - 2, rowBytes * height, 'lz4');
    const pixels = new Uint32Array(width * height);
    if (bpp === 4 && LITTLE_ENDIAN) {
      // Fast path: B,G,R,A rows read as little-endian words are already
      // 0xAARRGGBB, so decode straight into the pixel buffer.
      const bytes = new Uint8Array(pixels.buffer);
      const opaque = format === BitmapFmt._32BIT ? { needsFix: false } : null;
      const op = decodeBlocks(data, bytes, opaque);
      if (op === bytes.length) {
        if (opaque?.needsFix) for (let i = 0; i < pixels.length; i++) pixels[i] |= OPAQUE;
        if (!topDown) flipRows(pixels, width, height);
        return { width, height, pixels, hasAlpha: format === BitmapFmt.RGBA };
      }
      if (op >= 0) decodeError(`lz4: decoded ${op} bytes for ${height} rows of ${rowBytes}`);
      // padded rows: fall through to the general path
    }
    // The server sends stride*height bytes; strides are padded by less than 4 bytes per row.
    const raw = new Uint8Array((rowBytes + 3) * height);
    const op = decodeBlocks(data, raw);
    if (op < 0) decodeError('lz4: output exceeds image size');
    // Row stride = decoded size / height (width*bpp unless the bitmap had padding).
    if (op % height !== 0 || op / height < rowBytes || op / height > rowBytes + 3) {
      decodeError(`lz4: decoded ${op} bytes for ${height} rows of ${rowBytes}`);
    }
    const stride = op / height;

    const hasAlpha = convertRows(raw, format, width, height, stride, topDown, null, pixels);
    return { width, height, pixels, hasAlpha };
  }
}
