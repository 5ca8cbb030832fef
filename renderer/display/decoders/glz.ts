// GLZ_RGB image decoder and the GLZ dictionary window it owns.
// Format (spice server glz-encoder.c / glz-encode-match.tmpl.c, spice-gtk
// decode-glz.c): a 33-byte big-endian header {magic "LZ  ", version 1.1,
// type | top_down<<4 (one byte), width, height, stride, u64 image id,
// u32 win_head_dist} then an LZ77 stream like LZ's, except that a match may
// point into an EARLIER image of the shared dictionary: image_dist > 0 names
// image (id - image_dist) and pixel_ofs is an offset from that image's first
// pixel; image_dist = 0 is a distance back in the current image (biased by 1).
// Images are stored in stream (row) order because that is what offsets index.
// After each image, images older than (id - win_head_dist) of the newest image
// of the contiguous id run are released, like spice-gtk; a pixel budget bounds
// the window when ids never close a gap.
import type { ImageDescriptor, SpiceImage } from '../../../preload/contract';
import type { DecodeContext, DecodedImage, ImageDecoder } from '../types';
import { checkDims, checkExpansion, decodeError, rgb555ToArgb } from './bitmap';
import { be32, LZ_MAGIC, LZ_VERSION, LzImageType } from './lz';

const GLZ_HEADER_SIZE = 33;
const OPAQUE = 0xff000000;
const SHORT_COPY = 12;

/** spice-gtk's largest default GLZ window is 64 MiB = 16 Mpixels; keep twice that. */
export const GLZ_DEFAULT_WINDOW_PIXELS = 32 * 1024 * 1024;
export const GLZ_DEFAULT_WINDOW_IMAGES = 16384;
/** Released buffers kept for reuse, and the smallest worth keeping. */
const SPARE_BUFFERS = 4;
const SPARE_MIN_PIXELS = 64 * 1024;
const SPARE_MAX_PIXELS = 16 * 1024 * 1024;

export interface GlzOptions {
  /** Upper bound of pixels the window keeps (older images are evicted past it). */
  maxWindowPixels?: number;
  /** Upper bound of images the window keeps. */
  maxWindowImages?: number;
}

export interface GlzHeader {
  type: number;
  topDown: boolean;
  width: number;
  height: number;
  stride: number;
  id: bigint;
  winHeadDist: number;
}

interface WindowImage {
  id: bigint;
  /** Decoded pixels in stream order (row 0 = first encoded row). */
  pixels: Uint32Array;
  winHeadDist: number;
  /** Its pixels may carry alpha bytes other than 0xFF: an RGBA image, or one that copied from such an image. */
  alpha: boolean;
}

/** One decoded match: what follows a control byte >= 32. */
interface Match {
  pos: number;
  len: number;
  /** Distance back (image_dist 0, already unbiased) or offset into the referenced image. */
  ofs: number;
  imageDist: number;
}


export function readGlzHeader(data: Uint8Array): GlzHeader {
  if (data.length < GLZ_HEADER_SIZE) decodeError(`glz: ${data.length} bytes, header needs ${GLZ_HEADER_SIZE}`);
  if (be32(data, 0) !== LZ_MAGIC) decodeError('glz: bad magic');
  if (be32(data, 4) !== LZ_VERSION) decodeError(`glz: unsupported version 0x${be32(data, 4).toString(16)}`);
  const tb = data[8];
  const h: GlzHeader = {
    type: tb & 0x0f,
    topDown: tb >>> 4 !== 0,
    width: be32(data, 9),
    height: be32(data, 13),
    stride: be32(data, 17),
    id: (BigInt(be32(data, 21)) << 32n) | BigInt(be32(data, 25)),
    winHeadDist: be32(data, 29),
  };
  checkDims(h.width, h.height, 'glz');
  // matches into other window images still spell out their length in this stream
  checkExpansion(data.length - GLZ_HEADER_SIZE, h.width * h.height, 'glz');
  return h;
}

/**
 * Parses the match whose control byte was read at m.pos-1 (glz-encode-match
 * layout). Reads past the end yield undefined/NaN and are caught by the pos
 * check, keeping the hot path free of per-byte tests.
 */
function readMatch(src: Uint8Array, ctrl: number, m: Match, bias: number): void {
  let pos = m.pos;
  let len = ctrl >>> 5;
  let pixelFlag = (ctrl >>> 4) & 1;
  let ofs = ctrl & 0x0f;
  let code: number;
  if (len === 7) {
    do {
      code = src[pos++];
      len += code;
    } while (code === 255);
  }
  ofs += src[pos++] << 4;
  code = src[pos++];
  const imageFlag = (code >>> 6) & 3;
  let imageDist: number;
  if (!pixelFlag) {
    imageDist = code & 0x3f;
    for (let i = 0; i < imageFlag; i++) imageDist += src[pos++] * 2 ** (6 + 8 * i);
  } else {
    pixelFlag = (code >>> 5) & 1;
    ofs += (code & 0x1f) << 12;
    imageDist = 0;
    for (let i = 0; i < imageFlag; i++) imageDist += src[pos++] * 2 ** (8 * i);
    if (pixelFlag) ofs += src[pos++] * 2 ** 17;
  }
  if (pos > src.length) decodeError('glz: stream truncated in match');
  m.pos = pos;
  m.len = len + bias;
  m.ofs = imageDist === 0 ? ofs + 1 : ofs;
  m.imageDist = imageDist;
}

export class GlzDecoder implements ImageDecoder {
  private readonly images = new Map<bigint, WindowImage>();
  private heldPixels = 0;
  /** First id not yet seen of the contiguous run of received ids (spice-gtk tail_gap). */
  private tailGap: bigint | null = null;
  private readonly maxPixels: number;
  private readonly maxImages: number;
  /**
   * Buffers of released window images, reused for the next images of the same
   * size: decoding writes every pixel, and reuse spares a large zeroed
   * allocation per frame.
   */
  private spare: Uint32Array[] = [];

  constructor(opts: GlzOptions = {}) {
    this.maxPixels = opts.maxWindowPixels ?? GLZ_DEFAULT_WINDOW_PIXELS;
    this.maxImages = opts.maxWindowImages ?? GLZ_DEFAULT_WINDOW_IMAGES;
  }

  decode(image: SpiceImage, _ctx: DecodeContext): DecodedImage {
    const d = image.data;
    if (d.kind !== 'glz_rgb') decodeError(`GlzDecoder got ${d.kind}`);
    return this.decodeGlz(d.data, image.descriptor);
  }

  /** Decodes one GLZ stream (also the payload of ZLIB_GLZ_RGB) and adds it to the window. */
  decodeGlz(data: Uint8Array, descriptor: ImageDescriptor): DecodedImage {
    const h = readGlzHeader(data);
    const { type, width, height } = h;
    if (width !== descriptor.width || height !== descriptor.height) {
      decodeError(`glz: ${width}x${height} differs from descriptor ${descriptor.width}x${descriptor.height}`);
    }
    // Palette GLZ images are never decodable here: GLZ_RGB carries no palette
    // (spice-gtk passes none and fails too).
    if (type !== LzImageType.RGB16 && type !== LzImageType.RGB24 && type !== LzImageType.RGB32 && type !== LzImageType.RGBA) {
      decodeError(`glz: unsupported image type ${type}`);
    }
    const n = width * height;
    const px = this.takeBuffer(n);
    const m: Match = { pos: GLZ_HEADER_SIZE, len: 0, ofs: 0, imageDist: 0 };
    const refAlpha = this.decodeRgb(data, px, n, type === LzImageType.RGB16 ? 2 : 3, h.id, m);
    const hasAlpha = type === LzImageType.RGBA;
    if (hasAlpha) this.decodeAlpha(data, px, n, h.id, m);

    this.add({ id: h.id, pixels: px, winHeadDist: h.winHeadDist, alpha: hasAlpha || refAlpha });

    // Output: top-down copy (the window keeps its own); references into images
    // with alpha may have carried it into an opaque image (only then a pass
    // per pixel: most windows hold no alpha at all).
    const fix = refAlpha && !hasAlpha;
    const out = new Uint32Array(n);
    if (h.topDown && !fix) {
      out.set(px);
    } else {
      for (let y = 0; y < height; y++) {
        const s = y * width;
        const o = (h.topDown ? y : height - 1 - y) * width;
        if (fix) for (let x = 0; x < width; x++) out[o + x] = px[s + x] | OPAQUE;
        else out.set(px.subarray(s, s + width), o);
      }
    }
    return { width, height, pixels: out, hasAlpha };
  }

  reset(): void {
    this.images.clear();
    this.heldPixels = 0;
    this.tailGap = null;
    this.spare = [];
  }

  private takeBuffer(n: number): Uint32Array {
    const i = this.spare.findIndex((b) => b.length === n);
    if (i < 0) return new Uint32Array(n);
    return this.spare.splice(i, 1)[0];
  }

  private release(img: WindowImage): void {
    this.heldPixels -= img.pixels.length;
    if (img.pixels.length < SPARE_MIN_PIXELS || img.pixels.length > SPARE_MAX_PIXELS) return;
    this.spare.push(img.pixels);
    // spares count against the window budget too: window + spares stay within maxPixels
    let spared = 0;
    for (const b of this.spare) spared += b.length;
    while (this.spare.length && (this.spare.length > SPARE_BUFFERS || this.heldPixels + spared > this.maxPixels)) spared -= this.spare.shift()!.length;
  }

  /** Number of images and pixels held by the window (for tests and diagnostics). */
  get windowStats(): { images: number; pixels: number } {
    return { images: this.images.size, pixels: this.heldPixels };
  }

  private lookup(id: bigint, dist: number): WindowImage {
    const img = this.images.get(id - BigInt(dist));
    if (!img) decodeError(`glz: referenced image ${id - BigInt(dist)} is not in the window`);
    return img;
  }

  /** RGB pass; returns whether a match copied from an image whose pixels may carry alpha. */
  private decodeRgb(src: Uint8Array, out: Uint32Array, n: number, bpp: 2 | 3, id: bigint, m: Match): boolean {
    const end = src.length;
    const bias = bpp === 3 ? 0 : 1;
    let pos = m.pos;
    let op = 0;
    let refAlpha = false;
    let lastDist = -1;
    let lastImg: Uint32Array | null = null;
    while (op < n) {
      if (pos >= end) decodeError('glz: stream truncated');
      const ctrl = src[pos++];
      if (ctrl < 32) {
        const cnt = ctrl + 1;
        if (op + cnt > n) decodeError('glz: literal run past image end');
        if (pos + cnt * bpp > end) decodeError('glz: stream truncated in literals');
        const stop = op + cnt;
        if (bpp === 3) {
          for (; op < stop; op++, pos += 3) out[op] = OPAQUE | (src[pos + 2] << 16) | (src[pos + 1] << 8) | src[pos];
        } else {
          for (; op < stop; op++, pos += 2) out[op] = rgb555ToArgb((src[pos] << 8) | src[pos + 1]);
        }
        continue;
      }
      m.pos = pos;
      readMatch(src, ctrl, m, bias);
      pos = m.pos;
      const len = m.len;
      const ofs = m.ofs;
      if (op + len > n) decodeError('glz: match past image end');
      if (m.imageDist === 0) {
        let ref = op - ofs;
        if (ref < 0) decodeError(`glz: match distance ${ofs} before image start`);
        if (ofs === 1) {
          out.fill(out[ref], op, op + len);
          op += len;
        } else if (len <= SHORT_COPY || ofs < len) {
          const stop = op + len;
          while (op < stop) out[op++] = out[ref++];
        } else {
          out.copyWithin(op, ref, ref + len);
          op += len;
        }
      } else {
        if (m.imageDist !== lastDist) {
          const img = this.lookup(id, m.imageDist);
          lastImg = img.pixels;
          lastDist = m.imageDist;
          refAlpha ||= img.alpha;
        }
        const ref = lastImg!;
        if (ofs + len > ref.length) decodeError('glz: match past the referenced image');
        if (len <= SHORT_COPY) for (let i = 0; i < len; i++) out[op + i] = ref[ofs + i];
        else out.set(ref.subarray(ofs, ofs + len), op);
        op += len;
      }
    }
    m.pos = pos;
    return refAlpha;
  }

  /** Alpha pass of RGBA images: byte units, only the alpha byte is written. */
  private decodeAlpha(src: Uint8Array, out: Uint32Array, n: number, id: bigint, m: Match): void {
    const end = src.length;
    let pos = m.pos;
    let op = 0;
    while (op < n) {
      if (pos >= end) decodeError('glz: alpha stream truncated');
      const ctrl = src[pos++];
      if (ctrl < 32) {
        const cnt = ctrl + 1;
        if (op + cnt > n) decodeError('glz: alpha literal run past image end');
        if (pos + cnt > end) decodeError('glz: alpha stream truncated in literals');
        for (let i = 0; i < cnt; i++, op++) out[op] = (out[op] & 0xffffff) | (src[pos++] << 24);
        continue;
      }
      m.pos = pos;
      readMatch(src, ctrl, m, 2);
      pos = m.pos;
      const len = m.len;
      const ofs = m.ofs;
      if (op + len > n) decodeError('glz: alpha match past image end');
      let ref: Uint32Array;
      let r: number;
      if (m.imageDist === 0) {
        ref = out;
        r = op - ofs;
        if (r < 0) decodeError(`glz: alpha match distance ${ofs} before image start`);
      } else {
        ref = this.lookup(id, m.imageDist).pixels;
        r = ofs;
        if (r + len > ref.length) decodeError('glz: alpha match past the referenced image');
      }
      for (let i = 0; i < len; i++, op++, r++) out[op] = (out[op] & 0xffffff) | (ref[r] & 0xff000000);
    }
    m.pos = pos;
  }

  private add(img: WindowImage): void {
    const old = this.images.get(img.id);
    if (old) this.release(old);
    this.images.set(img.id, img);
    this.heldPixels += img.pixels.length;

    // A jump far from the run (new server dictionary) restarts it.
    const far = BigInt(this.maxImages);
    if (this.tailGap === null || img.id < this.tailGap - far || img.id > this.tailGap + far) this.tailGap = img.id;
    while (this.images.has(this.tailGap)) this.tailGap++;

    // Release what the newest image of the contiguous run no longer needs.
    const last = this.images.get(this.tailGap - 1n);
    if (last) {
      const oldest = last.id - BigInt(last.winHeadDist);
      for (const [k, v] of this.images) {
        if (k < oldest) {
          this.images.delete(k);
          this.release(v);
        }
      }
    }
    // Budget: evict the oldest ids (never the image just added).
    while ((this.heldPixels > this.maxPixels || this.images.size > this.maxImages) && this.images.size > 1) {
      let min: bigint | null = null;
      for (const k of this.images.keys()) if (k !== img.id && (min === null || k < min)) min = k;
      if (min === null) break;
      this.release(this.images.get(min)!);
      this.images.delete(min);
    }
  }
}
