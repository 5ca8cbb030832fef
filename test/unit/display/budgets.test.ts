// Budgets of the display code (issue 9 findings 3 and 4): hostile strokes,
// surfaces, scaled copies and compressed streams run in a worker with a
// deadline and every allocation checked (budget-probes.ts); and the clipped
// stroke rasteriser gives exactly the pixels of the unclipped one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { ImageType, PathFlags, SurfaceFlags, SurfaceFmt } from '../../../main/spice/protocol/enums';
import { SpiceError } from '../../../main/spice/wire/errors';
import type { DrawCommand, SpiceImage } from '../../../preload/contract';
import { DisplayState } from '../../../renderer/display/display-state';
import { MAX_STROKE_SEGMENTS, zeroLineBoxes } from '../../../renderer/display/draw/ops';
import { canvasScale, scaleClipped, scaleImage } from '../../../renderer/display/draw/scale';
import type { Box } from '../../../renderer/display/draw/region';
import { Rng } from '../../fuzz/mutate';
import { PROBE_LIMIT } from './budget-probes';
import { base, makeState, NO_MASK, rect } from './helpers';

interface ProbeResult {
  timedOut?: boolean;
  ok?: boolean;
  result?: any;
  name?: string;
  code?: string;
  message?: string;
  ms?: number;
  peak?: number;
  refused?: number;
}

/** Runs one probe in a worker; past the deadline the worker is terminated (the probe hung). */
function probe(name: string, deadlineMs = 10000): Promise<ProbeResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('../../fuzz/boot.mjs', import.meta.url), {
      workerData: { entry: new URL('./budget-probes.ts', import.meta.url).href, probe: name },
      resourceLimits: { maxOldGenerationSizeMb: 512 },
    });
    const timer = setTimeout(() => {
      void w.terminate();
      resolve({ timedOut: true });
    }, deadlineMs);
    w.once('message', (m: ProbeResult) => {
      clearTimeout(timer);
      void w.terminate();
      resolve(m);
    });
    w.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

test('finding 3: a 2-point stroke of 130,000 pixels draws only its visible part, quickly and exactly', async () => {
  const r = await probe('strokeLine');
  assert.ok(!r.timedOut, 'the stroke ran past the 10 s deadline');
  assert.ok(r.ok, `${r.name}: ${r.message}`);
  assert.deepEqual(r.result, { diagonal: 768, other: 0 });
  // nothing bigger than the 1024x768 surface itself
  assert.ok(r.peak! <= 1024 * 768 * 4, `peak allocation ${r.peak}`);
});

test('finding 3: beziers with far-away control points end quickly (drawn within the budgets, or refused with LIMIT)', async () => {
  const r = await probe('strokeBezier');
  assert.ok(!r.timedOut, 'the stroke ran past the 10 s deadline');
  assert.ok(r.ok || r.code === 'LIMIT', `${r.name} ${r.code}: ${r.message}`);
});

test('a stroke path past the segment budget is refused with LIMIT before anything is drawn', () => {
  const st = makeState(64, 48);
  const points = Array.from({ length: MAX_STROKE_SEGMENTS + 2 }, (_, i) => ({ x: (i % 64) << 4, y: (i % 48) << 4 }));
  const cmd: DrawCommand = {
    op: 'stroke',
    base: base(rect(0, 0, 64, 48)),
    path: [{ flags: PathFlags.BEGIN | PathFlags.END, points }],
    attr: { flags: 0, style: [] },
    brush: { type: 'solid', color: 0xffffff },
    foreMode: 8,
    backMode: 8,
  };
  assert.throws(() => st.apply({ t: 'draw', cmd }), (e: unknown) => e instanceof SpiceError && e.code === 'LIMIT');
  assert.ok(st.primary()!.pixels.every((p) => p === 0), 'nothing drawn');
});

test('finding 4: SURFACE_CREATE of 16384x16384 is refused with LIMIT before anything is allocated', async () => {
  const r = await probe('surfaceCreate');
  assert.ok(!r.timedOut);
  assert.ok(r.ok, `${r.name}: ${r.message}`);
  assert.deepEqual(r.result, { codes: ['LIMIT', 'LIMIT'], primary: '1024x768' });
  assert.equal(r.refused, 0, 'an allocation above the probe limit was attempted');
  assert.ok(r.peak! < 8 << 20, `peak allocation ${r.peak}`);
});

test('finding 4: a scaled copy onto a huge dest box scales only the visible part', async () => {
  const r = await probe('scaledCopy');
  assert.ok(!r.timedOut);
  assert.ok(r.ok, `${r.name}: ${r.message}`);
  // the 64x64 surface sees the top-left quarter of the top-left source pixel (0x030201)
  assert.deepEqual(r.result, { distinct: ['30201'] });
  assert.ok(r.peak! < 1 << 20, `peak allocation ${r.peak}`);
});

test('finding 4: LZ, GLZ and LZ4 streams too short for their 16384x16384 header fail before allocating', async () => {
  const r = await probe('codecSizes');
  assert.ok(!r.timedOut);
  assert.ok(r.ok, `${r.name}: ${r.message}`);
  assert.deepEqual(r.result, { lz: 'DECODE', glz: 'DECODE', lz4: 'DECODE' });
  assert.equal(r.refused, 0, `an allocation above ${PROBE_LIMIT} bytes was attempted`);
  assert.ok(r.peak! < 1 << 20, `peak allocation ${r.peak}`);
});

test('clipped zero-width lines are exactly the full lines cut to the clip box', () => {
  const rng = new Rng(9);
  const key = (boxes: Box[], clip?: Box): Set<string> => {
    const s = new Set<string>();
    for (const b of boxes) {
      for (let y = b.y1; y < b.y2; y++) {
        for (let x = b.x1; x < b.x2; x++) if (!clip || (x >= clip.x1 && x < clip.x2 && y >= clip.y1 && y < clip.y2)) s.add(`${x},${y}`);
      }
    }
    return s;
  };
  for (let i = 0; i < 3000; i++) {
    const span = rng.pick([8, 40, 300, 3000]);
    const c = () => rng.int(2 * span) - span;
    const [x1, y1, x2, y2] = [c(), c(), c(), c()];
    const cx = rng.int(span) - span / 2;
    const cy = rng.int(span) - span / 2;
    const clip: Box = { x1: cx, y1: cy, x2: cx + 1 + rng.int(span), y2: cy + 1 + rng.int(span) };
    const full = key(zeroLineBoxes(x1, y1, x2, y2), clip);
    const clipped = key(zeroLineBoxes(x1, y1, x2, y2, clip));
    assert.deepEqual([...clipped].sort(), [...full].sort(), `line (${x1},${y1})-(${x2},${y2}) clip ${JSON.stringify(clip)}`);
  }
});

test('surfaces and the pixmap cache share one pixel budget; images and off-screen surfaces follow the announced display size', () => {
  const st = new DisplayState({ pixelBudget: 6 * 1024 * 1024 });
  const create = (surfaceId: number, width: number, height: number, flags = 0) =>
    st.apply({ t: 'surfaceCreate', surfaceId, width, height, format: SurfaceFmt._32_xRGB, flags });
  const limit = (f: () => void) => assert.throws(f, (e: unknown) => e instanceof SpiceError && e.code === 'LIMIT');
  create(0, 1024, 768, SurfaceFlags.PRIMARY);
  // before a bigger announcement: at least 2048x2048 per object
  limit(() => create(1, 2049, 2048));
  create(1, 2048, 2048);
  // 0.75 Mi + 4 Mi in use: 1.25 Mi pixels left
  limit(() => create(2, 1024, 1281));
  create(2, 1024, 1280);
  assert.equal(st.pixelsInUse(), 6 * 1024 * 1024);
  // a replaced surface frees its pixels first
  create(2, 1024, 1024);
  st.apply({ t: 'surfaceDestroy', surfaceId: 1 });
  // the same-size primary again is kept; a bigger one must fit the budget
  create(3, 1024, 768, SurfaceFlags.PRIMARY);
  limit(() => create(4, 3000, 2000, SurfaceFlags.PRIMARY));
  assert.equal(st.primary()!.id, 3);
  // a monitors config announcing a 4K display raises the per-object bound (4x its area, within the budget)
  assert.equal(st.objectPixelLimit(), 4 * 1024 * 1024);
  st.apply({ t: 'monitorsConfig', maxAllowed: 1, heads: [{ id: 0, surfaceId: 3, width: 3840, height: 2160, x: 0, y: 0, flags: 0 }] });
  assert.equal(st.objectPixelLimit(), 6 * 1024 * 1024);
  // images are checked against the bound before their decoder runs
  const huge: SpiceImage = { descriptor: { id: 1n, type: ImageType.LZ_RGB, flags: 0, width: 4096, height: 4096 }, data: { kind: 'lz_rgb', data: new Uint8Array(8) } };
  limit(() => st.apply({ t: 'draw', cmd: { op: 'copy', base: base(rect(0, 0, 8, 8), null, 3), src: huge, srcArea: rect(0, 0, 8, 8), ropd: 8, scaleMode: 1, mask: NO_MASK } }));
});

test('scaling only the clipped area gives exactly the pixels of the whole scaled image there', () => {
  const rng = new Rng(4);
  for (let i = 0; i < 300; i++) {
    const sw = 1 + rng.int(12);
    const sh = 1 + rng.int(12);
    const src = { width: sw, height: sh, pixels: Uint32Array.from({ length: sw * sh }, () => rng.int(2 ** 32)), hasAlpha: rng.chance(0.5) };
    const dw = 1 + rng.int(40);
    const dh = 1 + rng.int(40);
    const p = canvasScale(rng.int(sw), rng.int(sh), 1 + rng.int(sw), 1 + rng.int(sh), dw, dh, rng.chance(0.5));
    const [x0, y0] = [rng.int(100) - 50, rng.int(100) - 50];
    const ex1 = x0 + rng.int(dw);
    const ey1 = y0 + rng.int(dh);
    const ext = { x1: ex1, y1: ey1, x2: ex1 + 1 + rng.int(x0 + dw - ex1), y2: ey1 + 1 + rng.int(y0 + dh - ey1) };
    const full = scaleImage(src, p, dw, dh);
    const part = scaleClipped(src, p, x0, y0, ext);
    for (let y = ext.y1; y < ext.y2; y++) {
      for (let x = ext.x1; x < ext.x2; x++) {
        assert.equal(part.pixels[(y - ext.y1) * part.width + (x - ext.x1)], full.pixels[(y - y0) * dw + (x - x0)], `case ${i} at ${x},${y}`);
      }
    }
  }
});
