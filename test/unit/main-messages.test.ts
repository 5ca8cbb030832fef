// Main channel codecs against byte vectors written by hand from spice.proto
// (MainChannel) and spice/vd_agent.h (VDAgentMessage); every field is spelled
// out little-endian with its name, none comes from our encoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as m from '../../main/spice/messages/main';
import { fromHex, hex } from '../helpers/spice-bytes';
import { assertShortAtEveryOffset, isSpiceError } from '../helpers/truncation';

const MAIN_INIT = fromHex(
  '78563412' + // session_id 0x12345678
    '01000000' + // display_channels_hint 1
    '03000000' + // supported_mouse_modes SERVER|CLIENT
    '01000000' + // current_mouse_mode SERVER
    '01000000' + // agent_connected
    '0a000000' + // agent_tokens 10
    'efcdab00' + // multi_media_time 0xabcdef
    '00000001', // ram_hint 0x01000000
);

test('MAIN_INIT: eight u32 fields in spec order; every cut is SHORT_READ', () => {
  assert.deepEqual(m.decodeMainInit(MAIN_INIT), {
    sessionId: 0x12345678,
    displayChannelsHint: 1,
    supportedMouseModes: 3,
    currentMouseMode: 1,
    agentConnected: true,
    agentTokens: 10,
    multiMediaTime: 0xabcdef,
    ramHint: 0x01000000,
  });
  assertShortAtEveryOffset(m.decodeMainInit, MAIN_INIT);
});

test('CHANNELS_LIST: u32 count then {u8 type, u8 id}; a huge count is LIMIT before any allocation', () => {
  const body = fromHex('04000000' + '0200' + '0300' + '0400' + '0a01'); // display 0, inputs 0, cursor 0, port 1
  assert.deepEqual(m.decodeChannelsList(body), [
    { type: 2, id: 0 },
    { type: 3, id: 0 },
    { type: 4, id: 0 },
    { type: 10, id: 1 },
  ]);
  assertShortAtEveryOffset(m.decodeChannelsList, body);
  assert.deepEqual(m.decodeChannelsList(fromHex('00000000')), []);
  assert.throws(() => m.decodeChannelsList(fromHex('01010000')), isSpiceError('LIMIT')); // 257
  assert.throws(() => m.decodeChannelsList(fromHex('ffffffff')), isSpiceError('LIMIT'));
});

test('MOUSE_MODE: two u16 (mouse_mode is flags16)', () => {
  const body = fromHex('0300' + '0200');
  assert.deepEqual(m.decodeMouseMode(body), { supported: 3, current: 2 });
  assertShortAtEveryOffset(m.decodeMouseMode, body);
});

test('MULTI_MEDIA_TIME, AGENT_TOKEN, AGENT_CONNECTED_TOKENS, AGENT_DISCONNECTED: one u32', () => {
  const body = fromHex('78563412');
  assert.equal(m.decodeMainU32(body, 'time'), 0x12345678);
  assertShortAtEveryOffset((b) => m.decodeMainU32(b, 'num_tokens'), body);
  assert.throws(() => m.decodeMainU32(new Uint8Array(2), 'num_tokens'), /num_tokens/);
});

test('NAME: u32 name_len then the name with its NUL; a short name is SHORT_READ', () => {
  const body = fromHex('06000000' + '677565737400'); // "guest\0"
  assert.equal(m.decodeName(body), 'guest');
  assertShortAtEveryOffset(m.decodeName, body);
  assert.equal(m.decodeName(fromHex('03000000' + 'e282ac')), '€', 'UTF-8, no NUL');
  assert.equal(m.decodeName(fromHex('04000000' + '61006263')), 'a', 'cut at the first NUL');
});

test('UUID: 16 bytes in RFC 4122 form', () => {
  const body = fromHex('00112233445566778899aabbccddeeff');
  assert.equal(m.decodeUuid(body), '00112233-4455-6677-8899-aabbccddeeff');
  assertShortAtEveryOffset(m.decodeUuid, body);
});

// MIGRATE_BEGIN / MIGRATE_SWITCH_HOST: DstInfo with pointers (u32 offsets from the body start).
const MIGRATE_BEGIN = fromHex(
  '0c17' + // port 5900
    'ffff' + // sport 0xffff: QEMU's "no TLS port"
    '0a000000' + // host_size 10
    '14000000' + // host_data at 20
    '00000000' + // cert_subject_size 0
    '00000000' + // cert_subject_data NULL
    '3132372e302e302e3100', // "127.0.0.1\0"
);

// MIGRATE_BEGIN_SEAMLESS: DstInfo then u32 src_mig_version, then the pointed-to data.
const MIGRATE_BEGIN_SEAMLESS = fromHex(
  '0d17' + // port 5901
    '0e17' + // sport 5902
    '0a000000' + // host_size 10
    '18000000' + // host_data at 24
    '07000000' + // cert_subject_size 7
    '22000000' + // cert_subject_data at 34
    '02000000' + // src_mig_version 2
    '3132372e302e302e3100' + // "127.0.0.1\0"
    '434e3d64737400', // "CN=dst\0"
);

test('DstInfo (MIGRATE_BEGIN, SWITCH_HOST): host through its pointer, sport 0xffff is none', () => {
  assert.deepEqual(m.decodeDstInfo(MIGRATE_BEGIN, false), { port: 5900, sport: 0, host: '127.0.0.1', certSubject: null });
  assertShortAtEveryOffset((b) => m.decodeDstInfo(b, false), MIGRATE_BEGIN);
});

test('DstInfo (MIGRATE_BEGIN_SEAMLESS): src_mig_version after the fixed part, cert subject through its pointer', () => {
  assert.deepEqual(m.decodeDstInfo(MIGRATE_BEGIN_SEAMLESS, true), { port: 5901, sport: 5902, host: '127.0.0.1', certSubject: 'CN=dst', srcMigVersion: 2 });
  assertShortAtEveryOffset((b) => m.decodeDstInfo(b, true), MIGRATE_BEGIN_SEAMLESS);
});

test('DstInfo: no host is BAD_MESSAGE, a pointer outside the body SHORT_READ, an oversized host LIMIT', () => {
  const noHost = MIGRATE_BEGIN.slice();
  noHost.set([0, 0, 0, 0], 8); // host_data NULL
  assert.throws(() => m.decodeDstInfo(noHost, false), isSpiceError('BAD_MESSAGE'));
  const outside = MIGRATE_BEGIN.slice();
  outside.set([0x15, 0, 0, 0], 8); // host_data at 21: 10 bytes run past the 30-byte body
  assert.throws(() => m.decodeDstInfo(outside, false), isSpiceError('SHORT_READ'));
  const huge = fromHex('0c17ffff' + '01100000' + '14000000' + '0000000000000000'); // host_size 4097
  assert.throws(() => m.decodeDstInfo(huge, false), isSpiceError('LIMIT'));
});

test('client MOUSE_MODE_REQUEST, AGENT_START / AGENT_TOKEN, MIGRATE_DST_DO_SEAMLESS bodies', () => {
  assert.equal(hex(m.encodeMouseModeRequest(2)), '0200'); // u16 mode CLIENT
  assert.equal(hex(m.encodeAgentTokens(10)), '0a000000'); // u32 num_tokens
  assert.equal(hex(m.encodeAgentTokens(0xfffffffe)), 'feffffff');
  assert.equal(hex(m.encodeMigrateDstDoSeamless(2)), '02000000'); // u32 src_version
});

// VDAgentMessage header: u32 protocol, u32 type, u64 opaque, u32 size.
const AGENT_HEADER = fromHex('01000000' + '06000000' + '0807060504030201' + '0c000000'); // ANNOUNCE_CAPABILITIES, 12 bytes

test('AGENT_DATA framing: the VDAgentMessage header both ways; a foreign protocol is BAD_MESSAGE', () => {
  const h = { protocol: m.VD_AGENT_PROTOCOL, type: 6, opaque: 0x0102030405060708n, size: 12 };
  assert.equal(hex(m.encodeAgentMessageHeader(h)), hex(AGENT_HEADER));
  assert.equal(m.encodeAgentMessageHeader(h).length, m.AGENT_MESSAGE_HEADER_SIZE);
  assert.deepEqual(m.decodeAgentMessageHeader(AGENT_HEADER), h);
  assertShortAtEveryOffset(m.decodeAgentMessageHeader, AGENT_HEADER);
  const v2 = AGENT_HEADER.slice();
  v2[0] = 2;
  assert.throws(() => m.decodeAgentMessageHeader(v2), isSpiceError('BAD_MESSAGE'));
});
