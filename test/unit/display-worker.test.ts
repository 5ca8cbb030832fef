// Display worker pipeline: xRGB → RGBA conversion and which rects reach the page;
// the worker's end of the display link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { DisplayPipeline, PaintedAnswers, ShownSizes, openLink, type AnswerClock } from '../../renderer/display/worker';
import { rgbaInto, toRgba } from '../../renderer/display/rgba';
import type { DisplayFrame, PaintRect } from '../../renderer/display/painter';
import type { DisplayCommand } from '../../preload/contract';

test('toRgba: 0xAARRGGBB → R,G,B,255 bytes for a sub-rect', () => {
  // 3x2 surface, stride 3
  const px = Uint32Array.from([0x00112233, 0xff445566, 0x80778899, 0x00aabbcc, 0x12ddeeff, 0x00000000]);
  const out = new Uint8Array(toRgba(px, 3, 1, 0, 2, 2));
  assert.deepEqual([...out], [0x44, 0x55, 0x66, 255, 0x77, 0x88, 0x99, 255, 0xdd, 0xee, 0xff, 255, 0, 0, 0, 255]);
});

test('rgbaInto: the rect lands at its own place in a surface-sized buffer, the rest untouched', () => {
  const px = Uint32Array.from([0x00112233, 0xff445566, 0x80778899, 0x00aabbcc, 0x12ddeeff, 0x00000000]);
  const out = new Uint32Array(6).fill(7);
  rgbaInto(out, 3, 1, 0, px, 3, 1, 0, 2, 2);
  assert.deepEqual([...new Uint8Array(out.buffer)], [7, 0, 0, 0, 0x44, 0x55, 0x66, 255, 0x77, 0x88, 0x99, 255, 7, 0, 0, 0, 0xdd, 0xee, 0xff, 255, 0, 0, 0, 255]);
});

/** A rect of a frame as the painter puts it (RGBA bytes of the frame's surface). */
const rgbaOf = (f: DisplayFrame, r: PaintRect): Uint8Array => new Uint8Array(toRgba(f.pixels!, f.width, r.x, r.y, r.w, r.h));

const surface: DisplayCommand = { t: 'surfaceCreate', surfaceId: 0, width: 8, height: 4, format: 32, flags: 1 };
const fill = (left: number, top: number, right: number, bottom: number, color: number): DisplayCommand => ({
  t: 'draw',
  cmd: {
    op: 'fill',
    base: { surfaceId: 0, box: { left, top, right, bottom }, clip: null },
    brush: { type: 'solid', color },
    ropd: 8, // OP_PUT
    mask: { flags: 0, pos: { x: 0, y: 0 }, bitmap: null },
  },
});

test('pipeline: first frame is the whole primary, later frames only damage', () => {
  const p = new DisplayPipeline();
  const first = p.run(1, [surface, fill(0, 0, 8, 4, 0x00102030)]);
  assert.equal(first.type, 'frame');
  if (first.type !== 'frame') return;
  assert.deepEqual([first.width, first.height], [8, 4]);
  assert.equal(first.rects.length, 1);
  assert.deepEqual(first.rects[0], { x: 0, y: 0, w: 8, h: 4 });
  assert.equal(first.pixels?.length, 32, 'the frame carries the surface');
  assert.deepEqual([...rgbaOf(first, first.rects[0]).subarray(0, 4)], [0x10, 0x20, 0x30, 255]);

  const second = p.run(2, [fill(2, 1, 4, 3, 0x00ff0000)]);
  if (second.type !== 'frame') return assert.fail('no frame');
  assert.equal(second.batch, 2);
  assert.equal(second.rects.length, 1);
  const r = second.rects[0];
  assert.deepEqual([r.x, r.y, r.w, r.h], [2, 1, 2, 2]);
  assert.deepEqual([...rgbaOf(second, r)], Array.from({ length: 4 }, () => [255, 0, 0, 255]).flat());

  const empty = p.run(3, []);
  if (empty.type !== 'frame') return assert.fail('no frame');
  assert.deepEqual(empty.rects, []);
});

test('pipeline: two display channels keep apart (each its own surface 0); the stream stays on a display across batches', () => {
  const p = new DisplayPipeline();
  const big: DisplayCommand = { t: 'surfaceCreate', surfaceId: 0, width: 16, height: 2, format: 32, flags: 1 };
  const first = p.run(1, [surface, fill(0, 0, 8, 4, 0x00102030), { t: 'selectDisplay', id: 1 }, big, fill(0, 0, 16, 2, 0x00ff0000)]);
  if (first.type !== 'frame') return assert.fail('no frame');
  assert.deepEqual([first.width, first.height], [8, 4], 'display 0 untouched by display 1\'s surface 0');
  assert.deepEqual([...rgbaOf(first, first.rects[0]).subarray(0, 4)], [0x10, 0x20, 0x30, 255]);
  assert.equal(first.more?.length, 1);
  const d1 = first.more![0];
  assert.deepEqual([d1.display, d1.width, d1.height, d1.rects.length], [1, 16, 2, 1]);
  assert.deepEqual([...rgbaOf(d1, d1.rects[0]).subarray(0, 4)], [255, 0, 0, 255]);
  // no marker: still display 1's commands
  const second = p.run(2, [fill(1, 0, 2, 1, 0x0000ff00)]);
  if (second.type !== 'frame') return assert.fail('no frame');
  assert.deepEqual(second.rects, [], 'nothing on display 0');
  assert.deepEqual(second.more?.map((f) => [f.display, f.rects.map((r) => [r.x, r.y, r.w, r.h])]), [[1, [[1, 0, 1, 1]]]]);
  // a display channel's own reset (semi-seamless): that display only, the stream stays on it
  const third = p.run(3, [{ t: 'serverChanged' }, fill(0, 0, 1, 1, 0x000000ff)]);
  if (third.type !== 'frame') return assert.fail('no frame');
  assert.deepEqual(third.rects, [], 'display 0 untouched');
  assert.deepEqual(third.more?.map((f) => [f.display, f.rects.length]), [[1, 1]]);
  // a new session (all): the stream starts again at display 0, the other displays go (width 0)
  const fourth = p.run(4, [{ t: 'serverChanged', all: true }, fill(0, 0, 1, 1, 0x000000ff)]);
  if (fourth.type !== 'frame') return assert.fail('no frame');
  assert.deepEqual(fourth.rects.map((r) => [r.x, r.y, r.w, r.h]), [[0, 0, 1, 1]]);
  assert.deepEqual(fourth.more, [{ display: 1, width: 0, height: 0, rects: [] }]);
  const fifth = p.run(5, [fill(0, 0, 1, 1, 0x00ffffff)]);
  if (fifth.type !== 'frame') return assert.fail('no frame');
  assert.equal(fifth.more, undefined, 'display 1 gone until its channel speaks again');
});

test('pipeline: no primary → a 0x0 frame; bad commands do not stop the batch', () => {
  const p = new DisplayPipeline();
  const r = p.run(1, [fill(0, 0, 1, 1, 0)]);
  assert.deepEqual(r, { type: 'frame', batch: 1, width: 0, height: 0, rects: [] });
  const origError = console.error;
  console.error = () => {};
  try {
    const r2 = p.run(2, [fill(0, 0, 1, 1, 0), surface]);
    if (r2.type !== 'frame') return assert.fail('no frame');
    assert.deepEqual([r2.width, r2.height], [8, 4]);
  } finally {
    console.error = origError;
  }
});

test('worker link end over a MessagePort: batches in, painted out, anything else reported', async () => {
  const { port1, port2 } = new MessageChannel();
  const batches: number[] = [];
  const errors: string[] = [];
  const link = openLink({ port: port2 as unknown as MessagePort }, (b) => batches.push(b.batch), (why) => errors.push(why));
  port1.postMessage({ type: 'batch', batch: 1, commands: [surface] });
  port1.postMessage({ type: 'painted', batch: 1 });
  port1.postMessage({ type: 'batch', batch: 2, commands: [] });
  const back = new Promise((ok) => port1.once('message', ok));
  const end = Date.now() + 5000;
  while (batches.length < 2 && Date.now() < end) await new Promise((r) => setImmediate(r));
  assert.deepEqual(batches, [1, 2]);
  assert.deepEqual(errors, ['not a display batch']);
  link.send({ type: 'painted', batch: 2 });
  assert.deepEqual(await back, { type: 'painted', batch: 2 });
  link.close();
  port1.close();
});

test('ShownSizes: the page hears a display once per size (new displays, resizes, a 0x0 no-picture), not per batch', () => {
  const s = new ShownSizes();
  const d = (display: number, width: number, height: number) => ({ display, width, height });
  assert.deepEqual(s.news([d(0, 1024, 768)]), [d(0, 1024, 768)]);
  assert.deepEqual(s.news([d(0, 1024, 768)]), []);
  assert.deepEqual(s.news([d(0, 1024, 768), d(1, 0, 0)]), [d(1, 0, 0)]);
  assert.deepEqual(s.news([d(0, 800, 600), d(1, 0, 0)]), [d(0, 800, 600)]);
  assert.deepEqual(s.news([d(1, 640, 480)]), [d(1, 640, 480)]);
  assert.deepEqual(s.news([d(1, 640, 480), d(0, 800, 600)]), []);
});

/** A fake clock for PaintedAnswers: time moves by hand, frames and timers run when told. */
function fakeClock(opts: { frames?: 'ok' | 'none' | 'throws' } = {}) {
  let t = 0;
  const frames: (() => void)[] = [];
  const timers: { at: number; cb: () => void; off: boolean }[] = [];
  let frameCalls = 0;
  const clock: AnswerClock = {
    now: () => t,
    after: (ms, cb) => {
      const e = { at: t + ms, cb, off: false };
      timers.push(e);
      return () => (e.off = true);
    },
    ...(opts.frames === 'none'
      ? {}
      : {
          frame: (cb: () => void) => {
            frameCalls++;
            if (opts.frames === 'throws') throw new Error('NotSupportedError');
            frames.push(cb);
          },
        }),
  };
  return {
    clock,
    frameCalls: () => frameCalls,
    /** moves time on, running the timers that come due */
    advance(ms: number) {
      t += ms;
      for (const e of timers.splice(0)) {
        if (e.off) continue;
        if (e.at <= t) e.cb();
        else timers.push(e);
      }
    },
    /** the next animation frame */
    frame() {
      for (const cb of frames.splice(0)) cb();
    },
  };
}

test('PaintedAnswers: a lone paint is answered at once; paints within a frame of an answer wait for the next animation frame (newest batch, one frame asked)', () => {
  const c = fakeClock();
  const sent: number[] = [];
  const a = new PaintedAnswers((b) => sent.push(b), c.clock);
  a.painted(1);
  assert.deepEqual(sent, [1], 'the first paint');
  c.advance(5);
  a.painted(2);
  c.advance(3);
  a.painted(3);
  assert.deepEqual(sent, [1], 'within a frame of the answer: held');
  assert.equal(c.frameCalls(), 1, 'one animation frame asked for both');
  c.frame();
  assert.deepEqual(sent, [1, 3], 'the frame answers for the newest');
  c.advance(PaintedAnswers.WAIT_MAX_MS);
  assert.deepEqual(sent, [1, 3], 'the cancelled wait does not answer again');
  c.advance(108);
  a.painted(4);
  assert.deepEqual(sent, [1, 3, 4], 'the light workload (~108 ms apart): at once');
});

test('PaintedAnswers: a hidden page (no animation frames) is answered after WAIT_MAX_MS, and asks for no pile of frames', () => {
  const c = fakeClock();
  const sent: number[] = [];
  const a = new PaintedAnswers((b) => sent.push(b), c.clock);
  a.painted(1);
  for (let b = 2; b <= 40; b++) {
    c.advance(5);
    a.painted(b);
    c.advance(PaintedAnswers.WAIT_MAX_MS);
  }
  assert.equal(sent.length, 40, 'every paint answered by the timer');
  assert.deepEqual(sent.slice(0, 3), [1, 2, 3]);
  assert.equal(c.frameCalls(), 1, 'the one frame asked for is still pending: no second one');
  c.frame();
  assert.equal(sent.length, 40, 'a late frame with nothing unanswered sends nothing');
});

test('PaintedAnswers: animation frames that throw or do not exist never stall the answers; a new link drops what is unanswered', () => {
  for (const frames of ['throws', 'none'] as const) {
    const c = fakeClock({ frames });
    const sent: number[] = [];
    const a = new PaintedAnswers((b) => sent.push(b), c.clock);
    a.painted(1);
    c.advance(2);
    a.painted(2);
    if (frames === 'none') assert.deepEqual(sent, [1, 2], 'no frames at all: every answer at once');
    c.advance(PaintedAnswers.WAIT_MAX_MS);
    assert.deepEqual(sent, [1, 2], frames);
  }
  const c = fakeClock();
  const sent: number[] = [];
  const a = new PaintedAnswers((b) => sent.push(b), c.clock);
  a.painted(7);
  c.advance(2);
  a.painted(8);
  a.reset();
  c.frame();
  c.advance(PaintedAnswers.WAIT_MAX_MS);
  assert.deepEqual(sent, [7], 'batch 8 went to the old link: not answered on the new one');
  c.advance(100);
  a.painted(1);
  assert.deepEqual(sent, [7, 1]);
});
