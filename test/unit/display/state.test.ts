// DisplayState bookkeeping: image / palette caches, damage merging,
// surfaces, reset, monitors config and MJPEG streams.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BitmapFmt, ImageFlags, ImageType, MaskFlags, ResourceType, Ropd, StreamFlags, SurfaceFlags, SurfaceFmt, VideoCodecType } from '../../../main/spice/protocol/enums';
import type { DrawCommand, PaletteRef, QMask, SpiceImage } from '../../../preload/contract';
import { DisplayState, mergeBoxes } from '../../../renderer/display/display-state';
import { ImageCache } from '../../../renderer/display/image-cache';
import type { DecodedImage, ImageDecoder } from '../../../renderer/display/types';
import { NO_MASK, base, bitmap, copyCmd, fromCache, makeState, maskBitmap, paint, px, rect } from './helpers';

const BG = 0x00102030;

test('CACHE_ME stores the decoded image; FROM_CACHE draws it; INVAL_LIST drops it', () => {
  const st = makeState();
  const img = bitmap(2, 1, [0x111111, 0x222222], { id: 42n, flags: ImageFlags.CACHE_ME });
  st.apply({ t: 'draw', cmd: copyCmd(rect(0, 0, 2, 1), img, rect(0, 0, 2, 1)) });
  assert.equal(st.stats().cacheEntries, 1);
  assert.equal(st.stats().cacheBytes, 8);
  st.apply({ t: 'draw', cmd: copyCmd(rect(3, 3, 5, 4), fromCache(42n), rect(0, 0, 2, 1)) });
  assert.equal(px(st, 3, 3), 0xff111111);
  assert.equal(px(st, 4, 3), 0xff222222);
  assert.equal(st.stats().imagesDecoded, 1);
  // lossless entries also answer FROM_CACHE_LOSSLESS
  st.apply({ t: 'draw', cmd: copyCmd(rect(0, 5, 2, 6), fromCache(42n, true), rect(0, 0, 2, 1)) });
  assert.equal(px(st, 1, 5), 0xff222222);
  st.apply({ t: 'invalList', resources: [{ type: ResourceType.PIXMAP, id: 42n }] });
  assert.equal(st.stats().cacheEntries, 0);
  assert.throws(() => st.apply({ t: 'draw', cmd: copyCmd(rect(0, 0, 2, 1), fromCache(42n), rect(0, 0, 2, 1)) }), { name: 'SpiceError', code: 'PROTOCOL' });
});

test('FROM_CACHE miss is a PROTOCOL SpiceError; INVAL_ALL_PIXMAPS empties the cache', () => {
  const st = makeState();
  assert.throws(() => st.apply({ t: 'draw', cmd: copyCmd(rect(0, 0, 1, 1), fromCache(7n), rect(0, 0, 1, 1)) }), { code: 'PROTOCOL' });
  for (const id of [1n, 2n, 3n]) st.apply({ t: 'draw', cmd: copyCmd(rect(0, 0, 1, 1), bitmap(1, 1, [1], { id, flags: ImageFlags.CACHE_ME }), rect(0, 0, 1, 1)) });
  assert.equal(st.stats().cacheEntries, 3);
  st.apply({ t: 'invalAllPixmaps' });
  assert.equal(st.stats().cacheEntries, 0);
  assert.equal(st.stats().cacheBytes, 0);
});

test('lossy JPEG entries: FROM_CACHE ok, FROM_CACHE_LOSSLESS refused until CACHE_REPLACE_ME', () => {
  const fake: ImageDecoder = { decode: (): DecodedImage => ({ width: 1, height: 1, pixels: Uint32Array.of(0xff0000ee), hasAlpha: false }) };
  const st = makeState(8, 8, SurfaceFmt._32_xRGB, [[ImageType.JPEG, fake]]);
  const jpeg: SpiceImage = { descriptor: { id: 9n, type: ImageType.JPEG, flags: ImageFlags.CACHE_ME, width: 1, height: 1 }, data: { kind: 'jpeg', data: new Uint8Array(0) } };
  st.apply({ t: 'draw', cmd: copyCmd(rect(0, 0, 1, 1), jpeg, rect(0, 0, 1, 1)) });
  st.apply({ t: 'draw', cmd: copyCmd(rect(1, 0, 2, 1), fromCache(9n), rect(0, 0, 1, 1)) });
  assert.equal(px(st, 1, 0), 0xff0000ee);
  assert.throws(() => st.apply({ t: 'draw', cmd: copyCmd(rect(2, 0, 3, 1), fromCache(9n, true), rect(0, 0, 1, 1)) }), { code: 'PROTOCOL' });
  const lossless = bitmap(1, 1, [0x0000ff], { id: 9n, flags: ImageFlags.CACHE_REPLACE_ME });
  st.apply({ t: 'draw', cmd: copyCmd(rect(2, 0, 3, 1), lossless, rect(0, 0, 1, 1)) });
  st.apply({ t: 'draw', cmd: copyCmd(rect(3, 0, 4, 1), fromCache(9n, true), rect(0, 0, 1, 1)) });
  assert.equal(px(st, 3, 0), 0xff0000ff);
  assert.equal(st.stats().cacheEntries, 1);
});

test('images are still decoded and cached when nothing is drawn (canvas_touch_image)', () => {
  const st = makeState();
  const img = bitmap(1, 1, [0x123456], { id: 5n, flags: ImageFlags.CACHE_ME });
  // box entirely outside the surface
  st.apply({ t: 'draw', cmd: { ...(copyCmd(rect(20, 20, 21, 21), img, rect(0, 0, 1, 1)) as object) } as DrawCommand });
  assert.equal(st.stats().cacheEntries, 1);
  // a plain image is not decoded for an empty draw
  st.apply({ t: 'draw', cmd: copyCmd(rect(20, 20, 21, 21), bitmap(1, 1, [0]), rect(0, 0, 1, 1)) });
  assert.equal(st.stats().imagesDecoded, 1);
  assert.deepEqual(st.takeDamage(), []);
});

test('palette cache: PAL_CACHE_ME then PAL_FROM_CACHE, INVAL_PALETTE', () => {
  const st = makeState();
  const pal8 = (palette: PaletteRef, idx: number): SpiceImage => ({
    descriptor: { id: 0n, type: ImageType.BITMAP, flags: 0, width: 1, height: 1 },
    data: { kind: 'bitmap', format: BitmapFmt._8BIT, flags: 4, x: 1, y: 1, stride: 1, palette, data: Uint8Array.of(idx) },
  });
  st.apply({ t: 'draw', cmd: copyCmd(rect(0, 0, 1, 1), pal8({ palette: { unique: 77n, ents: Uint32Array.of(0x0000ff, 0x00ff00) }, cacheMe: true }, 1), rect(0, 0, 1, 1)) });
  assert.equal(px(st, 0, 0) & 0xffffff, 0x00ff00);
  assert.equal(st.stats().paletteEntries, 1);
  st.apply({ t: 'draw', cmd: copyCmd(rect(1, 0, 2, 1), pal8({ fromCache: 77n }, 0), rect(0, 0, 1, 1)) });
  assert.equal(px(st, 1, 0) & 0xffffff, 0x0000ff);
  st.apply({ t: 'invalPalette', id: 77n });
  assert.throws(() => st.apply({ t: 'draw', cmd: copyCmd(rect(1, 0, 2, 1), pal8({ fromCache: 77n }, 0), rect(0, 0, 1, 1)) }), { name: 'SpiceError' });
});

test('cached mask with INVERS is stored uninverted and inverted on use', () => {
  const st = makeState();
  paint(st, () => BG);
  const mask = { flags: MaskFlags.INVERS, pos: { x: 0, y: 0 }, bitmap: maskBitmap(['10', '01'], { id: 11n, flags: ImageFlags.CACHE_ME }) };
  const fill = (m: QMask, x: number): DrawCommand => ({ op: 'fill', base: base(rect(x, 0, x + 2, 2)), brush: { type: 'solid', color: 0xffffff }, ropd: Ropd.OP_PUT, mask: m });
  st.apply({ t: 'draw', cmd: fill(mask, 0) });
  st.apply({ t: 'draw', cmd: fill({ flags: 0, pos: { x: 0, y: 0 }, bitmap: fromCache(11n) }, 4) });
  const on = (x: number, y: number): boolean => px(st, x, y) !== BG;
  assert.deepEqual([on(0, 0), on(1, 0), on(0, 1), on(1, 1)], [false, true, true, false]);
  assert.deepEqual([on(4, 0), on(5, 0), on(4, 1), on(5, 1)], [true, false, false, true]);
});

test('HIGH_BITS_SET forces alpha on decoded xRGB images only', () => {
  const fake: ImageDecoder = { decode: (): DecodedImage => ({ width: 1, height: 1, pixels: Uint32Array.of(0x00abcdef), hasAlpha: false }) };
  const st = makeState(2, 1, SurfaceFmt._32_xRGB, [[ImageType.LZ_RGB, fake]]);
  const img: SpiceImage = { descriptor: { id: 0n, type: ImageType.LZ_RGB, flags: ImageFlags.HIGH_BITS_SET, width: 1, height: 1 }, data: { kind: 'lz_rgb', data: new Uint8Array(0) } };
  st.apply({ t: 'draw', cmd: copyCmd(rect(0, 0, 1, 1), img, rect(0, 0, 1, 1)) });
  assert.equal(px(st, 0, 0), 0xffabcdef);
});

test('unsupported image type is a DECODE SpiceError', () => {
  const st = makeState();
  const img: SpiceImage = { descriptor: { id: 0n, type: ImageType.QUIC, flags: 0, width: 1, height: 1 }, data: { kind: 'quic', data: new Uint8Array(0) } };
  assert.throws(() => st.apply({ t: 'draw', cmd: copyCmd(rect(0, 0, 1, 1), img, rect(0, 0, 1, 1)) }), { code: 'DECODE' });
});

test('ImageCache: byte bound with least-recently-used eviction, replace, lossy flag', () => {
  const img = (n: number): DecodedImage => ({ width: n, height: 1, pixels: new Uint32Array(n), hasAlpha: false });
  const c = new ImageCache(40);
  c.put(1n, img(4)); // 16 bytes
  c.put(2n, img(4)); // 32
  assert.ok(c.get(1n)); // 1 is now most recent
  c.put(3n, img(4)); // 48 > 40 → evict 2
  assert.equal(c.get(2n), undefined);
  assert.ok(c.get(1n) && c.get(3n));
  assert.equal(c.totalBytes, 32);
  assert.equal(c.evictions, 1);
  c.put(4n, img(2), true);
  assert.equal(c.getLossless(4n), undefined);
  assert.ok(c.get(4n));
  c.replace(4n, img(2));
  assert.ok(c.getLossless(4n));
  assert.equal(c.remove(4n), true);
  assert.equal(c.remove(4n), false);
  c.clear();
  assert.equal(c.size, 0);
});

test('damage: overlapping/touching rects merge, disjoint ones stay, takeDamage clears', () => {
  const st = makeState(32, 32);
  const fill = (r: ReturnType<typeof rect>): void => void st.apply({ t: 'draw', cmd: { op: 'fill', base: base(r), brush: { type: 'solid', color: 1 }, ropd: Ropd.OP_PUT, mask: NO_MASK } });
  fill(rect(0, 0, 4, 4));
  fill(rect(2, 2, 6, 6)); // overlaps the first
  fill(rect(6, 0, 8, 2)); // touches the merged box's right edge
  fill(rect(20, 20, 22, 22)); // disjoint
  fill(rect(1, 1, 2, 2)); // inside the first
  const d = st.takeDamage();
  assert.deepEqual(
    d.map((x) => x.rect).sort((a, b) => a.left - b.left),
    [rect(0, 0, 8, 6), rect(20, 20, 22, 22)],
  );
  assert.ok(d.every((x) => x.surfaceId === 0));
  assert.deepEqual(st.takeDamage(), []);
  // Damage is the painted region's extents, clipped to the surface.
  fill(rect(30, 30, 40, 40));
  assert.deepEqual(st.takeDamage(), [{ surfaceId: 0, rect: rect(30, 30, 32, 32) }]);
  assert.deepEqual(mergeBoxes([{ x1: 0, y1: 0, x2: 1, y2: 1 }, { x1: 5, y1: 5, x2: 6, y2: 6 }, { x1: 1, y1: 1, x2: 5, y2: 5 }]), [{ x1: 0, y1: 0, x2: 6, y2: 6 }]);
});

test('surfaces: create/destroy, primary tracking, reset clears the primary, mark, monitors config', () => {
  const st = new DisplayState({ decoders: new Map() });
  assert.equal(st.primary(), undefined);
  st.apply({ t: 'surfaceCreate', surfaceId: 0, width: 4, height: 2, format: SurfaceFmt._32_xRGB, flags: SurfaceFlags.PRIMARY });
  st.apply({ t: 'surfaceCreate', surfaceId: 1, width: 2, height: 2, format: SurfaceFmt._32_ARGB, flags: 0 });
  assert.equal(st.primary()?.id, 0);
  assert.equal(st.surfaces.size, 2);
  assert.deepEqual(st.takeDamage(), [{ surfaceId: 0, rect: rect(0, 0, 4, 2) }]);
  st.primary()!.pixels.fill(0x55);
  st.apply({ t: 'mark' });
  assert.equal(st.marked, true);
  st.apply({ t: 'reset' });
  assert.equal(st.marked, false);
  assert.ok(st.primary()!.pixels.every((v) => v === 0));
  assert.deepEqual(st.takeDamage(), [{ surfaceId: 0, rect: rect(0, 0, 4, 2) }]);
  st.apply({ t: 'surfaceDestroy', surfaceId: 0 });
  assert.equal(st.primary(), undefined);
  assert.equal(st.surfaces.size, 1);
  st.apply({ t: 'monitorsConfig', maxAllowed: 4, heads: [{ id: 0, surfaceId: 0, width: 4, height: 2, x: 0, y: 0, flags: 0 }] });
  assert.equal(st.heads.length, 1);
  assert.equal(st.maxMonitors, 4);
});

function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('MJPEG stream: frames decoded, flipped unless TOP_DOWN, NEAREST-scaled into dest, clipped', { skip: !hasTool('cjpeg') && 'needs cjpeg/djpeg (libjpeg-turbo-progs)' }, () => {
  // A 4×2 frame made by cjpeg; the expected pixels come from djpeg (an independent decoder).
  const dir = mkdtempSync(join(tmpdir(), 'mjpeg-'));
  const w = 4;
  const h = 2;
  const ppm = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) ppm.set([i * 30, 255 - i * 30, (i * 70) & 0xff], i * 3);
  writeFileSync(join(dir, 'f.ppm'), Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), Buffer.from(ppm)]));
  const jpg = new Uint8Array(execFileSync('cjpeg', ['-quality', '100', '-sample', '1x1', join(dir, 'f.ppm')]));
  writeFileSync(join(dir, 'f.jpg'), jpg);
  execFileSync('djpeg', ['-pnm', '-outfile', join(dir, 'o.ppm'), join(dir, 'f.jpg')]);
  const out = readFileSync(join(dir, 'o.ppm'));
  const rgb = out.subarray(out.length - w * h * 3);
  const ref = (x: number, y: number): number => ((rgb[(y * w + x) * 3] << 16) | (rgb[(y * w + x) * 3 + 1] << 8) | rgb[(y * w + x) * 3 + 2]) >>> 0;

  const frames: number[] = [];
  const st = makeState(16, 8, SurfaceFmt._32_xRGB, [], { onStreamFrame: (f) => void frames.push(f.streamId) });
  paint(st, () => BG);
  const create = (id: number, flags: number, codec: number, clip: ReturnType<typeof rect>[] | null = null): void =>
    void st.apply({ t: 'streamCreate', stream: { surfaceId: 0, id, flags, codec, streamWidth: w, streamHeight: h, srcWidth: w, srcHeight: h, dest: rect(0, 0, 4, 2), clip } });
  create(1, StreamFlags.TOP_DOWN, VideoCodecType.MJPEG);
  st.apply({ t: 'streamData', id: 1, mmTime: 0, data: jpg });
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) assert.equal(px(st, x, y) & 0xffffff, ref(x, y), `top-down (${x},${y})`);

  // bottom-up stream, sized frame scaled 2× into (8,0)-(16,4)
  create(2, 0, VideoCodecType.MJPEG);
  st.apply({ t: 'streamData', id: 2, mmTime: 0, width: w, height: h, dest: rect(8, 0, 16, 4), data: jpg });
  for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) assert.equal(px(st, 8 + x, y) & 0xffffff, ref(x >> 1, h - 1 - (y >> 1)), `scaled (${x},${y})`);

  // clip: only (0,4)-(2,6) of dest (0,4)-(4,6) is painted
  paint(st, () => BG);
  create(3, StreamFlags.TOP_DOWN, VideoCodecType.MJPEG, [rect(0, 4, 2, 6)]);
  st.apply({ t: 'streamData', id: 3, mmTime: 0, width: w, height: h, dest: rect(0, 4, 4, 6), data: jpg });
  assert.equal(px(st, 1, 5) & 0xffffff, ref(1, 1));
  assert.equal(px(st, 2, 5), BG);
  st.apply({ t: 'streamClip', id: 3, clip: null });
  st.apply({ t: 'streamData', id: 3, mmTime: 0, width: w, height: h, dest: rect(0, 4, 4, 6), data: jpg });
  assert.equal(px(st, 2, 5) & 0xffffff, ref(2, 1));

  // unknown codec: skipped and counted; a broken frame is counted too
  create(4, 0, VideoCodecType.VP8);
  st.apply({ t: 'streamData', id: 4, mmTime: 0, data: jpg });
  st.apply({ t: 'streamData', id: 1, mmTime: 0, data: Uint8Array.of(1, 2, 3) });
  const s = st.stats();
  assert.equal(s.streamFramesSkipped, 1);
  assert.equal(s.streamFramesBroken, 1);
  assert.equal(s.streamFramesDrawn, 4);
  assert.deepEqual(frames, [1, 2, 3, 3, 4, 1]);
  st.apply({ t: 'streamDestroy', id: 4 });
  assert.throws(() => st.apply({ t: 'streamData', id: 4, mmTime: 0, data: jpg }), { code: 'PROTOCOL' });
  st.apply({ t: 'streamDestroyAll' });
  assert.throws(() => st.apply({ t: 'streamClip', id: 1, clip: null }), { code: 'PROTOCOL' });
});

test('onStreamFrame returning true takes the frame away from the built-in path', () => {
  const st = makeState(4, 4, SurfaceFmt._32_xRGB, [], { onStreamFrame: () => true });
  st.apply({ t: 'streamCreate', stream: { surfaceId: 0, id: 1, flags: 0, codec: VideoCodecType.H264, streamWidth: 4, streamHeight: 4, srcWidth: 4, srcHeight: 4, dest: rect(0, 0, 4, 4), clip: null } });
  st.apply({ t: 'streamData', id: 1, mmTime: 5, data: new Uint8Array(3) });
  assert.equal(st.stats().streamFramesSkipped, 0);
});
