// Malformed video streams reach the page's real WebCodecs decoders (Debian's
// Chromium) from a scripted server: garbage VP8 and H.264 "key frames" and a
// STREAM_DATA_SIZED claiming 100000x100000 pixels. Each is a coded error in
// the page's console (DECODE / LIMIT), nothing is allocated for the absurd
// size, the session stays connected, and a valid MJPEG frame sent afterwards
// is on the canvas (the display keeps working). Needs `npm run build`.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startWebHost, type WebHost } from '../../main/web-host';
import { createSessionController } from '../../main/app/session-controller';
import { Channel as ChannelType, MsgDisplay, VideoCodecType } from '../../main/spice/protocol/enums';
import { FakeSpiceServer, until } from '../helpers/fake-spice-server';
import { Bytes, concat, miniMsg } from '../helpers/spice-bytes';
import { canvasPixels, chromiumForTests } from '../helpers/web-page';

const browser = chromiumForTests();
let host: WebHost | undefined;
after(async () => {
  await host?.close();
});

const W = 64;
const H = 64;
const surfaceCreate = () => miniMsg(MsgDisplay.SURFACE_CREATE, new Bytes().u32(0).u32(W).u32(H).u32(32).u32(1).build());
function streamCreate(id: number, codec: number): Uint8Array {
  const b = new Bytes().u32(0).u32(id).u8(1).u8(codec).u64(0).u32(W).u32(H).u32(W).u32(H);
  b.i32(0).i32(0).i32(H).i32(W).u8(0);
  return miniMsg(MsgDisplay.STREAM_CREATE, b.build());
}
const streamData = (id: number, data: Uint8Array) => miniMsg(MsgDisplay.STREAM_DATA, new Bytes().u32(id).u32(1).u32(data.length).raw(data).build());
const streamDataSized = (id: number, w: number, h: number, data: Uint8Array) =>
  miniMsg(MsgDisplay.STREAM_DATA_SIZED, new Bytes().u32(id).u32(1).u32(w).u32(h).i32(0).i32(0).i32(H).i32(W).u32(data.length).raw(data).build());

test('garbage VP8 / H.264 frames and an absurd frame size are coded errors; the session lives and later frames paint', async (t) => {
  const srv = new FakeSpiceServer();
  srv.channels = [{ type: ChannelType.DISPLAY, id: 0 }];
  host = await startWebHost({ engine: () => createSessionController({ transport: srv.factory, env: {} }) });
  const page = await browser().newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  try {
    await page.goto(`${host.url}&test=1`);
    await page.waitForFunction(() => (window as any).__spiceTest?.videoCodecs() != null, undefined, { timeout: 30_000 });
    const codecs: number[] = await page.evaluate(() => (window as any).__spiceTest.videoCodecs());
    assert.ok(codecs.includes(VideoCodecType.VP8), `this Chromium decodes VP8 (it says ${JSON.stringify(codecs)})`);
    await page.evaluate(() => (window as any).__spiceTest.connect('spice://127.0.0.1:5999'));
    await until(() => srv.link(ChannelType.DISPLAY) !== undefined, 'the display channel links', 20_000);
    const display = srv.link(ChannelType.DISPLAY)!;
    assert.ok(display.channelCaps & (1 << 10), 'CODEC_VP8 announced: the page said it decodes VP8');
    await page.waitForFunction(() => (window as any).__spiceTest.status().state === 'connected', undefined, { timeout: 20_000 });

    const garbage = Uint8Array.from({ length: 300 }, (_, i) => (i * 97 + 13) & 0xff);
    garbage[0] = 0x00; // a VP8 key frame by its tag bit, then nonsense
    const h264 = concat(Uint8Array.of(0, 0, 0, 1, 0x65), garbage); // an IDR NAL header, then nonsense
    display.send(concat(surfaceCreate(), streamCreate(1, VideoCodecType.VP8), streamData(1, garbage)));
    await until(() => errors.some((e) => /streamData: DECODE/.test(e)), 'VP8 garbage is a DECODE error', 20_000).catch(() => assert.fail(`console: ${JSON.stringify(errors)}`));
    const n = errors.length;
    if (codecs.includes(VideoCodecType.H264)) {
      display.send(concat(streamCreate(2, VideoCodecType.H264), streamData(2, h264)));
      await until(() => errors.slice(n).some((e) => /streamData: DECODE/.test(e)), 'H.264 garbage is a DECODE error', 20_000).catch(() => assert.fail(`console: ${JSON.stringify(errors)}`));
    }
    const m = errors.length;
    display.send(streamDataSized(1, 100_000, 100_000, garbage));
    await until(() => errors.slice(m).some((e) => /streamData: (LIMIT|DECODE): video stream frame/.test(e)), 'the absurd size is refused', 20_000).catch(() => assert.fail(`console: ${JSON.stringify(errors)}`));

    // the display still works: a valid MJPEG frame of solid red fills the surface
    const jpeg = new Uint8Array(execFileSync('convert', ['-size', `${W}x${H}`, 'xc:#ff0000', '-quality', '95', 'jpg:-']));
    display.send(concat(streamCreate(3, VideoCodecType.MJPEG), streamData(3, jpeg)));
    const deadline = Date.now() + 20_000;
    for (;;) {
      const px = await canvasPixels(page);
      if (px.width === W && px.rgba[0] > 240 && px.rgba[1] < 16 && px.rgba[2] < 16 && px.rgba[(W * H - 1) * 4] > 240) break;
      assert.ok(Date.now() < deadline, 'the MJPEG frame after the bad ones is on the canvas');
      await page.waitForTimeout(100);
    }
    for (const e of errors) t.diagnostic(e);
    assert.equal(await page.evaluate(() => (window as any).__spiceTest.status().state), 'connected');
    assert.ok(!errors.some((e) => /display worker failed|Uncaught/.test(e)), JSON.stringify(errors));
  } finally {
    await page.close();
  }
});
