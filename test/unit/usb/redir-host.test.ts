// UsbRedirHost driven by a scripted guest peer (our codec in the guest role,
// golden-tested in usbredir-proto.test.ts) with the emulated CD-ROM behind it:
// the connect sequence, request/reply by id, unsupported requests answered
// 'inval', requests racing a disconnect, and malformed input failing only this
// stream with a coded error. QEMU itself is the peer in test/integration/usbredir-qemu.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsbRedirHost } from '../../../main/devices/usb/redir-host';
import { EmulatedCdrom } from '../../../main/devices/usb/emulated-cdrom';
import { UsbRedirParser } from '../../../main/devices/usb/usbredir-parser';
import { UsbRedirCaps, encodePacket, type UsbRedirMessage, type UsbRedirPacket } from '../../../main/devices/usb/usbredir-proto';
import type { BlockSource } from '../../../main/devices/usb/backend';
import type { SpiceError } from '../../../main/spice/wire/errors';

const image = new Uint8Array(8 * 2048).map((_, i) => i & 0xff);
const medium: BlockSource = { size: image.length, read: async (o, n) => image.slice(o, o + n), close: async () => {} };

function setup() {
  const guestCaps = UsbRedirCaps.fromNames(['connect_device_version', 'filter', 'device_disconnect_ack', 'ep_info_max_packet_size', '64bits_ids', '32bits_bulk_length'], 'guest');
  const fromHost = new UsbRedirParser(guestCaps);
  const got: UsbRedirPacket[] = [];
  const errors: SpiceError[] = [];
  const host = new UsbRedirHost((b) => { for (const p of fromHost.push(b)) got.push(structuredClone(p)); }, { error: (e) => errors.push(e) });
  const send = (id: bigint, msg: UsbRedirMessage) => host.receive(encodePacket({ id, msg }, guestCaps));
  /** Resolves when the host has sent n packets in total. */
  const settle = async (n: number) => {
    for (let i = 0; i < 200 && got.length < n; i++) await new Promise((r) => setImmediate(r));
    assert.equal(got.length, n, `host sent ${got.map((p) => p.msg.type).join(',')}`);
  };
  return { host, send, got, errors, settle, guestCaps };
}

test('connect sequence: hello, then interface_info, ep_info (bulk 0x81/0x02, 512 bytes), device_connect', async () => {
  const { host, send, got } = setup();
  host.start();
  assert.deepEqual(got.map((p) => p.msg.type), ['hello']);
  const attached = host.attach(new EmulatedCdrom(medium, { index: 2 }));
  send(0n, { type: 'hello', version: 'test guest', caps: [0xfe] });
  await attached;
  assert.deepEqual(got.map((p) => p.msg.type), ['hello', 'interface_info', 'ep_info', 'device_connect']);
  const ii = got[1].msg as Extract<UsbRedirMessage, { type: 'interface_info' }>;
  assert.deepEqual([ii.interfaceCount, ii.interfaceClass[0], ii.interfaceSubclass[0], ii.interfaceProtocol[0]], [1, 8, 6, 0x50]);
  const ep = got[2].msg as Extract<UsbRedirMessage, { type: 'ep_info' }>;
  assert.deepEqual([ep.epType[0], ep.epType[16], ep.epType[17], ep.epType[2], ep.epType[1]], [0, 0, 2, 2, 255]);
  assert.deepEqual([ep.maxPacketSize[0], ep.maxPacketSize[17], ep.maxPacketSize[2]], [64, 512, 512]);
  assert.deepEqual(got[3].msg, { type: 'device_connect', speed: 2, deviceClass: 0, deviceSubclass: 0, deviceProtocol: 0, vendorId: 0x2b23, productId: 0xcdcd, deviceVersionBcd: 0x0100 });
  assert.equal(host.peerVersion, 'test guest');
});

test('requests are answered with their ids: configuration, GET_DESCRIPTOR, a BOT command over bulk', async () => {
  const { host, send, got, settle, errors } = setup();
  host.start();
  send(0n, { type: 'hello', version: 'g', caps: [0xfe] });
  await host.attach(new EmulatedCdrom(medium, { index: 1 }));
  got.length = 0;
  send(7n, { type: 'set_configuration', configuration: 1 });
  await settle(3); // interface + ep info again (the endpoints may change), then the status
  assert.deepEqual(got.map((p) => p.msg.type), ['interface_info', 'ep_info', 'configuration_status']);
  assert.deepEqual(got[2], { id: 7n, msg: { type: 'configuration_status', status: 0, configuration: 1 } });
  send(0x1_0000_0008n, { type: 'control_packet', endpoint: 0x80, request: 6, requestType: 0x80, status: 0, value: 0x0100, index: 0, length: 64, data: new Uint8Array(0) });
  await settle(4);
  const ctl = got[3];
  assert.equal(ctl.id, 0x1_0000_0008n);
  assert.ok(ctl.msg.type === 'control_packet' && ctl.msg.length === 18 && ctl.msg.data[0] === 18 && ctl.msg.status === 0);
  // READ(10) of block 1 through CBW / data / CSW
  const cbw = new Uint8Array(31);
  new DataView(cbw.buffer).setUint32(0, 0x43425355, true);
  new DataView(cbw.buffer).setUint32(4, 0xabc, true);
  new DataView(cbw.buffer).setUint32(8, 2048, true);
  cbw.set([0x80, 0, 10, 0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0], 12);
  send(9n, { type: 'bulk_packet', endpoint: 0x02, status: 0, length: 31, streamId: 0, data: cbw });
  send(10n, { type: 'bulk_packet', endpoint: 0x81, status: 0, length: 2048, streamId: 0, data: new Uint8Array(0) });
  send(11n, { type: 'bulk_packet', endpoint: 0x81, status: 0, length: 13, streamId: 0, data: new Uint8Array(0) });
  await settle(7);
  assert.deepEqual(got.slice(4).map((p) => [p.id, p.msg.type === 'bulk_packet' && p.msg.length]), [[9n, 31], [10n, 2048], [11n, 13]]);
  const data = got[5].msg as Extract<UsbRedirMessage, { type: 'bulk_packet' }>;
  assert.deepEqual(data.data, image.slice(2048, 4096));
  const csw = (got[6].msg as Extract<UsbRedirMessage, { type: 'bulk_packet' }>).data;
  assert.deepEqual([...csw.subarray(4, 5), csw[12]], [0xbc, 0]);
  assert.deepEqual(errors, []);
});

test('unsupported requests get an inval status; requests racing a disconnect get ioerror; malformed input fails only this stream', async () => {
  const { host, send, got, settle, errors } = setup();
  host.start();
  send(0n, { type: 'hello', version: 'g', caps: [0xfe] });
  await host.attach(new EmulatedCdrom(medium, { index: 1 }));
  const base = got.length;
  send(1n, { type: 'start_iso_stream', endpoint: 0x83, pktsPerUrb: 8, noUrbs: 3 });
  send(2n, { type: 'alloc_bulk_streams', endpoints: 4, noStreams: 8 });
  await settle(base + 2);
  assert.deepEqual(got.slice(base).map((p) => [p.id, p.msg.type, (p.msg as { status: number }).status]),
    [[1n, 'iso_stream_status', 2], [2n, 'bulk_streams_status', 2]]);
  const detached = host.detach();
  await settle(base + 3);
  assert.equal(got[base + 2].msg.type, 'device_disconnect');
  send(3n, { type: 'control_packet', endpoint: 0x80, request: 6, requestType: 0x80, status: 0, value: 0x0100, index: 0, length: 18, data: new Uint8Array(0) });
  await settle(base + 4);
  assert.deepEqual(got[base + 3], { id: 3n, msg: { type: 'control_packet', endpoint: 0x80, request: 6, requestType: 0x80, status: 3, value: 0x0100, index: 0, length: 0, data: new Uint8Array(0) } });
  send(0n, { type: 'device_disconnect_ack' });
  await detached;
  // a packet type no side may send: coded error reported once, later input ignored, nothing thrown
  host.receive(new Uint8Array([0x63, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]));
  host.receive(new Uint8Array(40));
  assert.deepEqual(errors.map((e) => e.code), ['UNKNOWN_MESSAGE']);
});

test('a stream closed inside a packet is a SHORT_READ error', () => {
  const { host, errors, guestCaps } = setup();
  host.start();
  const hello = encodePacket({ id: 0n, msg: { type: 'hello', version: 'g', caps: guestCaps.ourCaps } }, guestCaps);
  host.receive(hello.subarray(0, 20));
  host.end();
  assert.deepEqual(errors.map((e) => e.code), ['SHORT_READ']);
});
