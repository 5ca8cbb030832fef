// Display worker: applies DisplayCommands to DisplayState in arrival order
// (one queue) and posts the damaged rects of the primary surface back to the
// page as transferable RGBA. Pure TS besides the worker message port.
import type { DisplayCommand } from '../../preload/contract';
import { DisplayState } from './display-state';
import type { PaintRect, WorkerBatch, WorkerReply } from './painter';

interface Rect {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/** More damage rects than this in one batch are merged into their bounding box. */
const MAX_RECTS = 32;

/** Copies rect of a 0xAARRGGBB surface into RGBA bytes, alpha forced to 255 (xRGB). */
export function toRgba(pixels: Uint32Array, stride: number, x: number, y: number, w: number, h: number): ArrayBuffer {
  const out = new Uint32Array(w * h);
  // Little-endian RGBA bytes as one u32: 0xAABBGGRR.
  for (let row = 0; row < h; row++) {
    let s = (y + row) * stride + x;
    let d = row * w;
    for (let col = 0; col < w; col++, s++, d++) {
      const p = pixels[s];
      out[d] = 0xff000000 | ((p & 0xff) << 16) | (p & 0xff00) | ((p >>> 16) & 0xff);
    }
  }
  return out.buffer;
}

function clampRect(r: Rect, width: number, height: number): Rect | null {
  const left = Math.max(0, Math.min(width, r.left));
  const right = Math.max(0, Math.min(width, r.right));
  const top = Math.max(0, Math.min(height, r.top));
  const bottom = Math.max(0, Math.min(height, r.bottom));
  return right > left && bottom > top ? { top, left, bottom, right } : null;
}

/** Owns one DisplayState and turns batches into paint replies. */
export class DisplayPipeline {
  private readonly state = new DisplayState();
  private shown: { id: number; width: number; height: number; pixels: Uint32Array } | null = null;

  run(batch: number, commands: DisplayCommand[]): { reply: WorkerReply; transfer: ArrayBuffer[] } {
    let error: string | null = null;
    for (const cmd of commands) {
      try {
        this.state.apply(cmd);
      } catch (e) {
        // One bad command must not stall the queue; report the first.
        error ??= `${cmd.t}: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    const damage = this.state.takeDamage();
    const primary = this.state.primary();
    if (error !== null) {
      console.error(`display batch ${batch}: ${error}`);
    }
    if (!primary) {
      this.shown = null;
      return { reply: { type: 'frame', batch, width: 0, height: 0, rects: [] }, transfer: [] };
    }
    const { width, height } = primary;
    let rects: Rect[];
    const s = this.shown;
    if (!s || s.id !== primary.id || s.width !== width || s.height !== height || s.pixels !== primary.pixels) {
      // New or resized primary: the page's canvas is cleared, send everything.
      rects = [{ top: 0, left: 0, bottom: height, right: width }];
      this.shown = { id: primary.id, width, height, pixels: primary.pixels };
    } else {
      rects = [];
      for (const d of damage) {
        if (d.surfaceId !== primary.id) continue;
        const c = clampRect(d.rect, width, height);
        if (c) rects.push(c);
      }
      if (rects.length > MAX_RECTS) {
        rects = [
          rects.reduce((a, b) => ({
            top: Math.min(a.top, b.top),
            left: Math.min(a.left, b.left),
            bottom: Math.max(a.bottom, b.bottom),
            right: Math.max(a.right, b.right),
          })),
        ];
      }
    }
    const out: PaintRect[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const r of rects) {
      const w = r.right - r.left;
      const h = r.bottom - r.top;
      const rgba = toRgba(primary.pixels, width, r.left, r.top, w, h);
      out.push({ x: r.left, y: r.top, w, h, rgba });
      transfer.push(rgba);
    }
    return { reply: { type: 'frame', batch, width, height, rects: out }, transfer };
  }
}

interface WorkerPort {
  onmessage: ((ev: MessageEvent) => void) | null;
  postMessage(msg: unknown, transfer: Transferable[]): void;
}

function isWorkerScope(g: unknown): boolean {
  return typeof g === 'object' && g !== null && typeof (g as { importScripts?: unknown }).importScripts === 'function';
}

// Attach only inside a dedicated worker, so Node tests can import the module.
if (isWorkerScope(globalThis)) {
  const port = globalThis as unknown as WorkerPort;
  const pipeline = new DisplayPipeline();
  port.onmessage = (ev: MessageEvent) => {
    const msg = ev.data as WorkerBatch;
    if (msg?.type !== 'batch') return;
    try {
      const { reply, transfer } = pipeline.run(msg.batch, msg.commands);
      port.postMessage(reply, transfer);
    } catch (e) {
      const reply: WorkerReply = { type: 'error', batch: msg.batch, message: e instanceof Error ? e.message : String(e) };
      port.postMessage(reply, []);
    }
  };
}
