// Platform-decoded video streams in the display state and the worker's
// pipeline, with a fake WebCodecs (Node has none): frames land in the
// stream's dest scaled and clipped, bottom-up streams are flipped, a later
// draw is never painted under an earlier frame, sizes are checked before the
// decoder is configured, refused data is a coded DECODE error and the next
// key frame starts afresh. Key-frame detection per codec from its bitstream.
import { toRgba } from '../../../renderer/display/rgba';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ropd, StreamFlags, VideoCodecType } from '../../../main/spice/protocol/enums';
import type { DisplayCommand } from '../../../preload/contract';
import { SpiceError } from '../../../preload/spice-errors';
import type { StreamVideo, StreamVideoFactory } from '../../../renderer/display/display-state';
import { MjpegImageDecoder, StreamVideoDecoder, isKeyFrame, jpegSize, probeVideoCodecs } from '../../../renderer/display/video';
import { execFileSync } from 'node:child_process';
import { DisplayPipeline } from '../../../renderer/display/worker';
import type { DecodedImage } from '../../../renderer/display/types';
import { NO_MASK, base, makeState, px, rect } from './helpers';

/** A decoder whose frames resolve when the test says (deferred), each a 2x2 image with rows 0xA/0xB. */
class FakeVideo implements StreamVideo {
  pending: ((img: DecodedImage | null) => void)[] = [];
  closed = false;
  decode(): Promise<DecodedImage | null> {
    return new Promise((resolve) => this.pending.push(resolve));
  }
  close(): void {
    this.closed = true;
  }
}
const frame2x2: DecodedImage = { width: 2, height: 2, pixels: Uint32Array.from([0xff0000aa, 0xff0000aa, 0xff0000bb, 0xff0000bb]), hasAlpha: false };

function factory(): { f: StreamVideoFactory; made: FakeVideo[] } {
  const made: FakeVideo[] = [];
  return { made, f: { forStream: (codec) => (codec === VideoCodecType.VP8 ? (made[made.length] = new FakeVideo()) : null) } };
}

const create = (id: number, flags: number, codec: number = VideoCodecType.VP8): DisplayCommand => ({
  t: 'streamCreate',
  stream: { surfaceId: 0, id, flags, codec, streamWidth: 2, streamHeight: 2, srcWidth: 2, srcHeight: 2, dest: rect(0, 0, 4, 4), clip: [rect(0, 0, 4, 3)] },
});
const data = (id: number): DisplayCommand => ({ t: 'streamData', id, mmTime: 0, data: new Uint8Array([0]) });
const fill = (color: number): DisplayCommand => ({ t: 'draw', cmd: { op: 'fill', base: base(rect(0, 0, 1, 1)), brush: { type: 'solid', color }, ropd: Ropd.OP_PUT, mask: NO_MASK } });

test('a frame is scaled into dest (2x2 → 4x4) and clipped; a bottom-up stream is flipped', async () => {
  for (const [flags, top, bottom] of [
    [StreamFlags.TOP_DOWN, 0xaa, 0xbb],
    [0, 0xbb, 0xaa],
  ] as const) {
    const { f, made } = factory();
    const st = makeState(4, 4, undefined, [], { video: f });
    st.apply(create(1, flags));
    const p = st.apply(data(1));
    assert.ok(p instanceof Promise, 'a platform frame is asynchronous');
    made[0].pending.shift()!(frame2x2);
    await p;
    assert.equal(px(st, 3, 0) & 0xff, top);
    assert.equal(px(st, 0, 2) & 0xff, bottom);
    assert.equal(px(st, 0, 3), 0, 'row 3 is outside the clip');
    assert.equal(st.stats().streamFramesDrawn, 1);
  }
});

test('the pipeline waits for a frame: a draw after it is painted over it, never under it', async () => {
  const { f, made } = factory();
  const pipe = new DisplayPipeline(f);
  const surface: DisplayCommand = { t: 'surfaceCreate', surfaceId: 0, width: 4, height: 4, format: 32, flags: 1 };
  const run = pipe.runAsync(1, [surface, create(1, StreamFlags.TOP_DOWN), data(1), fill(0x00123456)]);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(made[0].pending.length, 1);
  made[0].pending.shift()!(frame2x2);
  const reply = await run;
  assert.equal(reply.type, 'frame');
  if (reply.type !== 'frame') return;
  const whole = reply.rects.find((r) => r.w === 4 && r.h === 4)!;
  const rgba = new Uint8Array(toRgba(reply.pixels!, reply.width, whole.x, whole.y, whole.w, whole.h));
  assert.deepEqual([...rgba.subarray(0, 3)], [0x12, 0x34, 0x56], 'the later fill is on top at (0,0)');
  assert.equal(rgba[4 + 2], 0xaa, 'the frame elsewhere');
});

test('destroying a stream closes its decoder; a codec without a platform decoder is skipped', () => {
  const { f, made } = factory();
  const st = makeState(4, 4, undefined, [], { video: f });
  st.apply(create(1, 0));
  st.apply({ t: 'streamDestroy', id: 1 });
  assert.equal(made[0].closed, true);
  st.apply(create(2, 0, VideoCodecType.H265));
  assert.equal(st.apply(data(2)), undefined);
  assert.equal(st.stats().streamFramesSkipped, 1);
});

/** A fake WebCodecs: records configure/decode; `fail` makes decode call the error callback. */
function fakeApi(opts: { fail?: boolean; silent?: boolean } = {}) {
  const log: string[] = [];
  class VD {
    state = 'unconfigured';
    constructor(private readonly init: { output: (f: unknown) => void; error: (e: Error) => void }) {}
    static async isConfigSupported(c: { codec: string }) {
      return { supported: c.codec === 'vp8' || c.codec === 'avc1.42E01F' };
    }
    configure(c: { codec: string; codedWidth: number; codedHeight: number }) {
      this.state = 'configured';
      log.push(`configure ${c.codec} ${c.codedWidth}x${c.codedHeight}`);
    }
    decode(chunk: { type: string }) {
      log.push(`decode ${chunk.type}`);
      if (opts.fail) {
        this.state = 'closed';
        queueMicrotask(() => this.init.error(new Error('EncodingError: garbage')));
        return;
      }
      if (opts.silent) return;
      const frame = {
        visibleRect: { width: 2, height: 1 },
        displayWidth: 2,
        displayHeight: 1,
        copyTo: async (dst: Uint8Array) => dst.set([1, 2, 3, 0, 4, 5, 6, 0]),
        close: () => log.push('frame closed'),
      };
      queueMicrotask(() => this.init.output(frame));
    }
    close() {
      this.state = 'closed';
    }
  }
  class Chunk {
    type: string;
    constructor(i: { type: string }) {
      this.type = i.type;
    }
  }
  return { api: { VideoDecoder: VD, EncodedVideoChunk: Chunk } as unknown as { VideoDecoder: typeof VideoDecoder; EncodedVideoChunk: typeof EncodedVideoChunk }, log };
}

test('StreamVideoDecoder: waits for a key frame, decodes to 0xAARRGGBB, refused data is DECODE and the next key frame reopens', async () => {
  const { api, log } = fakeApi();
  const d = new StreamVideoDecoder(VideoCodecType.VP8, 'vp8', api);
  assert.equal(await d.decode(new Uint8Array([0x01, 0, 0]), 2, 1, 100), null, 'a delta frame before any key frame');
  assert.deepEqual(log, []);
  const img = await d.decode(new Uint8Array([0x10, 0, 0]), 2, 1, 100);
  assert.deepEqual([...img!.pixels], [0xff030201, 0xff060504]);
  assert.deepEqual(log, ['configure vp8 2x1', 'decode key', 'frame closed']);

  const bad = fakeApi({ fail: true });
  const b = new StreamVideoDecoder(VideoCodecType.VP8, 'vp8', bad.api);
  await assert.rejects(b.decode(new Uint8Array([0x00, 0xff]), 2, 1, 100), (e: unknown) => e instanceof SpiceError && e.code === 'DECODE');
  assert.equal(await b.decode(new Uint8Array([0x01]), 2, 1, 100), null, 'after an error only a key frame starts again');
  await assert.rejects(b.decode(new Uint8Array([0x00]), 2, 1, 100), /garbage/);
  assert.equal(bad.log.filter((l) => l.startsWith('configure')).length, 2);
});

test('StreamVideoDecoder: absurd sizes are refused before the platform is configured; a frame that never comes is given up', async () => {
  const { api, log } = fakeApi();
  const d = new StreamVideoDecoder(VideoCodecType.VP8, 'vp8', api);
  await assert.rejects(d.decode(new Uint8Array([0]), 0x7fffffff, 2, 1 << 30), (e: unknown) => e instanceof SpiceError && e.code === 'DECODE');
  await assert.rejects(d.decode(new Uint8Array([0]), 4096, 4096, 1000), (e: unknown) => e instanceof SpiceError && e.code === 'LIMIT');
  assert.deepEqual(log, []);
  const silent = new StreamVideoDecoder(VideoCodecType.VP8, 'vp8', fakeApi({ silent: true }).api, 20);
  assert.equal(await silent.decode(new Uint8Array([0]), 2, 2, 100), null);
  assert.equal(silent.framesLate, 1);
});

test('probeVideoCodecs: only what isConfigSupported accepts, the first accepted string per codec', async () => {
  const { api } = fakeApi();
  assert.deepEqual([...(await probeVideoCodecs(api))], [
    [VideoCodecType.VP8, 'vp8'],
    [VideoCodecType.H264, 'avc1.42E01F'],
  ]);
  assert.deepEqual([...(await probeVideoCodecs(null))], []);
});

test('key frames: VP8 frame tag, VP9 uncompressed header (profiles 0 and 3), H.264 IDR or SPS in Annex B', () => {
  assert.equal(isKeyFrame(VideoCodecType.VP8, Uint8Array.of(0x50, 0x2a)), true);
  assert.equal(isKeyFrame(VideoCodecType.VP8, Uint8Array.of(0x51)), false);
  assert.equal(isKeyFrame(VideoCodecType.VP8, new Uint8Array(0)), false);
  // 10 0 0 0 0 : marker, profile 0, show_existing 0, frame_type 0 (key)
  assert.equal(isKeyFrame(VideoCodecType.VP9, Uint8Array.of(0b1000_0000)), true);
  assert.equal(isKeyFrame(VideoCodecType.VP9, Uint8Array.of(0b1000_0100)), false, 'inter frame');
  assert.equal(isKeyFrame(VideoCodecType.VP9, Uint8Array.of(0b1000_1000)), false, 'show_existing_frame');
  assert.equal(isKeyFrame(VideoCodecType.VP9, Uint8Array.of(0b1011_0000)), true, 'profile 3 key frame');
  assert.equal(isKeyFrame(VideoCodecType.VP9, Uint8Array.of(0b1011_0010)), false, 'profile 3 inter frame');
  assert.equal(isKeyFrame(VideoCodecType.VP9, Uint8Array.of(0)), false, 'no frame marker');
  assert.equal(isKeyFrame(VideoCodecType.H264, Uint8Array.of(0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 0x64)), true, 'AUD then SPS');
  assert.equal(isKeyFrame(VideoCodecType.H264, Uint8Array.of(0, 0, 1, 0x65)), true, 'IDR');
  assert.equal(isKeyFrame(VideoCodecType.H264, Uint8Array.of(0, 0, 1, 0x41, 0, 0, 1)), false, 'non-IDR slice');
});

test('jpegSize: the SOF size of a real JPEG; garbage and a JPEG without SOF give null; MJPEG via ImageDecoder refuses a huge header before decoding', async () => {
  const jpg = new Uint8Array(execFileSync('convert', ['-size', '37x11', 'xc:#336699', '-quality', '80', 'jpg:-']));
  assert.deepEqual(jpegSize(jpg), { width: 37, height: 11 });
  assert.equal(jpegSize(Uint8Array.of(1, 2, 3, 4, 5)), null);
  assert.equal(jpegSize(Uint8Array.of(0xff, 0xd8, 0xff, 0xda, 0, 2)), null);
  assert.equal(jpegSize(jpg.subarray(0, 30)), null, 'cut before the SOF');
  // a header claiming 60000x60000: the platform decoder is never made
  const huge = Uint8Array.of(0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, 0xea, 0x60, 0xea, 0x60, 3, 0, 0, 0);
  let made = 0;
  const ctor = class {
    constructor() {
      made++;
    }
  } as unknown as typeof ImageDecoder;
  await assert.rejects(new MjpegImageDecoder(ctor).decode(huge, 16, 16, 1 << 20), (e: unknown) => e instanceof SpiceError && e.code === 'LIMIT');
  await assert.rejects(new MjpegImageDecoder(ctor).decode(Uint8Array.of(9, 9, 9, 9), 16, 16, 1 << 20), (e: unknown) => e instanceof SpiceError && e.code === 'DECODE');
  assert.equal(made, 0);
});
