// Display channel message codecs (spice.proto DisplayChannel). Pure
// functions: bytes in, DisplayCommand out. Pointer fields are u32 offsets from
// the start of the message body (0 = NULL); pointed-to data is bounds-checked
// against the body, and every count is checked before anything is allocated.
import { ByteReader } from '../wire/byte-reader';
import { ByteWriter } from '../wire/byte-writer';
import { SpiceError } from '../wire/errors';
import { BitmapFlags, BrushType, ClipType, CompositeFlags, ImageType, LineFlags, MsgDisplay } from '../protocol/enums';
import type {
  Brush,
  Clip,
  DisplayBase,
  DisplayCommand,
  DrawCommand,
  ImageData_,
  LineAttr,
  Palette,
  PaletteRef,
  PathSegment,
  Point,
  QMask,
  Rect,
  SpiceImage,
} from '../../../preload/contract';

export const MAX_CLIP_RECTS = 65536;
export const MAX_PALETTE_ENTRIES = 256;
export const MAX_PATH_SEGMENTS = 65536;

export function readRect(r: ByteReader): Rect {
  return { top: r.i32('rect.top'), left: r.i32('rect.left'), bottom: r.i32('rect.bottom'), right: r.i32('rect.right') };
}
export function readPoint(r: ByteReader): Point {
  return { x: r.i32('point.x'), y: r.i32('point.y') };
}
function readPoint16(r: ByteReader): Point {
  return { x: r.i16('point16.x'), y: r.i16('point16.y') };
}

export function readClip(r: ByteReader): Clip {
  const type = r.u8('clip type');
  if (type === ClipType.NONE) return null;
  if (type !== ClipType.RECTS) throw new SpiceError('BAD_MESSAGE', `unknown clip type ${type}`);
  const n = r.u32('num_rects');
  if (n > MAX_CLIP_RECTS || n * 16 > r.remaining) throw new SpiceError('BAD_MESSAGE', `clip claims ${n} rects, ${r.remaining} bytes left`);
  const rects: Rect[] = [];
  for (let i = 0; i < n; i++) rects.push(readRect(r));
  return rects;
}

export function readBase(r: ByteReader): DisplayBase {
  return { surfaceId: r.u32('surface_id'), box: readRect(r), clip: readClip(r) };
}

function readPalette(body: ByteReader, off: number): Palette {
  const p = at(body, off, 'palette pointer');
  const unique = p.u64('palette.unique');
  const n = p.u16('palette.num_ents');
  if (n > MAX_PALETTE_ENTRIES) throw new SpiceError('BAD_MESSAGE', `palette with ${n} entries`);
  const ents = new Uint32Array(n);
  for (let i = 0; i < n; i++) ents[i] = p.u32('palette entry');
  return { unique, ents };
}

/** End of the message window a reader was made for (pointers stay inside it). */
function endOf(r: ByteReader): number {
  return r.offset + r.remaining;
}

/** A reader over the whole message positioned at a pointer. */
function at(body: ByteReader, off: number, what: string): ByteReader {
  const r = new ByteReader(body.bytes, 0, endOf(body));
  r.seek(off, what);
  return r;
}

function readPaletteRef(body: ByteReader, r: ByteReader, flags: number): PaletteRef {
  if (flags & BitmapFlags.PAL_FROM_CACHE) return { fromCache: r.u64('palette_id') };
  const off = r.u32('palette pointer');
  if (off === 0) return null;
  return { palette: readPalette(body, off), cacheMe: (flags & BitmapFlags.PAL_CACHE_ME) !== 0 };
}

/** Reads the Image a pointer field points at; null for a NULL pointer. */
export function readImageAt(body: ByteReader, off: number): SpiceImage | null {
  if (off === 0) return null;
  const r = at(body, off, 'image pointer');
  const descriptor = {
    id: r.u64('image id'),
    type: r.u8('image type'),
    flags: r.u8('image flags'),
    width: r.u32('image width'),
    height: r.u32('image height'),
  };
  let data: ImageData_;
  switch (descriptor.type) {
    case ImageType.BITMAP: {
      const format = r.u8('bitmap format');
      const flags = r.u8('bitmap flags');
      const x = r.u32('bitmap x');
      const y = r.u32('bitmap y');
      const stride = r.u32('bitmap stride');
      const palette = readPaletteRef(body, r, flags);
      const size = stride * y;
      if (size > r.remaining) throw new SpiceError('BAD_MESSAGE', `bitmap ${x}x${y} stride ${stride} needs ${size} bytes, ${r.remaining} left`);
      data = { kind: 'bitmap', format, flags, x, y, stride, palette, data: r.bytesView(size, 'bitmap data') };
      break;
    }
    case ImageType.QUIC:
    case ImageType.LZ_RGB:
    case ImageType.GLZ_RGB:
    case ImageType.JPEG:
    case ImageType.LZ4: {
      const size = r.u32('data_size');
      const bytes = r.bytesView(size, 'image data');
      const kind = ({
        [ImageType.QUIC]: 'quic',
        [ImageType.LZ_RGB]: 'lz_rgb',
        [ImageType.GLZ_RGB]: 'glz_rgb',
        [ImageType.JPEG]: 'jpeg',
        [ImageType.LZ4]: 'lz4',
      } as const)[descriptor.type];
      data = { kind, data: bytes };
      break;
    }
    case ImageType.LZ_PLT: {
      const flags = r.u8('lz_plt flags');
      const size = r.u32('data_size');
      const palette = readPaletteRef(body, r, flags);
      data = { kind: 'lz_plt', flags, palette, data: r.bytesView(size, 'lz_plt data') };
      break;
    }
    case ImageType.ZLIB_GLZ_RGB: {
      const glzDataSize = r.u32('glz_data_size');
      const size = r.u32('data_size');
      data = { kind: 'zlib_glz_rgb', glzDataSize, data: r.bytesView(size, 'zlib data') };
      break;
    }
    case ImageType.JPEG_ALPHA: {
      const flags = r.u8('jpeg_alpha flags');
      const jpegSize = r.u32('jpeg_size');
      const size = r.u32('data_size');
      if (jpegSize > size) throw new SpiceError('BAD_MESSAGE', `jpeg_size ${jpegSize} > data_size ${size}`);
      data = { kind: 'jpeg_alpha', flags, jpegSize, data: r.bytesView(size, 'jpeg_alpha data') };
      break;
    }
    case ImageType.FROM_CACHE:
    case ImageType.FROM_CACHE_LOSSLESS:
      data = { kind: 'from_cache', lossless: descriptor.type === ImageType.FROM_CACHE_LOSSLESS };
      break;
    case ImageType.SURFACE:
      data = { kind: 'surface', surfaceId: r.u32('surface id') };
      break;
    default:
      throw new SpiceError('BAD_MESSAGE', `unknown image type ${descriptor.type}`);
  }
  return { descriptor, data };
}

export function readBrush(body: ByteReader, r: ByteReader): Brush {
  const type = r.u8('brush type');
  switch (type) {
    case BrushType.NONE:
      return { type: 'none' };
    case BrushType.SOLID:
      return { type: 'solid', color: r.u32('brush color') };
    case BrushType.PATTERN: {
      const off = r.u32('pattern pointer');
      const pos = readPoint(r);
      const pattern = readImageAt(body, off);
      if (!pattern) throw new SpiceError('BAD_MESSAGE', 'pattern brush without an image');
      return { type: 'pattern', pattern, pos };
    }
    default:
      throw new SpiceError('BAD_MESSAGE', `unknown brush type ${type}`);
  }
}

export function readMask(body: ByteReader, r: ByteReader): QMask {
  const flags = r.u8('mask flags');
  const pos = readPoint(r);
  const bitmap = readImageAt(body, r.u32('mask pointer'));
  return { flags, pos, bitmap };
}

function readPath(body: ByteReader, off: number): PathSegment[] {
  const r = at(body, off, 'path pointer');
  const n = r.u32('num_segments');
  if (n > MAX_PATH_SEGMENTS || n * 5 > r.remaining) throw new SpiceError('BAD_MESSAGE', `path claims ${n} segments`);
  const segs: PathSegment[] = [];
  for (let i = 0; i < n; i++) {
    const flags = r.u8('segment flags');
    const count = r.u32('segment count');
    if (count * 8 > r.remaining) throw new SpiceError('BAD_MESSAGE', `path segment claims ${count} points`);
    const points: Point[] = [];
    for (let k = 0; k < count; k++) points.push(readPoint(r));
    segs.push({ flags, points });
  }
  return segs;
}

function readLineAttr(body: ByteReader, r: ByteReader): LineAttr {
  const flags = r.u8('line flags');
  const style: number[] = [];
  if (flags & LineFlags.STYLED) {
    const nseg = r.u8('style_nseg');
    const off = r.u32('style pointer');
    if (off) {
      const s = at(body, off, 'style pointer');
      for (let i = 0; i < nseg; i++) style.push(s.i32('style'));
    }
  }
  return { flags, style };
}

function readTransform(r: ByteReader): number[] {
  const t: number[] = [];
  for (let i = 0; i < 6; i++) t.push(r.u32('transform'));
  return t;
}

type DrawParser = (body: ByteReader) => DrawCommand;

const drawParsers: Record<number, DrawParser> = {
  [MsgDisplay.DRAW_FILL]: (r) => {
    const base = readBase(r);
    const brush = readBrush(r, r);
    const ropd = r.u16('rop_descriptor');
    return { op: 'fill', base, brush, ropd, mask: readMask(r, r) };
  },
  [MsgDisplay.DRAW_OPAQUE]: (r) => {
    const base = readBase(r);
    const srcOff = r.u32('src_bitmap');
    const srcArea = readRect(r);
    const brush = readBrush(r, r);
    const ropd = r.u16('rop_descriptor');
    const scaleMode = r.u8('scale_mode');
    const mask = readMask(r, r);
    return { op: 'opaque', base, src: readImageAt(r, srcOff), srcArea, brush, ropd, scaleMode, mask };
  },
  [MsgDisplay.DRAW_COPY]: (r) => copyLike('copy', r),
  [MsgDisplay.DRAW_BLEND]: (r) => copyLike('blend', r),
  [MsgDisplay.DRAW_BLACKNESS]: (r) => ({ op: 'blackness', base: readBase(r), mask: readMask(r, r) }),
  [MsgDisplay.DRAW_WHITENESS]: (r) => ({ op: 'whiteness', base: readBase(r), mask: readMask(r, r) }),
  [MsgDisplay.DRAW_INVERS]: (r) => ({ op: 'invers', base: readBase(r), mask: readMask(r, r) }),
  [MsgDisplay.DRAW_ROP3]: (r) => {
    const base = readBase(r);
    const srcOff = r.u32('src_bitmap');
    const srcArea = readRect(r);
    const brush = readBrush(r, r);
    const rop3 = r.u8('rop3');
    const scaleMode = r.u8('scale_mode');
    const mask = readMask(r, r);
    return { op: 'rop3', base, src: readImageAt(r, srcOff), srcArea, brush, rop3, scaleMode, mask };
  },
  [MsgDisplay.DRAW_STROKE]: (r) => {
    const base = readBase(r);
    const pathOff = r.u32('path');
    const attr = readLineAttr(r, r);
    const brush = readBrush(r, r);
    const foreMode = r.u16('fore_mode');
    const backMode = r.u16('back_mode');
    if (!pathOff) throw new SpiceError('BAD_MESSAGE', 'stroke without a path');
    return { op: 'stroke', base, path: readPath(r, pathOff), attr, brush, foreMode, backMode };
  },
  [MsgDisplay.DRAW_TRANSPARENT]: (r) => {
    const base = readBase(r);
    const srcOff = r.u32('src_bitmap');
    const srcArea = readRect(r);
    const srcColor = r.u32('src_color');
    const trueColor = r.u32('true_color');
    return { op: 'transparent', base, src: readImageAt(r, srcOff), srcArea, srcColor, trueColor };
  },
  [MsgDisplay.DRAW_ALPHA_BLEND]: (r) => {
    const base = readBase(r);
    const alphaFlags = r.u8('alpha_flags');
    const alpha = r.u8('alpha');
    const srcOff = r.u32('src_bitmap');
    const srcArea = readRect(r);
    return { op: 'alphaBlend', base, alphaFlags, alpha, src: readImageAt(r, srcOff), srcArea };
  },
  [MsgDisplay.COPY_BITS]: (r) => ({ op: 'copyBits', base: readBase(r), srcPos: readPoint(r) }),
  [MsgDisplay.DRAW_COMPOSITE]: (r) => {
    const base = readBase(r);
    const flags = r.u32('composite flags');
    const srcOff = r.u32('src_bitmap');
    const maskOff = flags & CompositeFlags.HAS_MASK ? r.u32('mask_bitmap') : 0;
    const srcTransform = flags & CompositeFlags.HAS_SRC_TRANSFORM ? readTransform(r) : null;
    const maskTransform = flags & CompositeFlags.HAS_MASK_TRANSFORM ? readTransform(r) : null;
    const srcOrigin = readPoint16(r);
    const maskOrigin = readPoint16(r);
    return { op: 'composite', base, flags, src: readImageAt(r, srcOff), mask: readImageAt(r, maskOff), srcTransform, maskTransform, srcOrigin, maskOrigin };
  },
};

function copyLike(op: 'copy' | 'blend', r: ByteReader): DrawCommand {
  const base = readBase(r);
  const srcOff = r.u32('src_bitmap');
  const srcArea = readRect(r);
  const ropd = r.u16('rop_descriptor');
  const scaleMode = r.u8('scale_mode');
  const mask = readMask(r, r);
  return { op, base, src: readImageAt(r, srcOff), srcArea, ropd, scaleMode, mask };
}

export function isDrawMessage(type: number): boolean {
  return type in drawParsers;
}

export function decodeDraw(type: number, body: Uint8Array): DrawCommand {
  const p = drawParsers[type];
  if (!p) throw new SpiceError('UNKNOWN_MESSAGE', `not a draw message: ${type}`);
  return p(new ByteReader(body));
}

/** Non-draw display messages that become renderer commands. */
export function decodeDisplayMessage(type: number, body: Uint8Array): DisplayCommand | null {
  const r = new ByteReader(body);
  switch (type) {
    case MsgDisplay.SURFACE_CREATE:
      return { t: 'surfaceCreate', surfaceId: r.u32('surface_id'), width: r.u32('width'), height: r.u32('height'), format: r.u32('format'), flags: r.u32('flags') };
    case MsgDisplay.SURFACE_DESTROY:
      return { t: 'surfaceDestroy', surfaceId: r.u32('surface_id') };
    case MsgDisplay.MARK:
      return { t: 'mark' };
    case MsgDisplay.RESET:
      return { t: 'reset' };
    case MsgDisplay.INVAL_LIST: {
      const n = r.u16('count');
      if (n * 9 > r.remaining) throw new SpiceError('BAD_MESSAGE', `inval list claims ${n} resources`);
      const resources: { type: number; id: bigint }[] = [];
      for (let i = 0; i < n; i++) resources.push({ type: r.u8('resource type'), id: r.u64('resource id') });
      return { t: 'invalList', resources };
    }
    case MsgDisplay.INVAL_ALL_PIXMAPS:
      return { t: 'invalAllPixmaps' };
    case MsgDisplay.INVAL_PALETTE:
      return { t: 'invalPalette', id: r.u64('palette id') };
    case MsgDisplay.INVAL_ALL_PALETTES:
      return { t: 'invalAllPalettes' };
    case MsgDisplay.STREAM_CREATE: {
      const surfaceId = r.u32('surface_id');
      const id = r.u32('stream id');
      const flags = r.u8('stream flags');
      const codec = r.u8('codec_type');
      r.u64('stamp');
      const streamWidth = r.u32('stream_width');
      const streamHeight = r.u32('stream_height');
      const srcWidth = r.u32('src_width');
      const srcHeight = r.u32('src_height');
      const dest = readRect(r);
      const clip = readClip(r);
      return { t: 'streamCreate', stream: { surfaceId, id, flags, codec, streamWidth, streamHeight, srcWidth, srcHeight, dest, clip } };
    }
    case MsgDisplay.STREAM_DATA: {
      const id = r.u32('stream id');
      const mmTime = r.u32('multi_media_time');
      const size = r.u32('data_size');
      return { t: 'streamData', id, mmTime, data: r.bytesView(size, 'stream data') };
    }
    case MsgDisplay.STREAM_DATA_SIZED: {
      const id = r.u32('stream id');
      const mmTime = r.u32('multi_media_time');
      const width = r.u32('width');
      const height = r.u32('height');
      const dest = readRect(r);
      const size = r.u32('data_size');
      return { t: 'streamData', id, mmTime, width, height, dest, data: r.bytesView(size, 'stream data') };
    }
    case MsgDisplay.STREAM_CLIP:
      return { t: 'streamClip', id: r.u32('stream id'), clip: readClip(r) };
    case MsgDisplay.STREAM_DESTROY:
      return { t: 'streamDestroy', id: r.u32('stream id') };
    case MsgDisplay.STREAM_DESTROY_ALL:
      return { t: 'streamDestroyAll' };
    case MsgDisplay.MONITORS_CONFIG: {
      const count = r.u16('count');
      const maxAllowed = r.u16('max_allowed');
      if (count * 28 > r.remaining) throw new SpiceError('BAD_MESSAGE', `monitors config claims ${count} heads`);
      const heads = [];
      for (let i = 0; i < count; i++) {
        heads.push({ id: r.u32(), surfaceId: r.u32(), width: r.u32(), height: r.u32(), x: r.u32(), y: r.u32(), flags: r.u32() });
      }
      return { t: 'monitorsConfig', maxAllowed, heads };
    }
    default:
      return null;
  }
}

// ---- client messages

export interface DisplayInit {
  pixmapCacheId: number;
  pixmapCacheSize: bigint;
  glzDictionaryId: number;
  glzDictionaryWindowSize: number;
}

export function encodeDisplayInit(m: DisplayInit): Uint8Array {
  return new ByteWriter(14)
    .u8(m.pixmapCacheId)
    .u64(m.pixmapCacheSize)
    .u8(m.glzDictionaryId)
    .i32(m.glzDictionaryWindowSize)
    .finish();
}

export function encodePreferredCompression(mode: number): Uint8Array {
  return new ByteWriter(1).u8(mode).finish();
}

/** STREAM_ACTIVATE_REPORT: the server asks for STREAM_REPORTs on a stream (spice.proto). */
export interface StreamActivateReport {
  streamId: number;
  uniqueId: number;
  maxWindowSize: number;
  timeoutMs: number;
}

export function decodeStreamActivateReport(body: Uint8Array): StreamActivateReport {
  const r = new ByteReader(body);
  return { streamId: r.u32('stream_id'), uniqueId: r.u32('unique_id'), maxWindowSize: r.u32('max_window_size'), timeoutMs: r.u32('timeout_ms') };
}

/** SPICE_MSGC_DISPLAY_STREAM_REPORT (spice.proto msgc display stream_report). */
export interface StreamReport {
  streamId: number;
  uniqueId: number;
  startFrameMmTime: number;
  endFrameMmTime: number;
  numFrames: number;
  numDrops: number;
  /** Frame mm_time minus the client's mm_time when it arrived (negative: late). */
  lastFrameDelay: number;
  /** Playback latency in ms, 0xffffffff when no audio plays. */
  audioDelay: number;
}

export function encodeStreamReport(m: StreamReport): Uint8Array {
  return new ByteWriter(32)
    .u32(m.streamId)
    .u32(m.uniqueId)
    .u32(m.startFrameMmTime >>> 0)
    .u32(m.endFrameMmTime >>> 0)
    .u32(m.numFrames)
    .u32(m.numDrops)
    .i32(m.lastFrameDelay | 0)
    .u32(m.audioDelay >>> 0)
    .finish();
}

/** SPICE_MSGC_DISPLAY_PREFERRED_VIDEO_CODEC_TYPE: num_of_codecs (u8) then one u8 SpiceVideoCodecType each, preferred first. */
export function encodePreferredVideoCodecType(codecs: readonly number[]): Uint8Array {
  if (codecs.length === 0 || codecs.length > 0xff) throw new SpiceError('BAD_MESSAGE', `preferred video codecs: ${codecs.length} codecs`);
  const w = new ByteWriter(1 + codecs.length).u8(codecs.length);
  for (const c of codecs) w.u8(c);
  return w.finish();
}
