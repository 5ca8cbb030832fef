// Display worker: takes display batches straight from the engine over its
// display link (a MessagePort from Electron's main, or its own WebSocket to
// the web host: preload/display-link.ts), applies them to DisplayState in
// arrival order (one queue), paints the damaged rects of each display's
// primary surface on that display's canvas (an OffscreenCanvas the page
// transferred) and reports the batch painted back over the link, which lets
// the engine ACK the server (backpressure). The page only hears sizes and
// that a batch is shown. Pure TS besides the worker ports.
import type { DisplayCommand } from '../../preload/contract';
import { decodeFrame, encodeFrame } from '../../preload/codec';
import { isDisplayLinkBatch, type DisplayLinkBatch, type DisplayLinkPainted } from '../../preload/display-link';
import { DisplayState, type StreamVideoFactory } from './display-state';
import { VideoDecoders } from './video';
import { SpiceError } from '../../preload/spice-errors';
import { MediaClock, isMediaClockMessage } from './stream-schedule';
import { Painter, type BatchResult, type DisplayFrame, type DisplayShown, type PageToWorker, type PaintRect, type WorkerReply } from './painter';

interface Rect {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/** More damage rects than this in one batch are merged into their bounding box. */
const MAX_RECTS = 32;

function clampRect(r: Rect, width: number, height: number): Rect | null {
  const left = Math.max(0, Math.min(width, r.left));
  const right = Math.max(0, Math.min(width, r.right));
  const top = Math.max(0, Math.min(height, r.top));
  const bottom = Math.max(0, Math.min(height, r.bottom));
  return right > left && bottom > top ? { top, left, bottom, right } : null;
}

/** One display's state and what its canvas shows. */
class DisplayOutput {
  readonly state: DisplayState;
  constructor(video?: StreamVideoFactory, clock?: () => number | null) {
    this.state = new DisplayState({ ...(video ? { video } : {}), ...(clock ? { clock } : {}) });
  }
  private shown: { id: number; width: number; height: number; pixels: Uint32Array } | null = null;

  /** The next frame sends the whole surface (a new canvas shows nothing yet). */
  forget(): void {
    this.shown = null;
  }

  /** The damaged rects of the primary surface, with the surface (everything when it is new or resized). */
  frame(): DisplayFrame {
    const damage = this.state.takeDamage();
    const primary = this.state.primary();
    if (!primary) {
      this.shown = null;
      return { width: 0, height: 0, rects: [] };
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
    for (const r of rects) out.push({ x: r.left, y: r.top, w: r.right - r.left, h: r.bottom - r.top });
    return { width, height, rects: out, pixels: primary.pixels };
  }
}

/**
 * Turns batches into paint replies. One DisplayState per display channel
 * (selectDisplay in the stream says whose commands follow; each channel has
 * its own surfaces, caches and GLZ window): display 0 in the reply's own
 * fields, the others in `more`.
 */
interface BatchRun {
  touched: Set<number>;
  gone: Set<number>;
  error: string | null;
}

export class DisplayPipeline {
  private readonly outputs: Map<number, DisplayOutput>;
  private current = 0;

  /**
   * video: platform decoders for VP8/VP9/H.264 streams (then batches go through runAsync);
   * clock: the audio's multimedia time (lip sync: stream frames wait for it, see presentDue).
   */
  constructor(
    private readonly video?: StreamVideoFactory,
    private readonly clock?: () => number | null,
  ) {
    this.outputs = new Map([[0, new DisplayOutput(video, clock)]]);
  }

  private output(id: number): DisplayOutput {
    let o = this.outputs.get(id);
    if (!o) this.outputs.set(id, (o = new DisplayOutput(this.video, this.clock)));
    return o;
  }

  /** ms until a held stream frame of any display is due (0: now), null when none is held. */
  nextFrameDueMs(): number | null {
    let best: number | null = null;
    for (const o of this.outputs.values()) {
      const ms = o.state.nextFrameDueMs();
      if (ms !== null && (best === null || ms < best)) best = ms;
    }
    return best;
  }

  /**
   * Draws the held stream frames whose time has come (lip sync) and returns
   * what changed, as a frame of no batch (-1: the engine is not told of it);
   * null when nothing changed.
   */
  presentDue(): BatchResult | null {
    const b = this.begin();
    for (const [id, o] of this.outputs) {
      o.state.showDueFrames();
      b.touched.add(id);
    }
    const r = this.finish(-1, b);
    if (r.type !== 'frame') return r;
    return r.rects.length || r.more?.some((m) => m.rects.length) ? r : null;
  }

  private begin(): BatchRun {
    // the display the stream is on continues from the last batch without a marker
    return { touched: new Set<number>([0, this.current]), gone: new Set<number>(), error: null };
  }

  private step(b: BatchRun, cmd: DisplayCommand): void | Promise<void> {
    if (cmd.t === 'selectDisplay') {
      this.current = cmd.id;
      b.touched.add(cmd.id);
      return;
    }
    if (cmd.t === 'serverChanged' && cmd.all) {
      // a new session: display 0 keeps its picture until redrawn, the others go (the new VM may
      // have fewer displays: another VM's screen must not stay up); the stream starts at display 0
      void this.outputs.get(0)?.state.apply(cmd);
      for (const id of [...this.outputs.keys()]) {
        if (id === 0) continue;
        this.outputs.delete(id);
        b.gone.add(id);
      }
      this.current = 0;
      return;
    }
    return this.output(this.current).state.apply(cmd);
  }

  private failed(b: BatchRun, cmd: DisplayCommand, e: unknown): void {
    // One bad command must not stall the queue; report the first (with its code).
    b.error ??= `${cmd.t}: ${e instanceof SpiceError ? `${e.code}: ` : ''}${e instanceof Error ? e.message : String(e)}`;
  }

  /** A batch without platform video decoders: every command applies synchronously. */
  run(batch: number, commands: DisplayCommand[]): BatchResult {
    const b = this.begin();
    for (const cmd of commands) {
      try {
        const p = this.step(b, cmd);
        if (p) throw new Error('a video frame needs runAsync');
      } catch (e) {
        this.failed(b, cmd, e);
      }
    }
    return this.finish(batch, b);
  }

  /** A batch in order, each video frame decoded and drawn before the next command of the batch applies. */
  async runAsync(batch: number, commands: DisplayCommand[]): Promise<BatchResult> {
    const b = this.begin();
    for (const cmd of commands) {
      try {
        const p = this.step(b, cmd);
        if (p) await p;
      } catch (e) {
        this.failed(b, cmd, e);
      }
    }
    return this.finish(batch, b);
  }

  /** The whole of a display's primary surface (for a canvas that just arrived); null: no such display. */
  full(display: number): DisplayFrame | null {
    const o = this.outputs.get(display);
    if (!o) return null;
    o.forget();
    return o.frame();
  }

  private finish(batch: number, b: BatchRun): BatchResult {
    const { touched, gone, error } = b;
    if (error !== null) {
      console.error(`display batch ${batch}: ${error}`);
    }
    const primary = this.output(0).frame();
    const more: (DisplayFrame & { display: number })[] = [];
    for (const id of gone) if (!this.outputs.has(id)) more.push({ display: id, width: 0, height: 0, rects: [] });
    for (const id of touched) {
      if (id === 0 || (gone.has(id) && !this.outputs.has(id))) continue;
      const f = this.output(id).frame();
      if (f.rects.length || f.width === 0) more.push({ display: id, ...f });
    }
    return { type: 'frame', batch, ...primary, ...(more.length ? { more } : {}) };
  }
}

interface WorkerPort {
  onmessage: ((ev: MessageEvent) => void) | null;
  postMessage(msg: unknown, transfer: Transferable[]): void;
}

/** The worker's end of the display link: batches in, "painted" out. */
export interface LinkEnd {
  send(m: DisplayLinkPainted): void;
  close(): void;
}

/** Opens a link end; every valid batch goes to onBatch (garbage closes the link: it is a bug, not data). */
export function openLink(spec: { port: MessagePort } | { url: string }, onBatch: (b: DisplayLinkBatch) => void, onError: (why: string) => void): LinkEnd {
  if ('port' in spec) {
    const port = spec.port;
    port.onmessage = (ev: MessageEvent) => {
      if (isDisplayLinkBatch(ev.data)) onBatch(ev.data);
      else onError('not a display batch');
    };
    return { send: (m) => port.postMessage(m), close: () => port.close() };
  }
  const ws = new WebSocket(spec.url);
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (ev: MessageEvent) => {
    let m: unknown;
    try {
      m = ev.data instanceof ArrayBuffer ? decodeFrame(new Uint8Array(ev.data)) : null;
    } catch (e) {
      m = e;
    }
    if (isDisplayLinkBatch(m)) onBatch(m);
    else {
      onError(m instanceof Error ? m.message : 'not a display batch');
      ws.close(1003, 'bad display frame');
    }
  };
  ws.onclose = (ev) => onError(`display socket closed (${ev.code}${ev.reason ? `: ${ev.reason}` : ''})`);
  return {
    send: (m) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrame(m));
    },
    close: () => ws.close(1000),
  };
}

function isWorkerScope(g: unknown): boolean {
  return typeof g === 'object' && g !== null && typeof (g as { importScripts?: unknown }).importScripts === 'function';
}

/** The worker's canvases, one Painter per display; frames for a display without one wait for its canvas. */
export class CanvasSet {
  private readonly painters = new Map<number, Painter>();

  constructor(private readonly pipeline: DisplayPipeline) {}

  /** A display's canvas arrived (or replaced its old one): it gets the whole surface now. */
  attach(display: number, canvas: OffscreenCanvas): DisplayShown {
    const p = new Painter(canvas);
    this.painters.set(display, p);
    const f = this.pipeline.full(display);
    if (f) p.paint(f);
    return { display, width: f?.width ?? 0, height: f?.height ?? 0 };
  }

  /** Paints a batch's frames; what each display shows now. */
  paint(r: BatchResult): DisplayShown[] {
    if (r.type !== 'frame') return [];
    const out: DisplayShown[] = [];
    for (const f of [{ display: 0, ...r }, ...(r.more ?? [])]) {
      const p = this.painters.get(f.display);
      // no canvas yet: the page makes one when it hears of the display, and attach() paints it whole
      if (p) p.paint(f);
      out.push({ display: f.display, width: f.width, height: f.height });
    }
    return out;
  }

  read(display: number): ReturnType<Painter['readPixels']> | null {
    return this.painters.get(display)?.readPixels() ?? null;
  }
}

/**
 * What the page has heard of each display's size. The page needs sizes only
 * (layout, zoom, a further display's canvas): telling it of every batch woke
 * its thread once per frame for nothing, so only changes go.
 */
export class ShownSizes {
  private readonly told = new Map<number, { width: number; height: number }>();

  /** The displays whose size the page has not heard yet (new ones included); they count as told. */
  news(displays: DisplayShown[]): DisplayShown[] {
    return displays.filter((d) => {
      const t = this.told.get(d.display);
      if (t?.width === d.width && t.height === d.height) return false;
      this.told.set(d.display, { width: d.width, height: d.height });
      return true;
    });
  }
}

/** The clock and timers PaintedAnswers uses: the worker's own, fakes in tests. */
export interface AnswerClock {
  now(): number;
  /** requestAnimationFrame; absent where there is none, and it may throw (no frame provider). */
  frame?: (cb: () => void) => void;
  /** setTimeout; returns its cancel. */
  after(ms: number, cb: () => void): () => void;
}

/**
 * When the worker says "painted" (which covers every batch up to the one
 * named). The engine sends its next batch only on that answer (one batch in
 * flight, main/app/display-flow.ts) and gathers what the server sends
 * meanwhile. Chromium shows one canvas frame per display frame, so a second
 * batch inside the same frame is work the compositor throws away: each batch
 * costs a socket message both ways (~1.4 ms of Chromium's CPU alone,
 * `npm run bench:floor`), a conversion and a canvas commit. So an answer
 * comes at once when the last one was a frame or more ago (a lone update: no
 * latency added), else at the next animation frame, which gathers the rest
 * of that frame's drawing into one batch; at most WAIT_MAX_MS later, as a
 * hidden page's worker gets no animation frames and the engine must not
 * stall (the server would stop the display channel). Measured with
 * `npm run bench:e2e` (heavy): ~118 batches/s → one per frame, 37 → 48
 * visible updates/s.
 */
export class PaintedAnswers {
  /** Display frame length assumed (ms): 60 Hz. */
  static readonly FRAME_MS = 1000 / 60;
  static readonly WAIT_MAX_MS = 100;
  /** The newest painted batch not answered yet (-1: none). */
  private unanswered = -1;
  private last = -Infinity;
  private cancelWait: (() => void) | null = null;
  /** An animation frame was asked for and has not come: one at a time (a hidden page's would pile up). */
  private framePending = false;

  constructor(
    private readonly send: (batch: number) => void,
    private readonly clock: AnswerClock,
  ) {}

  painted(batch: number): void {
    this.unanswered = batch;
    if (this.cancelWait) return; // an answer is already due
    if (!this.clock.frame || this.clock.now() - this.last >= PaintedAnswers.FRAME_MS) return this.answer();
    this.cancelWait = this.clock.after(PaintedAnswers.WAIT_MAX_MS, () => this.answer());
    if (this.framePending) return;
    this.framePending = true;
    try {
      this.clock.frame(() => {
        this.framePending = false;
        this.answer();
      });
    } catch {
      this.framePending = false; // no animation frames here: the timer answers
    }
  }

  /**
   * A new link: what is unanswered went to the old one's engine side, which
   * settles it itself (main/app/display-link.ts acks what it sent before).
   */
  reset(): void {
    this.stopWait();
    this.unanswered = -1;
  }

  private stopWait(): void {
    this.cancelWait?.();
    this.cancelWait = null;
  }

  private answer(): void {
    this.stopWait();
    if (this.unanswered < 0) return;
    const batch = this.unanswered;
    this.unanswered = -1;
    this.last = this.clock.now();
    this.send(batch);
  }
}

// Attach only inside a dedicated worker, so Node tests can import the module.
if (isWorkerScope(globalThis)) {
  const page = globalThis as unknown as WorkerPort;
  const post = (m: WorkerReply, transfer: Transferable[] = []): void => page.postMessage(m, transfer);
  // the platform's video decoders, probed once; the page tells the engine which (videoCodecs request)
  const ready = VideoDecoders.create().catch(() => null);
  // lip sync: the mm time the page's audio player plays (stream-schedule.ts)
  const clock = new MediaClock();
  const sizes = new ShownSizes();
  const raf = (globalThis as { requestAnimationFrame?: (cb: () => void) => number }).requestAnimationFrame;
  const answers = new PaintedAnswers((batch) => link?.send({ type: 'painted', batch }), {
    now: () => performance.now(),
    ...(raf ? { frame: (cb: () => void) => void raf.call(globalThis, cb) } : {}),
    after: (ms, cb) => {
      const t = setTimeout(cb, ms);
      return () => clearTimeout(t);
    },
  });
  /** Tells the page of what it has not heard: size changes, an error. */
  const shown = (batch: number, displays: DisplayShown[], error?: string): void => {
    const news = sizes.news(displays);
    if (news.length || error !== undefined) post({ type: 'shown', batch, displays: news, ...(error !== undefined ? { error } : {}) });
  };
  const pipeline = ready.then((v) => {
    post({ type: 'videoCodecs', codecs: v ? [...v.supported.keys()] : [] });
    const p = new DisplayPipeline(v ?? undefined, () => clock.now());
    return { p, canvases: new CanvasSet(p) };
  });
  let link: LinkEnd | null = null;
  // batches (and canvases) one after another: a batch waiting for a video frame holds the ones behind it
  let queue: Promise<unknown> = Promise.resolve();
  const then = (f: (w: Awaited<typeof pipeline>) => Promise<void> | void): void => {
    // a throw must not reject the chain: every later batch, canvas and read would be skipped
    queue = queue.then(async () => f(await pipeline)).catch((e: unknown) => console.error('display worker:', e));
  };
  // held stream frames (lip sync): one timer for the next that is due; it runs in the batch queue
  let frameTimer: ReturnType<typeof setTimeout> | undefined;
  let frameTimerAt = Infinity;
  const armFrames = ({ p, canvases }: Awaited<typeof pipeline>): void => {
    const ms = p.nextFrameDueMs();
    if (ms === null) return;
    const at = performance.now() + ms;
    if (frameTimer !== undefined && frameTimerAt <= at) return;
    clearTimeout(frameTimer);
    frameTimerAt = at;
    frameTimer = setTimeout(() => {
      frameTimer = undefined;
      frameTimerAt = Infinity;
      then((w) => {
        // not a batch: the engine hears only of batches; the page of what is shown (batch -1)
        const r = p.presentDue();
        if (r) shown(-1, canvases.paint(r));
        armFrames(w);
      });
    }, ms);
  };
  const onBatch = (b: DisplayLinkBatch): void =>
    then(async (w) => {
      let error: string | undefined;
      let displays: DisplayShown[] = [];
      try {
        displays = w.canvases.paint(await w.p.runAsync(b.batch, b.commands));
      } catch (e) {
        error = e instanceof Error ? e.message : String(e);
      }
      // on the canvas: the engine ACKs the server's messages of this batch only on the answer (backpressure)
      answers.painted(b.batch);
      shown(b.batch, displays, error);
      armFrames(w);
    });
  page.onmessage = (ev: MessageEvent) => {
    if (isMediaClockMessage(ev.data)) {
      clock.set(ev.data.mm, ev.data.at);
      void pipeline.then(armFrames);
      return;
    }
    const msg = ev.data as PageToWorker;
    if (msg?.type === 'canvas') {
      const { display, canvas } = msg;
      then(({ canvases }) => {
        // a display's canvas arrived (once per display: moving it to a window keeps it): the page hears its size
        const d = canvases.attach(display, canvas);
        sizes.news([d]);
        post({ type: 'shown', batch: -1, displays: [d] });
      });
    } else if (msg?.type === 'read') {
      const { id, display } = msg;
      then(({ canvases }) => {
        const px = canvases.read(display);
        post({ type: 'pixels', id, pixels: px }, px ? [px.rgba.buffer] : []);
      });
    } else if (msg?.type === 'link') {
      link?.close();
      answers.reset();
      link = openLink(msg, onBatch, (why) => console.error(`display link: ${why}`));
    }
  };
}
