// Bridge codec: round trips and hostile input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeFrame, decodeFrame, CodecError, MAX_DEPTH } from '../../preload/codec';

const rt = (v: unknown): unknown => decodeFrame(encodeFrame(v));

test('scalars round trip', () => {
  for (const v of [null, undefined, true, false, 0, 1, -1, 0x7fffffff, -0x80000000, 0x80000000, 2 ** 53 - 1, 1.5, -1e-300, Infinity, -Infinity, '', 'héllo ☃ 𝄞']) {
    assert.deepEqual(rt(v), v);
  }
  assert.ok(Object.is(rt(-0), -0));
  assert.ok(Number.isNaN(rt(NaN)));
});

test('bigint round trip incl. u64 extremes and negatives', () => {
  for (const v of [0n, 1n, 255n, 256n, 0xffff_ffff_ffff_ffffn, 0x1_0000_0000_0000_0000n, -1n, -0x8000_0000_0000_0000n]) {
    assert.equal(rt(v), v);
  }
});

test('hand-built bytes decode (format is what the header says)', () => {
  // object {a: 5} : tag 12, count 1, key len 1, 'a', tag 4 int32 5
  const bytes = Uint8Array.from([12, 1, 0, 0, 0, 1, 0, 0, 0, 0x61, 4, 5, 0, 0, 0]);
  assert.deepEqual(decodeFrame(bytes), { a: 5 });
  assert.deepEqual(encodeFrame({ a: 5 }), bytes);
});

test('typed arrays: subarray views encode only their own bytes', () => {
  const parent = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const sub = parent.subarray(2, 5);
  const out = rt(sub) as Uint8Array;
  assert.ok(out instanceof Uint8Array);
  assert.deepEqual([...out], [3, 4, 5]);
  assert.equal(out.buffer.byteLength >= 3, true);

  const u32parent = Uint32Array.from([0xdeadbeef, 0xff00ff00, 0x12345678, 0xaabbccdd]);
  const u32sub = u32parent.subarray(1, 3);
  const out32 = rt(u32sub) as Uint32Array;
  assert.ok(out32 instanceof Uint32Array);
  assert.deepEqual([...out32], [0xff00ff00, 0x12345678]);

  // A decoded Uint32Array at an odd offset inside the frame must still decode (no alignment assumptions).
  const mixed = rt({ pad: Uint8Array.of(9), px: u32parent }) as { pad: Uint8Array; px: Uint32Array };
  assert.deepEqual([...mixed.px], [...u32parent]);
  // Decoded bytes are copies, not views of the frame.
  const frame = encodeFrame(Uint8Array.of(1, 2, 3));
  const dec = decodeFrame(frame) as Uint8Array;
  frame[frame.length - 1] = 99;
  assert.deepEqual([...dec], [1, 2, 3]);
});

test('nested BridgeFrame-like objects round trip', () => {
  const frame = {
    kind: 'event',
    name: 'display',
    batch: 42,
    payload: [
      { t: 'surfaceCreate', surfaceId: 0, width: 1024, height: 768, format: 32, flags: 1 },
      {
        t: 'draw',
        cmd: {
          op: 'copy',
          base: { surfaceId: 0, box: { top: 0, left: 0, bottom: 10, right: 10 }, clip: null },
          src: { descriptor: { id: 0xfedcba9876543210n, type: 0, flags: 1, width: 10, height: 10 }, data: { kind: 'quic', data: new Uint8Array([1, 2, 3]) } },
          srcArea: { top: 0, left: 0, bottom: 10, right: 10 },
          ropd: 8,
          scaleMode: 0,
          mask: { flags: 0, pos: { x: 0, y: 0 }, bitmap: null },
        },
      },
      { t: 'invalList', resources: [{ type: 1, id: 7n }] },
      { t: 'streamData', id: 1, mmTime: 123456, data: new Uint8Array(0), width: undefined },
    ],
  };
  assert.deepEqual(rt(frame), frame);
  assert.deepEqual(rt({ kind: 'request', name: 'connect', args: ['spice://127.0.0.1:5900', undefined] }), {
    kind: 'request',
    name: 'connect',
    args: ['spice://127.0.0.1:5900', undefined],
  });
});

test('a __proto__ key stays plain data', () => {
  const o = JSON.parse('{"__proto__": {"polluted": 1}}') as object;
  const out = rt(o) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.deepEqual(Object.keys(out), ['__proto__']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('encoding unsupported values throws', () => {
  assert.throws(() => encodeFrame(() => 1), CodecError);
  assert.throws(() => encodeFrame(new Map()), CodecError);
  assert.throws(() => encodeFrame(new Float32Array(2)), CodecError);
  assert.throws(() => encodeFrame(Symbol('x')), CodecError);
  let deep: unknown = 1;
  for (let i = 0; i < MAX_DEPTH + 5; i++) deep = [deep];
  assert.throws(() => encodeFrame(deep), /nesting/);
});

test('garbage and truncated frames throw a clear CodecError, never hang', () => {
  const good = encodeFrame({ a: [1, 'two', 3n, new Uint8Array(100), new Uint32Array(10)], b: { c: null } });
  // Every strict prefix is truncated.
  for (let n = 0; n < good.length; n++) {
    assert.throws(() => decodeFrame(good.subarray(0, n)), (e: unknown) => e instanceof CodecError && /truncated/.test(e.message), `prefix ${n}`);
  }
  // Trailing bytes.
  assert.throws(() => decodeFrame(Uint8Array.of(0, 0)), /trailing/);
  // Unknown tag.
  assert.throws(() => decodeFrame(Uint8Array.of(0xee)), /unknown tag 0xee/);
  // Lying lengths: huge counts with no payload must fail fast, without allocating.
  assert.throws(() => decodeFrame(Uint8Array.of(11, 0xff, 0xff, 0xff, 0xff)), /truncated/);
  assert.throws(() => decodeFrame(Uint8Array.of(12, 0xff, 0xff, 0xff, 0x7f)), /truncated/);
  assert.throws(() => decodeFrame(Uint8Array.of(10, 0xff, 0xff, 0xff, 0x3f)), /truncated/);
  assert.throws(() => decodeFrame(Uint8Array.of(9, 0xff, 0xff, 0xff, 0xff)), /truncated/);
  // Invalid UTF-8.
  assert.throws(() => decodeFrame(Uint8Array.of(6, 2, 0, 0, 0, 0xc3, 0x28)), /UTF-8/);
  // Deep nesting bomb: [[[[...]]]] with 100k levels.
  const bomb = new Uint8Array(100_000 * 5);
  for (let i = 0; i < 100_000; i++) bomb.set([11, 1, 0, 0, 0], i * 5);
  assert.throws(() => decodeFrame(bomb), /nesting/);
  // Random garbage: always a CodecError (or a valid value), fast.
  let seed = 12345;
  const rnd = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  const t0 = Date.now();
  for (let i = 0; i < 2000; i++) {
    const g = Uint8Array.from({ length: 1 + (rnd() % 64) }, rnd);
    try {
      decodeFrame(g);
    } catch (e) {
      assert.ok(e instanceof CodecError, String(e));
    }
  }
  assert.ok(Date.now() - t0 < 5000);
});
