// Display channel: turns draw/surface/stream/cache messages into
// DisplayCommands for the renderer (which decodes and paints). Keeps no pixels:
// caches and the GLZ window live where images are decoded.
import { Channel, type Logger } from './base-channel';
import { Channel as ChannelType, DisplayCap, MsgcDisplay, MsgDisplay } from '../protocol/enums';
import { decodeDisplayMessage, decodeDraw, encodeDisplayInit, encodePreferredCompression, isDrawMessage } from '../messages/display';
import type { DisplayCommand } from '../../../preload/contract';

/** Pixmap cache size we announce, in pixels (80 MiB of 32-bit pixels, as spice-gtk). */
export const PIXMAP_CACHE_PIXELS = (80 * 1024 * 1024) / 4;
/** GLZ dictionary window we announce, in pixels. */
export const GLZ_WINDOW_PIXELS = (16 * 1024 * 1024) / 4;

export class DisplayChannel extends Channel {
  /** Preferred image compression (SpiceImageCompression), sent after link when set. */
  preferredCompression: number | null = null;

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
        if (cmd) this.sink(cmd);
      });
    }
    // MODE is the pre-surfaces protocol; text, GL scanout, stream reports and the
    // quality indicator are not requested by our caps.
    this.ignore(
      MsgDisplay.MODE,
      MsgDisplay.DRAW_TEXT,
      MsgDisplay.STREAM_ACTIVATE_REPORT,
      MsgDisplay.GL_SCANOUT_UNIX,
      MsgDisplay.GL_DRAW,
      MsgDisplay.QUALITY_INDICATOR,
    );
  }

  channelCaps(): number[] {
    return [
      DisplayCap.SIZED_STREAM,
      DisplayCap.MONITORS_CONFIG,
      DisplayCap.COMPOSITE,
      DisplayCap.A8_SURFACE,
      DisplayCap.LZ4_COMPRESSION,
      DisplayCap.PREF_COMPRESSION,
      DisplayCap.MULTI_CODEC,
      DisplayCap.CODEC_MJPEG,
    ];
  }

  /** Asks the server for an image compression now (SpiceImageCompression); kept for later links. */
  setPreferredCompression(mode: number): void {
    this.preferredCompression = mode;
    if (this.connection?.isOpen) this.send(MsgcDisplay.PREFERRED_COMPRESSION, encodePreferredCompression(mode));
  }

  protected override resetForNewServer(): void {
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
  }
}
