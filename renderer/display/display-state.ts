// The display compositor: applies DisplayCommands to in-memory surfaces the
// way spice-gtk's channel-display.c drives spice-common's software canvas
// (surfaces, image / palette caches, draw ops, MJPEG streams, monitors
// config) and collects the damaged rects for the renderer. Pure TypeScript:
// runs in a Web Worker and in Node tests.
import { BitmapFlags, BitmapFmt, ImageFlags, ImageType, ResourceType, StreamFlags, SurfaceFlags, VideoCodecType } from '../../preload/spice-enums';
import { SpiceError } from '../../preload/spice-errors';
import type { Clip, DisplayCommand, MonitorHead, Rect, SpiceImage, StreamCreate } from '../../preload/contract';
import { GLZ_DEFAULT_WINDOW_PIXELS } from './decoders/glz';
import { createDecoders } from './decoders/index';
import { MjpegFrameDecoder } from './decoders/jpeg';
import { blitBox } from './draw/raster';
import { baseRegion, drawOp, type DrawContext, type DrawCounter, type MaskPlane } from './draw/ops';
import { regionBoxes, regionEmpty, regionExtents, type Box, type Region } from './draw/region';
import { doubleToFixed, scaleClipped } from './draw/scale';
import { ImageCache, PaletteCache } from './image-cache';
import { Rop } from './rop';
import { createSurface, normalizeRect, surfaceAsImage, type Surface } from './surface';
import { MAX_IMAGE_PIXELS, type DecodeContext, type DecodedImage, type ImageDecoder } from './types';
import { FrameScheduler, type ScheduleStats } from './stream-schedule';

export type { Surface } from './surface';

export interface Damage {
  surfaceId: number;
  rect: Rect;
}

/** One stream frame as received, offered to onStreamFrame before the built-in MJPEG path. */
export interface StreamFrame {
  streamId: number;
  surfaceId: number;
  /** SpiceVideoCodecType. */
  codec: number;
  /** SpiceStreamFlags (TOP_DOWN). */
  flags: number;
  /** Where the frame goes (STREAM_DATA_SIZED dest, else the stream's dest). */
  dest: Rect;
  clip: Clip;
  /** Encoded frame size: STREAM_DATA_SIZED width/height, else the stream's src size. */
  width: number;
  height: number;
  mmTime: number;
  data: Uint8Array;
}

/** One stream's platform video decoder (renderer/display/video.ts StreamVideoDecoder). */
export interface StreamVideo {
  /** The frame's pixels (0xAARRGGBB, top-down), null when it cannot be shown (no key frame yet, too late). */
  decode(data: Uint8Array, width: number, height: number, maxPixels: number): Promise<DecodedImage | null>;
  close(): void;
}

/** Makes a decoder for a stream's codec, null when the platform has none for it. */
export interface StreamVideoFactory {
  forStream(codec: number): StreamVideo | null;
}

export interface DisplayStateOptions {
  decoders?: Map<number, ImageDecoder>;
  /** Pixmap cache bound in bytes (default: spice-gtk's 80 MiB). */
  maxCacheBytes?: number;
  /** Pixels all surfaces and the pixmap cache (bytes / 4) may hold together (default DEFAULT_PIXEL_BUDGET). */
  pixelBudget?: number;
  /**
   * Sees every stream frame first; returning true means the caller drew it
   * (e.g. a hardware video decoder) and the built-in path skips it.
   */
  onStreamFrame?: (frame: StreamFrame) => boolean | void;
  /**
   * Platform video decoders for streams that are not MJPEG: with one, apply()
   * returns a promise for such a frame, and the caller must wait for it before
   * applying the next command (a later draw must not be painted under it).
   */
  video?: StreamVideoFactory;
  /**
   * Lip sync: the multimedia time the user hears now (the audio player's
   * clock, stream-schedule.ts), null while no audio plays. With it, a decoded
   * stream frame waits until its mm time is due (showDueFrames); other draws
   * never wait.
   */
  clock?: () => number | null;
}

/** A decoded stream frame waiting for its time. */
interface HeldFrame {
  st: StreamState;
  frame: StreamFrame;
  img: DecodedImage;
}

export interface DisplayStats {
  imagesDecoded: number;
  cacheEntries: number;
  cacheBytes: number;
  cacheEvictions: number;
  paletteEntries: number;
  /** Composite commands outside the implemented pixman subset, drawn as a copy. */
  compositeFallbacks: number;
  /** Styled (dashed) strokes drawn solid. */
  strokeDashApprox: number;
  /** Draws spice's canvas also refuses (bad src size, unknown scale mode). */
  skippedDraws: number;
  streamFramesDrawn: number;
  /** Frames of codecs without a built-in decoder (and not taken by onStreamFrame). */
  streamFramesSkipped: number;
  /** Frames that failed to decode (MJPEG, or refused by the platform's video decoder). */
  streamFramesBroken: number;
}

interface StreamState {
  info: StreamCreate;
  clip: Clip;
  mjpeg: MjpegFrameDecoder | null;
  video: StreamVideo | null;
}

/**
 * Total pixel budget of one display: surfaces plus the pixmap cache. 96 Mi
 * pixels (384 MiB) hold an 8K primary, off-screen surfaces and the full
 * 80 MiB cache; a server asking for more gets a LIMIT error, not an allocation.
 */
export const DEFAULT_PIXEL_BUDGET = 96 * 1024 * 1024;
/**
 * Images and off-screen surfaces are bounded by what the server announced
 * for the display (the primary surface, the monitors config): at most
 * ANNOUNCED_FACTOR times that area, and never less than MIN_OBJECT_PIXELS
 * (images may be scaled down onto the screen, and may come before any
 * announcement).
 */
const ANNOUNCED_FACTOR = 4;
const MIN_OBJECT_PIXELS = 2048 * 2048;

/** Above this many pending rects per surface they collapse into their bounding box. */
const MAX_DAMAGE_RECTS = 64;

function isLossyType(type: number): boolean {
  return type === ImageType.JPEG || type === ImageType.JPEG_ALPHA;
}

export class DisplayState {
  readonly surfaces = new Map<number, Surface>();
  /** monitorsConfig heads (spice-gtk keeps them for the widget). */
  heads: MonitorHead[] = [];
  maxMonitors = 0;
  /** MARK received since the last RESET (spice-gtk's "mark" signal: the primary is worth showing). */
  marked = false;

  private readonly decoders: Map<number, ImageDecoder>;
  private readonly cache: ImageCache;
  private readonly palettes = new PaletteCache();
  private readonly decodeCtx: DecodeContext;
  private readonly streams = new Map<number, StreamState>();
  private readonly damage = new Map<number, Box[]>();
  private readonly onStreamFrame?: (frame: StreamFrame) => boolean | void;
  private readonly video?: StreamVideoFactory;
  private readonly schedule?: FrameScheduler<HeldFrame>;
  private primaryId: number | undefined;
  private readonly pixelBudget: number;
  private readonly counters = {
    imagesDecoded: 0,
    compositeFallbacks: 0,
    strokeDashApprox: 0,
    skippedDraws: 0,
    streamFramesDrawn: 0,
    streamFramesSkipped: 0,
    streamFramesBroken: 0,
  };
  private readonly ctx: DrawContext;

  constructor(opts: DisplayStateOptions = {}) {
    this.pixelBudget = opts.pixelBudget ?? DEFAULT_PIXEL_BUDGET;
    // the GLZ window (a cache too) gets its own share of the budget
    this.decoders = opts.decoders ?? createDecoders({ maxWindowPixels: Math.min(GLZ_DEFAULT_WINDOW_PIXELS, Math.floor(this.pixelBudget / 3)) });
    this.cache = new ImageCache(opts.maxCacheBytes);
    this.decodeCtx = { palettes: this.palettes };
    this.onStreamFrame = opts.onStreamFrame;
    if (opts.video) this.video = opts.video;
    if (opts.clock) this.schedule = new FrameScheduler<HeldFrame>(opts.clock);
    this.ctx = {
      surface: (id) => this.surface(id),
      image: (img) => this.image(img),
      touch: (img) => this.touch(img),
      maskPlane: (img) => this.maskPlane(img),
      count: (what: DrawCounter) => {
        this.counters[what]++;
      },
    };
  }

  primary(): Surface | undefined {
    return this.primaryId === undefined ? undefined : this.surfaces.get(this.primaryId);
  }

  stats(): DisplayStats {
    return {
      ...this.counters,
      cacheEntries: this.cache.size,
      cacheBytes: this.cache.totalBytes,
      cacheEvictions: this.cache.evictions,
      paletteEntries: this.palettes.size,
    };
  }

  /** Merged damaged rects per surface since the last call. */
  takeDamage(): Damage[] {
    const out: Damage[] = [];
    for (const [surfaceId, boxes] of this.damage) {
      for (const b of mergeBoxes(boxes)) out.push({ surfaceId, rect: { left: b.x1, top: b.y1, right: b.x2, bottom: b.y2 } });
    }
    this.damage.clear();
    return out;
  }

  /** Applies one command; a promise only for a stream frame a platform video decoder takes (see DisplayStateOptions.video). */
  apply(cmd: DisplayCommand): void | Promise<void> {
    switch (cmd.t) {
      case 'draw': {
        const region = drawOp(this.ctx, cmd.cmd);
        this.painted(cmd.cmd.base.surfaceId, region);
        return;
      }
      case 'surfaceCreate':
        this.createSurface(cmd.surfaceId, cmd.width, cmd.height, cmd.format, cmd.flags);
        return;
      case 'surfaceDestroy': {
        this.surface(cmd.surfaceId);
        this.surfaces.delete(cmd.surfaceId);
        this.damage.delete(cmd.surfaceId);
        if (this.primaryId === cmd.surfaceId) this.primaryId = undefined;
        return;
      }
      case 'mark':
        this.marked = true;
        return;
      case 'reset': {
        // display_handle_reset: clear the primary canvas and the palette cache.
        const p = this.primary();
        if (p) {
          p.pixels.fill(0);
          this.addDamage(p.id, { x1: 0, y1: 0, x2: p.width, y2: p.height });
        }
        this.palettes.clear();
        this.marked = false;
        return;
      }
      case 'invalList':
        for (const r of cmd.resources) {
          if (r.type !== ResourceType.PIXMAP) throw new SpiceError('PROTOCOL', `INVAL_LIST: unknown resource type ${r.type}`);
          this.cache.remove(r.id);
        }
        return;
      case 'invalAllPixmaps':
        this.cache.clear();
        return;
      case 'invalPalette':
        this.palettes.remove(cmd.id);
        return;
      case 'invalAllPalettes':
        this.palettes.clear();
        return;
      case 'streamCreate': {
        const s = cmd.stream;
        this.surface(s.surfaceId);
        this.closeStream(s.id);
        // the platform's decoder when it has one (MJPEG included: faster on big frames), else the built-in MJPEG decoder
        const video = this.video?.forStream(s.codec) ?? null;
        this.streams.set(s.id, { info: s, clip: s.clip, mjpeg: !video && s.codec === VideoCodecType.MJPEG ? new MjpegFrameDecoder() : null, video });
        return;
      }
      case 'streamData':
        return this.streamData(cmd);
      case 'streamClip':
        this.stream(cmd.id).clip = cmd.clip;
        return;
      case 'streamDestroy':
        this.stream(cmd.id);
        this.closeStream(cmd.id);
        return;
      case 'streamDestroyAll':
        for (const id of [...this.streams.keys()]) this.closeStream(id);
        return;
      case 'monitorsConfig':
        this.heads = cmd.heads.map((h) => ({ ...h }));
        this.maxMonitors = cmd.maxAllowed;
        return;
      case 'selectDisplay':
        return; // routing between displays: the worker's pipeline does it
      case 'serverChanged': {
        // a new server shares none of our caches; the primary stays on screen until it redraws
        this.cache.clear();
        this.palettes.clear();
        for (const d of new Set(this.decoders.values())) d.reset?.();
        for (const id of [...this.streams.keys()]) this.closeStream(id);
        for (const id of [...this.surfaces.keys()]) {
          if (id !== this.primaryId) {
            this.surfaces.delete(id);
            this.damage.delete(id);
          }
        }
        this.marked = false;
        return;
      }
      default: {
        const never: never = cmd;
        throw new SpiceError('BAD_MESSAGE', `unknown display command ${(never as { t: string }).t}`);
      }
    }
  }

  // ---------------------------------------------------------------- surfaces

  private surface(id: number): Surface {
    const s = this.surfaces.get(id);
    if (!s) throw new SpiceError('PROTOCOL', `unknown surface ${id}`);
    return s;
  }

  /** Largest image / off-screen surface (pixels) given what the server announced for this display. */
  objectPixelLimit(): number {
    let announced = 0;
    const p = this.primary();
    if (p) announced = p.width * p.height;
    let w = 0;
    let h = 0;
    for (const m of this.heads) {
      w = Math.max(w, m.x + m.width);
      h = Math.max(h, m.y + m.height);
    }
    announced = Math.max(announced, w * h);
    return Math.min(MAX_IMAGE_PIXELS, this.pixelBudget, Math.max(MIN_OBJECT_PIXELS, ANNOUNCED_FACTOR * announced));
  }

  /** Pixels held by all surfaces and the pixmap cache. */
  pixelsInUse(): number {
    let n = Math.ceil(this.cache.totalBytes / 4);
    for (const s of this.surfaces.values()) n += s.width * s.height;
    return n;
  }

  /** Budgets checked before a surface is allocated (SURFACE_CREATE is 20 bytes; the surface may be a GiB). */
  private checkSurfaceBudget(id: number, width: number, height: number, primary: boolean): void {
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) return; // createSurface reports it
    const n = width * height;
    const limit = this.objectPixelLimit();
    if (!primary && n > limit) throw new SpiceError('LIMIT', `surface ${id}: ${width}x${height} is larger than the display allows (${limit} pixels)`);
    // what this surface replaces (same id, or the old primary) is freed first
    let used = this.pixelsInUse();
    for (const old of new Set([id, primary ? this.primaryId : undefined])) {
      const s = old === undefined ? undefined : this.surfaces.get(old);
      if (s) used -= s.width * s.height;
    }
    if (used + n > this.pixelBudget) {
      throw new SpiceError('LIMIT', `surface ${id}: ${width}x${height} exceeds the display pixel budget (${used} of ${this.pixelBudget} in use)`);
    }
  }

  private createSurface(id: number, width: number, height: number, format: number, flags: number): void {
    const primary = (flags & SurfaceFlags.PRIMARY) !== 0;
    this.checkSurfaceBudget(id, width, height, primary);
    if (primary && this.primaryId !== undefined) {
      const old = this.surfaces.get(this.primaryId);
      // spice-gtk keeps an identical primary across migration / reset.
      if (old && old.width === width && old.height === height && old.format === format) {
        this.surfaces.delete(old.id);
        this.surfaces.set(id, { ...old, id });
        this.primaryId = id;
        return;
      }
      this.surfaces.delete(this.primaryId);
      this.damage.delete(this.primaryId);
    }
    const s = createSurface(id, width, height, format, primary);
    this.surfaces.set(id, s);
    if (primary) {
      this.primaryId = id;
      this.addDamage(id, { x1: 0, y1: 0, x2: width, y2: height });
    }
  }

  /** After a write: re-apply non-32-bit formats and record the damage. */
  private painted(surfaceId: number, region: Region): void {
    if (regionEmpty(region)) return;
    const s = this.surfaces.get(surfaceId);
    if (!s) return;
    for (const b of regionBoxes(region)) normalizeRect(s, b.x1, b.y1, b.x2, b.y2);
    this.addDamage(surfaceId, regionExtents(region)!);
  }

  private addDamage(surfaceId: number, b: Box): void {
    let list = this.damage.get(surfaceId);
    if (!list) {
      list = [];
      this.damage.set(surfaceId, list);
    }
    for (const d of list) if (d.x1 <= b.x1 && d.y1 <= b.y1 && d.x2 >= b.x2 && d.y2 >= b.y2) return;
    list.push({ ...b });
    if (list.length > MAX_DAMAGE_RECTS) {
      const merged = mergeBoxes(list);
      list.length = 0;
      if (merged.length > MAX_DAMAGE_RECTS / 2) list.push(boundingBox(merged));
      else list.push(...merged);
    }
  }

  // ---------------------------------------------------------------- images

  private image(img: SpiceImage | null): DecodedImage {
    if (!img) throw new SpiceError('BAD_MESSAGE', 'missing image');
    const d = img.descriptor;
    switch (d.type) {
      case ImageType.SURFACE:
        if (img.data.kind !== 'surface') throw new SpiceError('BAD_MESSAGE', 'SURFACE image without a surface id');
        return surfaceAsImage(this.surface(img.data.surfaceId));
      case ImageType.FROM_CACHE: {
        const c = this.cache.get(d.id);
        if (!c) throw new SpiceError('PROTOCOL', `image ${d.id} is not in the cache`);
        return c;
      }
      case ImageType.FROM_CACHE_LOSSLESS: {
        const c = this.cache.getLossless(d.id);
        if (!c) throw new SpiceError('PROTOCOL', `no lossless image ${d.id} in the cache`);
        return c;
      }
    }
    const dec = this.decoders.get(d.type);
    if (!dec) throw new SpiceError('DECODE', `unsupported image type ${d.type}`);
    // every decoder checks its stream against the descriptor size, so this bounds what it allocates
    const limit = this.objectPixelLimit();
    if (d.width * d.height > limit) throw new SpiceError('LIMIT', `image ${d.width}x${d.height} is larger than the display allows (${limit} pixels)`);
    const out = dec.decode(img, this.decodeCtx);
    this.counters.imagesDecoded++;
    if (d.flags & ImageFlags.HIGH_BITS_SET && !out.hasAlpha) {
      const px = out.pixels;
      for (let i = 0; i < px.length; i++) px[i] = (px[i] | 0xff000000) >>> 0;
    }
    if (d.flags & ImageFlags.CACHE_ME) {
      this.cache.put(d.id, out, isLossyType(d.type));
    } else if (d.flags & ImageFlags.CACHE_REPLACE_ME) {
      if (isLossyType(d.type)) throw new SpiceError('PROTOCOL', `CACHE_REPLACE_ME with lossy image ${d.id}`);
      this.cache.replace(d.id, out);
    }
    return out;
  }

  /** canvas_touch_image: only images whose decoding has side effects are decoded when nothing is drawn. */
  private touch(img: SpiceImage | null): void {
    if (!img) return;
    const d = img.descriptor;
    if (d.type === ImageType.SURFACE || d.type === ImageType.FROM_CACHE || d.type === ImageType.FROM_CACHE_LOSSLESS) return;
    const data = img.data;
    const palToCache =
      (data.kind === 'bitmap' || data.kind === 'lz_plt') &&
      data.palette !== null &&
      'palette' in data.palette &&
      (data.palette.cacheMe || (data.flags & BitmapFlags.PAL_CACHE_ME) !== 0);
    if (
      d.flags & (ImageFlags.CACHE_ME | ImageFlags.CACHE_REPLACE_ME) ||
      palToCache ||
      d.type === ImageType.GLZ_RGB ||
      d.type === ImageType.ZLIB_GLZ_RGB
    ) {
      this.image(img);
    }
  }

  /** canvas_get_mask / canvas_get_surface_mask: a 1-bit plane from a bitmap, the cache or a surface. */
  private maskPlane(img: SpiceImage): MaskPlane {
    const d = img.descriptor;
    if (d.type === ImageType.BITMAP) {
      const plane = parseMaskBitmap(img);
      if (d.flags & ImageFlags.CACHE_ME) {
        const px = new Uint32Array(plane.width * plane.height);
        for (let i = 0; i < px.length; i++) px[i] = plane.bits[i] ? 0xffffffff : 0;
        this.cache.put(d.id, { width: plane.width, height: plane.height, pixels: px, hasAlpha: true });
      }
      return plane;
    }
    let src: DecodedImage;
    if (d.type === ImageType.SURFACE || d.type === ImageType.FROM_CACHE || d.type === ImageType.FROM_CACHE_LOSSLESS) src = this.image(img);
    else throw new SpiceError('PROTOCOL', `mask image of type ${d.type}`);
    const bits = new Uint8Array(src.width * src.height);
    if (!src.hasAlpha) bits.fill(1);
    else for (let i = 0; i < bits.length; i++) bits[i] = src.pixels[i] >>> 31;
    return { width: src.width, height: src.height, bits };
  }

  // ---------------------------------------------------------------- streams

  private stream(id: number): StreamState {
    const st = this.streams.get(id);
    if (!st) throw new SpiceError('PROTOCOL', `unknown stream ${id}`);
    return st;
  }

  private closeStream(id: number): void {
    this.streams.get(id)?.video?.close();
    this.schedule?.dropStream(id);
    this.streams.delete(id);
  }

  private streamData(cmd: Extract<DisplayCommand, { t: 'streamData' }>): void | Promise<void> {
    const st = this.stream(cmd.id);
    const info = st.info;
    const dest = cmd.dest ?? info.dest;
    const frame: StreamFrame = {
      streamId: cmd.id,
      surfaceId: info.surfaceId,
      codec: info.codec,
      flags: info.flags,
      dest,
      clip: st.clip,
      width: cmd.width ?? info.srcWidth,
      height: cmd.height ?? info.srcHeight,
      mmTime: cmd.mmTime,
      data: cmd.data,
    };
    if (this.onStreamFrame?.(frame) === true) return;
    if (st.video) return this.videoFrame(st, frame);
    if (!st.mjpeg) {
      this.counters.streamFramesSkipped++;
      return;
    }
    let img: DecodedImage;
    try {
      img = st.mjpeg.decode(cmd.data, { maxPixels: this.objectPixelLimit() });
    } catch (e) {
      if (e instanceof SpiceError) {
        this.counters.streamFramesBroken++;
        return;
      }
      throw e;
    }
    this.present(st, frame, img);
  }

  private async videoFrame(st: StreamState, frame: StreamFrame): Promise<void> {
    let img: DecodedImage | null;
    try {
      img = await st.video!.decode(frame.data, frame.width, frame.height, this.objectPixelLimit());
    } catch (e) {
      if (e instanceof SpiceError) this.counters.streamFramesBroken++;
      throw e;
    }
    if (!img) {
      this.counters.streamFramesSkipped++;
      return;
    }
    // the stream may have gone while the frame decoded only if the caller did not wait: it must
    if (this.streams.get(frame.streamId) !== st) return;
    this.present(st, frame, img);
  }

  /** A decoded frame: drawn now, or held until the audio clock reaches its mm time (lip sync). */
  private present(st: StreamState, frame: StreamFrame, img: DecodedImage): void {
    if (this.schedule?.offer(frame.streamId, frame.mmTime, { st, frame, img }) === 'queued') return;
    this.showFrame(st, frame, img);
  }

  private showFrame(st: StreamState, frame: StreamFrame, img: DecodedImage): void {
    // as spice-gtk (stream_display_frame): the encoder took the rows in memory order, TOP_DOWN says which that is;
    // the stream's clip as it is when the frame shows
    this.putStreamImage(frame.surfaceId, frame.dest, st.clip, img, (frame.flags & StreamFlags.TOP_DOWN) !== 0);
    this.counters.streamFramesDrawn++;
  }

  /** Draws the held stream frames whose time has come (per stream the newest; older due ones are dropped). */
  showDueFrames(): void {
    if (!this.schedule) return;
    for (const { streamId, item } of this.schedule.takeDue()) {
      // a frame of a stream that has gone since (closeStream drops them; a replaced one is another StreamState)
      if (this.streams.get(streamId) !== item.st || !this.surfaces.has(item.frame.surfaceId)) continue;
      this.showFrame(item.st, item.frame, item.img);
    }
  }

  /** ms until a held stream frame is due (0: now), null when none is held. */
  nextFrameDueMs(): number | null {
    return this.schedule?.nextDueMs() ?? null;
  }

  /** Lip-sync counters (null without a clock). */
  scheduleStats(): ScheduleStats | null {
    return this.schedule ? { ...this.schedule.stats } : null;
  }

  /** sw_canvas canvas_put_image: NEAREST scale of the frame to dest, clipped to the stream clip. */
  private putStreamImage(surfaceId: number, dest: Rect, clip: Clip, img: DecodedImage, topDown: boolean): void {
    const s = this.surface(surfaceId);
    const region = baseRegion(s, dest, clip);
    if (regionEmpty(region)) return;
    let src = img;
    if (!topDown) {
      const px = new Uint32Array(img.pixels.length);
      for (let y = 0; y < img.height; y++) px.set(img.pixels.subarray(y * img.width, (y + 1) * img.width), (img.height - 1 - y) * img.width);
      src = { ...img, pixels: px };
    }
    const dw = dest.right - dest.left;
    const dh = dest.bottom - dest.top;
    if (dw <= 0 || dh <= 0) return;
    let x0 = dest.left;
    let y0 = dest.top;
    if (dw !== src.width || dh !== src.height) {
      // only the visible part of dest is scaled (dest comes from the server and may be huge)
      const ext = regionExtents(region)!;
      src = scaleClipped(
        src,
        { fsx: doubleToFixed(src.width / dw), fsy: doubleToFixed(src.height / dh), tx: 0, ty: 0, ox: 0, oy: 0, bilinear: false },
        x0,
        y0,
        ext,
      );
      x0 = ext.x1;
      y0 = ext.y1;
    }
    for (const b of regionBoxes(region)) blitBox(s, b, src, x0, y0, Rop.COPY);
    this.painted(surfaceId, region);
  }
}

/** A 1BIT_LE / 1BIT_BE SpiceBitmap as a mask plane (canvas_get_bitmap_mask), rows made top-down. */
function parseMaskBitmap(img: SpiceImage): MaskPlane {
  const b = img.data;
  if (b.kind !== 'bitmap') throw new SpiceError('BAD_MESSAGE', 'BITMAP mask without bitmap data');
  if (b.format !== BitmapFmt._1BIT_LE && b.format !== BitmapFmt._1BIT_BE) throw new SpiceError('PROTOCOL', `mask bitmap format ${b.format}`);
  const { x: w, y: h, stride } = b;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0 || w * h > MAX_IMAGE_PIXELS) {
    throw new SpiceError('DECODE', `mask bitmap size ${w}x${h}`);
  }
  const lineBytes = (w + 7) >> 3;
  if (stride < lineBytes || b.data.length < stride * (h - 1) + lineBytes) throw new SpiceError('DECODE', 'mask bitmap data too short');
  const bits = new Uint8Array(w * h);
  const topDown = (b.flags & BitmapFlags.TOP_DOWN) !== 0;
  const le = b.format === BitmapFmt._1BIT_LE;
  for (let y = 0; y < h; y++) {
    const srcRow = (topDown ? y : h - 1 - y) * stride;
    const o = y * w;
    for (let x = 0; x < w; x++) {
      const byte = b.data[srcRow + (x >> 3)];
      bits[o + x] = le ? (byte >> (x & 7)) & 1 : (byte >> (7 - (x & 7))) & 1;
    }
  }
  return { width: w, height: h, bits };
}

function touches(a: Box, b: Box): boolean {
  return a.x1 <= b.x2 && b.x1 <= a.x2 && a.y1 <= b.y2 && b.y1 <= a.y2;
}

function boundingBox(list: Box[]): Box {
  const r = { ...list[0] };
  for (const b of list) {
    r.x1 = Math.min(r.x1, b.x1);
    r.y1 = Math.min(r.y1, b.y1);
    r.x2 = Math.max(r.x2, b.x2);
    r.y2 = Math.max(r.y2, b.y2);
  }
  return r;
}

/** Merges overlapping or edge-touching boxes into their bounding boxes until none touch. */
export function mergeBoxes(input: Box[]): Box[] {
  const list = input.map((b) => ({ ...b }));
  let changed = true;
  while (changed) {
    changed = false;
    for (let i = 0; i < list.length && !changed; i++) {
      for (let j = i + 1; j < list.length; j++) {
        if (touches(list[i], list[j])) {
          list[i] = boundingBox([list[i], list[j]]);
          list.splice(j, 1);
          changed = true;
          break;
        }
      }
    }
  }
  return list;
}
