// Worker side of budgets.test.ts: each probe feeds one hostile input to the
// display code with every typed-array allocation checked against PROBE_LIMIT
// (test/fuzz/alloc-tracker.ts), so on code without the budgets a probe fails
// fast (allocation refused) or hangs (the test's deadline terminates it)
// instead of taking the machine's memory or time.
import { parentPort, workerData } from 'node:worker_threads';
import { BitmapFmt, ImageType, PathFlags, SurfaceFlags, SurfaceFmt } from '../../../main/spice/protocol/enums';
import { SpiceError } from '../../../main/spice/wire/errors';
import type { DisplayCommand, SpiceImage } from '../../../preload/contract';
import { DisplayState } from '../../../renderer/display/display-state';
import { GlzDecoder } from '../../../renderer/display/decoders/glz';
import { Lz4Decoder } from '../../../renderer/display/decoders/lz4';
import { LzDecoder, LZ_MAGIC, LZ_VERSION } from '../../../renderer/display/decoders/lz';
import { allocStats, installAllocTracker } from '../../fuzz/alloc-tracker';

export const PROBE_LIMIT = 64 * 1024 * 1024;
const NO_MASK = { flags: 0, pos: { x: 0, y: 0 }, bitmap: null };

function state(w: number, h: number): DisplayState {
  const st = new DisplayState();
  st.apply({ t: 'surfaceCreate', surfaceId: 0, width: w, height: h, format: SurfaceFmt._32_xRGB, flags: SurfaceFlags.PRIMARY });
  return st;
}

function stroke(path: { flags: number; points: { x: number; y: number }[] }[]): DisplayCommand {
  return {
    t: 'draw',
    cmd: { op: 'stroke', base: { surfaceId: 0, box: { left: 0, top: 0, right: 1024, bottom: 768 }, clip: null }, path, attr: { flags: 0, style: [] }, brush: { type: 'solid', color: 0xff0000 }, foreMode: 8, backMode: 8 },
  };
}

const be = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

/** Each probe returns a small JSON result; thrown errors are reported with their code. */
const probes: Record<string, () => unknown> = {
  // finding 3: a 2-point line of 130,000 pixels, nearly all outside the surface
  strokeLine() {
    const st = state(1024, 768);
    st.apply(stroke([{ flags: PathFlags.BEGIN | PathFlags.END, points: [{ x: -65000 << 4, y: -65000 << 4 }, { x: 65000 << 4, y: 65000 << 4 }] }]));
    const s = st.primary()!;
    let diagonal = 0;
    let other = 0;
    for (let y = 0; y < s.height; y++) for (let x = 0; x < s.width; x++) if (s.pixels[y * s.width + x] === 0xff0000) (x === y ? diagonal++ : other++);
    return { diagonal, other };
  },
  // finding 3: 20 beziers (480 bytes of points) whose control points are 65,536 pixels away:
  // each subdivides to depth 16 (65,536 segments)
  strokeBezier() {
    const st = state(1024, 768);
    const far = 1 << 20;
    const points = [{ x: 0, y: 0 }];
    for (let i = 0; i < 20; i++) points.push({ x: far, y: -far }, { x: -far, y: far }, { x: (500 + i) << 4, y: 300 << 4 });
    st.apply(stroke([{ flags: PathFlags.BEGIN | PathFlags.END | PathFlags.BEZIER, points }]));
    return { drawn: true };
  },
  // finding 4: a 20-byte SURFACE_CREATE asking for 16384x16384 (off-screen, then primary)
  surfaceCreate() {
    const st = state(1024, 768);
    const codes: string[] = [];
    for (const flags of [0, SurfaceFlags.PRIMARY]) {
      try {
        st.apply({ t: 'surfaceCreate', surfaceId: 5, width: 16384, height: 16384, format: SurfaceFmt._32_ARGB, flags });
        codes.push('created');
      } catch (e) {
        codes.push(e instanceof SpiceError ? e.code : String(e));
      }
    }
    return { codes, primary: `${st.primary()?.width}x${st.primary()?.height}` };
  },
  // finding 4: a scaled copy onto a 65536x65536 dest box of a 64x64 surface
  scaledCopy() {
    const st = state(64, 64);
    const data = Uint8Array.of(1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 10, 11, 12, 0);
    const src: SpiceImage = { descriptor: { id: 0n, type: ImageType.BITMAP, flags: 0, width: 2, height: 2 }, data: { kind: 'bitmap', format: BitmapFmt._32BIT, flags: 4, x: 2, y: 2, stride: 8, palette: null, data } };
    st.apply({ t: 'draw', cmd: { op: 'copy', base: { surfaceId: 0, box: { left: 0, top: 0, right: 65536, bottom: 65536 }, clip: null }, src, srcArea: { left: 0, top: 0, right: 2, bottom: 2 }, ropd: 8, scaleMode: 1, mask: NO_MASK } });
    const s = st.primary()!;
    return { distinct: [...new Set(s.pixels)].map((v) => (v & 0xffffff).toString(16)) };
  },
  // finding 4: LZ / GLZ / LZ4 headers claiming 16384x16384 with a few bytes of data
  codecSizes() {
    const n = 16384;
    const desc = (type: number) => ({ id: 1n, type, flags: 0, width: n, height: n });
    const lz = Uint8Array.from([...be(LZ_MAGIC), ...be(LZ_VERSION), ...be(8), ...be(n), ...be(n), ...be(n * 4), ...be(1), 0xe0, 0xff, 0xff, 0, 0]);
    const glz = Uint8Array.from([...be(LZ_MAGIC), ...be(LZ_VERSION), 8 | 16, ...be(n), ...be(n), ...be(n * 4), ...be(0), ...be(1), ...be(0), 0xe0, 0xff, 0xff, 0, 0]);
    const lz4 = Uint8Array.from([1, BitmapFmt._32BIT, ...be(4), 0x1f, 0xff, 0xff, 0]);
    const ctx = { palettes: { get: () => undefined, put: () => {} } };
    const out: Record<string, string> = {};
    const cases: [string, () => unknown][] = [
      ['lz', () => new LzDecoder().decode({ descriptor: desc(ImageType.LZ_RGB), data: { kind: 'lz_rgb', data: lz } }, ctx)],
      ['glz', () => new GlzDecoder().decode({ descriptor: desc(ImageType.GLZ_RGB), data: { kind: 'glz_rgb', data: glz } }, ctx)],
      ['lz4', () => new Lz4Decoder().decode({ descriptor: desc(ImageType.LZ4), data: { kind: 'lz4', data: lz4 } }, ctx)],
    ];
    for (const [name, f] of cases) {
      try {
        f();
        out[name] = 'decoded';
      } catch (e) {
        out[name] = e instanceof SpiceError ? e.code : (e as Error).name;
      }
    }
    return out;
  },
};

if (parentPort && workerData?.probe) {
  installAllocTracker(PROBE_LIMIT);
  const t = performance.now();
  let msg: Record<string, unknown>;
  try {
    msg = { ok: true, result: probes[workerData.probe as string]() };
  } catch (e) {
    msg = { ok: false, name: (e as Error).name, code: e instanceof SpiceError ? e.code : undefined, message: (e as Error).message };
  }
  parentPort.postMessage({ ...msg, ms: performance.now() - t, peak: allocStats().peak, refused: allocStats().refused });
}
