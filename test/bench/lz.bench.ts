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
 * Best ms per decode over many short batches, after a warm-up long enough for
 * the JIT to settle. Best-of rather than mean: the machines this runs on are
 * shared, and a short batch that ran uninterrupted is the codec's real speed.
 */
function time(dec: ImageDecoder, image: SpiceImage, ctx: DecodeContext): number {
  for (let i = 0; i < 30; i++) dec.decode(image, ctx);
  let best = Infinity;
  for (let b = 0; b < 30; b++) {
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) dec.decode(image, ctx);
    best = Math.min(best, (performance.now() - t0) / 3);
  }
  return best;
}

export async function run(): Promise<{ codec: string; mbPerSec: number; msPerFrame: number }[]> {
  const px = desktopImage(W, H, 42);
  const ctx: DecodeContext = { palettes: { get: () => undefined, put: () => {} } };
  const desc = (type: number) => ({ id: 1n, type, flags: 0, width: W, height: H });
  const frameBytes = W * H * 4;
  const out: { codec: string; mbPerSec: number; msPerFrame: number }[] = [];
  const add = (codec: string, ms: number) => out.push({ codec, msPerFrame: +ms.toFixed(3), mbPerSec: +(frameBytes / 1e6 / (ms / 1000)).toFixed(1) });

  const lz = lzEncode({ type: T.RGB32, width: W, height: H, topDown: true, pixels: px });
  add('LZ_RGB', time(new LzDecoder(), { descriptor: desc(ImageType.LZ_RGB), data: { kind: 'lz_rgb', data: lz } }, ctx));

  // GLZ: a standalone frame (each decode re-adds the same id to the window).
  const glz = new GlzTestEncoder().encode(T.RGB32, 1n, 0, W, H, true, px);
  add('GLZ_RGB', time(new GlzDecoder(), { descriptor: desc(ImageType.GLZ_RGB), data: { kind: 'glz_rgb', data: glz } }, ctx));

  const raw = new Uint8Array(px.buffer.slice(0));
  const lz4 = lz4EncodeImage(raw, W * 4, H, true, BitmapFmt._32BIT, 64);
  add('LZ4', time(new Lz4Decoder(), { descriptor: desc(ImageType.LZ4), data: { kind: 'lz4', data: lz4 } }, ctx));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const r of await run()) console.log(`${r.codec.padEnd(8)} ${r.msPerFrame.toFixed(2)} ms/frame  ${r.mbPerSec} MB/s (1024x768 RGBA output)`);
}
