// usbredir codec + streaming parser. Golden bytes are written by hand from the
// packed structs of usbredirproto.h (test/helpers/spice-bytes Bytes shares no
// code with the codec), for every packet type in the direction it travels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bytes, hex } from '../../helpers/spice-bytes';
import { assertShortAtEveryOffset, isSpiceError } from '../../helpers/truncation';
import {
  UsbRedirCaps, decodeBody, encodeBody, encodePacket, slots, typeHeaderSize, UsbRedirType,
  type UsbRedirCapName, type UsbRedirMessage, type UsbRedirPacket,
} from '../../../main/devices/usb/usbredir-proto';
import { UsbRedirParser } from '../../../main/devices/usb/usbredir-parser';

const ALL: UsbRedirCapName[] = ['bulk_streams', 'connect_device_version', 'filter', 'device_disconnect_ack',
  'ep_info_max_packet_size', '64bits_ids', '32bits_bulk_length', 'bulk_receiving'];
const XHCI: UsbRedirCapName[] = ['connect_device_version', 'filter', 'device_disconnect_ack', 'ep_info_max_packet_size',
  '64bits_ids', '32bits_bulk_length', 'bulk_receiving'];

/** Host and guest states after both hellos, with the given caps on both sides. */
function pair(ours: UsbRedirCapName[] = ALL, theirs: UsbRedirCapName[] = ours): { host: UsbRedirCaps; guest: UsbRedirCaps } {
  const host = UsbRedirCaps.fromNames(ours, 'host');
  const guest = UsbRedirCaps.fromNames(theirs, 'guest');
  host.peerCaps = guest.ourCaps;
  guest.peerCaps = host.ourCaps;
  return { host, guest };
}

const u8x32 = (b: Bytes, a: number[]) => { for (let i = 0; i < 32; i++) b.u8(a[i]); return b; };
const u16x32 = (b: Bytes, a: number[]) => { for (let i = 0; i < 32; i++) b.u16(a[i]); return b; };
const u32x32 = (b: Bytes, a: number[]) => { for (let i = 0; i < 32; i++) b.u32(a[i]); return b; };
const data = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

interface Vector { from: 'guest' | 'host'; msg: UsbRedirMessage; body: Bytes }
const ifaces = { iface: slots(0, { 0: 0, 1: 1 }), cls: slots(0, { 0: 8, 1: 3 }), sub: slots(0, { 0: 6, 1: 1 }), proto: slots(0, { 0: 0x50, 1: 2 }) };
const ep = { type: slots(255, { 0: 0, 16: 0, 17: 2, 2: 2, 19: 3 }), interval: slots(0, { 19: 10 }), iface: slots(0, { 19: 1 }),
  mps: slots(0, { 0: 64, 16: 64, 17: 512, 2: 512, 19: 8 }), streams: slots(0, { 17: 16 }) };

// body bytes per packet type, fields in struct order
const VECTORS: Vector[] = [
  { from: 'host', msg: { type: 'device_connect', speed: 2, deviceClass: 0, deviceSubclass: 0, deviceProtocol: 0, vendorId: 0x1d6b, productId: 0x0104, deviceVersionBcd: 0x0100 },
    body: new Bytes().u8(2).u8(0).u8(0).u8(0).u16(0x1d6b).u16(0x0104).u16(0x0100) },
  { from: 'host', msg: { type: 'device_disconnect' }, body: new Bytes() },
  { from: 'guest', msg: { type: 'reset' }, body: new Bytes() },
  { from: 'host', msg: { type: 'interface_info', interfaceCount: 2, interface: ifaces.iface, interfaceClass: ifaces.cls, interfaceSubclass: ifaces.sub, interfaceProtocol: ifaces.proto },
    body: u8x32(u8x32(u8x32(u8x32(new Bytes().u32(2), ifaces.iface), ifaces.cls), ifaces.sub), ifaces.proto) },
  { from: 'host', msg: { type: 'ep_info', epType: ep.type, interval: ep.interval, interface: ep.iface, maxPacketSize: ep.mps, maxStreams: ep.streams },
    body: u32x32(u16x32(u8x32(u8x32(u8x32(new Bytes(), ep.type), ep.interval), ep.iface), ep.mps), ep.streams) },
  { from: 'guest', msg: { type: 'set_configuration', configuration: 1 }, body: new Bytes().u8(1) },
  { from: 'guest', msg: { type: 'get_configuration' }, body: new Bytes() },
  { from: 'host', msg: { type: 'configuration_status', status: 0, configuration: 1 }, body: new Bytes().u8(0).u8(1) },
  { from: 'guest', msg: { type: 'set_alt_setting', interface: 1, alt: 2 }, body: new Bytes().u8(1).u8(2) },
  { from: 'guest', msg: { type: 'get_alt_setting', interface: 1 }, body: new Bytes().u8(1) },
  { from: 'host', msg: { type: 'alt_setting_status', status: 4, interface: 1, alt: 2 }, body: new Bytes().u8(4).u8(1).u8(2) },
  { from: 'guest', msg: { type: 'start_iso_stream', endpoint: 0x83, pktsPerUrb: 32, noUrbs: 3 }, body: new Bytes().u8(0x83).u8(32).u8(3) },
  { from: 'guest', msg: { type: 'stop_iso_stream', endpoint: 0x83 }, body: new Bytes().u8(0x83) },
  { from: 'host', msg: { type: 'iso_stream_status', status: 0, endpoint: 0x83 }, body: new Bytes().u8(0).u8(0x83) },
  { from: 'guest', msg: { type: 'start_interrupt_receiving', endpoint: 0x83 }, body: new Bytes().u8(0x83) },
  { from: 'guest', msg: { type: 'stop_interrupt_receiving', endpoint: 0x83 }, body: new Bytes().u8(0x83) },
  { from: 'host', msg: { type: 'interrupt_receiving_status', status: 1, endpoint: 0x83 }, body: new Bytes().u8(1).u8(0x83) },
  { from: 'guest', msg: { type: 'alloc_bulk_streams', endpoints: 0x00060000, noStreams: 16 }, body: new Bytes().u32(0x00060000).u32(16) },
  { from: 'guest', msg: { type: 'free_bulk_streams', endpoints: 0x00060000 }, body: new Bytes().u32(0x00060000) },
  { from: 'host', msg: { type: 'bulk_streams_status', endpoints: 0x00060000, noStreams: 16, status: 0 }, body: new Bytes().u32(0x00060000).u32(16).u8(0) },
  { from: 'guest', msg: { type: 'cancel_data_packet' }, body: new Bytes() },
  { from: 'guest', msg: { type: 'filter_reject' }, body: new Bytes() },
  { from: 'guest', msg: { type: 'filter_filter', rules: '0x03,-1,-1,-1,0|-1,-1,-1,-1,1' }, body: new Bytes().raw(Buffer.from('0x03,-1,-1,-1,0|-1,-1,-1,-1,1\0', 'latin1')) },
  { from: 'host', msg: { type: 'filter_filter', rules: '-1,-1,-1,-1,1' }, body: new Bytes().raw(Buffer.from('-1,-1,-1,-1,1\0', 'latin1')) },
  { from: 'guest', msg: { type: 'device_disconnect_ack' }, body: new Bytes() },
  { from: 'guest', msg: { type: 'start_bulk_receiving', streamId: 0, bytesPerTransfer: 16384, endpoint: 0x81, noTransfers: 5 },
    body: new Bytes().u32(0).u32(16384).u8(0x81).u8(5) },
  { from: 'guest', msg: { type: 'stop_bulk_receiving', streamId: 0, endpoint: 0x81 }, body: new Bytes().u32(0).u8(0x81) },
  { from: 'host', msg: { type: 'bulk_receiving_status', streamId: 0, endpoint: 0x81, status: 0 }, body: new Bytes().u32(0).u8(0x81).u8(0) },
  // GET_DESCRIPTOR(device) request from the guest, then the host's reply with 18 bytes
  { from: 'guest', msg: { type: 'control_packet', endpoint: 0x80, request: 6, requestType: 0x80, status: 0, value: 0x0100, index: 0, length: 18, data: new Uint8Array(0) },
    body: new Bytes().u8(0x80).u8(6).u8(0x80).u8(0).u16(0x0100).u16(0).u16(18) },
  { from: 'host', msg: { type: 'control_packet', endpoint: 0x80, request: 6, requestType: 0x80, status: 0, value: 0x0100, index: 0, length: 18, data: data(18) },
    body: new Bytes().u8(0x80).u8(6).u8(0x80).u8(0).u16(0x0100).u16(0).u16(18).raw(data(18)) },
  // OUT control with data from the guest (SET_REPORT style)
  { from: 'guest', msg: { type: 'control_packet', endpoint: 0x00, request: 9, requestType: 0x21, status: 0, value: 0x0200, index: 1, length: 3, data: data(3) },
    body: new Bytes().u8(0x00).u8(9).u8(0x21).u8(0).u16(0x0200).u16(1).u16(3).raw(data(3)) },
  // bulk OUT 0x12345 bytes (32-bit length: low 16 bits, stream id, high 16 bits), then its completion
  { from: 'guest', msg: { type: 'bulk_packet', endpoint: 0x02, status: 0, length: 0x12345, streamId: 0, data: data(0x12345) },
    body: new Bytes().u8(0x02).u8(0).u16(0x2345).u32(0).u16(0x0001).raw(data(0x12345)) },
  { from: 'host', msg: { type: 'bulk_packet', endpoint: 0x02, status: 0, length: 0x12345, streamId: 0, data: new Uint8Array(0) },
    body: new Bytes().u8(0x02).u8(0).u16(0x2345).u32(0).u16(0x0001) },
  // bulk IN request of 13 bytes on stream 7, then the data
  { from: 'guest', msg: { type: 'bulk_packet', endpoint: 0x81, status: 0, length: 13, streamId: 7, data: new Uint8Array(0) },
    body: new Bytes().u8(0x81).u8(0).u16(13).u32(7).u16(0) },
  { from: 'host', msg: { type: 'bulk_packet', endpoint: 0x81, status: 0, length: 13, streamId: 7, data: data(13) },
    body: new Bytes().u8(0x81).u8(0).u16(13).u32(7).u16(0).raw(data(13)) },
  { from: 'host', msg: { type: 'iso_packet', endpoint: 0x83, status: 0, length: 5, data: data(5) }, body: new Bytes().u8(0x83).u8(0).u16(5).raw(data(5)) },
  { from: 'guest', msg: { type: 'iso_packet', endpoint: 0x04, status: 0, length: 4, data: data(4) }, body: new Bytes().u8(0x04).u8(0).u16(4).raw(data(4)) },
  { from: 'host', msg: { type: 'interrupt_packet', endpoint: 0x83, status: 0, length: 8, data: data(8) }, body: new Bytes().u8(0x83).u8(0).u16(8).raw(data(8)) },
  { from: 'guest', msg: { type: 'interrupt_packet', endpoint: 0x05, status: 0, length: 2, data: data(2) }, body: new Bytes().u8(0x05).u8(0).u16(2).raw(data(2)) },
  { from: 'host', msg: { type: 'interrupt_packet', endpoint: 0x05, status: 4, length: 2, data: new Uint8Array(0) }, body: new Bytes().u8(0x05).u8(4).u16(2) },
  { from: 'host', msg: { type: 'buffered_bulk_packet', streamId: 0, length: 6, endpoint: 0x81, status: 0, data: data(6) },
    body: new Bytes().u32(0).u32(6).u8(0x81).u8(0).raw(data(6)) },
];

test('every packet type: hand-built body bytes decode to the value and the value encodes to the bytes', () => {
  const { host, guest } = pair();
  const seen = new Set<string>();
  for (const v of VECTORS) {
    const [sender, receiver] = v.from === 'host' ? [host, guest] : [guest, host];
    const bytes = v.body.build();
    assert.equal(hex(encodeBody(v.msg, sender)), hex(bytes), `encode ${v.msg.type} from ${v.from}`);
    assert.deepEqual(decodeBody(UsbRedirType[v.msg.type], bytes, receiver), v.msg, `decode ${v.msg.type} from ${v.from}`);
    seen.add(v.msg.type);
  }
  // all packet types but hello (own test below) are covered
  assert.deepEqual([...seen].sort(), Object.keys(UsbRedirType).filter((t) => t !== 'hello').sort());
});

test('hello: QEMU\'s hello decodes (version, caps), ours encodes with the 32-bit id header', () => {
  const qemuHello = new Bytes().u32(0).u32(68).u32(0)
    .raw(Buffer.from('qemu usb-redir guest 7.2.22'.padEnd(64, '\0'), 'latin1')).u32(0xff).build();
  const host = UsbRedirCaps.fromNames(XHCI, 'host');
  const p = new UsbRedirParser(host);
  const got = [...p.push(qemuHello)];
  assert.deepEqual(got, [{ id: 0n, msg: { type: 'hello', version: 'qemu usb-redir guest 7.2.22', caps: [0xff] } }]);
  assert.equal(host.peerVersion, 'qemu usb-redir guest 7.2.22');
  assert.equal(host.headerSize, 16);
  assert.ok(host.both('64bits_ids') && host.both('32bits_bulk_length') && !host.both('bulk_streams'));

  // caps word: bits 1..7 = 0xfe; the header stays 12 bytes even after negotiation
  const ours = encodePacket({ id: 0n, msg: { type: 'hello', version: 'spice-viewer 0.1', caps: host.ourCaps } }, host);
  const want = new Bytes().u32(0).u32(68).u32(0).raw(Buffer.from('spice-viewer 0.1'.padEnd(64, '\0'), 'latin1')).u32(0xfe).build();
  assert.equal(hex(ours), hex(want));
});

test('hello: a version string filling all 64 bytes is cut to 63 + NUL; caps of several words are kept', () => {
  const host = UsbRedirCaps.fromNames(XHCI);
  const body = encodeBody({ type: 'hello', version: 'x'.repeat(80), caps: [1, 2] }, host);
  assert.equal(body.length, 72);
  assert.equal(body[63], 0);
  assert.deepEqual(decodeBody(0, new Bytes().raw(Buffer.alloc(64, 0x41)).u32(5).u32(6).u8(9).build(), host),
    { type: 'hello', version: 'A'.repeat(64), caps: [5, 6] });
});

test('the header switches to 64-bit ids only when both sides have the cap', () => {
  const both = pair(XHCI).host;
  const pkt: UsbRedirPacket = { id: 0x1_0000_0002n, msg: { type: 'configuration_status', status: 0, configuration: 1 } };
  assert.equal(hex(encodePacket(pkt, both)), hex(new Bytes().u32(8).u32(2).u64(0x1_0000_0002n).u8(0).u8(1).build()));
  const narrow = pair(XHCI, ['filter']).host;
  assert.equal(narrow.headerSize, 12);
  assert.equal(hex(encodePacket({ ...pkt, id: 3n }, narrow)), hex(new Bytes().u32(8).u32(2).u32(3).u8(0).u8(1).build()));
  assert.throws(() => encodePacket(pkt, narrow), isSpiceError('LIMIT'));
});

test('optional fields follow the negotiated caps (device version, ep max packet size / streams, 16-bit bulk length)', () => {
  const { host, guest } = pair(['filter'], ['filter']);
  const dc: UsbRedirMessage = { type: 'device_connect', speed: 1, deviceClass: 9, deviceSubclass: 0, deviceProtocol: 1, vendorId: 0x46d, productId: 0xc52b, deviceVersionBcd: 0x1201 };
  const dcBytes = new Bytes().u8(1).u8(9).u8(0).u8(1).u16(0x46d).u16(0xc52b).build();
  assert.equal(hex(encodeBody(dc, host)), hex(dcBytes));
  assert.deepEqual(decodeBody(1, dcBytes, guest), { ...dc, deviceVersionBcd: 0 });

  const epi: UsbRedirMessage = { type: 'ep_info', epType: ep.type, interval: ep.interval, interface: ep.iface, maxPacketSize: slots(0), maxStreams: slots(0) };
  assert.equal(typeHeaderSize('ep_info', host), 96);
  assert.equal(hex(encodeBody(epi, host)), hex(u8x32(u8x32(u8x32(new Bytes(), ep.type), ep.interval), ep.iface).build()));
  const mps = pair(['ep_info_max_packet_size']);
  assert.equal(typeHeaderSize('ep_info', mps.host), 160);
  assert.equal(typeHeaderSize('ep_info', pair(['bulk_streams']).host), 288);

  const bulk: UsbRedirMessage = { type: 'bulk_packet', endpoint: 0x81, status: 0, length: 512, streamId: 0, data: data(512) };
  const bb = encodeBody(bulk, host);
  assert.equal(hex(bb.subarray(0, 8)), hex(new Bytes().u8(0x81).u8(0).u16(512).u32(0).build()));
  assert.deepEqual(decodeBody(101, bb, guest), bulk);
  assert.throws(() => encodeBody({ ...bulk, length: 0x10000, data: data(0x10000) }, host), isSpiceError('LIMIT'));
});

/** A guest → host stream: QEMU hello, then requests with 64-bit ids. */
function guestStream(): { bytes: Uint8Array; packets: UsbRedirPacket[] } {
  const { guest } = pair(XHCI);
  const packets: UsbRedirPacket[] = [
    { id: 0n, msg: { type: 'hello', version: 'qemu usb-redir guest 7.2.22', caps: [0xff] } },
    { id: 1n, msg: { type: 'set_configuration', configuration: 1 } },
    { id: 2n, msg: { type: 'control_packet', endpoint: 0x80, request: 6, requestType: 0x80, status: 0, value: 0x0200, index: 0, length: 255, data: new Uint8Array(0) } },
    { id: 0x1_0000_0003n, msg: { type: 'bulk_packet', endpoint: 0x02, status: 0, length: 31, streamId: 0, data: data(31, 9) } },
    { id: 4n, msg: { type: 'reset' } },
    { id: 5n, msg: { type: 'bulk_packet', endpoint: 0x81, status: 0, length: 2048, streamId: 0, data: new Uint8Array(0) } },
  ];
  const parts = packets.map((p, i) => {
    if (i === 0) return encodePacket(p, UsbRedirCaps.fromNames(ALL, 'guest'));
    return encodePacket(p, guest);
  });
  return { bytes: Uint8Array.from(Buffer.concat(parts)), packets };
}
const copy = (p: UsbRedirPacket): UsbRedirPacket => ({ id: p.id, msg: 'data' in p.msg ? { ...p.msg, data: p.msg.data.slice() } : { ...p.msg } });

test('stream split at every byte (and fed byte by byte) yields the same packets', () => {
  const { bytes, packets } = guestStream();
  for (let cut = 0; cut <= bytes.length; cut++) {
    const p = new UsbRedirParser(UsbRedirCaps.fromNames(XHCI, 'host'));
    const got = [...p.push(bytes.slice(0, cut))].map(copy);
    got.push(...[...p.push(bytes.slice(cut))].map(copy));
    p.end();
    assert.deepEqual(got, packets, `cut at ${cut}`);
  }
  const p = new UsbRedirParser(UsbRedirCaps.fromNames(XHCI, 'host'));
  const got: UsbRedirPacket[] = [];
  for (let i = 0; i < bytes.length; i++) got.push(...[...p.push(bytes.subarray(i, i + 1))].map(copy));
  assert.deepEqual(got, packets);
  assert.equal(p.buffered, 0);
});

test('a stream ending inside a packet is SHORT_READ at end(), at every cut', () => {
  const { bytes, packets } = guestStream();
  const bounds = new Set<number>([0]);
  let off = 0;
  for (const [i, pk] of packets.entries()) {
    off += (i === 0 ? 12 : 16) + encodeBody(pk.msg, pair(XHCI).guest).length;
    bounds.add(off);
  }
  assert.equal(off, bytes.length);
  for (let cut = 0; cut < bytes.length; cut++) {
    const p = new UsbRedirParser(UsbRedirCaps.fromNames(XHCI, 'host'));
    [...p.push(bytes.slice(0, cut))];
    if (bounds.has(cut)) p.end();
    else assert.throws(() => p.end(), isSpiceError('SHORT_READ'), `cut at ${cut}`);
  }
});

test('fixed type headers cut anywhere are SHORT_READ (decodeBody and the parser\'s length check)', () => {
  const { host, guest } = pair();
  for (const v of VECTORS) {
    const receiver = v.from === 'host' ? guest : host;
    const size = typeHeaderSize(v.msg.type, receiver);
    if (size === 0) continue;
    assertShortAtEveryOffset((b) => decodeBody(UsbRedirType[v.msg.type], b, receiver), v.body.build(), size);
    const p = new UsbRedirParser(receiver);
    const wire = new Bytes().u32(UsbRedirType[v.msg.type]).u32(size - 1).u64(1).raw(v.body.build().subarray(0, size - 1)).build();
    assert.throws(() => [...p.push(wire)], isSpiceError('SHORT_READ'), v.msg.type);
  }
});

test('unknown packet type → UNKNOWN_MESSAGE; oversized length → LIMIT before the body arrives', () => {
  const host = pair(XHCI).host;
  assert.throws(() => decodeBody(28, new Uint8Array(0), host), isSpiceError('UNKNOWN_MESSAGE'));
  const p = new UsbRedirParser(host);
  assert.throws(() => [...p.push(new Bytes().u32(99).u32(0).u64(1).build())], isSpiceError('UNKNOWN_MESSAGE'));
  // and the parser stays failed
  assert.throws(() => [...p.push(new Uint8Array(1))], isSpiceError('UNKNOWN_MESSAGE'));
  const small = new UsbRedirParser(pair(XHCI).host, 4096);
  assert.throws(() => [...small.push(new Bytes().u32(101).u32(4097).u64(1).build())], isSpiceError('LIMIT'));
  const big = new UsbRedirParser(pair(XHCI).host);
  assert.throws(() => [...big.push(new Bytes().u32(101).u32(0xffffffff).u64(1).build())], isSpiceError('LIMIT'));
});

test('protocol rules: hello first and once, direction, caps, data lengths, NUL-terminated filters', () => {
  const fresh = new UsbRedirParser(UsbRedirCaps.fromNames(XHCI));
  assert.throws(() => [...fresh.push(new Bytes().u32(7).u32(0).u32(1).build())], isSpiceError('PROTOCOL'));
  const { bytes } = guestStream();
  const twice = new UsbRedirParser(UsbRedirCaps.fromNames(XHCI));
  assert.throws(() => [...twice.push(bytes.subarray(0, 80)), ...twice.push(new Bytes().u32(0).u32(64).u64(0).raw(new Uint8Array(64)).build())], isSpiceError('PROTOCOL'));

  const { host, guest } = pair();
  // a guest may not send device_connect; a host may not send set_configuration
  assert.throws(() => decodeBody(1, new Uint8Array(10), host), isSpiceError('PROTOCOL'));
  assert.throws(() => encodeBody({ type: 'set_configuration', configuration: 1 }, host), isSpiceError('PROTOCOL'));
  // packets behind a cap the receiver lacks
  const noFilter = pair(['64bits_ids'], ['64bits_ids']);
  assert.throws(() => encodeBody({ type: 'filter_reject' }, noFilter.guest), isSpiceError('PROTOCOL'));
  assert.throws(() => decodeBody(24, new Uint8Array(0), noFilter.host), isSpiceError('PROTOCOL'));
  assert.throws(() => encodeBody({ type: 'buffered_bulk_packet', streamId: 0, length: 0, endpoint: 0x81, status: 0, data: new Uint8Array(0) }, noFilter.host), isSpiceError('PROTOCOL'));
  // data length must equal the header's length in the data direction, and be absent otherwise
  assert.throws(() => decodeBody(101, new Bytes().u8(0x02).u8(0).u16(4).u32(0).u16(0).raw([1, 2, 3]).build(), host), isSpiceError('BAD_MESSAGE'));
  assert.throws(() => decodeBody(101, new Bytes().u8(0x81).u8(0).u16(4).u32(0).u16(0).raw([1, 2, 3, 4]).build(), host), isSpiceError('BAD_MESSAGE'));
  assert.throws(() => decodeBody(102, new Bytes().u8(0x81).u8(0).u16(4).build(), host), isSpiceError('PROTOCOL'));
  // trailing bytes after a fixed body; bad counts and endpoints
  assert.throws(() => decodeBody(6, new Uint8Array([1, 0]), host), isSpiceError('BAD_MESSAGE'));
  assert.throws(() => decodeBody(4, new Bytes().u32(33).raw(new Uint8Array(128)).build(), guest), isSpiceError('BAD_MESSAGE'));
  assert.throws(() => decodeBody(15, new Uint8Array([0x03]), host), isSpiceError('BAD_MESSAGE'));
  assert.throws(() => decodeBody(25, new Bytes().u32(0).u32(0x8000001).u8(0x81).u8(1).build(), host), isSpiceError('LIMIT'));
  assert.throws(() => decodeBody(23, new Uint8Array([0x31, 0x32]), host), isSpiceError('BAD_MESSAGE'));
  assert.throws(() => decodeBody(23, new Uint8Array(0), host), isSpiceError('BAD_MESSAGE'));
});
