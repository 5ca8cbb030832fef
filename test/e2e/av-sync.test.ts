// A/V sync end to end (issue 14's acceptance): the sound guest animates a
// full-width band at the top of its framebuffer (spice-server, with
// `streaming-video=all`, streams it) and turns it white at the instant the
// sound card's hw_ptr passes the first frame of each beep it plays
// (`avsync`, guest-helper avsync: one flash per beep, each logged with how far
// the card had already got, "GUEST AVFLASH <k> <late_ms>"). The web host's
// page in headless Chromium plays the audio (Opus, as spice-server sends it
// to a client that can decode it) and shows the stream frames scheduled
// against that audio (renderer/display/stream-schedule.ts). Both onsets are
// timed as epoch ms (each thread's performance.timeOrigin + now()):
//  - the flash: the display worker's putImageData of the band's probe pixel
//    going bright (wrapped in the worker once it starts; it reads the
//    ImageData it is given, no readback) — the moment the pixels go to the
//    canvas;
//  - the beep: an AudioWorklet on the player's output node finds the first
//    loud sample after silence (test/helpers/audio-tap.ts), timed through
//    AudioContext.getOutputTimestamp() (when that sample comes out of the
//    output, so the output latency counts).
// Each beep is paired with the nearest flash; |flash - beep| must stay within
// ±MAX_OFFSET_MS for at least MIN_PAIRS beeps. The offsets, the guest's own
// flash lateness and the stream traffic are printed. Needs `npm run build`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { startWebHost } from '../../main/web-host';
import { createSessionController } from '../../main/app/session-controller';
import { defaultTransportFactory } from '../../main/transport/index';
import { QemuVm } from '../harness/qemu';
import { DisplayProxy } from '../helpers/display-proxy';
import { installOnsetTap } from '../helpers/audio-tap';
import { MsgDisplay } from '../../preload/spice-enums';
import type { HostEngine } from '../../preload/contract';

const DIST = fileURLToPath(new URL('../../dist/renderer', import.meta.url));
const CHROMIUM_ARGS = ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'];
const MAX_OFFSET_MS = 80;
const MIN_PAIRS = 5;
const BEEPS = 8;
const PERIOD_MS = 1000;
const BEEP_MS = 120;
const BEEP_HZ = 1000;
/** The band the guest animates is rows 0..15; the probe pixel is in it. */
const PROBE = { x: 512, y: 8 };

let browser: Browser;
let vm: QemuVm;
before(async () => {
  assert.ok(existsSync(`${DIST}/main.js`), 'dist/renderer built (npm run build)');
  vm = await QemuVm.start({ name: 'av-sync', sound: true, spiceExtra: 'streaming-video=all' });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});
after(async () => {
  await browser?.close();
  await vm?.stop();
});

declare global {
  interface Window {
    __onsets: number[];
  }
}

/**
 * In the display worker (it paints the screen's OffscreenCanvas): every putImageData
 * that covers the probe pixel is looked at; onsets as epoch ms (the worker's clock
 * has its own origin: performance.timeOrigin + now()).
 */
function watchFlashes(probe: { x: number; y: number }): void {
  const f = { bright: null as boolean | null, onsets: [] as number[], paints: 0 };
  (globalThis as unknown as { __flash: typeof f }).__flash = f;
  const proto = OffscreenCanvasRenderingContext2D.prototype;
  const put = proto.putImageData;
  proto.putImageData = function (this: OffscreenCanvasRenderingContext2D, ...args: unknown[]) {
    (put as (...a: unknown[]) => void).apply(this, args);
    // (img, dx, dy) or (img, dx, dy, dirtyX, dirtyY, dirtyW, dirtyH): the painter puts a rect of a surface-sized image
    const [img, dx, dy, rx = 0, ry = 0, rw = img.width, rh = img.height] = args as [ImageData, number, number, number?, number?, number?, number?];
    const x = probe.x - dx;
    const y = probe.y - dy;
    if (x < rx || y < ry || x >= rx + rw || y >= ry + rh || x >= img.width || y >= img.height) return;
    const i = (y * img.width + x) * 4;
    const bright = (img.data[i] + img.data[i + 1] + img.data[i + 2]) / 3 > 128;
    f.paints++;
    if (bright && f.bright === false) f.onsets.push(performance.timeOrigin + performance.now());
    f.bright = bright;
  } as typeof put;
}


test(`A/V: the guest's flash on the canvas and its beep in the audio stay within ±${MAX_OFFSET_MS} ms`, { timeout: 300_000 }, async () => {
  const wire = new DisplayProxy(vm.spicePort);
  await wire.listen();
  const engine = (): HostEngine => createSessionController({ transport: defaultTransportFactory, env: {} });
  const host = await startWebHost({ uri: `spice://127.0.0.1:${wire.port}`, engine });
  // the tap's worklet is a blob: module, which the page's CSP (script-src 'self') would refuse
  const page = await browser.newPage({ bypassCSP: true, viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  try {
    const workerUp = page.waitForEvent('worker', { timeout: 60_000 });
    await page.goto(`${host.url}&test=1`);
    const displayWorker = await workerUp;
    await displayWorker.evaluate(watchFlashes, PROBE);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'connected', undefined, { timeout: 60_000 });
    // a first short tone creates the page's audio graph; the tap goes on it
    await vm.command(`tone ${BEEP_HZ} 300`, undefined, 60_000);
    await installOnsetTap(page);
    await page.waitForFunction(() => document.getElementById('audio-mute')?.hidden === true, undefined, { timeout: 10_000 });
    await page.evaluate(() => (window.__onsets.length = 0));
    await displayWorker.evaluate(() => ((globalThis as unknown as { __flash: { onsets: number[] } }).__flash.onsets = []));

    const serialFrom = vm.serialLines().length;
    const streamData = (): number => wire.types.filter((m) => m.type === MsgDisplay.STREAM_DATA || m.type === MsgDisplay.STREAM_DATA_SIZED).length;
    const dataBefore = streamData();
    const reply = await vm.command(`avsync ${BEEPS} ${PERIOD_MS} ${BEEP_MS} ${BEEP_HZ}`, /GUEST (OK|ERR) avsync/, 120_000);
    assert.match(reply, /OK avsync/);
    // the last beep's audio plays out of the page's jitter buffer
    await page.waitForFunction(() => document.getElementById('audio-mute')?.hidden === true, undefined, { timeout: 10_000 }).catch(() => {});
    await new Promise((r) => setTimeout(r, 500));

    const guest = vm
      .serialLines()
      .slice(serialFrom)
      .map((l) => /GUEST AVFLASH (\d+) ([\d.]+)/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ k: Number(m[1]), lateMs: Number(m[2]) }));
    const beeps = await page.evaluate(() => window.__onsets); // epoch ms, as the worker's flashes
    const seen = await displayWorker.evaluate(() => (globalThis as unknown as { __flash: { onsets: number[]; paints: number } }).__flash);
    const flashes = seen.onsets;
    const paints = seen.paints;
    const streamed = streamData() - dataBefore;
    const offsets: number[] = [];
    for (const b of beeps) {
      const near = flashes.reduce((best, f) => (Math.abs(f - b) < Math.abs(best - b) ? f : best), Infinity);
      if (Math.abs(near - b) < PERIOD_MS / 2) offsets.push(near - b);
    }
    console.log(
      `A/V: ${beeps.length} beeps heard, ${flashes.length} flashes painted (${paints} paints of the probe), ${offsets.length} pairs; ` +
        `offsets flash - beep (ms): ${offsets.map((o) => o.toFixed(1)).join(', ')}; ` +
        `guest: ${guest.length} flashes, each after the card reached the beep by ${guest.map((g) => g.lateMs.toFixed(1)).join(', ')} ms (${reply.trim()}); ` +
        `${streamed} STREAM_DATA on the wire during it, codecs ${JSON.stringify([...wire.codecs])}`,
    );
    assert.ok(streamed > 0, 'the band was a video stream (STREAM_DATA on the wire)');
    assert.ok(guest.length >= MIN_PAIRS, `the guest flashed ${guest.length} times`);
    assert.ok(offsets.length >= MIN_PAIRS, `only ${offsets.length} beep/flash pairs (beeps ${beeps.length}, flashes ${flashes.length})`);
    const worst = offsets.reduce((a, o) => Math.max(a, Math.abs(o)), 0);
    assert.ok(worst <= MAX_OFFSET_MS, `worst |flash - beep| ${worst.toFixed(1)} ms > ${MAX_OFFSET_MS} ms: ${offsets.map((o) => o.toFixed(1)).join(', ')}`);
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await host.close();
    wire.close();
  }
});
