// npm run bench:mjpeg: MJPEG stream frames decoded to surface pixels
// (0xAARRGGBB, what DisplayState draws from) in Debian's Chromium, three ways,
// inside a dedicated worker as the display worker runs them:
//   hand-written   renderer/display/decoders/jpeg.ts MjpegFrameDecoder (into a reused buffer)
//   createImageBitmap + OffscreenCanvas getImageData + RGBA→BGRA swap
//   ImageDecoder (WebCodecs) → VideoFrame.copyTo({ format: 'BGRX' })
// Frames: ImageMagick JPEGs (quality 80, 4:2:0 as spice-server's MJPEG
// encoder) of the guest's three test patterns at the sizes streams had in
// test/e2e/video-streams (1024x16 strips) and a full 1024x768 screen.
// Figures only, no asserts.
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../helpers/web-page';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mjpeg-bench-'));

/** The guest's patterns (scripts/guest/mkpattern.c) as JPEG at w×h. */
function frames(w: number, h: number): Uint8Array[] {
  const bin = join(dir, 'mkpattern');
  execFileSync('gcc', ['-O2', '-o', bin, join(ROOT, 'scripts/guest/mkpattern.c')]);
  const out: Uint8Array[] = [];
  for (const n of [1, 2, 3]) {
    const raw = join(dir, `${n}-${w}x${h}.raw`);
    execFileSync(bin, [String(n), '1024', '768', String(1024 * 4), raw]);
    const jpg = execFileSync('convert', ['-size', '1024x768', '-depth', '8', `bgra:${raw}`, '-alpha', 'off', '-crop', `${w}x${h}+0+0`, '-quality', '80', '-sampling-factor', '2x2', 'jpg:-']);
    out.push(new Uint8Array(jpg));
  }
  return out;
}

const bundle = await build({
  stdin: {
    contents: `
import { MjpegFrameDecoder } from './renderer/display/decoders/jpeg';
self.onmessage = async (ev) => {
  const { frames, w, h, rounds } = ev.data;
  const out = {};
  const time = async (name, f) => {
    for (let i = 0; i < 10; i++) await f(frames[i % frames.length]);
    const t0 = performance.now();
    for (let i = 0; i < rounds; i++) await f(frames[i % frames.length]);
    out[name] = (performance.now() - t0) / rounds;
  };
  const hand = new MjpegFrameDecoder();
  const target = new Uint32Array(w * h);
  await time('hand-written', (d) => { hand.decode(d, undefined, target); });
  const canvas = new OffscreenCanvas(w, h);
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  await time('createImageBitmap', async (d) => {
    const bmp = await createImageBitmap(new Blob([d], { type: 'image/jpeg' }));
    ctx.drawImage(bmp, 0, 0);
    bmp.close();
    const rgba = ctx.getImageData(0, 0, w, h).data;
    const px = new Uint32Array(w * h);
    for (let i = 0, j = 0; i < px.length; i++, j += 4) px[i] = 0xff000000 | (rgba[j] << 16) | (rgba[j + 1] << 8) | rgba[j + 2];
  });
  if (typeof ImageDecoder === 'function') {
    await time('ImageDecoder', async (d) => {
      const dec = new ImageDecoder({ data: d, type: 'image/jpeg' });
      const { image } = await dec.decode();
      const px = new Uint32Array(w * h);
      await image.copyTo(new Uint8Array(px.buffer), { format: 'BGRX' });
      image.close();
      dec.close();
    });
  }
  self.postMessage(out);
};`,
    resolveDir: ROOT,
    loader: 'ts',
  },
  bundle: true,
  format: 'iife',
  write: false,
});
const workerJs = bundle.outputFiles[0].text;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
const page = await browser.newPage();
// a loopback origin is a secure context: WebCodecs' ImageDecoder exists only there
const server = createServer((_q, res) => res.end('<!doctype html><title>mjpeg bench</title>'));
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
await page.goto(`http://127.0.0.1:${(server.address() as { port: number }).port}/`);
console.log('frame | bytes (avg) | hand-written ms | createImageBitmap ms | ImageDecoder ms | hand-written vs best platform');
console.log('----- | ----------- | --------------- | -------------------- | --------------- | -----------------------------');
for (const [w, h, rounds] of [
  [1024, 16, 3000],
  [1024, 768, 300],
] as const) {
  const fr = frames(w, h);
  const r: Record<string, number> = await page.evaluate(
    async ({ js, frames: f, w: fw, h: fh, rounds: n }) => {
      const worker = new Worker(URL.createObjectURL(new Blob([js], { type: 'text/javascript' })));
      const done = new Promise<Record<string, number>>((ok) => (worker.onmessage = (e) => ok(e.data)));
      worker.postMessage({ frames: f.map((a: number[]) => Uint8Array.from(a)), w: fw, h: fh, rounds: n });
      const out = await done;
      worker.terminate();
      return out;
    },
    { js: workerJs, frames: fr.map((f) => [...f]), w, h, rounds },
  );
  const bytes = Math.round(fr.reduce((n, f) => n + f.length, 0) / fr.length);
  const platform = Math.min(r.createImageBitmap ?? Infinity, r.ImageDecoder ?? Infinity);
  const ratio = platform / r['hand-written'];
  console.log(
    `${w}x${h} | ${bytes} | ${r['hand-written'].toFixed(3)} | ${r.createImageBitmap.toFixed(3)} | ${r.ImageDecoder?.toFixed(3) ?? 'n/a'} | ${ratio >= 1 ? `${ratio.toFixed(2)}x faster` : `${(1 / ratio).toFixed(2)}x slower`}`,
  );
}
await browser.close();
server.close();
