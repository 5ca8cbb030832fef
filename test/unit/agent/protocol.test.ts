// VDAgent message bodies against byte vectors written by hand from the packed
// structs of spice/vd_agent.h (every field little-endian, named); none comes
// from our encoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as p from '../../../main/spice/agent/protocol';
import { AgentCap, ClipboardType, FileXferStatus, Selection } from '../../../main/spice/agent/protocol';
import { CLIENT_AGENT_CAPS } from '../../../main/spice/agent/agent-channel';
import { fromHex, hex } from '../../helpers/spice-bytes';
import { assertShortAtEveryOffset, isSpiceError } from '../../helpers/truncation';

const SEL_SERIAL = { selection: true, serial: true };
const PLAIN = { selection: false, serial: false };

test('ANNOUNCE_CAPABILITIES: u32 request, u32 caps[]; our set and spice-vdagentd 0.22\'s', () => {
  // our bits: MONITORS_CONFIG 1, REPLY 2, DISPLAY_CONFIG 4, CLIPBOARD_BY_DEMAND 5, CLIPBOARD_SELECTION 6,
  // MONITORS_CONFIG_POSITION 12, FILE_XFER_DETAILED_ERRORS 14, NO_RELEASE_ON_REGRAB 16, GRAB_SERIAL 17
  // = 0x2 + 0x4 + 0x10 + 0x20 + 0x40 + 0x1000 + 0x4000 + 0x10000 + 0x20000 = 0x35076
  const ours = fromHex('01000000' + '76500300');
  assert.equal(hex(p.encodeAnnounceCapabilities({ request: true, caps: CLIENT_AGENT_CAPS })), hex(ours));
  // the daemon's send_capabilities: MOUSE_STATE 0, MONITORS_CONFIG 1, REPLY 2, BY_DEMAND 5, SELECTION 6,
  // SPARSE 7, LINEEND_LF 8, MAX_CLIPBOARD 10, AUDIO_VOLUME_SYNC 11, GRAPHICS_DEVICE_INFO 15,
  // NO_RELEASE_ON_REGRAB 16, GRAB_SERIAL 17 = 0x38DE7; request 0
  const daemon = p.decodeAnnounceCapabilities(fromHex('00000000' + 'e78d0300'));
  assert.equal(daemon.request, false);
  assert.deepEqual(daemon.caps, [0x38de7]);
  for (const c of [AgentCap.CLIPBOARD_SELECTION, AgentCap.CLIPBOARD_GRAB_SERIAL, AgentCap.MAX_CLIPBOARD, AgentCap.MOUSE_STATE]) assert.ok(p.hasCap(daemon.caps, c), `cap ${c}`);
  for (const c of [AgentCap.DISPLAY_CONFIG, AgentCap.FILE_XFER_DISABLED, 40]) assert.ok(!p.hasCap(daemon.caps, c), `no cap ${c}`);
  // a trailing partial word is ignored (VD_AGENT_CAPS_SIZE_FROM_MSG_SIZE rounds down)
  assert.deepEqual(p.decodeAnnounceCapabilities(fromHex('01000000' + 'e78d0300' + 'ff')).caps, [0x38de7]);
  assertShortAtEveryOffset(p.decodeAnnounceCapabilities, ours, 4);
  assert.throws(() => p.decodeAnnounceCapabilities(new Uint8Array(4 + 4 * (p.MAX_CAPS_WORDS + 1))), isSpiceError('LIMIT'));
});

test('CLIPBOARD_GRAB: [u8 selection, 3 reserved] [u32 serial] u32 types[]', () => {
  const withBoth = fromHex('01' + '000000' + '05000000' + '01000000' + '02000000'); // PRIMARY, serial 5, UTF8 + PNG
  const g = { selection: Selection.PRIMARY, serial: 5, types: [ClipboardType.UTF8_TEXT, ClipboardType.IMAGE_PNG] };
  assert.equal(hex(p.encodeClipboardGrab(SEL_SERIAL, g)), hex(withBoth));
  assert.deepEqual(p.decodeClipboardGrab(SEL_SERIAL, withBoth), g);
  // selection only
  assert.deepEqual(p.decodeClipboardGrab({ selection: true, serial: false }, fromHex('00000000' + '01000000')), { selection: 0, types: [1] });
  // neither: just the types, selection CLIPBOARD implied
  assert.equal(hex(p.encodeClipboardGrab(PLAIN, { selection: 0, types: [1] })), '01000000');
  assert.deepEqual(p.decodeClipboardGrab(PLAIN, fromHex('01000000')), { selection: 0, types: [1] });
  assert.throws(() => p.encodeClipboardGrab(PLAIN, { selection: 1, types: [1] }), isSpiceError('PROTOCOL'));
  assertShortAtEveryOffset((b) => p.decodeClipboardGrab(SEL_SERIAL, b), withBoth, 8);
  assert.throws(() => p.decodeClipboardGrab(SEL_SERIAL, fromHex('00000000' + '01000000' + '010000')), isSpiceError('BAD_MESSAGE'));
  assert.throws(() => p.decodeClipboardGrab(SEL_SERIAL, fromHex('03000000' + '01000000')), isSpiceError('BAD_MESSAGE'), 'selection 3 does not exist');
  assert.throws(() => p.decodeClipboardGrab(PLAIN, new Uint8Array(4 * (p.MAX_GRAB_TYPES + 1))), isSpiceError('LIMIT'));
});

test('CLIPBOARD_REQUEST, CLIPBOARD and CLIPBOARD_RELEASE layouts', () => {
  const req = fromHex('01000000' + '02000000'); // PRIMARY, PNG
  assert.equal(hex(p.encodeClipboardRequest(SEL_SERIAL, { selection: 1, type: 2 })), hex(req));
  assert.deepEqual(p.decodeClipboardRequest(SEL_SERIAL, req), { selection: 1, type: 2 });
  assertShortAtEveryOffset((b) => p.decodeClipboardRequest(SEL_SERIAL, b), req);

  const clip = fromHex('00000000' + '01000000' + '68c3a9'); // CLIPBOARD, UTF8, "hé"
  assert.equal(hex(p.encodeClipboardPrefix(SEL_SERIAL, 0, 1)), '00000000' + '01000000');
  const c = p.decodeClipboard(SEL_SERIAL, clip);
  assert.equal(c.selection, 0);
  assert.equal(c.type, 1);
  assert.equal(new TextDecoder().decode(c.data), 'hé');
  assertShortAtEveryOffset((b) => p.decodeClipboard(SEL_SERIAL, b), clip, 8);
  assert.deepEqual(p.decodeClipboard(PLAIN, fromHex('01000000' + '41')).data, fromHex('41'));

  assert.equal(hex(p.encodeClipboardRelease(SEL_SERIAL, 1)), '01000000');
  assert.equal(p.encodeClipboardRelease(PLAIN, 0).length, 0);
  assert.deepEqual(p.decodeClipboardRelease(SEL_SERIAL, fromHex('01000000')), { selection: 1 });
  // spice-vdagentd's release_clipboards() writes a 1-byte body (just the selection)
  assert.deepEqual(p.decodeClipboardRelease(SEL_SERIAL, fromHex('01')), { selection: 1 });
  assert.throws(() => p.decodeClipboardRelease(SEL_SERIAL, new Uint8Array(0)), isSpiceError('SHORT_READ'));
});

test('MONITORS_CONFIG: exactly 8 + 20 n bytes (spice-vdagentd\'s size rule), height before width, no physical sizes', () => {
  const one = fromHex(
    '01000000' + // num_of_monitors
      '01000000' + // flags USE_POS
      '00030000' + // height 768
      '00040000' + // width 1024
      '20000000' + // depth 32
      '00000000' + // x
      '00000000', // y
  );
  const mon = { width: 1024, height: 768, depth: 32, x: 0, y: 0 };
  assert.equal(hex(p.encodeMonitorsConfig([mon])), hex(one));
  assert.equal(one.length, 8 + 20 * 1);
  const two = p.encodeMonitorsConfig([mon, { width: 800, height: 600, depth: 32, x: -800, y: 0 }]);
  assert.equal(two.length, 8 + 20 * 2, 'do_client_monitors compares the header size with 8 + 20 * num_of_monitors');
  assert.equal(hex(two.subarray(28, 48)), '58020000' + '20030000' + '20000000' + 'e0fcffff' + '00000000');
  assert.deepEqual(p.decodeMonitorsConfig(two).monitors[1], { width: 800, height: 600, depth: 32, x: -800, y: 0 });
  assert.throws(() => p.encodeMonitorsConfig([mon], p.MonitorsFlag.USE_POS | p.MonitorsFlag.PHYSICAL_SIZE), isSpiceError('PROTOCOL'));
  assert.throws(() => p.encodeMonitorsConfig([]), isSpiceError('LIMIT'));
  assert.throws(() => p.decodeMonitorsConfig(fromHex('ffffffff00000000')), isSpiceError('LIMIT'));
  assertShortAtEveryOffset(p.decodeMonitorsConfig, one);
});

test('DISPLAY_CONFIG, MAX_CLIPBOARD and REPLY', () => {
  assert.equal(hex(p.encodeDisplayConfig(p.DisplayConfigFlag.DISABLE_WALLPAPER | p.DisplayConfigFlag.DISABLE_ANIMATION)), '05000000' + '00000000');
  assert.equal(hex(p.encodeMaxClipboard(-1)), 'ffffffff');
  assert.equal(hex(p.encodeMaxClipboard(1048576)), '00001000');
  assert.equal(p.decodeMaxClipboard(fromHex('00001000')), 1048576);
  const reply = fromHex('02000000' + '01000000'); // MONITORS_CONFIG, SUCCESS
  assert.deepEqual(p.decodeReply(reply), { type: 2, error: 1 });
  assertShortAtEveryOffset(p.decodeReply, reply);
});

test('FILE_XFER_START: u32 id + NUL-terminated [vdagent-file-xfer] key file', () => {
  const text = '[vdagent-file-xfer]\nname=report 1.txt\nsize=20971520\n';
  const want = '07000000' + Buffer.from(text).toString('hex') + '00';
  assert.equal(hex(p.encodeFileXferStart(7, 'report 1.txt', 20971520)), want);
  assert.deepEqual(p.decodeFileXferStart(fromHex(want)), { id: 7, name: 'report 1.txt', size: 20971520 });
  // GKeyFile escapes: leading space as \s, backslash doubled
  const esc = p.encodeFileXferStart(1, ' a\\b', 1);
  assert.match(new TextDecoder().decode(esc.subarray(4)), /name=\\sa\\\\b\n/);
  assert.deepEqual(p.decodeFileXferStart(esc).name, ' a\\b');
  for (const bad of ['', '..', 'a/b', 'a\nb']) assert.throws(() => p.encodeFileXferStart(1, bad, 1), isSpiceError('PROTOCOL'), JSON.stringify(bad));
  assert.throws(() => p.decodeFileXferStart(fromHex('01000000' + Buffer.from('[other]\n').toString('hex'))), isSpiceError('BAD_MESSAGE'));
  assertShortAtEveryOffset(p.decodeFileXferStart, fromHex(want), 4);
});

test('FILE_XFER_STATUS with and without detail; FILE_XFER_DATA: u32 id, u64 size, data', () => {
  assert.equal(hex(p.encodeFileXferStatus(3, FileXferStatus.CANCELLED)), '03000000' + '01000000');
  assert.deepEqual(p.decodeFileXferStatus(fromHex('03000000' + '00000000')), { id: 3, result: FileXferStatus.CAN_SEND_DATA });
  assert.deepEqual(p.decodeFileXferStatus(fromHex('03000000' + '04000000' + '0010000000000000')), { id: 3, result: 4, freeSpace: 4096n });
  // VDAgentFileXferStatusError: u8 error_type (GLIB_IO 0), u32 error_code (G_IO_ERROR_NO_SPACE 12)
  assert.deepEqual(p.decodeFileXferStatus(fromHex('03000000' + '02000000' + '00' + '0c000000')), { id: 3, result: 2, error: { type: 0, code: 12 } });
  assertShortAtEveryOffset(p.decodeFileXferStatus, fromHex('03000000' + '02000000'));

  assert.equal(hex(p.encodeFileXferDataPrefix(3, 2)), '03000000' + '0200000000000000');
  const data = fromHex('03000000' + '0200000000000000' + 'abcd');
  assert.deepEqual(p.decodeFileXferData(data), { id: 3, data: fromHex('abcd') });
  assert.throws(() => p.decodeFileXferData(fromHex('03000000' + '0300000000000000' + 'abcd')), isSpiceError('BAD_MESSAGE'));
  assertShortAtEveryOffset(p.decodeFileXferData, data, 12);
});
