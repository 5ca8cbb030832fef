// The webdav mux codec: golden bytes written by hand from spice-gtk's
// channel-webdav.c / spice-webdavd (int64 LE client id, uint16 LE size, data),
// every stream split at every byte, limits checked on the header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bytes, hex } from '../../helpers/spice-bytes';
import { assertShortAtEveryOffset, isSpiceError } from '../../helpers/truncation';
import { decodeMuxHeader, encodeMuxFrame, MUX_HEADER_SIZE, MUX_MAX_DATA, MUX_SEND_DATA, MuxParser, type MuxFrame } from '../../../main/devices/webdav/mux';
import { SPICEVMC_MAX_CHUNK } from '../../../main/spice/channels/spicevmc-channel';

const frameBytes = (id: bigint, data: number[]) => new Bytes().u64(BigInt.asUintN(64, id)).u16(data.length).raw(data).build();

test('encode: id int64 LE, size uint16 LE, data; negative ids in two\'s complement', () => {
  assert.equal(hex(encodeMuxFrame(0x0102030405n, new Uint8Array([0xaa, 0xbb]))), '0504030201000000' + '0200' + 'aabb');
  assert.equal(hex(encodeMuxFrame(-2n, new Uint8Array(0))), 'feffffffffffffff' + '0000');
  assert.deepEqual(encodeMuxFrame(7n, new Uint8Array([1, 2, 3])), frameBytes(7n, [1, 2, 3]));
  assert.equal(encodeMuxFrame(1n, new Uint8Array(MUX_MAX_DATA)).length, MUX_HEADER_SIZE + 0xffff);
  assert.throws(() => encodeMuxFrame(1n, new Uint8Array(MUX_MAX_DATA + 1)), isSpiceError('LIMIT'));
  // what we send fills one SPICEVMC_DATA message exactly
  assert.equal(MUX_HEADER_SIZE + MUX_SEND_DATA, SPICEVMC_MAX_CHUNK);
});

test('header decode: fields, and SHORT_READ cut at every offset', () => {
  assert.deepEqual(decodeMuxHeader(frameBytes(-5n, [9, 9, 9])), { client: -5n, size: 3 });
  assertShortAtEveryOffset(decodeMuxHeader, frameBytes(1234n, []));
});

test('parser: a stream of frames split at every byte (two pieces, and byte by byte) gives the same frames', () => {
  const data = Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
  const stream = new Bytes()
    .raw(frameBytes(1n, data))
    .raw(frameBytes(-2147483648n, [1]))
    .raw(frameBytes(1n, []))
    .raw(frameBytes(2147483647n, [4, 5]))
    .build();
  const want: MuxFrame[] = [
    { client: 1n, data: Uint8Array.from(data) },
    { client: -2147483648n, data: Uint8Array.from([1]) },
    { client: 1n, data: new Uint8Array(0) },
    { client: 2147483647n, data: Uint8Array.from([4, 5]) },
  ];
  for (let cut = 0; cut <= stream.length; cut++) {
    const p = new MuxParser();
    const got = [...p.push(stream.slice(0, cut)), ...p.push(stream.slice(cut))];
    assert.deepEqual(got, want, `cut at ${cut}`);
    p.end();
  }
  const p = new MuxParser();
  const got: MuxFrame[] = [];
  for (const b of stream) got.push(...p.push(Uint8Array.of(b)));
  assert.deepEqual(got, want);
});

test('parser: a size over the limit is LIMIT on the header alone, and the stream stays failed', () => {
  const p = new MuxParser(100);
  assert.deepEqual(p.push(frameBytes(1n, new Array(100).fill(0))).length, 1);
  // only the header of the next frame has arrived: refused before its data is awaited
  assert.throws(() => p.push(new Bytes().u64(1n).u16(101).build()), isSpiceError('LIMIT'));
  assert.throws(() => p.push(new Uint8Array(1)), isSpiceError('LIMIT'));
});

test('parser: a stream that ends inside a frame is SHORT_READ, at every cut', () => {
  const stream = frameBytes(3n, [1, 2, 3, 4]);
  for (let cut = 1; cut < stream.length; cut++) {
    const p = new MuxParser();
    assert.deepEqual(p.push(stream.slice(0, cut)), []);
    assert.throws(() => p.end(), isSpiceError('SHORT_READ'), `cut at ${cut}`);
  }
  const whole = new MuxParser();
  whole.push(stream);
  whole.end();
});
