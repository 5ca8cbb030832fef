// Display channel: turns draw/surface/stream/cache messages into
// DisplayCommands for the renderer (which decodes and paints). Keeps no pixels:
// caches and the GLZ window live where images are decoded.
import { Channel, type Logger } from './base-channel';
import { hasCap } from '../link';
import { Channel as ChannelType, DisplayCap, MsgcDisplay, MsgDisplay, VideoCodecType } from '../protocol/enums';
import {
  decodeDisplayMessage,
  decodeDraw,
  decodeStreamActivateReport,
  encodeDisplayInit,
  encodePreferredCompression,
  encodePreferredVideoCodecType,
  encodeStreamReport,
  isDrawMessage,
} from '../messages/display';
import type { DisplayCommand } from '../../../preload/contract';

/** Pixmap cache size we announce, in pixels (80 MiB of 32-bit pixels, as spice-gtk). */
export const PIXMAP_CACHE_PIXELS = (80 * 1024 * 1024) / 4;
/** GLZ dictionary window we announce, in pixels. */
export const GLZ_WINDOW_PIXELS = (16 * 1024 * 1024) / 4;

/** The display cap that says the client decodes a SpiceVideoCodecType. */
const CODEC_CAP: ReadonlyMap<number, number> = new Map([
  [VideoCodecType.MJPEG, DisplayCap.CODEC_MJPEG],
  [VideoCodecType.VP8, DisplayCap.CODEC_VP8],
  [VideoCodecType.H264, DisplayCap.CODEC_H264],
  [VideoCodecType.VP9, DisplayCap.CODEC_VP9],
]);

const CODEC_NAMES: ReadonlyMap<number, string> = new Map([
  [VideoCodecType.MJPEG, 'mjpeg'],
  [VideoCodecType.VP8, 'vp8'],
  [VideoCodecType.H264, 'h264'],
  [VideoCodecType.VP9, 'vp9'],
  [VideoCodecType.H265, 'h265'],
]);

/** After this many late frames in a row a report goes out before its window is full (spice-gtk's STREAM_REPORT_DROP_SEQ_LEN_LIMIT). */
const REPORT_DROP_SEQ_LIMIT = 3;
/** Most streams tracked for reports (spice-server uses ids below NUM_STREAMS, 50). */
const MAX_REPORT_STREAMS = 256;

interface StreamReportState {
  active: boolean;
  uniqueId: number;
  maxWindow: number;
  timeoutMs: number;
  startTime: number;
  startFrameTime: number;
  frames: number;
  drops: number;
  dropSeq: number;
}

/** What a display channel needs from its session for video streams. */
export interface DisplayVideoOptions {
  /**
   * SpiceVideoCodecTypes the renderer decodes (MJPEG is always decodable), read
   * at each link: caps are announced once per connection.
   */
  videoCodecs?: () => readonly number[];
  /** Codecs to ask the server for, preferred first (PREFERRED_VIDEO_CODEC_TYPE); none: the server's order. */
  preferredVideoCodecs?: readonly number[];
  /** The session's multimedia clock now (ms), null while unknown: stream reports measure frame delay against it. */
  mmTime?: () => number | null;
  /** Playback latency (ms) when audio plays, else null (the report's audio_delay). */
  audioDelay?: () => number | null;
  /** Monotonic clock for report timeouts (tests inject one). */
  now?: () => number;
}

export class DisplayChannel extends Channel {
  /** Preferred image compression (SpiceImageCompression), sent after link when set. */
  preferredCompression: number | null = null;
  /** Video stream settings (see DisplayVideoOptions). */
  video: DisplayVideoOptions = {};
  /** Codecs the current connection announced (caps), MJPEG first. */
  announcedCodecs: number[] = [VideoCodecType.MJPEG];
  /** STREAM_REPORTs sent (tests, stats). */
  reportsSent = 0;
  private readonly reports = new Map<number, StreamReportState>();

  constructor(
    id: number,
    log: Logger,
    private readonly sink: (cmd: DisplayCommand) => void,
  ) {
    super(ChannelType.DISPLAY, id, log);
    for (const t of Object.values(MsgDisplay)) {
      if (isDrawMessage(t)) {
        this.on(t, (_r, msg) => this.sink({ t: 'draw', cmd: decodeDraw(t, msg.body) }));
      }
    }
    const plain = [
      MsgDisplay.SURFACE_CREATE,
      MsgDisplay.SURFACE_DESTROY,
      MsgDisplay.MARK,
      MsgDisplay.RESET,
      MsgDisplay.INVAL_LIST,
      MsgDisplay.INVAL_ALL_PIXMAPS,
      MsgDisplay.INVAL_PALETTE,
      MsgDisplay.INVAL_ALL_PALETTES,
      MsgDisplay.STREAM_CREATE,
      MsgDisplay.STREAM_DATA,
      MsgDisplay.STREAM_DATA_SIZED,
      MsgDisplay.STREAM_CLIP,
      MsgDisplay.STREAM_DESTROY,
      MsgDisplay.STREAM_DESTROY_ALL,
      MsgDisplay.MONITORS_CONFIG,
    ];
    for (const t of plain) {
      this.on(t, (_r, msg) => {
        const cmd = decodeDisplayMessage(t, msg.body);
        if (!cmd) return;
        this.observeStream(cmd);
        this.sink(cmd);
      });
    }
    this.on(MsgDisplay.STREAM_ACTIVATE_REPORT, (_r, msg) => {
      const a = decodeStreamActivateReport(msg.body);
      const st = this.reports.get(a.streamId);
      // spice-gtk ignores a report request for a stream it does not know
      if (!st) return;
      Object.assign(st, { active: true, uniqueId: a.uniqueId, maxWindow: a.maxWindowSize, timeoutMs: a.timeoutMs, startTime: 0, startFrameTime: 0, frames: 0, drops: 0, dropSeq: 0 });
    });
    // MODE is the pre-surfaces protocol; text, GL scanout and the quality
    // indicator are not requested by our caps.
    this.ignore(
      MsgDisplay.MODE,
      MsgDisplay.DRAW_TEXT,
      MsgDisplay.GL_SCANOUT_UNIX,
      MsgDisplay.GL_DRAW,
      MsgDisplay.QUALITY_INDICATOR,
    );
  }

  channelCaps(): number[] {
    this.announcedCodecs = this.decodableCodecs();
    return [
      DisplayCap.SIZED_STREAM,
      DisplayCap.MONITORS_CONFIG,
      DisplayCap.COMPOSITE,
      DisplayCap.A8_SURFACE,
      DisplayCap.STREAM_REPORT,
      DisplayCap.LZ4_COMPRESSION,
      DisplayCap.PREF_COMPRESSION,
      DisplayCap.MULTI_CODEC,
      DisplayCap.PREF_VIDEO_CODEC_TYPE,
      ...this.announcedCodecs.map((c) => CODEC_CAP.get(c)!),
    ];
  }

  /** MJPEG plus what the renderer said it decodes, known codecs only, no repeats. */
  private decodableCodecs(): number[] {
    const out: number[] = [VideoCodecType.MJPEG];
    for (const c of this.video.videoCodecs?.() ?? []) if (CODEC_CAP.has(c) && !out.includes(c)) out.push(c);
    return out;
  }

  /** The preference to send: the asked-for codecs this connection announced, in order (none: keep the server's). */
  private preferredOrder(): number[] {
    return (this.video.preferredVideoCodecs ?? []).filter((c, i, a) => this.announcedCodecs.includes(c) && a.indexOf(c) === i);
  }

  /** Stream bookkeeping the engine owns: the reports spice-server asks for (spice-gtk display_update_stream_report). */
  private observeStream(cmd: DisplayCommand): void {
    switch (cmd.t) {
      case 'streamCreate': {
        const c = cmd.stream;
        const d = c.dest;
        // which codec the server picked (the --spice-debug trace; e2e tests read it)
        this.log.protocol?.(`${this.name}: stream ${c.id} ${CODEC_NAMES.get(c.codec) ?? `codec ${c.codec}`} ${c.srcWidth}x${c.srcHeight} at ${d.left},${d.top} to ${d.right},${d.bottom}`);
        if (this.reports.size >= MAX_REPORT_STREAMS && !this.reports.has(cmd.stream.id)) return;
        this.reports.set(cmd.stream.id, { active: false, uniqueId: 0, maxWindow: 0, timeoutMs: 0, startTime: 0, startFrameTime: 0, frames: 0, drops: 0, dropSeq: 0 });
        return;
      }
      case 'streamDestroy':
        this.reports.delete(cmd.id);
        return;
      case 'streamDestroyAll':
        this.reports.clear();
        return;
      case 'streamData': {
        const st = this.reports.get(cmd.id);
        if (st?.active) this.frameArrived(cmd.id, st, cmd.mmTime);
        return;
      }
      default:
        return;
    }
  }

  private frameArrived(streamId: number, st: StreamReportState, frameTime: number): void {
    const now = (this.video.now ?? Date.now)();
    const mm = this.video.mmTime?.() ?? null;
    // frame time against our clock: negative means it came too late to be shown in time
    const latency = mm === null ? 0 : (frameTime - mm) | 0;
    if (st.frames === 0) {
      st.startFrameTime = frameTime;
      st.startTime = now;
    }
    st.frames++;
    if (mm !== null && latency < 0) {
      st.drops++;
      st.dropSeq++;
    } else st.dropSeq = 0;
    if (st.frames >= st.maxWindow || now - st.startTime >= st.timeoutMs || st.dropSeq >= REPORT_DROP_SEQ_LIMIT) {
      const audio = this.video.audioDelay?.() ?? null;
      this.send(
        MsgcDisplay.STREAM_REPORT,
        encodeStreamReport({
          streamId,
          uniqueId: st.uniqueId,
          startFrameMmTime: st.startFrameTime,
          endFrameMmTime: frameTime,
          numFrames: st.frames,
          numDrops: st.drops,
          lastFrameDelay: latency,
          audioDelay: audio ?? 0xffffffff,
        }),
      );
      this.reportsSent++;
      Object.assign(st, { startTime: 0, startFrameTime: 0, frames: 0, drops: 0, dropSeq: 0 });
    }
  }

  /** Asks the server for an image compression now (SpiceImageCompression); kept for later links. */
  setPreferredCompression(mode: number): void {
    this.preferredCompression = mode;
    if (this.connection?.isOpen) this.send(MsgcDisplay.PREFERRED_COMPRESSION, encodePreferredCompression(mode));
  }

  protected override resetForNewServer(): void {
    this.reports.clear();
    this.sink({ t: 'serverChanged' });
  }

  protected onLinked(): void {
    this.send(
      MsgcDisplay.INIT,
      // a cache and a GLZ dictionary per display channel: the renderer decodes each display apart
      // (spice-server shares a cache among the channels that announce the same id)
      encodeDisplayInit({ pixmapCacheId: this.id + 1, pixmapCacheSize: BigInt(PIXMAP_CACHE_PIXELS), glzDictionaryId: this.id + 1, glzDictionaryWindowSize: GLZ_WINDOW_PIXELS }),
    );
    if (this.preferredCompression !== null) {
      this.send(MsgcDisplay.PREFERRED_COMPRESSION, encodePreferredCompression(this.preferredCompression));
    }
    const order = this.preferredOrder();
    if (order.length && this.serverHasCap(DisplayCap.PREF_VIDEO_CODEC_TYPE)) {
      this.send(MsgcDisplay.PREFERRED_VIDEO_CODEC_TYPE, encodePreferredVideoCodecType(order));
    }
  }

  private serverHasCap(cap: number): boolean {
    return hasCap(this.connection?.serverChannelCaps ?? [], cap);
  }
}
