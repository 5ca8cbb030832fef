import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { inflate } from '../../../renderer/display/decoders/inflate';
import { rng, desktopImage } from './lz-test-encoders';
import { assertDecodeError, decodesOrRejects } from './lz-helpers';

function samples(): [string, Uint8Array][] {
  const r = rng(3);
  const random = Uint8Array.from({ length: 70000 }, () => Math.floor(r() * 256));
  const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog; '.repeat(3000));
  const runs = new Uint8Array(300000).fill(7);
  const px = desktopImage(320, 200, 1);
  const img = new Uint8Array(px.buffer, px.byteOffset, px.byteLength);
  const skewed = Uint8Array.from({ length: 50000 }, () => (r() < 0.9 ? 65 : Math.floor(r() * 256)));
  return [
    ['empty', new Uint8Array(0)],
    ['one byte', Uint8Array.of(42)],
    ['random', random],
    ['text', text],
    ['runs', runs],
    ['image', img],
    ['skewed', skewed],
  ];
}

const variants: [string, (d: Uint8Array) => Buffer][] = [
  ['zlib default', (d) => zlib.deflateSync(d)],
  ['zlib level 0 (stored)', (d) => zlib.deflateSync(d, { level: 0 })],
  ['zlib level 1', (d) => zlib.deflateSync(d, { level: 1 })],
  ['zlib level 9', (d) => zlib.deflateSync(d, { level: 9 })],
  ['zlib fixed Huffman', (d) => zlib.deflateSync(d, { strategy: zlib.constants.Z_FIXED })],
  ['zlib huffman only', (d) => zlib.deflateSync(d, { strategy: zlib.constants.Z_HUFFMAN_ONLY })],
  ['zlib rle', (d) => zlib.deflateSync(d, { strategy: zlib.constants.Z_RLE })],
  ['raw deflate', (d) => zlib.deflateRawSync(d)],
];

describe('inflate vs node:zlib', () => {
  for (const [vname, deflate] of variants) {
    it(vname, () => {
      for (const [name, data] of samples()) {
        const z = new Uint8Array(deflate(data));
        const out = inflate(z, data.length);
        assert.equal(Buffer.compare(Buffer.from(out), Buffer.from(data)), 0, `${name} via ${vname}`);
      }
    });
  }

  it('hand-built vectors: stored block in a zlib wrapper, fixed-Huffman raw block', () => {
    // 78 01 | BFINAL=1 BTYPE=00 | LEN 5 NLEN ~5 | "hello" | adler32("hello") = 0x062c0215
    const stored = Uint8Array.of(0x78, 0x01, 0x01, 0x05, 0x00, 0xfa, 0xff, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x06, 0x2c, 0x02, 0x15);
    assert.equal(new TextDecoder().decode(inflate(stored, 5)), 'hello');
    // raw fixed block: 'a' (code 0x91, 8 bits) then end-of-block (7 zero bits)
    assert.deepEqual([...inflate(Uint8Array.of(0x4b, 0x04, 0x00), 1)], [0x61]);
  });
});

describe('inflate errors', () => {
  const data = new TextEncoder().encode('abcabcabcabc-SPICE-'.repeat(40));
  const z = new Uint8Array(zlib.deflateSync(data));

  it('truncation at every byte offset throws DECODE', () => {
    for (let n = 0; n < z.length; n++) assertDecodeError(() => inflate(z.subarray(0, n), data.length), `cut at ${n}`);
  });

  it('wrong expected size, bad adler32, preset dictionary, reserved block type', () => {
    assertDecodeError(() => inflate(z, data.length - 1));
    assertDecodeError(() => inflate(z, data.length + 1));
    const bad = z.slice();
    bad[bad.length - 1] ^= 1;
    assertDecodeError(() => inflate(bad, data.length));
    assertDecodeError(() => inflate(Uint8Array.of(0x78, 0xbb, 0, 0, 0, 0), 1)); // FDICT set
    assertDecodeError(() => inflate(Uint8Array.of(0x07), 1)); // BFINAL, BTYPE=3
    assertDecodeError(() => inflate(z, -1));
    assertDecodeError(() => inflate(z, 2 ** 31)); // bounded before allocating
  });

  it('random corruption decodes or throws DECODE', () => {
    const r = rng(11);
    for (let k = 0; k < 3000; k++) {
      const bad = z.slice();
      bad[2 + Math.floor(r() * (bad.length - 2))] = Math.floor(r() * 256);
      decodesOrRejects(() => inflate(bad, data.length));
    }
  });
});
