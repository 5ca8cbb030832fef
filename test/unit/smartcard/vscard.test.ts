// VSCard codec against byte vectors written by hand from libcacard's
// vscard_common.h (header {u32 type, u32 reader_id, u32 length}), QEMU's
// ccid-card-passthru (network-order header and Init/Error payloads on the
// chardev) and spice-server (host-order, i.e. little-endian, header on the
// SPICE smartcard channel). No vector below comes from our encoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as v from '../../../main/devices/smartcard/vscard';
import { fromHex, hex } from '../../helpers/spice-bytes';
import { assertShortAtEveryOffset, isSpiceError } from '../../helpers/truncation';

const T = v.VscMessageType;

// [description, header order, bytes, expected message]
const SPICE_VECTORS: [string, string, v.VscMessage][] = [
  ['APDU SELECT MF, reader 0', '07000000 00000000 07000000 00a4000c023f00', { type: T.APDU, readerId: 0, data: fromHex('00a4000c023f00') }],
  ['ATR of vicc iso7816, reader 1', '05000000 01000000 0b000000 3b951381018073ff01000b', { type: T.ATR, readerId: 1, atr: fromHex('3b951381018073ff01000b') }],
  ['ReaderAdd "Virtual PCD 00 00" before an id is assigned', '03000000 ffffffff 11000000' + hex(new TextEncoder().encode('Virtual PCD 00 00')), { type: T.ReaderAdd, readerId: 0xffffffff, name: 'Virtual PCD 00 00' }],
  ['spice-server Error CANNOT_ADD_MORE_READERS (code in host order)', '02000000 ffffffff 04000000 02000000', { type: T.Error, readerId: 0xffffffff, code: 2 }],
  ['Error SUCCESS answering ReaderAdd with the assigned id', '02000000 00000000 04000000 00000000', { type: T.Error, readerId: 0, code: 0 }],
  ['ReaderRemove', '04000000 02000000 00000000', { type: T.ReaderRemove, readerId: 2 }],
  ['CardRemove', '06000000 00000000 00000000', { type: T.CardRemove, readerId: 0 }],
  ['Flush', '08000000 00000000 00000000', { type: T.Flush, readerId: 0 }],
  ['FlushComplete', '09000000 00000000 00000000', { type: T.FlushComplete, readerId: 0 }],
];

const CHARDEV_VECTORS: [string, string, v.VscMessage][] = [
  // QEMU ccid_card_vscard_send_init: magic "VSCD" as bytes, version htonl(2), capabilities {0}
  ['QEMU Init', '00000001 ffffffff 0000000c 56534344 00000002 00000000', { type: T.Init, readerId: 0xffffffff, version: 2, capabilities: [0] }],
  ['Init with two capabilities', '00000001 ffffffff 00000010 56534344 00000002 00000001 80000000', { type: T.Init, readerId: 0xffffffff, version: 2, capabilities: [1, 0x80000000] }],
  // ccid_card_vscard_send_error: code htonl(GENERAL_ERROR)
  ['QEMU Error GENERAL_ERROR (code in network order)', '00000002 00000000 00000004 00000001', { type: T.Error, readerId: 0, code: 1 }],
  ['APDU response 90 00', '00000007 00000000 00000002 9000', { type: T.APDU, readerId: 0, data: fromHex('9000') }],
  ['CardRemove reader 0x01020304', '00000006 01020304 00000000', { type: T.CardRemove, readerId: 0x01020304 }],
];

const isCode = isSpiceError;

test('constants from vscard_common.h', () => {
  assert.equal(v.VSCARD_UNDEFINED_READER_ID, 0xffffffff);
  assert.equal(v.VSCARD_MINIMAL_READER_ID, 0);
  assert.equal(v.VSCARD_VERSION, 2); // MAKE_VERSION(0, 0, 2)
  assert.equal(hex(v.VSCARD_MAGIC), hex(new TextEncoder().encode('VSCD')));
  assert.deepEqual([T.Init, T.Error, T.ReaderAdd, T.ReaderRemove, T.ATR, T.CardRemove, T.APDU, T.Flush, T.FlushComplete], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(v.VscErrorCode, { SUCCESS: 0, GENERAL_ERROR: 1, CANNOT_ADD_MORE_READERS: 2, CARD_ALREADY_INSERTED: 3 });
  assert.equal(v.SPICE_VSC_ORDER, 'le');
  assert.equal(v.CHARDEV_VSC_ORDER, 'be');
});

test('golden vectors decode (SPICE channel: little-endian header)', () => {
  for (const [what, bytes, msg] of SPICE_VECTORS) assert.deepEqual(v.decodeVscMessage(fromHex(bytes), 'le'), msg, what);
});

test('golden vectors decode (QEMU chardev: big-endian header)', () => {
  for (const [what, bytes, msg] of CHARDEV_VECTORS) assert.deepEqual(v.decodeVscMessage(fromHex(bytes), 'be'), msg, what);
});

test('encoder reproduces the golden bytes (Error codes are written little endian, as spice-gtk does)', () => {
  for (const [what, bytes, msg] of SPICE_VECTORS) assert.equal(hex(v.encodeVscMessage(msg, 'le')), bytes.replace(/ /g, ''), what);
  for (const [what, bytes, msg] of CHARDEV_VECTORS) {
    if (msg.type === T.Error) continue; // QEMU writes the code big endian; we write what QEMU reads
    assert.equal(hex(v.encodeVscMessage(msg, 'be')), bytes.replace(/ /g, ''), what);
  }
  assert.equal(hex(v.encodeVscMessage({ type: T.Error, readerId: 0, code: 1 }, 'be')), '00000002' + '00000000' + '00000004' + '01000000');
});

test('a ReaderAdd name ending in NUL (libcacard vscclient) loses the NUL', () => {
  assert.deepEqual(v.decodeVscMessage(fromHex('03000000 00000000 04000000 41420000')), { type: T.ReaderAdd, readerId: 0, name: 'AB' });
});

test('every cut of every message is SHORT_READ', () => {
  for (const [, bytes] of SPICE_VECTORS) assertShortAtEveryOffset((b) => v.decodeVscMessage(b, 'le'), fromHex(bytes));
  for (const [, bytes] of CHARDEV_VECTORS) assertShortAtEveryOffset((b) => v.decodeVscMessage(b, 'be'), fromHex(bytes));
});

test('unknown message types are UNKNOWN_MESSAGE, in one message and in a stream', () => {
  for (const type of ['00000000', '0a000000', 'ffffffff']) {
    assert.throws(() => v.decodeVscMessage(fromHex(`${type} 00000000 00000000`)), isCode('UNKNOWN_MESSAGE'), type);
  }
  const p = new v.VscStreamParser('be');
  const got: v.VscMessage[] = [];
  assert.throws(() => {
    for (const m of p.push(fromHex('00000007 00000000 00000002 9000 0000000a 00000000 00000000'))) got.push(m);
  }, isCode('UNKNOWN_MESSAGE'));
  assert.deepEqual(got, [{ type: T.APDU, readerId: 0, data: fromHex('9000') }], 'the APDU before the bad header is delivered');
  assert.throws(() => [...p.push(fromHex('00000000'))], isCode('UNKNOWN_MESSAGE'), 'a failed stream stays failed');
});

test('limits are checked on the header, before any payload is buffered', () => {
  // APDU announcing 256 MiB: refused with only the 12 header bytes received
  const p = new v.VscStreamParser('le');
  assert.throws(() => [...p.push(fromHex('07000000 00000000 00000010'))], isCode('LIMIT'));
  assert.throws(() => v.decodeVscMessage(fromHex('07000000 00000000 09000100')), isCode('LIMIT')); // 65545 > 65544
  assert.throws(() => v.decodeVscMessage(fromHex('05000000 00000000 29000000')), isCode('LIMIT')); // ATR of 41
  assert.throws(() => v.decodeVscMessage(fromHex('06000000 00000000 01000000 00')), isCode('LIMIT')); // CardRemove carries nothing
  assert.throws(() => v.decodeVscMessage(fromHex('02000000 00000000 05000000 0000000000')), isCode('LIMIT'));
  assert.throws(() => v.decodeVscMessage(fromHex('03000000 00000000 01040000')), isCode('LIMIT')); // name of 1025
  assert.throws(() => v.encodeVscMessage({ type: T.ATR, readerId: 0, atr: new Uint8Array(41) }), isCode('LIMIT'));
  assert.throws(() => v.encodeVscMessage({ type: T.APDU, readerId: 0, data: new Uint8Array(65545) }), isCode('LIMIT'));
  // the largest extended APDU passes
  const big = v.encodeVscMessage({ type: T.APDU, readerId: 3, data: new Uint8Array(65544).fill(7) });
  assert.equal((v.decodeVscMessage(big) as { data: Uint8Array }).data.length, 65544);
});

test('malformed bodies are coded errors', () => {
  assert.throws(() => v.decodeVscMessage(fromHex('00000001 ffffffff 0000000c 56534345 00000002 00000000'), 'be'), isCode('BAD_MAGIC'));
  assert.throws(() => v.decodeVscMessage(fromHex('00000001 ffffffff 0000000a 56534344 00000002 0000'), 'be'), isCode('BAD_MESSAGE')); // half a capability
  assert.throws(() => v.decodeVscMessage(fromHex('03000000 00000000 02000000 c328')), isCode('BAD_MESSAGE')); // not UTF-8
  assert.throws(() => v.decodeVscMessage(fromHex('07000000 00000000 00000000')), isCode('BAD_MESSAGE')); // empty APDU
  assert.throws(() => v.decodeVscMessage(fromHex('05000000 00000000 00000000')), isCode('BAD_MESSAGE')); // empty ATR
  assert.throws(() => v.decodeVscMessage(fromHex('06000000 00000000 00000000 00')), isCode('BAD_MESSAGE')); // trailing byte
});

test('a stream of every vector, split at every byte (and byte by byte), yields the same messages', () => {
  for (const [order, vectors] of [['le', SPICE_VECTORS], ['be', CHARDEV_VECTORS]] as const) {
    const stream = fromHex(vectors.map(([, b]) => b).join(''));
    const want = vectors.map(([, , m]) => m);
    for (let cut = 0; cut <= stream.length; cut++) {
      const p = new v.VscStreamParser(order);
      const got = [...p.push(stream.slice(0, cut)), ...p.push(stream.slice(cut))];
      assert.deepEqual(got, want, `${order} cut at ${cut}`);
      assert.equal(p.buffered, 0);
    }
    const p = new v.VscStreamParser(order);
    const got: v.VscMessage[] = [];
    for (let i = 0; i < stream.length; i++) got.push(...p.push(stream.slice(i, i + 1)));
    assert.deepEqual(got, want, `${order} byte by byte`);
  }
});

test('decoded payloads are copies: reusing the input buffer does not change them', () => {
  const bytes = fromHex('07000000 00000000 02000000 9000');
  const m = v.decodeVscMessage(bytes) as { data: Uint8Array };
  bytes.fill(0);
  assert.equal(hex(m.data), '9000');
});
