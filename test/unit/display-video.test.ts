// Video streams in the engine: the display caps follow the codecs the page
// decodes, PREFERRED_VIDEO_CODEC_TYPE goes out after link when asked for and
// the server can take it, and STREAM_REPORTs are sent as spice-gtk sends them
// once STREAM_ACTIVATE_REPORT asked (window full, timeout, three late frames).
// Real DisplayChannel over a fake transport; bytes built by hand here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DisplayChannel, type DisplayVideoOptions } from '../../main/spice/channels/display-channel';
import { quietLogger } from '../../main/spice/session';
import { Channel as ChannelType, DisplayCap, MsgcDisplay, MsgDisplay, VideoCodecType } from '../../main/spice/protocol/enums';
import { encodePreferredVideoCodecType, encodeStreamReport } from '../../main/spice/messages/display';
import { Bytes, concat, miniMsg } from '../helpers/spice-bytes';
import { linkFake } from '../helpers/linked-channel';
import type { FakeTransport } from '../helpers/fake-transport';

function streamCreate(id: number, codec: number): Uint8Array {
  const b = new Bytes().u32(0).u32(id).u8(1).u8(codec).u64(0).u32(64).u32(16).u32(64).u32(16);
  b.i32(0).i32(0).i32(16).i32(64); // dest top, left, bottom, right
  b.u8(0); // clip NONE
  return miniMsg(MsgDisplay.STREAM_CREATE, b.build());
}
const streamData = (id: number, mmTime: number) => miniMsg(MsgDisplay.STREAM_DATA, new Bytes().u32(id).u32(mmTime).u32(2).u8(0xaa).u8(0xbb).build());
const activate = (id: number, unique: number, window: number, timeoutMs: number) =>
  miniMsg(MsgDisplay.STREAM_ACTIVATE_REPORT, new Bytes().u32(id).u32(unique).u32(window).u32(timeoutMs).build());

/** Client messages after the link: type and body. */
function sent(t: FakeTransport): { type: number; body: Uint8Array }[] {
  const all = t.allWritten();
  const out: { type: number; body: Uint8Array }[] = [];
  for (let i = 0; i + 6 <= all.length; ) {
    const size = (all[i + 2] | (all[i + 3] << 8) | (all[i + 4] << 16) | (all[i + 5] << 24)) >>> 0;
    out.push({ type: all[i] | (all[i + 1] << 8), body: all.subarray(i + 6, i + 6 + size) });
    i += 6 + size;
  }
  return out;
}

async function linked(video: DisplayVideoOptions, serverCaps: number[] = [1 << DisplayCap.PREF_VIDEO_CODEC_TYPE]) {
  const ch = new DisplayChannel(0, quietLogger, () => {});
  ch.video = video;
  const caps = ch.channelCaps(); // what the link message would carry
  const { t, conn } = await linkFake(ChannelType.DISPLAY, serverCaps);
  ch.attach(conn);
  return { ch, t, caps };
}

test('caps: MJPEG always, VP8/H.264/VP9 only when the page decodes them; unknown codec types are not announced', async () => {
  const none = new DisplayChannel(0, quietLogger, () => {}).channelCaps();
  for (const c of [DisplayCap.MULTI_CODEC, DisplayCap.CODEC_MJPEG, DisplayCap.STREAM_REPORT, DisplayCap.PREF_VIDEO_CODEC_TYPE, DisplayCap.SIZED_STREAM]) assert.ok(none.includes(c), `cap ${c}`);
  for (const c of [DisplayCap.CODEC_VP8, DisplayCap.CODEC_H264, DisplayCap.CODEC_VP9, DisplayCap.CODEC_H265]) assert.ok(!none.includes(c), `cap ${c} without a page`);
  const ch = new DisplayChannel(0, quietLogger, () => {});
  ch.video = { videoCodecs: () => [VideoCodecType.VP9, VideoCodecType.VP8, 99, VideoCodecType.H265, VideoCodecType.VP9] };
  const caps = ch.channelCaps();
  assert.ok(caps.includes(DisplayCap.CODEC_VP8) && caps.includes(DisplayCap.CODEC_VP9));
  assert.ok(!caps.includes(DisplayCap.CODEC_H264) && !caps.includes(DisplayCap.CODEC_H265));
  assert.deepEqual(ch.announcedCodecs, [VideoCodecType.MJPEG, VideoCodecType.VP9, VideoCodecType.VP8]);
});

test('PREFERRED_VIDEO_CODEC_TYPE after INIT: the asked-for codecs the link announced, in order; not sent to a server without the cap', async () => {
  const { t } = await linked({ videoCodecs: () => [VideoCodecType.VP8, VideoCodecType.H264], preferredVideoCodecs: [VideoCodecType.VP9, VideoCodecType.H264, VideoCodecType.MJPEG] });
  const msgs = sent(t);
  assert.deepEqual(msgs.map((m) => m.type).slice(0, 2), [MsgcDisplay.INIT, MsgcDisplay.PREFERRED_VIDEO_CODEC_TYPE]);
  assert.deepEqual([...msgs[1].body], [2, VideoCodecType.H264, VideoCodecType.MJPEG], 'VP9 was not announced: left out');
  const old = await linked({ videoCodecs: () => [VideoCodecType.VP8], preferredVideoCodecs: [VideoCodecType.VP8] }, []);
  assert.ok(!sent(old.t).some((m) => m.type === MsgcDisplay.PREFERRED_VIDEO_CODEC_TYPE));
  const unasked = await linked({ videoCodecs: () => [VideoCodecType.VP8] });
  assert.ok(!sent(unasked.t).some((m) => m.type === MsgcDisplay.PREFERRED_VIDEO_CODEC_TYPE), 'no preference: the server keeps its order');
  assert.throws(() => encodePreferredVideoCodecType([]), /0 codecs/);
});

test('STREAM_REPORT: none before STREAM_ACTIVATE_REPORT; then one per full window with spice-gtk\'s fields', async () => {
  let mm = 1000;
  let now = 0;
  const { ch, t } = await linked({ mmTime: () => mm, now: () => now });
  t.written = [];
  t.deliver(concat(streamCreate(7, VideoCodecType.VP8), streamData(7, 1100), streamData(7, 1110)));
  assert.ok(!sent(t).some((m) => m.type === MsgcDisplay.STREAM_REPORT), 'not asked yet');
  t.deliver(activate(7, 42, 3, 10_000));
  t.deliver(concat(streamData(7, 1200), streamData(7, 1210)));
  mm = 1250; // the third frame comes 30 ms late: a drop
  t.deliver(streamData(7, 1220));
  const reports = sent(t).filter((m) => m.type === MsgcDisplay.STREAM_REPORT);
  assert.equal(reports.length, 1);
  assert.deepEqual(
    reports[0].body,
    encodeStreamReport({ streamId: 7, uniqueId: 42, startFrameMmTime: 1200, endFrameMmTime: 1220, numFrames: 3, numDrops: 1, lastFrameDelay: -30, audioDelay: 0xffffffff }),
  );
  const r = Buffer.from(reports[0].body);
  assert.equal(r.length, 32);
  assert.equal(r.readInt32LE(24), -30, 'last_frame_delay is signed');
  assert.equal(ch.reportsSent, 1);
  // the timeout sends a report before the window fills
  mm = 1000;
  t.deliver(streamData(7, 1300));
  now = 10_000;
  t.deliver(streamData(7, 1310));
  assert.equal(sent(t).filter((m) => m.type === MsgcDisplay.STREAM_REPORT).length, 2);
});

test('STREAM_REPORT: three late frames in a row report at once; a destroyed stream reports no more', async () => {
  let mm = 5000;
  const { t } = await linked({ mmTime: () => mm, now: () => 0 });
  t.written = [];
  t.deliver(concat(streamCreate(3, VideoCodecType.MJPEG), activate(3, 9, 100, 60_000)));
  t.deliver(concat(streamData(3, 4000), streamData(3, 4001), streamData(3, 4002)));
  const reports = sent(t).filter((m) => m.type === MsgcDisplay.STREAM_REPORT);
  assert.equal(reports.length, 1);
  assert.equal(Buffer.from(reports[0].body).readUInt32LE(20), 3, 'num_drops');
  t.deliver(miniMsg(MsgDisplay.STREAM_DESTROY, new Bytes().u32(3).build()));
  mm = 0;
  t.deliver(concat(activate(3, 10, 1, 1)));
  assert.equal(sent(t).filter((m) => m.type === MsgcDisplay.STREAM_REPORT).length, 1, 'activate for an unknown stream is ignored');
});
