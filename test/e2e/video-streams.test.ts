// Video streams end to end: QEMU with `streaming-video=all` (spice-server
// 0.15.1 streams regions the guest redraws again and again with bitmaps; its
// GStreamer encoders need gstreamer1.0-plugins-{base,good,ugly}), the web host
// with --spice-preferred-video-codec, the page in Debian's Chromium decoding
// with WebCodecs (MJPEG with the built-in decoder). For each codec the page
// decodes: the server creates streams of that codec and sends their data (read
// off the wire by a loopback proxy that parses the display channel itself,
// test/helpers/display-proxy.ts; the engine's --spice-debug trace gives the
// stream's rectangle);
// while the guest animates, the canvas inside a stream's rectangle matches one
// of the guest's three patterns (taken losslessly by QMP screendump first)
// within MIN_PSNR_DB while being lossy (so it is a video frame, not a lossless
// draw); when the animation stops, the canvas settles equal to the screendump
// (spice-server sends the stream area again losslessly). Needs `npm run build`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { QemuVm, type Screen } from '../harness/qemu';
import { canvasPixels, chromiumForTests, waitCanvasEqualsScreendump, WebCli } from '../helpers/web-page';
import { DisplayProxy } from '../helpers/display-proxy';
import { MsgDisplay } from '../../preload/spice-enums';

/** Lowest PSNR (dB) a stream's rectangle on the canvas may have against the pattern it shows. */
const MIN_PSNR_DB = 20;
/** Above this the rectangle is lossless: a plain draw, not a video frame. */
const LOSSLESS_PSNR_DB = 60;
/** Stream frames that must arrive before the canvas is looked at. */
const MIN_STREAM_DATA = 20;

const CODECS = [
  { name: 'mjpeg', type: 1 },
  { name: 'vp8', type: 2 },
  { name: 'h264', type: 3 },
  { name: 'vp9', type: 4 },
] as const;

const browser = chromiumForTests();
let vm: QemuVm;
const patterns: Screen[] = [];

before(async () => {
  vm = await QemuVm.start({ name: 'video-streams', spiceExtra: 'streaming-video=all' });
  for (const n of [1, 2, 3]) {
    assert.match(await vm.command(`pattern ${n}`), new RegExp(`OK pattern ${n}`));
    patterns.push(await vm.screendump());
  }
});

after(async () => {
  await vm?.stop();
});

interface StreamRect {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** PSNR (dB, RGB) of a rectangle of the canvas against the same rectangle of a screendump. */
function psnr(got: { width: number; rgba: Uint8Array }, ref: Screen, r: StreamRect): number {
  let se = 0;
  let n = 0;
  for (let y = r.y1; y < r.y2; y++) {
    for (let x = r.x1; x < r.x2; x++) {
      const i = y * ref.width + x;
      for (let c = 0; c < 3; c++) {
        const d = got.rgba[i * 4 + c] - ref.rgb[i * 3 + c];
        se += d * d;
      }
      n += 3;
    }
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255 * n) / se);
}

const testHook = (page: Page) => page.evaluate.bind(page);

for (const codec of CODECS) {
  test(`${codec.name}: the server streams it, frames arrive and the canvas shows them within ${MIN_PSNR_DB} dB, then settles exact`, async (t) => {
    const cli = new WebCli(['--spice-debug', `--spice-preferred-video-codec=${codec.name}`]);
    const ctx = await browser().newContext({ viewport: { width: 1280, height: 900 } });
    const wire = new DisplayProxy(vm.spicePort);
    await wire.listen();
    try {
      const url = (await cli.waitFor(/SPICE viewer: open (http\S+)/, 30_000, 'out'))[1];
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${url}&test=1`);
      // the page tells the engine what WebCodecs decodes before it connects
      await page.waitForFunction(() => (window as unknown as { __spiceTest?: { videoCodecs(): number[] | null } }).__spiceTest?.videoCodecs() != null, undefined, { timeout: 30_000 });
      const decodable = await testHook(page)(() => (window as unknown as { __spiceTest: { videoCodecs(): number[] } }).__spiceTest.videoCodecs());
      if (codec.type !== 1 && !decodable.includes(codec.type)) {
        t.skip(`this Chromium's WebCodecs does not decode ${codec.name} (it decodes ${JSON.stringify(decodable)})`);
        return;
      }
      await testHook(page)((uri) => (window as unknown as { __spiceTest: { connect(u: string): void } }).__spiceTest.connect(uri), `spice://127.0.0.1:${wire.port}`);
      await page.waitForFunction(() => (window as unknown as { __spiceTest: { status(): { state: string } } }).__spiceTest.status().state === 'connected', undefined, { timeout: 30_000 });

      assert.match(await vm.command('anim 40'), /OK anim/);
      const created = await cli.waitFor(new RegExp(`display 0: stream \\d+ ${codec.name} \\d+x\\d+ at (\\d+),(\\d+) to (\\d+),(\\d+)`), 60_000);
      const rect: StreamRect = { x1: Number(created[1]), y1: Number(created[2]), x2: Number(created[3]), y2: Number(created[4]) };
      const dataCount = (): number => wire.types.filter((m) => m.type === MsgDisplay.STREAM_DATA || m.type === MsgDisplay.STREAM_DATA_SIZED).length;
      const deadline = Date.now() + 60_000;
      while (dataCount() < MIN_STREAM_DATA) {
        assert.ok(Date.now() < deadline, `only ${dataCount()} STREAM_DATA on the wire in 60 s`);
        await new Promise((r) => setTimeout(r, 100));
      }
      // on the wire: STREAM_CREATE of this codec only (the preference was followed)
      assert.deepEqual([...wire.codecs], [codec.type], `stream codecs on the wire: ${JSON.stringify([...wire.codecs])}`);
      // Guest details names it
      const shown = { 1: 'MJPEG', 2: 'VP8', 3: 'H.264', 4: 'VP9' }[codec.type];
      await page.waitForFunction((n) => (window as any).__spiceTest.status().app?.codecs?.video === n, shown, { timeout: 10_000 });

      // while frames keep coming: a lossy picture of one of the patterns in the stream's rectangle
      let best = -Infinity;
      let lossySeen = 0;
      const seenUntil = Date.now() + 30_000;
      while (lossySeen < 3 && Date.now() < seenUntil) {
        const got = await canvasPixels(page);
        if (got.width === patterns[0].width && got.height === patterns[0].height) {
          const p = Math.max(...patterns.map((ref) => psnr(got, ref, rect)));
          if (p < LOSSLESS_PSNR_DB) {
            best = Math.max(best, p);
            if (p >= MIN_PSNR_DB) lossySeen++;
          }
        }
        await page.waitForTimeout(50);
      }
      t.diagnostic(`${codec.name}: stream ${rect.x2 - rect.x1}x${rect.y2 - rect.y1}, ${dataCount()} STREAM_DATA on the wire, best lossy PSNR ${best.toFixed(1)} dB`);
      assert.ok(lossySeen >= 3, `the stream's rectangle never showed a decoded frame within ${MIN_PSNR_DB} dB of a pattern (best lossy PSNR ${best.toFixed(1)} dB)`);

      // the animation stops: the server replaces the lossy frames, the canvas ends exact
      assert.match(await vm.command('freeze'), /OK freeze/);
      await waitCanvasEqualsScreendump(page, () => vm.screendump(), `${codec.name}: after the animation`, 60_000);
      assert.match(cli.err, /display 0 >> STREAM_REPORT/, 'stream reports were sent');
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
      await cli.stop();
      wire.close();
    }
  });
}
