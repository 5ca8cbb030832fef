// Painter: the page side of the display worker. Owns the <canvas> that shows
// the primary surface and the message shapes exchanged with worker.ts
// (batches reach the worker directly: preload/display-link.ts).
// No document/window here: the canvas is handed in.
/**
 * page → worker: where batches come from (a MessagePort from Electron's main,
 * or the URL of the worker's own WebSocket to the web host), and that a frame
 * is on the canvas (the worker reports it painted to the engine).
 */
export type PageToWorker = { type: 'link'; port: MessagePort } | { type: 'link'; url: string } | { type: 'painted'; batch: number };

/** One damaged rectangle of the primary surface as RGBA bytes (w*h*4). */
export interface PaintRect {
  x: number;
  y: number;
  w: number;
  h: number;
  rgba: ArrayBuffer;
}

/** What a batch changed on one display's primary surface. */
export interface DisplayFrame {
  width: number;
  height: number;
  rects: PaintRect[];
}

/** worker → page: what a batch changed on display 0's primary surface, and on the other displays (`more`). */
export type WorkerReply =
  | ({ type: 'frame'; batch: number; more?: (DisplayFrame & { display: number })[] } & DisplayFrame)
  | { type: 'error'; batch: number; message: string }
  /** Once, at start: the SpiceVideoCodecTypes the worker decodes with the platform (WebCodecs). */
  | { type: 'videoCodecs'; codecs: number[] };

export interface PaintTarget {
  width: number;
  height: number;
  getContext(id: '2d', opts?: CanvasRenderingContext2DSettings): CanvasRenderingContext2D | null;
}

/** Paint timestamps kept for the migration gap measurement (a bounded ring). */
export const PAINT_LOG_MAX = 4096;

export class Painter {
  private ctx: CanvasRenderingContext2D | null = null;
  /** performance.now() of each paint that changed pixels (newest last). */
  readonly paintLog: number[] = [];

  constructor(private readonly canvas: PaintTarget) {}

  private context(): CanvasRenderingContext2D {
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
    if (frame.rects.length) {
      this.paintLog.push(performance.now());
      if (this.paintLog.length > PAINT_LOG_MAX) this.paintLog.splice(0, this.paintLog.length - PAINT_LOG_MAX);
    }
    const ctx = this.context();
    for (const r of frame.rects) {
      if (r.w <= 0 || r.h <= 0) continue;
      // putImageData writes exact bytes (no compositing, no smoothing).
      ctx.putImageData(new ImageData(new Uint8ClampedArray(r.rgba), r.w, r.h), r.x, r.y);
    }
    return resized;
  }

  /** Reads the whole canvas back as RGBA (test hook). */
  readPixels(): { width: number; height: number; rgba: Uint8Array } {
    const { width, height } = this.canvas;
    if (width === 0 || height === 0) return { width, height, rgba: new Uint8Array(0) };
    const img = this.context().getImageData(0, 0, width, height);
    return { width, height, rgba: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength) };
  }
}
