// Lip sync (renderer/display/stream-schedule.ts): decoded stream frames wait
// for the audio clock to reach their mm time, late ones show at once when
// nothing newer waits and are dropped when something does, the queue is
// bounded, a clock far off or stopped shows frames at once; in DisplayState a
// held frame does not hold other draws and a destroyed stream's held frames
// never show; the worker's pipeline reports shown frames as a reply.
import { toRgba } from '../../../renderer/display/rgba';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ropd, StreamFlags, VideoCodecType } from '../../../main/spice/protocol/enums';
import type { DisplayCommand } from '../../../preload/contract';
import type { StreamVideo, StreamVideoFactory } from '../../../renderer/display/display-state';
import type { DecodedImage } from '../../../renderer/display/types';
import { FrameScheduler, MAX_AHEAD_MS, MediaClock, isMediaClockMessage, mmDiff } from '../../../renderer/display/stream-schedule';
import { DisplayPipeline } from '../../../renderer/display/worker';
import { NO_MASK, base, makeState, px, rect } from './helpers';

test('MediaClock: the anchor runs on in real time; null when no audio plays; mm times wrap at 2^32', () => {
  const c = new MediaClock();
  assert.equal(c.now(1000), null);
  c.set(5000, 1_000_000);
  assert.equal(c.now(1_000_000), 5000);
  assert.equal(c.now(1_000_250), 5250);
  c.set(0xffffff00, 0);
  assert.equal(c.now(0x200), 0x100);
  assert.equal(mmDiff(0x100, 0xffffff00), 0x200);
  c.set(null, 0);
  assert.equal(c.now(5), null);
  assert.ok(isMediaClockMessage({ type: 'mediaClock', mm: 1, at: 2 }));
  assert.ok(isMediaClockMessage({ type: 'mediaClock', mm: null, at: 0 }));
  assert.ok(!isMediaClockMessage({ type: 'mediaClock', mm: '1', at: 2 }));
  assert.ok(!isMediaClockMessage({ type: 'painted', batch: 1 }));
});

test('FrameScheduler: early frames wait, due ones come out newest-first per stream, late ones show at once', () => {
  let now: number | null = 1000;
  const s = new FrameScheduler<string>(() => now, 3);
  assert.equal(s.offer(1, 1040, 'a'), 'queued');
  assert.equal(s.offer(1, 1080, 'b'), 'queued');
  assert.equal(s.offer(2, 1050, 'x'), 'queued');
  assert.equal(s.nextDueMs(), 40);
  assert.deepEqual(s.takeDue(), []);
  now = 1045;
  assert.deepEqual(s.takeDue(), [{ streamId: 1, item: 'a' }]);
  assert.equal(s.nextDueMs(), 5);
  now = 1100; // both remaining are due: one per stream
  assert.deepEqual(s.takeDue(), [
    { streamId: 1, item: 'b' },
    { streamId: 2, item: 'x' },
  ]);
  assert.equal(s.nextDueMs(), null);
  // late with nothing newer waiting: shown now (the video must not freeze)
  assert.equal(s.offer(1, 1090, 'late'), 'now');
  // late while older frames wait: those are dropped, this one shows
  now = 1000;
  s.offer(1, 1010, 'c');
  s.offer(1, 1020, 'd');
  now = 1030;
  assert.equal(s.offer(1, 1025, 'e'), 'now');
  assert.equal(s.queued, 0);
  assert.deepEqual(s.stats, { held: 5, immediate: 2, dropped: 2 });
});

test('FrameScheduler: bounded queue, a clock far off or stopped shows frames at once, a gone stream drops its frames', () => {
  let now: number | null = 0;
  const s = new FrameScheduler<number>(() => now, 3);
  for (let i = 1; i <= 5; i++) s.offer(7, i * 10, i);
  assert.equal(s.queued, 3);
  assert.equal(s.stats.dropped, 2, 'the two oldest went');
  assert.equal(s.offer(8, MAX_AHEAD_MS + 1, 99), 'now', 'further ahead than the clocks can be apart');
  s.dropStream(7);
  assert.equal(s.queued, 0);
  s.offer(7, 100, 1);
  s.offer(7, 200, 2);
  now = null; // the audio stopped: what waits shows now (the newest)
  assert.equal(s.nextDueMs(), 0);
  assert.deepEqual(s.takeDue(), [{ streamId: 7, item: 2 }]);
  assert.equal(s.offer(7, 300, 3), 'now');
});

class InstantVideo implements StreamVideo {
  constructor(private readonly color: number) {}
  async decode(): Promise<DecodedImage> {
    return { width: 2, height: 2, pixels: new Uint32Array(4).fill(this.color), hasAlpha: false };
  }
  close(): void {}
}
const vp8 = (color: number): StreamVideoFactory => ({ forStream: (codec) => (codec === VideoCodecType.VP8 ? new InstantVideo(color) : null) });
const create = (id: number): DisplayCommand => ({
  t: 'streamCreate',
  stream: { surfaceId: 0, id, flags: StreamFlags.TOP_DOWN, codec: VideoCodecType.VP8, streamWidth: 2, streamHeight: 2, srcWidth: 2, srcHeight: 2, dest: rect(0, 0, 2, 2), clip: null },
});
const data = (id: number, mmTime: number): DisplayCommand => ({ t: 'streamData', id, mmTime, data: new Uint8Array([0]) });
const fill = (x: number, color: number): DisplayCommand => ({ t: 'draw', cmd: { op: 'fill', base: base(rect(x, 0, x + 1, 1)), brush: { type: 'solid', color }, ropd: Ropd.OP_PUT, mask: NO_MASK } });

test('DisplayState: a held frame does not hold a later draw elsewhere; it shows when due; a destroyed stream never shows', async () => {
  let now: number | null = 500;
  const st = makeState(4, 2, undefined, [], { video: vp8(0xff00aa00), clock: () => now });
  st.apply(create(1));
  await st.apply(data(1, 560));
  st.apply(fill(3, 0x00123456));
  assert.equal(px(st, 0, 0), 0, 'the frame waits for its time');
  assert.equal(px(st, 3, 0) & 0xffffff, 0x123456, 'the draw after it did not wait');
  assert.equal(st.nextFrameDueMs(), 60);
  now = 560;
  st.showDueFrames();
  assert.equal(px(st, 0, 0) >>> 0, 0xff00aa00);
  assert.equal(st.stats().streamFramesDrawn, 1);
  await st.apply(data(1, 600));
  st.apply({ t: 'streamDestroy', id: 1 });
  now = 700;
  assert.equal(st.nextFrameDueMs(), null);
  st.showDueFrames();
  assert.equal(st.stats().streamFramesDrawn, 1);
  assert.deepEqual(st.scheduleStats(), { held: 2, immediate: 0, dropped: 1 });
});

test('DisplayState without a clock (no audio): frames show as decoded, as before', async () => {
  const st = makeState(4, 2, undefined, [], { video: vp8(0xff00aa00) });
  st.apply(create(1));
  await st.apply(data(1, 999_999));
  assert.equal(px(st, 0, 0) >>> 0, 0xff00aa00);
  assert.equal(st.scheduleStats(), null);
});

test('pipeline: a held frame leaves the batch reply; presentDue paints it as a frame of no batch (-1)', async () => {
  let now: number | null = 0;
  const pipe = new DisplayPipeline(vp8(0xff0000ff), () => now);
  const surface: DisplayCommand = { t: 'surfaceCreate', surfaceId: 0, width: 4, height: 2, format: 32, flags: 1 };
  await pipe.runAsync(1, [surface, create(1)]);
  const reply = await pipe.runAsync(2, [data(1, 40)]);
  assert.equal(reply.type === 'frame' && reply.rects.length, 0, 'nothing to paint yet');
  assert.equal(pipe.nextFrameDueMs(), 40);
  assert.equal(pipe.presentDue(), null, 'not due');
  now = 40;
  const r = pipe.presentDue();
  assert.ok(r && r.type === 'frame');
  assert.equal(r.batch, -1);
  assert.deepEqual(
    r.rects.map((x) => [x.x, x.y, x.w, x.h]),
    [[0, 0, 2, 2]],
  );
  assert.deepEqual([...new Uint8Array(toRgba(r.pixels!, r.width, 0, 0, 1, 1))], [0, 0, 0xff, 0xff]);
});
