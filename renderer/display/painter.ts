// Painter: paints display frames on a canvas. The display worker owns one per
// display, on the OffscreenCanvas the page handed it (transferControlToOffscreen):
// pixels go from the decoded surface to the canvas without crossing to the
// page's thread, and the canvas reaches the compositor without the page's
// rendering steps. Also the message shapes exchanged with worker.ts
// (batches reach the worker directly: preload/display-link.ts).
// No document/window here: the canvas is handed in.
/**
 * page → worker: where batches come from (a MessagePort from Electron's main,
 * or the URL of the worker's own WebSocket to the web host); a display's canvas;
 * a request for a display's pixels (screenshot, test hook).
 */
import { rgbaInto } from './rgba';

export type PageToWorker =
  | { type: 'link'; port: MessagePort }
  | { type: 'link'; url: string }
  | { type: 'canvas'; display: number; canvas: OffscreenCanvas }
  | { type: 'read'; id: number; display: number };

/** One damaged rectangle of the primary surface (its pixels are the frame's surface's). */
export interface PaintRect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** What a batch changed on one display's primary surface. */
export interface DisplayFrame {
  width: number;
  height: number;
  rects: PaintRect[];
  /** The surface itself (0xAARRGGBB, row length `width`); none when the display has no picture. */
  pixels?: Uint32Array;
}

/** What the pipeline made of one batch: display 0 in its own fields, the other displays in `more`. */
export type BatchResult =
  | ({ type: 'frame'; batch: number; more?: (DisplayFrame & { display: number })[] } & DisplayFrame)
  | { type: 'error'; batch: number; message: string };

/** One display's size after a batch (0: no picture). */
export interface DisplayShown {
  display: number;
  width: number;
  height: number;
}

/** A display's pixels as RGBA (null: no such display). */
export type Pixels = { width: number; height: number; rgba: Uint8Array };

/** worker → page. */
export type WorkerReply =
  /** A batch (-1: none, e.g. a held stream frame) is on the canvases: the displays whose size the page has not heard yet, or an error. */
  | { type: 'shown'; batch: number; displays: DisplayShown[]; error?: string }
  /** The answer to a `read`. */
  | { type: 'pixels'; id: number; pixels: Pixels | null }
  /** Once, at start: the SpiceVideoCodecTypes the worker decodes with the platform (WebCodecs). */
  | { type: 'videoCodecs'; codecs: number[] };

/** The 2D context calls the painter makes (a page canvas's or an OffscreenCanvas's). */
export interface PaintContext {
  putImageData(data: ImageData, dx: number, dy: number): void;
  putImageData(data: ImageData, dx: number, dy: number, dirtyX: number, dirtyY: number, dirtyWidth: number, dirtyHeight: number): void;
  getImageData(sx: number, sy: number, sw: number, sh: number): ImageData;
}

export interface PaintTarget {
  width: number;
  height: number;
  getContext(id: '2d', opts?: CanvasRenderingContext2DSettings): PaintContext | null;
}

export class Painter {
  private ctx: PaintContext | null = null;
  /** RGBA of the whole surface, reused frame after frame (only damaged rects are written). */
  private scratch: ImageData | null = null;
  private scratch32 = new Uint32Array(0);

  constructor(private readonly canvas: PaintTarget) {}

  private context(): PaintContext {
    // No alpha: the guest screen is opaque; readback (test hook) stays exact.
    this.ctx ??= this.canvas.getContext('2d', { alpha: false, willReadFrequently: false });
    if (!this.ctx) throw new Error('2d canvas context unavailable');
    return this.ctx;
  }

  /** Applies a worker frame; returns true when the surface size changed. */
  paint(frame: DisplayFrame): boolean {
    let resized = false;
    if (frame.width !== this.canvas.width || frame.height !== this.canvas.height) {
      // Resizing clears the canvas; the worker sends a full rect with a size change.
      this.canvas.width = frame.width;
      this.canvas.height = frame.height;
      resized = true;
    }
    if (frame.width === 0 || frame.height === 0) return resized;
    const ctx = this.context();
    for (const r of frame.rects) {
      if (r.w <= 0 || r.h <= 0) continue;
      if (!frame.pixels) continue;
      // from the surface into the one surface-sized buffer, then only the rect's part of it
      // (putImageData writes exact bytes: no compositing, no smoothing)
      if (this.scratch?.width !== frame.width || this.scratch.height !== frame.height) {
        this.scratch = new ImageData(frame.width, frame.height);
        this.scratch32 = new Uint32Array(this.scratch.data.buffer);
      }
      rgbaInto(this.scratch32, frame.width, r.x, r.y, frame.pixels, frame.width, r.x, r.y, r.w, r.h);
      ctx.putImageData(this.scratch, 0, 0, r.x, r.y, r.w, r.h);
    }
    return resized;
  }

  /** Reads the whole canvas back as RGBA (screenshot, test hook). */
  readPixels(): Pixels {
    const { width, height } = this.canvas;
    if (width === 0 || height === 0) return { width, height, rgba: new Uint8Array(0) };
    const img = this.context().getImageData(0, 0, width, height);
    return { width, height, rgba: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength) };
  }
}
