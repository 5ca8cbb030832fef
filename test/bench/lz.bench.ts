// Decode speed of LZ_RGB, GLZ_RGB and LZ4 on a 1024×768 desktop-like frame
// (encoded once with the test encoders). run() returns the figures; running
// this file directly prints them.
import { LzDecoder } from '../../renderer/display/decoders/lz';
import { GlzDecoder } from '../../renderer/display/decoders/glz';
import { Lz4Decoder } from '../../renderer/display/decoders/lz4';
import type { DecodeContext, ImageDecoder } from '../../renderer/display/types';
import type { SpiceImage } from '../../preload/contract';
import { BitmapFmt, ImageType } from '../../main/spice/protocol/enums';
import { GlzTestEncoder, T, desktopImage, lz4EncodeImage, lzEncode } from '../unit/decoders/lz-test-encoders';

const W = 1024;
const H = 768;

/**
 * Best ms per decode over several batches, after a warm-up long enough for
 * the JIT to settle (best-of, not mean: CI machines are shared and noisy).
 */
function time(dec: ImageDecoder, image: SpiceImage, ctx: DecodeContext, iters: number): number {
  for (let i = 0; i < 30; i++) dec.decode(image, ctx);
  const batches: number[] = [];
  for (let b = 0; b < 9; b++) {
    const t0 = performance.now();
    for (let i = 0; i < iters; i++) dec.decode(image, ctx);
    batches.push((performance.now() - t0) / iters);
  }
  return Math.min(...batches);
}

export async function run(): Promise<{ codec: string; mbPerSec: number; msPerFrame: number }[]> {
  const px = desktopImage(W, H, 42);
  const ctx: DecodeContext = { palettes: { get: () => undefined, put: () => {} } };
  const desc = (type: number) => ({ id: 1n, type, flags: 0, width: W, height: H });
  const frameBytes = W * H * 4;
  const out: { codec: string; mbPerSec: number; msPerFrame: number }[] = [];
  const add = (codec: string, ms: number) => out.push({ codec, msPerFrame: +ms.toFixed(3), mbPerSec: +(frameBytes / 1e6 / (ms / 1000)).toFixed(1) });

  const lz = lzEncode({ type: T.RGB32, width: W, height: H, topDown: true, pixels: px });
  add('LZ_RGB', time(new LzDecoder(), { descriptor: desc(ImageType.LZ_RGB), data: { kind: 'lz_rgb', data: lz } }, ctx, 10));

  // GLZ: a standalone frame (each decode re-adds the same id to the window).
  const glz = new GlzTestEncoder().encode(T.RGB32, 1n, 0, W, H, true, px);
  add('GLZ_RGB', time(new GlzDecoder(), { descriptor: desc(ImageType.GLZ_RGB), data: { kind: 'glz_rgb', data: glz } }, ctx, 10));

  const raw = new Uint8Array(px.buffer.slice(0));
  const lz4 = lz4EncodeImage(raw, W * 4, H, true, BitmapFmt._32BIT, 64);
  add('LZ4', time(new Lz4Decoder(), { descriptor: desc(ImageType.LZ4), data: { kind: 'lz4', data: lz4 } }, ctx, 10));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(`${r.codec.padEnd(8)} ${r.msPerFrame.toFixed(2)} ms/frame  ${r.mbPerSec} MB/s (1024x768 RGBA output)`);
}
