// npm run bench: decode throughput per codec on payloads captured from a real
// spice-server (test/vectors/captured), and CPU time per displayed frame when
// whole captured sessions are replayed through the compositor.
// Figures only — no asserts; timing never gates tests.
import { performance } from 'node:perf_hooks';
import { DisplayState } from '../../renderer/display/display-state';
import { createDecoders } from '../../renderer/display/decoders/index';
import type { DisplayCommand, SpiceImage } from '../../preload/contract';
import { CAPTURED_CODECS, loadCaptured } from '../helpers/captured';
import { ImageType } from '../../main/spice/protocol/enums';

const FRAME_PIXELS = 1024 * 768;

function imagesOf(cmds: DisplayCommand[], kind: string): SpiceImage[] {
  const out: SpiceImage[] = [];
  for (const c of cmds) if (c.t === 'draw' && 'src' in c.cmd && c.cmd.src?.data.kind === kind) out.push(c.cmd.src);
  return out;
}

const KIND: Record<string, string> = { quic: 'quic', lz: 'lz_rgb', glz: 'glz_rgb', lz4: 'lz4' };
const rows: string[] = [];
rows.push('codec | images | Mpixels | decode MB/s (output RGBA) | ms per 1024x768 frame (decode only) | CPU ms per displayed frame (replay)');
rows.push('----- | ------ | ------- | ------------------------- | ----------------------------------- | ----------------------------------');

for (const codec of CAPTURED_CODECS) {
  const cap = loadCaptured(codec);
  const imgs = imagesOf(cap.commands, KIND[codec]);
  const pixels = imgs.reduce((n, i) => n + i.descriptor.width * i.descriptor.height, 0);
  // decode only: GLZ needs its window, so each round replays the images in order with fresh decoders
  const ctx = { palettes: { get: () => undefined, put: () => {} } };
  const round = () => {
    const decoders = createDecoders();
    for (const img of imgs) decoders.get(img.descriptor.type === ImageType.GLZ_RGB ? ImageType.GLZ_RGB : img.descriptor.type)!.decode(img, ctx);
  };
  for (let i = 0; i < 5; i++) round(); // warm-up (JIT)
  const rounds = 30;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) round();
  const ms = (performance.now() - t0) / rounds;
  const mbps = (pixels * 4) / 1e6 / (ms / 1000);
  const msPerFrame = (ms * FRAME_PIXELS) / pixels;
  // whole replay: CPU time per displayed frame
  const frames = cap.frames.length;
  const replay = () => {
    const ds = new DisplayState();
    for (const c of cap.commands) ds.apply(c);
  };
  for (let i = 0; i < 3; i++) replay();
  const cpu0 = process.cpuUsage();
  const reps = 20;
  for (let i = 0; i < reps; i++) replay();
  const cpu = process.cpuUsage(cpu0);
  const cpuPerFrame = (cpu.user + cpu.system) / 1000 / (reps * frames);
  rows.push(`${codec} | ${imgs.length} | ${(pixels / 1e6).toFixed(2)} | ${mbps.toFixed(0)} | ${msPerFrame.toFixed(2)} | ${cpuPerFrame.toFixed(2)}`);
}
console.log('Decode on payloads captured from QEMU 7.2 / spice-server 0.15.1 (test/vectors/captured):');
console.log(rows.join('\n'));

// synthetic desktop-like frames from the decoder suites, when present
for (const mod of ['./quic.bench.ts', './lz.bench.ts']) {
  try {
    const m = (await import(mod)) as { run: () => Promise<{ codec: string; mbPerSec: number; msPerFrame: number }[]> };
    for (const r of await m.run()) console.log(`synthetic ${r.codec}: ${r.mbPerSec.toFixed(0)} MB/s, ${r.msPerFrame.toFixed(2)} ms per 1024x768 frame`);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
  }
}
