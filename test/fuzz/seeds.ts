// Fuzz seeds: display command streams (from the captured spice-server
// sessions in test/vectors/captured and from the test encoders: every image
// codec and every draw op) and server byte streams for the engine (link
// reply, auth result, each channel's messages, migration announcements).
import { deflateSync } from 'node:zlib';
import { BitmapFlags, BitmapFmt, ImageFlags, ImageType, SurfaceFlags, SurfaceFmt, VideoCodecType } from '../../main/spice/protocol/enums';
import type { DisplayCommand, DrawCommand, Rect, SpiceImage } from '../../preload/contract';
import { CAPTURED_CODECS, loadCaptured } from '../helpers/captured';
import { desktopImage, GlzTestEncoder, lz4EncodeImage, lzEncode, mixedImage, T } from '../unit/decoders/lz-test-encoders';
import { encodeQuic, QUIC_TYPE } from '../unit/decoders/quic-encoder';

/** A 16×12 baseline JPEG made with cjpeg -quality 80 (the JPEG, JPEG_ALPHA and MJPEG seeds). */
export const JPEG_16x12 = Uint8Array.from(Buffer.from('/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAYEBQYFBAYGBQYHBwYIChAKCgkJChQODwwQFxQYGBcUFhYaHSUfGhsjHBYWICwgIyYnKSopGR8tMC0oMCUoKSj/2wBDAQcHBwoIChMKChMoGhYaKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCgoKCj/wAARCAAMABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwDyPR/Cedv7v9K7jR/B+dv7v9K7XRNNtvl+SvQNE0y1O35K+ShjJYj4hcMcS1lyn//Z', 'base64'));

const W = 64;
const H = 48;
const NO_MASK = { flags: 0, pos: { x: 0, y: 0 }, bitmap: null };
const rect = (left: number, top: number, right: number, bottom: number): Rect => ({ left, top, right, bottom });
const base = (box: Rect, clip: Rect[] | null = null, surfaceId = 0) => ({ surfaceId, box, clip });
const primary = (w = W, h = H, format: number = SurfaceFmt._32_xRGB): DisplayCommand => ({ t: 'surfaceCreate', surfaceId: 0, width: w, height: h, format, flags: SurfaceFlags.PRIMARY });
const draw = (cmd: DrawCommand): DisplayCommand => ({ t: 'draw', cmd });

function image(type: number, w: number, h: number, data: SpiceImage['data'], id = 0n, flags = 0): SpiceImage {
  return { descriptor: { id, type, flags, width: w, height: h }, data };
}

function bitmap32(w: number, h: number, px: Uint32Array, rgba = false): SpiceImage {
  const data = new Uint8Array(px.buffer.slice(0));
  return image(ImageType.BITMAP, w, h, { kind: 'bitmap', format: rgba ? BitmapFmt.RGBA : BitmapFmt._32BIT, flags: BitmapFlags.TOP_DOWN, x: w, y: h, stride: w * 4, palette: null, data });
}

function copy(src: SpiceImage, box: Rect, area: Rect, extra: Partial<Extract<DrawCommand, { op: 'copy' }>> = {}): DisplayCommand {
  return draw({ op: 'copy', base: base(box), src, srcArea: area, ropd: 8, scaleMode: 1, mask: NO_MASK, ...extra });
}

function imageSeeds(): { name: string; commands: DisplayCommand[] }[] {
  const w = 24;
  const h = 16;
  const px = mixedImage(w, h, 7);
  const pxa = mixedImage(w, h, 8, true);
  const out: { name: string; commands: DisplayCommand[] }[] = [];
  const one = (name: string, img: SpiceImage) => out.push({ name, commands: [primary(), copy(img, rect(3, 5, 3 + w, 5 + h), rect(0, 0, w, h))] });
  one('bitmap-32', bitmap32(w, h, px));
  one('bitmap-rgba', bitmap32(w, h, pxa, true));
  const idx = Uint8Array.from({ length: w * h }, (_, i) => (i * 7) % 16);
  const pal = { palette: { unique: 5n, ents: Uint32Array.from({ length: 16 }, (_, i) => i * 0x101010) }, cacheMe: true };
  one('bitmap-8bit-pal', image(ImageType.BITMAP, w, h, { kind: 'bitmap', format: BitmapFmt._8BIT, flags: BitmapFlags.TOP_DOWN, x: w, y: h, stride: w, palette: pal, data: idx }));
  one('quic-rgb32', image(ImageType.QUIC, w, h, { kind: 'quic', data: encodeQuic(QUIC_TYPE.RGB32, w, h, px) }));
  one('quic-rgba', image(ImageType.QUIC, w, h, { kind: 'quic', data: encodeQuic(QUIC_TYPE.RGBA, w, h, pxa) }));
  one('quic-rgb16', image(ImageType.QUIC, w, h, { kind: 'quic', data: encodeQuic(QUIC_TYPE.RGB16, w, h, px) }));
  for (const [name, type] of [['rgb32', T.RGB32], ['rgb24', T.RGB24], ['rgb16', T.RGB16], ['rgba', T.RGBA]] as const) {
    const data = lzEncode({ type, width: w, height: h, topDown: name !== 'rgb24', pixels: type === T.RGBA ? pxa : px });
    one(`lz-${name}`, image(ImageType.LZ_RGB, w, h, { kind: 'lz_rgb', data }, 9n, ImageFlags.CACHE_ME));
  }
  one('lz-plt8', image(ImageType.LZ_PLT, w, h, { kind: 'lz_plt', flags: 0, palette: pal, data: lzEncode({ type: T.PLT8, width: w, height: h, topDown: true, indices: idx }) }));
  {
    const enc = new GlzTestEncoder();
    const a = enc.encode(T.RGB32, 1n, 0, w, h, true, px);
    const b = enc.encode(T.RGB32, 2n, 1, w, h, true, desktopImage(w, h, 3));
    const c = enc.encode(T.RGBA, 3n, 2, w, h, false, pxa);
    out.push({
      name: 'glz-window',
      commands: [
        primary(),
        copy(image(ImageType.GLZ_RGB, w, h, { kind: 'glz_rgb', data: a }), rect(0, 0, w, h), rect(0, 0, w, h)),
        copy(image(ImageType.GLZ_RGB, w, h, { kind: 'glz_rgb', data: b }), rect(10, 10, 10 + w, 10 + h), rect(0, 0, w, h)),
        copy(image(ImageType.ZLIB_GLZ_RGB, w, h, { kind: 'zlib_glz_rgb', glzDataSize: c.length, data: new Uint8Array(deflateSync(c)) }), rect(20, 20, 20 + w, 20 + h), rect(0, 0, w, h)),
      ],
    });
  }
  {
    const raw = new Uint8Array(px.buffer.slice(0));
    one('lz4-32', image(ImageType.LZ4, w, h, { kind: 'lz4', data: lz4EncodeImage(raw, w * 4, h, true, BitmapFmt._32BIT, 5) }));
    const raw24 = new Uint8Array(w * 3 * h);
    for (let i = 0; i < w * h; i++) raw24.set([px[i] & 255, (px[i] >>> 8) & 255, (px[i] >>> 16) & 255], i * 3);
    one('lz4-24', image(ImageType.LZ4, w, h, { kind: 'lz4', data: lz4EncodeImage(raw24, w * 3, h, false, BitmapFmt._24BIT, 16) }));
  }
  one('jpeg', image(ImageType.JPEG, 16, 12, { kind: 'jpeg', data: JPEG_16x12 }));
  {
    const alpha = lzEncode({ type: T.XXXA, width: 16, height: 12, topDown: true, pixels: mixedImage(16, 12, 9, true) });
    const data = new Uint8Array(JPEG_16x12.length + alpha.length);
    data.set(JPEG_16x12);
    data.set(alpha, JPEG_16x12.length);
    one('jpeg-alpha', image(ImageType.JPEG_ALPHA, 16, 12, { kind: 'jpeg_alpha', flags: 1, jpegSize: JPEG_16x12.length, data }));
  }
  return out;
}

function opSeeds(): { name: string; commands: DisplayCommand[] }[] {
  const tile = bitmap32(4, 4, Uint32Array.from({ length: 16 }, (_, i) => (i & 1 ? 0xff0000 : 0x00ff00)));
  const src = bitmap32(8, 8, mixedImage(8, 8, 3));
  const mask: SpiceImage = image(ImageType.BITMAP, 8, 8, { kind: 'bitmap', format: BitmapFmt._1BIT_BE, flags: BitmapFlags.TOP_DOWN, x: 8, y: 8, stride: 1, palette: null, data: Uint8Array.of(0xf0, 0x0f, 0xaa, 0x55, 0xff, 0, 0x81, 0x18) });
  const surf: SpiceImage = image(ImageType.SURFACE, 0, 0, { kind: 'surface', surfaceId: 1 });
  const box = rect(4, 4, 36, 28);
  const clip = [rect(0, 0, 20, 48), rect(30, 10, 64, 20)];
  const p = (x: number, y: number) => ({ x: x << 4, y: y << 4 });
  const ops: DrawCommand[] = [
    { op: 'fill', base: base(box, clip), brush: { type: 'solid', color: 0x123456 }, ropd: 8, mask: NO_MASK },
    { op: 'fill', base: base(box), brush: { type: 'pattern', pattern: tile, pos: { x: 1, y: 2 } }, ropd: 0x10, mask: { flags: 1, pos: { x: 4, y: 4 }, bitmap: mask } },
    { op: 'opaque', base: base(box), src, srcArea: rect(0, 0, 8, 8), brush: { type: 'pattern', pattern: tile, pos: { x: 0, y: 0 } }, ropd: 0x20, scaleMode: 2, mask: NO_MASK },
    { op: 'blend', base: base(rect(0, 0, 8, 8)), src, srcArea: rect(0, 0, 8, 8), ropd: 0x40, scaleMode: 1, mask: NO_MASK },
    { op: 'copy', base: base(rect(2, 2, 50, 40), clip), src, srcArea: rect(1, 1, 7, 7), ropd: 8, scaleMode: 2, mask: NO_MASK },
    { op: 'copy', base: base(rect(2, 2, 18, 18)), src, srcArea: rect(0, 0, 8, 8), ropd: 8, scaleMode: 1, mask: NO_MASK },
    { op: 'blackness', base: base(box), mask: { flags: 0, pos: { x: 4, y: 4 }, bitmap: mask } },
    { op: 'whiteness', base: base(box, clip), mask: NO_MASK },
    { op: 'invers', base: base(box), mask: NO_MASK },
    { op: 'rop3', base: base(rect(4, 4, 12, 12)), src, srcArea: rect(0, 0, 8, 8), brush: { type: 'pattern', pattern: tile, pos: { x: 0, y: 0 } }, rop3: 0xb8, scaleMode: 1, mask: NO_MASK },
    { op: 'rop3', base: base(rect(4, 4, 20, 20)), src, srcArea: rect(0, 0, 8, 8), brush: { type: 'solid', color: 0xff00ff }, rop3: 0x96, scaleMode: 2, mask: NO_MASK },
    {
      op: 'stroke',
      base: base(rect(0, 0, W, H), clip),
      path: [
        { flags: 1, points: [p(1, 1), p(60, 40), p(3, 47)] },
        { flags: 2 | 8 | 16, points: [p(10, 0), p(50, 60), p(63, 5)] },
      ],
      attr: { flags: 0, style: [] },
      brush: { type: 'solid', color: 0xabcdef },
      foreMode: 8,
      backMode: 8,
    },
    { op: 'transparent', base: base(rect(0, 0, 16, 16)), src, srcArea: rect(0, 0, 8, 8), srcColor: 0, trueColor: 0x00ff00 },
    { op: 'alphaBlend', base: base(rect(5, 5, 13, 13)), alphaFlags: 0, alpha: 128, src: bitmap32(8, 8, mixedImage(8, 8, 4, true), true), srcArea: rect(0, 0, 8, 8) },
    { op: 'alphaBlend', base: base(rect(5, 5, 30, 20)), alphaFlags: 2, alpha: 255, src: surf, srcArea: rect(0, 0, 16, 16) },
    { op: 'copyBits', base: base(rect(10, 10, 40, 30), clip), srcPos: { x: 5, y: 7 } },
    { op: 'composite', base: base(rect(0, 0, 20, 20)), flags: 3 | (1 << 14), src, mask: null, srcTransform: null, maskTransform: null, srcOrigin: { x: 1, y: 1 }, maskOrigin: { x: 0, y: 0 } },
    { op: 'copy', base: base(rect(0, 0, 16, 16)), src: surf, srcArea: rect(0, 0, 16, 16), ropd: 8, scaleMode: 1, mask: NO_MASK },
  ];
  const surface1: DisplayCommand = { t: 'surfaceCreate', surfaceId: 1, width: 16, height: 16, format: SurfaceFmt._32_ARGB, flags: 0 };
  const out = ops.map((cmd, i) => ({ name: `op-${i}-${cmd.op}`, commands: [primary(), surface1, draw(cmd)] }));
  out.push({ name: 'op-16bit', commands: [primary(W, H, SurfaceFmt._16_565), draw(ops[0]), draw(ops[1]), draw(ops[11])] });
  const streamCreate: DisplayCommand = {
    t: 'streamCreate',
    stream: { surfaceId: 0, id: 3, flags: 0, codec: VideoCodecType.MJPEG, streamWidth: 16, streamHeight: 12, srcWidth: 16, srcHeight: 12, dest: rect(4, 4, 36, 28), clip: null },
  };
  out.push({
    name: 'stream',
    commands: [
      primary(),
      streamCreate,
      { t: 'streamData', id: 3, mmTime: 1, data: JPEG_16x12 },
      { t: 'streamClip', id: 3, clip: [rect(0, 0, 20, 20)] },
      { t: 'streamData', id: 3, mmTime: 2, width: 16, height: 12, dest: rect(0, 0, 64, 48), data: JPEG_16x12 },
      { t: 'streamDestroy', id: 3 },
    ],
  });
  out.push({
    name: 'misc',
    commands: [
      primary(),
      { t: 'monitorsConfig', maxAllowed: 1, heads: [{ id: 0, surfaceId: 0, width: W, height: H, x: 0, y: 0, flags: 0 }] },
      copy(bitmap32(8, 8, mixedImage(8, 8, 5)), rect(0, 0, 8, 8), rect(0, 0, 8, 8)),
      { t: 'invalList', resources: [{ type: 1, id: 9n }] },
      { t: 'invalPalette', id: 5n },
      { t: 'mark' },
      { t: 'reset' },
      surface1,
      { t: 'surfaceDestroy', surfaceId: 1 },
      { t: 'invalAllPixmaps' },
      { t: 'invalAllPalettes' },
      { t: 'streamDestroyAll' },
      { t: 'serverChanged' },
    ],
  });
  return out;
}

export interface DisplaySeed {
  name: string;
  commands: DisplayCommand[];
  /** Captured sessions are long: a case takes a window of them after the first surface. */
  captured?: boolean;
}

let displaySeedsCache: DisplaySeed[] | null = null;

export function displaySeeds(): DisplaySeed[] {
  if (displaySeedsCache) return displaySeedsCache;
  const seeds: DisplaySeed[] = [...imageSeeds(), ...opSeeds()];
  for (const codec of CAPTURED_CODECS) seeds.push({ name: `captured-${codec}`, commands: loadCaptured(codec).commands, captured: true });
  displaySeedsCache = seeds;
  return seeds;
}
