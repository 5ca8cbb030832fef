// Video stream frames (VP8, VP9, H.264) decoded by the platform: WebCodecs'
// VideoDecoder, one per stream, in the display worker. The display state
// awaits each frame before it applies the next command of that display, so a
// later draw is never painted under an earlier frame. Only the platform's
// decoders are used: a codec WebCodecs does not support is never announced
// to the server (probeVideoCodecs → the page's videoCodecs request).
import { VideoCodecType } from '../../preload/spice-enums';
import { SpiceError } from '../../preload/spice-errors';
import type { DecodedImage } from './types';

/** WebCodecs codec strings we probe and configure, per SpiceVideoCodecType (first supported one wins). */
export const WEBCODECS_CODECS: ReadonlyMap<number, readonly string[]> = new Map([
  [VideoCodecType.VP8, ['vp8']],
  [VideoCodecType.VP9, ['vp09.00.10.08']],
  // x264enc's default profile is High; Baseline as a fallback for decoders that list profiles
  [VideoCodecType.H264, ['avc1.640028', 'avc1.42E01F']],
]);

/** A decoded frame that has not come out in this long is given up (a decoder holding frames must not stall the display). */
export const FRAME_TIMEOUT_MS = 1000;

interface VideoCodecsApi {
  VideoDecoder: typeof VideoDecoder;
  EncodedVideoChunk: typeof EncodedVideoChunk;
  /** WebCodecs' still-image decoder (MJPEG frames); absent outside secure contexts. */
  ImageDecoder?: typeof ImageDecoder;
}

function platform(): VideoCodecsApi | null {
  const g = globalThis as unknown as Partial<VideoCodecsApi>;
  return typeof g.VideoDecoder === 'function' && typeof g.EncodedVideoChunk === 'function' ? (g as VideoCodecsApi) : null;
}

/**
 * Width and height from a JPEG's SOF marker, read before the platform decodes
 * it (the frame must not make it allocate more than the stream may show);
 * null when no SOF comes before the scan.
 */
export function jpegSize(d: Uint8Array): { width: number; height: number } | null {
  if (d.length < 4 || d[0] !== 0xff || d[1] !== 0xd8) return null;
  let i = 2;
  while (i + 4 <= d.length) {
    if (d[i] !== 0xff) return null;
    const m = d[i + 1];
    if (m === 0xff) {
      i++; // fill byte
      continue;
    }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      i += 2;
      continue;
    }
    const len = (d[i + 2] << 8) | d[i + 3];
    if (len < 2) return null;
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (i + 9 > d.length) return null;
      return { height: (d[i + 5] << 8) | d[i + 6], width: (d[i + 7] << 8) | d[i + 8] };
    }
    if (m === 0xda || m === 0xd9) return null;
    i += 2 + len;
  }
  return null;
}

/**
 * MJPEG frames through WebCodecs' ImageDecoder: twice as fast as the
 * hand-written decoder on a 1024x768 frame in Chromium 156, 1.25x slower on
 * 1024x16 strips (npm run bench:mjpeg); used where ImageDecoder exists.
 */
export class MjpegImageDecoder {
  constructor(private readonly ctor: typeof ImageDecoder) {}

  /** The JPEG's own header gives the frame size (as the built-in decoder); the stream's is not needed. */
  async decode(data: Uint8Array, _width: number, _height: number, maxPixels: number): Promise<DecodedImage | null> {
    const size = jpegSize(data);
    if (!size || size.width === 0 || size.height === 0) throw new SpiceError('DECODE', 'MJPEG frame without a frame header');
    if (size.width * size.height > maxPixels) throw new SpiceError('LIMIT', `MJPEG frame ${size.width}x${size.height} is larger than the display allows (${maxPixels} pixels)`);
    let dec: ImageDecoder | null = null;
    try {
      dec = new this.ctor({ data: data.slice(), type: 'image/jpeg' });
      const { image } = await dec.decode();
      try {
        return await framePixels(image, maxPixels);
      } finally {
        image.close();
      }
    } catch (e) {
      if (e instanceof SpiceError) throw e;
      throw new SpiceError('DECODE', `MJPEG frame: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      dec?.close();
    }
  }

  close(): void {}
}

/** The SpiceVideoCodecTypes this platform decodes with WebCodecs, and the codec string for each. */
export async function probeVideoCodecs(api: VideoCodecsApi | null = platform()): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  if (!api) return out;
  for (const [type, strings] of WEBCODECS_CODECS) {
    for (const codec of strings) {
      try {
        const r = await api.VideoDecoder.isConfigSupported({ codec, codedWidth: 640, codedHeight: 480 });
        if (r.supported) {
          out.set(type, codec);
          break;
        }
      } catch {
        /* an unknown string: try the next */
      }
    }
  }
  return out;
}

/** Whether a frame can start decoding (a key frame), read from its first bytes per codec. */
export function isKeyFrame(codec: number, data: Uint8Array): boolean {
  if (data.length === 0) return false;
  switch (codec) {
    case VideoCodecType.VP8:
      // RFC 6386 9.1: frame tag bit 0 is 0 on a key frame
      return (data[0] & 1) === 0;
    case VideoCodecType.VP9: {
      // VP9 uncompressed header: frame_marker(2) profile_low(1) profile_high(1) [reserved(1) if profile 3] show_existing(1) frame_type(1)
      const b = data[0];
      if (b >> 6 !== 2) return false;
      const profile = ((b >> 5) & 1) | (((b >> 4) & 1) << 1);
      let bit = profile === 3 ? 2 : 3; // bits left after the profile in this byte, counted from bit 3 down
      if ((b >> bit) & 1) return false; // show_existing_frame
      bit--;
      return ((b >> bit) & 1) === 0;
    }
    case VideoCodecType.H264: {
      // Annex B: a key frame carries an IDR slice (nal_unit_type 5) or starts with an SPS (7)
      for (let i = 0; i + 3 < data.length; i++) {
        if (data[i] === 0 && data[i + 1] === 0 && data[i + 2] === 1) {
          const t = data[i + 3] & 0x1f;
          if (t === 5 || t === 7) return true;
          i += 2;
        }
      }
      return false;
    }
    default:
      return false;
  }
}

/**
 * One stream's decoder. decode() resolves with the frame's pixels (0xAARRGGBB,
 * top-down), null when the frame cannot be shown yet (no key frame seen) or
 * did not come out in time; it rejects with SpiceError('DECODE') when the
 * platform decoder refuses the data (the next key frame starts afresh).
 */
export class StreamVideoDecoder {
  private dec: VideoDecoder | null = null;
  private waiting: { resolve: (f: VideoFrame) => void; reject: (e: Error) => void } | null = null;
  private timestamp = 0;
  framesOut = 0;
  framesLate = 0;

  constructor(
    readonly codec: number,
    private readonly codecString: string,
    private readonly api: VideoCodecsApi,
    private readonly timeoutMs = FRAME_TIMEOUT_MS,
  ) {}

  async decode(data: Uint8Array, width: number, height: number, maxPixels: number): Promise<DecodedImage | null> {
    // the sizes come from the server: checked before the platform allocates anything for them
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || width > 16384 || height > 16384) {
      throw new SpiceError('DECODE', `video stream frame size ${width}x${height}`);
    }
    if (width * height > maxPixels) throw new SpiceError('LIMIT', `video stream frame ${width}x${height} is larger than the display allows (${maxPixels} pixels)`);
    const key = isKeyFrame(this.codec, data);
    if (!this.dec || this.dec.state === 'closed') {
      if (!key) return null;
      this.open(width, height);
    }
    const dec = this.dec!;
    const out = new Promise<VideoFrame>((resolve, reject) => (this.waiting = { resolve, reject }));
    try {
      // a copy: the chunk must not see the batch's buffer change under it
      dec.decode(new this.api.EncodedVideoChunk({ type: key ? 'key' : 'delta', timestamp: (this.timestamp += 1000), data: data.slice() }));
    } catch (e) {
      this.waiting = null;
      this.close();
      throw new SpiceError('DECODE', `video stream: ${e instanceof Error ? e.message : String(e)}`);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), this.timeoutMs)));
    let frame: VideoFrame | null;
    try {
      frame = await Promise.race([out, late]);
    } finally {
      clearTimeout(timer);
      this.waiting = null;
    }
    if (!frame) {
      this.framesLate++;
      return null;
    }
    try {
      return await framePixels(frame, maxPixels);
    } finally {
      frame.close();
    }
  }

  close(): void {
    const d = this.dec;
    this.dec = null;
    if (d && d.state !== 'closed') d.close();
  }

  private open(width: number, height: number): void {
    this.dec = new this.api.VideoDecoder({
      output: (f) => {
        this.framesOut++;
        const w = this.waiting;
        this.waiting = null;
        if (w) w.resolve(f);
        else f.close(); // came after its frame was given up: later draws are already on the surface
      },
      error: (e) => {
        const w = this.waiting;
        this.waiting = null;
        this.dec = null;
        w?.reject(new SpiceError('DECODE', `video stream: ${e.message}`));
      },
    });
    this.dec.configure({ codec: this.codecString, codedWidth: width, codedHeight: height, optimizeForLatency: true });
  }
}

/** The frame's visible pixels as 0xAARRGGBB (BGRA bytes on little-endian), alpha opaque. */
async function framePixels(frame: VideoFrame, maxPixels: number): Promise<DecodedImage> {
  const rect = frame.visibleRect;
  const width = rect ? rect.width : frame.displayWidth;
  const height = rect ? rect.height : frame.displayHeight;
  if (width <= 0 || height <= 0 || width * height > maxPixels) throw new SpiceError('LIMIT', `decoded video frame ${width}x${height}`);
  const pixels = new Uint32Array(width * height);
  try {
    // the platform converts YUV to BGRA itself (Chromium since 127)
    await frame.copyTo(new Uint8Array(pixels.buffer), { format: 'BGRX', colorSpace: 'srgb' } as VideoFrameCopyToOptions);
  } catch {
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new SpiceError('DECODE', 'video stream: no 2D canvas to convert frames');
    ctx.drawImage(frame, 0, 0, width, height);
    const rgba = ctx.getImageData(0, 0, width, height).data;
    for (let i = 0, j = 0; i < pixels.length; i++, j += 4) pixels[i] = (0xff000000 | (rgba[j] << 16) | (rgba[j + 1] << 8) | rgba[j + 2]) >>> 0;
    return { width, height, pixels, hasAlpha: false };
  }
  for (let i = 0; i < pixels.length; i++) pixels[i] = (pixels[i] | 0xff000000) >>> 0;
  return { width, height, pixels, hasAlpha: false };
}

/** Builds stream decoders for the codecs the platform supports (probed once). */
export class VideoDecoders {
  private constructor(
    private readonly api: VideoCodecsApi | null,
    readonly supported: Map<number, string>,
  ) {}

  static async create(api: VideoCodecsApi | null = platform()): Promise<VideoDecoders> {
    const withImages = api && !api.ImageDecoder && typeof (globalThis as { ImageDecoder?: unknown }).ImageDecoder === 'function'
      ? { ...api, ImageDecoder: (globalThis as unknown as { ImageDecoder: typeof ImageDecoder }).ImageDecoder }
      : api;
    const d = new VideoDecoders(withImages, await probeVideoCodecs(withImages));
    const img = withImages?.ImageDecoder;
    d.mjpeg = img && (await img.isTypeSupported('image/jpeg').catch(() => false)) ? img : null;
    return d;
  }

  /** ImageDecoder when it takes JPEG (else MJPEG stays with the hand-written decoder). */
  private mjpeg: typeof ImageDecoder | null = null;

  /** A decoder for a stream of this codec, null when the platform has none. */
  forStream(codec: number): StreamVideoDecoder | MjpegImageDecoder | null {
    if (codec === VideoCodecType.MJPEG) return this.mjpeg ? new MjpegImageDecoder(this.mjpeg) : null;
    const s = this.supported.get(codec);
    return s && this.api ? new StreamVideoDecoder(codec, s, this.api) : null;
  }
}
