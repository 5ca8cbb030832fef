// Draw ops of the compositor on small surfaces with hand-computed expected
// pixels (canvas_base.c / sw_canvas.c semantics).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlphaFlags, ImageScaleMode, MaskFlags, PathFlags, Ropd, SurfaceFmt } from '../../../main/spice/protocol/enums';
import type { DrawCommand } from '../../../preload/contract';
import { BitmapDecoder } from '../../../renderer/display/decoders/bitmap';
import { DisplayState } from '../../../renderer/display/display-state';
import { ImageType } from '../../../main/spice/protocol/enums';
import { NO_MASK, base, bitmap, copyCmd, hex, makeState, maskBitmap, paint, px, rect, snapshot, surfaceImage } from './helpers';

const BG = 0x00102030;

function fill(box = rect(0, 0, 8, 8), color = 0x00ff0000, ropd: number = Ropd.OP_PUT, clip: ReturnType<typeof rect>[] | null = null, mask = NO_MASK): DrawCommand {
  return { op: 'fill', base: base(box, clip), brush: { type: 'solid', color }, ropd, mask };
}

function grid(st: DisplayState, w = 8, h = 8): string[] {
  const rows: string[] = [];
  for (let y = 0; y < h; y++) {
    let r = '';
    for (let x = 0; x < w; x++) r += px(st, x, y) === BG ? '.' : '#';
    rows.push(r);
  }
  return rows;
}

test('fill: solid PUT inside the box only', () => {
  const st = makeState();
  paint(st, () => BG);
  st.apply({ t: 'draw', cmd: fill(rect(2, 1, 5, 3), 0x00abcdef) });
  assert.equal(px(st, 2, 1), 0x00abcdef);
  assert.equal(px(st, 4, 2), 0x00abcdef);
  assert.equal(px(st, 5, 2), BG);
  assert.equal(px(st, 2, 3), BG);
  assert.equal(px(st, 1, 1), BG);
});

test('fill: box larger than the surface is clipped to it', () => {
  const st = makeState();
  paint(st, () => BG);
  st.apply({ t: 'draw', cmd: fill(rect(-5, -5, 100, 3), 0x00010203) });
  assert.equal(px(st, 0, 0), 0x00010203);
  assert.equal(px(st, 7, 2), 0x00010203);
  assert.equal(px(st, 7, 3), BG);
});

test('clip: union of several overlapping rects, XOR applied once per pixel', () => {
  const st = makeState();
  paint(st, () => BG);
  const clip = [rect(0, 0, 4, 4), rect(2, 2, 6, 6), rect(3, 0, 8, 1), rect(2, 2, 3, 3)];
  st.apply({ t: 'draw', cmd: fill(rect(1, 0, 7, 7), 0x00ffffff, Ropd.OP_XOR, clip) });
  const inClip = (x: number, y: number): boolean => clip.some((c) => x >= c.left && x < c.right && y >= c.top && y < c.bottom);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const inside = x >= 1 && x < 7 && y < 7 && inClip(x, y);
      assert.equal(px(st, x, y), inside ? (BG ^ 0xffffff) >>> 0 : BG, `(${x},${y})`);
    }
  }
});

test('mask: 1-bit mask at pos, with and without INVERS, BE and LE bit order', () => {
  const rows = ['1100', '0110', '0011'];
  for (const le of [false, true]) {
    for (const invers of [false, true]) {
      const st = makeState();
      paint(st, () => BG);
      // mask pixel (1,0) sits at the box origin (2,2).
      const mask = { flags: invers ? MaskFlags.INVERS : 0, pos: { x: 1, y: 0 }, bitmap: maskBitmap(rows, { le }) };
      st.apply({ t: 'draw', cmd: fill(rect(2, 2, 8, 8), 0x00ffffff, Ropd.OP_PUT, null, mask) });
      const got = grid(st);
      const want: string[] = [];
      for (let y = 0; y < 8; y++) {
        let r = '';
        for (let x = 0; x < 8; x++) {
          const mx = x - 2 + 1;
          const my = y - 2;
          const inMask = x >= 2 && y >= 2 && mx < 4 && my < 3;
          // Pixels outside the mask bitmap are never drawn, even with INVERS.
          const on = inMask && (rows[my][mx] === '1') !== invers;
          r += on ? '#' : '.';
        }
        want.push(r);
      }
      assert.deepEqual(got, want, `le=${le} invers=${invers}`);
    }
  }
});

test('fill: every ropd combination against the boolean formula', () => {
  const B = 0x00c3a55a; // brush
  const Dv = 0x0096f00f; // dest
  const opBits: [number, (s: number, d: number) => number][] = [
    [Ropd.OP_PUT, (s) => s],
    [Ropd.OP_OR, (s, d) => s | d],
    [Ropd.OP_AND, (s, d) => s & d],
    [Ropd.OP_XOR, (s, d) => s ^ d],
    [Ropd.OP_BLACKNESS, () => 0],
    [Ropd.OP_WHITENESS, () => -1],
    [Ropd.OP_INVERS, (_s, d) => ~d],
  ];
  for (const [opBit, f] of opBits) {
    for (let inv = 0; inv < 8; inv++) {
      const desc = opBit | (inv & 1 ? Ropd.INVERS_BRUSH : 0) | (inv & 2 ? Ropd.INVERS_DEST : 0) | (inv & 4 ? Ropd.INVERS_RES : 0);
      const st = makeState(2, 1);
      paint(st, () => Dv);
      st.apply({ t: 'draw', cmd: fill(rect(0, 0, 1, 1), B, desc) });
      let want: number;
      if (opBit === Ropd.OP_BLACKNESS || opBit === Ropd.OP_WHITENESS || opBit === Ropd.OP_INVERS) want = f(B, Dv);
      else {
        want = f(inv & 1 ? ~B : B, inv & 2 ? ~Dv : Dv);
        if (inv & 4) want = ~want;
      }
      assert.equal(hex(px(st, 0, 0)), hex(want), `ropd 0x${desc.toString(16)}`);
      assert.equal(px(st, 1, 0), Dv);
    }
  }
});

test('copy: source area placed at the box, PUT and XOR', () => {
  const img = bitmap(4, 3, Array.from({ length: 12 }, (_, i) => 0x010101 * (i + 1)));
  const st = makeState();
  paint(st, () => BG);
  // src_area (1,1)-(3,3) → box (5,4)-(7,6)
  st.apply({ t: 'draw', cmd: copyCmd(rect(5, 4, 7, 6), img, rect(1, 1, 3, 3)) });
  assert.equal(px(st, 5, 4), 0xff060606); // src (1,1) = index 5 → value 6, alpha from the decoder
  assert.equal(px(st, 6, 4), 0xff070707);
  assert.equal(px(st, 5, 5), 0xff0a0a0a);
  assert.equal(px(st, 6, 5), 0xff0b0b0b);
  assert.equal(px(st, 4, 4), BG);
  assert.equal(px(st, 7, 5), BG);
  st.apply({ t: 'draw', cmd: copyCmd(rect(5, 4, 7, 6), img, rect(1, 1, 3, 3), Ropd.OP_XOR) });
  assert.equal(px(st, 5, 4), 0);
  // blend is the same operation as copy in the software canvas
  st.apply({ t: 'draw', cmd: { ...(copyCmd(rect(0, 0, 1, 1), img, rect(0, 0, 1, 1)) as object), op: 'blend' } as DrawCommand });
  assert.equal(px(st, 0, 0), 0xff010101);
});

test('copy: source smaller than the area leaves the rest untouched (spice_pixman_blit clipping)', () => {
  const st = makeState();
  paint(st, () => BG);
  st.apply({ t: 'draw', cmd: copyCmd(rect(0, 0, 4, 4), bitmap(2, 2, [1, 2, 3, 4]), rect(0, 0, 4, 4), Ropd.OP_PUT, { scaleMode: 1 }) });
  // srcArea 4×4 vs box 4×4: same size, but the image is 2×2
  assert.equal(px(st, 1, 1), 0xff000004);
  assert.equal(px(st, 2, 2), BG);
});

test('copy from a SURFACE image, including from the surface onto itself', () => {
  const st = makeState();
  st.apply({ t: 'surfaceCreate', surfaceId: 5, width: 4, height: 4, format: SurfaceFmt._32_xRGB, flags: 0 });
  paint(st, (x, y) => 0x100 * y + x, 5);
  paint(st, () => BG);
  st.apply({ t: 'draw', cmd: copyCmd(rect(0, 0, 2, 2), surfaceImage(5), rect(2, 2, 4, 4)) });
  assert.equal(px(st, 0, 0), 0x202);
  assert.equal(px(st, 1, 1), 0x303);
  paint(st, (x, y) => y * 8 + x);
  st.apply({ t: 'draw', cmd: copyCmd(rect(1, 1, 8, 8), surfaceImage(0), rect(0, 0, 7, 7)) });
  for (let y = 1; y < 8; y++) for (let x = 1; x < 8; x++) assert.equal(px(st, x, y), (y - 1) * 8 + (x - 1));
});

test('opaque: source copied, then the brush applied with the rop on top of it', () => {
  const st = makeState();
  paint(st, () => BG);
  const img = bitmap(2, 1, [0x00ff00, 0x0000ff]);
  const cmd: DrawCommand = {
    op: 'opaque',
    base: base(rect(0, 0, 2, 1)),
    src: img,
    srcArea: rect(0, 0, 2, 1),
    brush: { type: 'solid', color: 0x00ff0000 },
    ropd: Ropd.OP_XOR,
    scaleMode: 1,
    mask: NO_MASK,
  };
  st.apply({ t: 'draw', cmd });
  assert.equal(px(st, 0, 0), (0xff00ff00 ^ 0x00ff0000) >>> 0);
  assert.equal(px(st, 1, 0), (0xff0000ff ^ 0x00ff0000) >>> 0);
  // INVERS_SRC inverts the copied image (it plays "dest" of the brush rop)
  st.apply({ t: 'draw', cmd: { ...cmd, ropd: Ropd.OP_AND | Ropd.INVERS_SRC } as DrawCommand });
  assert.equal(px(st, 0, 0), (0x00ff0000 & ~0xff00ff00) >>> 0);
});

test('blackness, whiteness, invers', () => {
  const st = makeState();
  paint(st, () => BG);
  st.apply({ t: 'draw', cmd: { op: 'blackness', base: base(rect(0, 0, 1, 1)), mask: NO_MASK } });
  st.apply({ t: 'draw', cmd: { op: 'whiteness', base: base(rect(1, 0, 2, 1)), mask: NO_MASK } });
  st.apply({ t: 'draw', cmd: { op: 'invers', base: base(rect(2, 0, 3, 1)), mask: NO_MASK } });
  assert.equal(px(st, 0, 0), 0);
  assert.equal(px(st, 1, 0), 0xffffffff);
  assert.equal(px(st, 2, 0), ~BG >>> 0);
  assert.equal(px(st, 3, 0), BG);
});

test('fill with a pattern brush tiles from the brush position', () => {
  const st = makeState();
  paint(st, () => BG);
  const pat = bitmap(2, 2, [1, 2, 3, 4]);
  st.apply({ t: 'draw', cmd: { op: 'fill', base: base(rect(0, 0, 4, 3)), brush: { type: 'pattern', pattern: pat, pos: { x: 1, y: 0 } }, ropd: Ropd.OP_PUT, mask: NO_MASK } });
  // tile pixel for (x,y) = ((x-1) mod 2, y mod 2)
  const want = [
    [2, 1, 2, 1],
    [4, 3, 4, 3],
    [2, 1, 2, 1],
  ];
  for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) assert.equal(px(st, x, y), (0xff000000 | want[y][x]) >>> 0, `(${x},${y})`);
});

test('rop3 with source, solid brush and dest against the truth table', () => {
  const S = [0x00f0f0f0, 0x000f0f0f, 0x00aaaaaa, 0x00555555];
  const Dv = 0x00cc33cc;
  const Pv = 0x00ff00ff;
  for (const code of [0x00, 0xff, 0xcc, 0x33, 0x66, 0x88, 0xf0, 0x5a, 0xb8, 0xe2, 0x1e]) {
    const st = makeState(4, 1);
    paint(st, () => Dv);
    st.apply({
      t: 'draw',
      cmd: { op: 'rop3', base: base(rect(0, 0, 4, 1)), src: bitmap(4, 1, S), srcArea: rect(0, 0, 4, 1), brush: { type: 'solid', color: Pv }, rop3: code, scaleMode: 1, mask: NO_MASK },
    });
    for (let x = 0; x < 4; x++) {
      const s = (S[x] | 0xff000000) >>> 0;
      let want = 0;
      for (let b = 0; b < 32; b++) {
        const idx = (((Pv >>> b) & 1) << 2) | (((s >>> b) & 1) << 1) | ((Dv >>> b) & 1);
        if ((code >> idx) & 1) want |= 1 << b;
      }
      assert.equal(hex(px(st, x, 0)), hex(want), `code 0x${code.toString(16)} x=${x}`);
    }
  }
});

test('transparent: pixels equal to the key colour (RGB only) are skipped', () => {
  const st = makeState();
  paint(st, () => BG);
  const img = bitmap(3, 1, [0x123456, 0x00ff00, 0x123456]);
  st.apply({ t: 'draw', cmd: { op: 'transparent', base: base(rect(0, 0, 3, 1)), src: img, srcArea: rect(0, 0, 3, 1), srcColor: 0, trueColor: 0xff123456 } });
  assert.equal(px(st, 0, 0), BG);
  assert.equal(px(st, 1, 0), 0xff00ff00);
  assert.equal(px(st, 2, 0), BG);
});

test('alphaBlend: pixman OVER with premultiplied RGBA source and overall alpha', () => {
  // MUL_UN8 as pixman defines it: t = a*b + 0x80; ((t >> 8) + t) >> 8
  const mul = (a: number, b: number): number => {
    const t = a * b + 0x80;
    return ((t >> 8) + t) >> 8;
  };
  const st = makeState(2, 1, SurfaceFmt._32_ARGB);
  const dest = 0xff204060;
  paint(st, () => dest);
  const src = 0x80400000; // premultiplied: alpha 0x80, red 0x40
  const img = bitmap(1, 1, [src], { rgba: true });
  st.apply({ t: 'draw', cmd: { op: 'alphaBlend', base: base(rect(0, 0, 1, 1)), alphaFlags: 0, alpha: 0xff, src: img, srcArea: rect(0, 0, 1, 1) } });
  const ch = (v: number, sh: number): number => (v >>> sh) & 0xff;
  const over = (s: number, d: number): number => {
    const ia = 255 - (s >>> 24);
    let r = 0;
    for (const sh of [24, 16, 8, 0]) r |= Math.min(255, ch(s, sh) + mul(ch(d, sh), ia)) << sh;
    return r >>> 0;
  };
  assert.equal(hex(px(st, 0, 0)), hex(over(src, dest)));
  assert.equal(px(st, 1, 0), dest);
  // With an overall alpha of 0x40 the source is first scaled by it (pixman solid mask).
  paint(st, () => dest);
  st.apply({ t: 'draw', cmd: { op: 'alphaBlend', base: base(rect(0, 0, 1, 1)), alphaFlags: 0, alpha: 0x40, src: img, srcArea: rect(0, 0, 1, 1) } });
  let sm = 0;
  for (const sh of [24, 16, 8, 0]) sm |= mul(ch(src, sh), 0x40) << sh;
  assert.equal(hex(px(st, 0, 0)), hex(over(sm >>> 0, dest)));
});

test('alphaBlend onto xRGB without DEST_HAS_ALPHA clears the alpha bytes (clear_dest_alpha)', () => {
  const st = makeState(2, 1);
  paint(st, () => 0x00204060);
  const img = bitmap(1, 1, [0x80400000], { rgba: true });
  st.apply({ t: 'draw', cmd: { op: 'alphaBlend', base: base(rect(0, 0, 1, 1)), alphaFlags: 0, alpha: 0xff, src: img, srcArea: rect(0, 0, 1, 1) } });
  // dest read with alpha 0xff: r = 0x40 + 0x20*0x7f/255, g = 0x40*0x7f/255, b = 0x60*0x7f/255
  assert.equal(hex(px(st, 0, 0)), hex(0x00502030));
  // with DEST_HAS_ALPHA the dest alpha (0) is used and kept
  paint(st, () => 0x00204060);
  st.apply({ t: 'draw', cmd: { op: 'alphaBlend', base: base(rect(0, 0, 1, 1)), alphaFlags: AlphaFlags.DEST_HAS_ALPHA, alpha: 0xff, src: img, srcArea: rect(0, 0, 1, 1) } });
  assert.equal(hex(px(st, 0, 0)), hex(0x80502030));
});

test('copyBits: overlapping moves in all four directions read unmodified pixels', () => {
  const cases = [
    { src: { x: 1, y: 1 }, box: rect(2, 3, 7, 8) }, // south-east
    { src: { x: 3, y: 1 }, box: rect(1, 2, 6, 7) }, // south-west
    { src: { x: 1, y: 3 }, box: rect(2, 1, 7, 5) }, // north-east
    { src: { x: 3, y: 3 }, box: rect(0, 0, 5, 4) }, // north-west
    { src: { x: 3, y: 2 }, box: rect(1, 2, 6, 6) }, // same rows, leftwards
    { src: { x: 0, y: 2 }, box: rect(2, 2, 7, 6) }, // same rows, rightwards
  ];
  for (const c of cases) {
    for (const clip of [null, [rect(0, 0, 4, 8), rect(4, 0, 8, 3), rect(5, 5, 8, 8)]]) {
      const st = makeState();
      paint(st, (x, y) => y * 16 + x + 1);
      const before = snapshot(st);
      st.apply({ t: 'draw', cmd: { op: 'copyBits', base: base(c.box, clip), srcPos: c.src } });
      const dx = c.box.left - c.src.x;
      const dy = c.box.top - c.src.y;
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) {
          const inBox = x >= c.box.left && x < c.box.right && y >= c.box.top && y < c.box.bottom;
          const inClip = !clip || clip.some((r) => x >= r.left && x < r.right && y >= r.top && y < r.bottom);
          const want = inBox && inClip ? before[(y - dy) * 8 + (x - dx)] : before[y * 8 + x];
          assert.equal(px(st, x, y), want, `src ${JSON.stringify(c.src)} (${x},${y}) clip=${!!clip}`);
        }
      }
    }
  }
});

test('scale NEAREST doubles pixels; INTERPOLATE follows pixman bilinear weights', () => {
  const st = makeState();
  paint(st, () => BG);
  const img = bitmap(2, 2, [0x0000c8, 0x000064, 0x00c800, 0x006400]);
  st.apply({ t: 'draw', cmd: copyCmd(rect(0, 0, 4, 4), img, rect(0, 0, 2, 2), Ropd.OP_PUT, { scaleMode: ImageScaleMode.NEAREST }) });
  const want = [
    [0xc8, 0xc8, 0x64, 0x64],
    [0xc8, 0xc8, 0x64, 0x64],
    [0xc800, 0xc800, 0x6400, 0x6400],
    [0xc800, 0xc800, 0x6400, 0x6400],
  ];
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) assert.equal(px(st, x, y) & 0xffffff, want[y][x], `(${x},${y})`);
  // 2×1 → 4×1 bilinear: samples at x = -1/4, 1/4, 3/4, 5/4 of the source; outside is transparent black.
  // Hand-computed with 7-bit weights: 200·192/256, (200·192+100·64)/256, (200·64+100·192)/256, 100·192/256.
  const st2 = makeState(4, 1);
  st2.apply({ t: 'draw', cmd: copyCmd(rect(0, 0, 4, 1), bitmap(2, 1, [200, 100]), rect(0, 0, 2, 1), Ropd.OP_PUT, { scaleMode: ImageScaleMode.INTERPOLATE }) });
  assert.deepEqual([0, 1, 2, 3].map((x) => px(st2, x, 0) & 0xff), [150, 175, 125, 75]);
});

test('stroke: X11 zero-width lines without the last point (CapNotLast)', () => {
  const st = makeState();
  paint(st, () => BG);
  const fx = (v: number): number => v << 4;
  st.apply({
    t: 'draw',
    cmd: {
      op: 'stroke',
      base: base(rect(0, 0, 8, 8)),
      path: [{ flags: PathFlags.BEGIN | PathFlags.END, points: [{ x: fx(1), y: fx(1) }, { x: fx(5), y: fx(1) }, { x: fx(5), y: fx(4) }] }],
      attr: { flags: 0, style: [] },
      brush: { type: 'solid', color: 0x00ffffff },
      foreMode: Ropd.OP_PUT,
      backMode: Ropd.OP_PUT,
    },
  });
  // Each segment omits its own end point; the joint (5,1) is the next segment's first pixel.
  assert.deepEqual(grid(st), ['........', '.#####..', '.....#..', '.....#..', '........', '........', '........', '........']);
  // A diagonal 0,0 → 4,2: Bresenham with X's octant bias.
  const st2 = makeState();
  paint(st2, () => BG);
  st2.apply({
    t: 'draw',
    cmd: {
      op: 'stroke',
      base: base(rect(0, 0, 8, 8)),
      path: [{ flags: PathFlags.BEGIN | PathFlags.END, points: [{ x: 0, y: 0 }, { x: fx(4), y: fx(2) }] }],
      attr: { flags: 0, style: [] },
      brush: { type: 'solid', color: 0x00ffffff },
      foreMode: Ropd.OP_PUT,
      backMode: Ropd.OP_PUT,
    },
  });
  // octant 0 (x major, increasing): e starts at 2·2−4 = 0, no bias → step y at the first pixel where e ≥ 0
  assert.deepEqual(grid(st2).slice(0, 3), ['#.......', '.##.....', '...#....']);
});

test('composite: SRC and OVER with a mask image', () => {
  const st = makeState(2, 1, SurfaceFmt._32_ARGB);
  paint(st, () => 0xff000080);
  const src = bitmap(2, 1, [0x80800000, 0xffffffff], { rgba: true });
  const mask = bitmap(2, 1, [0xff000000, 0x80000000], { rgba: true });
  const cmd = (flags: number): DrawCommand => ({
    op: 'composite',
    base: base(rect(0, 0, 2, 1)),
    flags,
    src,
    mask,
    srcTransform: null,
    maskTransform: null,
    srcOrigin: { x: 0, y: 0 },
    maskOrigin: { x: 0, y: 0 },
  });
  st.apply({ t: 'draw', cmd: cmd(1) }); // SRC, no mask
  assert.equal(px(st, 0, 0), 0x80800000);
  assert.equal(px(st, 1, 0), 0xffffffff);
  paint(st, () => 0xff000080);
  st.apply({ t: 'draw', cmd: cmd(3 | (1 << 19)) }); // OVER with mask
  // pixel 0: mask 0xff → s over d: a = 0x80 + 0xff·0x7f/255 = 0xff, r = 0x80, b = 0x80·0x7f/255 = 0x40
  assert.equal(hex(px(st, 0, 0)), hex(0xff800040));
  // pixel 1: s·0x80/255 = 0x80808080, then + d·0x7f/255: b = 0x80 + 0x40
  assert.equal(hex(px(st, 1, 0)), hex(0xff8080c0));
  assert.equal(st.stats().imagesDecoded > 0, true);
});

test('composite outside the subset is drawn as a copy and counted', () => {
  const st = makeState(2, 1);
  const src = bitmap(2, 1, [0x111111, 0x222222]);
  st.apply({
    t: 'draw',
    cmd: { op: 'composite', base: base(rect(0, 0, 2, 1)), flags: 3 | (1 << 20), src, mask: null, srcTransform: [0x20000, 0, 0, 0, 0x20000, 0], maskTransform: null, srcOrigin: { x: 0, y: 0 }, maskOrigin: { x: 0, y: 0 } },
  });
  assert.equal(px(st, 1, 0), 0xff222222);
  assert.equal((st.stats() as { compositeFallbacks: number }).compositeFallbacks, 1);
});

test('16_555 surfaces keep 5 bits per channel; solid colours are 555 values', () => {
  const st = makeState(2, 1, SurfaceFmt._16_555);
  st.apply({ t: 'draw', cmd: fill(rect(0, 0, 1, 1), 0x7c1f) }); // red 31, blue 31
  assert.equal(px(st, 0, 0) & 0xffffff, 0xff00ff);
  st.apply({ t: 'draw', cmd: copyCmd(rect(1, 0, 2, 1), bitmap(1, 1, [0x123456]), rect(0, 0, 1, 1)) });
  // 0x12 → 0x10|0x10>>5 = 0x10, 0x34 → 0x30|0x01 = 0x31, 0x56 → 0x50|0x02 = 0x52
  assert.equal(px(st, 1, 0) & 0xffffff, 0x103152);
});

test('8_A surfaces: a fill writes the colour low byte as alpha', () => {
  const st = makeState(1, 1, SurfaceFmt._8_A);
  st.apply({ t: 'draw', cmd: fill(rect(0, 0, 1, 1), 0x12345678) });
  assert.equal(px(st, 0, 0), 0x78000000);
});

test('unknown surface and missing source are SpiceErrors', () => {
  const st = makeState();
  assert.throws(() => st.apply({ t: 'draw', cmd: { ...fill(), base: base(rect(0, 0, 1, 1), null, 9) } as DrawCommand }), { name: 'SpiceError', code: 'PROTOCOL' });
  assert.throws(() => st.apply({ t: 'surfaceDestroy', surfaceId: 9 }), { code: 'PROTOCOL' });
  assert.throws(() => st.apply({ t: 'draw', cmd: { ...(copyCmd(rect(0, 0, 1, 1), bitmap(1, 1, [0]), rect(0, 0, 1, 1)) as object), src: null } as DrawCommand }), {
    code: 'BAD_MESSAGE',
  });
  assert.throws(() => st.apply({ t: 'surfaceCreate', surfaceId: 3, width: 0, height: 4, format: SurfaceFmt._32_xRGB, flags: 0 }), { code: 'PROTOCOL' });
  assert.throws(() => st.apply({ t: 'surfaceCreate', surfaceId: 3, width: 70000, height: 70000, format: SurfaceFmt._32_xRGB, flags: 0 }), { code: 'LIMIT' });
});

test('performance: a 1024×768 PUT copy takes a few ms', () => {
  const st = new DisplayState({ decoders: new Map([[ImageType.BITMAP, new BitmapDecoder()]]) });
  st.apply({ t: 'surfaceCreate', surfaceId: 0, width: 1024, height: 768, format: SurfaceFmt._32_xRGB, flags: 1 });
  st.apply({ t: 'surfaceCreate', surfaceId: 1, width: 1024, height: 768, format: SurfaceFmt._32_xRGB, flags: 0 });
  const cmd = copyCmd(rect(0, 0, 1024, 768), surfaceImage(1), rect(0, 0, 1024, 768));
  for (let i = 0; i < 5; i++) st.apply({ t: 'draw', cmd });
  const n = 20;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) st.apply({ t: 'draw', cmd });
  const ms = (performance.now() - t0) / n;
  console.log(`# 1024x768 surface copy: ${ms.toFixed(2)} ms`);
  assert.ok(ms < 25, `copy took ${ms} ms`);
});
