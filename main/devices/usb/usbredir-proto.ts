// usbredir protocol (usbredirproto.h, protocol 0.7): constants, packet values
// and the pure body codec. Little-endian, packed structs. Which optional fields
// a packet carries depends on the capabilities BOTH sides announced in their
// hellos, so every encode/decode takes the negotiation state (UsbRedirCaps).
// We are the usb host side (the device owner); the peer is QEMU's usb-redir.
import { ByteReader } from '../../spice/wire/byte-reader';
import { ByteWriter } from '../../spice/wire/byte-writer';
import { SpiceError } from '../../spice/wire/errors';

export const USBREDIR_VERSION_STRING_SIZE = 64;
/** Largest bulk transfer the protocol allows (usbredirparser's MAX_BULK_TRANSFER_SIZE). */
export const MAX_BULK_TRANSFER_SIZE = 128 * 1024 * 1024;
/** Largest packet body accepted: the biggest transfer plus room for a type header. */
export const MAX_PACKET_SIZE = MAX_BULK_TRANSFER_SIZE + 1024;
export const HEADER_SIZE_32 = 12;
export const HEADER_SIZE_64 = 16;

export const UsbRedirStatus = { success: 0, cancelled: 1, inval: 2, ioerror: 3, stall: 4, timeout: 5, babble: 6 } as const;
export const UsbRedirEpType = { control: 0, iso: 1, bulk: 2, interrupt: 3, invalid: 255 } as const;
export const UsbRedirSpeed = { low: 0, full: 1, high: 2, super: 3, unknown: 255 } as const;

export const UsbRedirCap = {
  bulk_streams: 0,
  connect_device_version: 1,
  filter: 2,
  device_disconnect_ack: 3,
  ep_info_max_packet_size: 4,
  '64bits_ids': 5,
  '32bits_bulk_length': 6,
  bulk_receiving: 7,
} as const;
export type UsbRedirCapName = keyof typeof UsbRedirCap;

/** Packet type numbers, named as in usbredirproto.h without the usb_redir_ prefix. */
export const UsbRedirType = {
  hello: 0,
  device_connect: 1,
  device_disconnect: 2,
  reset: 3,
  interface_info: 4,
  ep_info: 5,
  set_configuration: 6,
  get_configuration: 7,
  configuration_status: 8,
  set_alt_setting: 9,
  get_alt_setting: 10,
  alt_setting_status: 11,
  start_iso_stream: 12,
  stop_iso_stream: 13,
  iso_stream_status: 14,
  start_interrupt_receiving: 15,
  stop_interrupt_receiving: 16,
  interrupt_receiving_status: 17,
  alloc_bulk_streams: 18,
  free_bulk_streams: 19,
  bulk_streams_status: 20,
  cancel_data_packet: 21,
  filter_reject: 22,
  filter_filter: 23,
  device_disconnect_ack: 24,
  start_bulk_receiving: 25,
  stop_bulk_receiving: 26,
  bulk_receiving_status: 27,
  control_packet: 100,
  bulk_packet: 101,
  iso_packet: 102,
  interrupt_packet: 103,
  buffered_bulk_packet: 104,
} as const;
export type UsbRedirTypeName = keyof typeof UsbRedirType;
const TYPE_NAME = new Map<number, UsbRedirTypeName>(Object.entries(UsbRedirType).map(([k, v]) => [v, k as UsbRedirTypeName]));
export function usbRedirTypeName(type: number): UsbRedirTypeName | undefined {
  return TYPE_NAME.get(type);
}

type A32 = number[]; // one entry per endpoint index / interface slot, always 32 long

export type UsbRedirMessage =
  | { type: 'hello'; version: string; caps: number[] }
  | {
      type: 'device_connect'; speed: number; deviceClass: number; deviceSubclass: number; deviceProtocol: number;
      vendorId: number; productId: number; /** only on the wire with connect_device_version */ deviceVersionBcd: number;
    }
  | { type: 'device_disconnect' }
  | { type: 'reset' }
  | { type: 'interface_info'; interfaceCount: number; interface: A32; interfaceClass: A32; interfaceSubclass: A32; interfaceProtocol: A32 }
  | {
      type: 'ep_info'; epType: A32; interval: A32; interface: A32;
      /** with ep_info_max_packet_size */ maxPacketSize: A32; /** with bulk_streams */ maxStreams: A32;
    }
  | { type: 'set_configuration'; configuration: number }
  | { type: 'get_configuration' }
  | { type: 'configuration_status'; status: number; configuration: number }
  | { type: 'set_alt_setting'; interface: number; alt: number }
  | { type: 'get_alt_setting'; interface: number }
  | { type: 'alt_setting_status'; status: number; interface: number; alt: number }
  | { type: 'start_iso_stream'; endpoint: number; pktsPerUrb: number; noUrbs: number }
  | { type: 'stop_iso_stream'; endpoint: number }
  | { type: 'iso_stream_status'; status: number; endpoint: number }
  | { type: 'start_interrupt_receiving'; endpoint: number }
  | { type: 'stop_interrupt_receiving'; endpoint: number }
  | { type: 'interrupt_receiving_status'; status: number; endpoint: number }
  | { type: 'alloc_bulk_streams'; endpoints: number; noStreams: number }
  | { type: 'free_bulk_streams'; endpoints: number }
  | { type: 'bulk_streams_status'; endpoints: number; noStreams: number; status: number }
  | { type: 'cancel_data_packet' }
  | { type: 'filter_reject' }
  | { type: 'filter_filter'; rules: string }
  | { type: 'device_disconnect_ack' }
  | { type: 'start_bulk_receiving'; streamId: number; bytesPerTransfer: number; endpoint: number; noTransfers: number }
  | { type: 'stop_bulk_receiving'; streamId: number; endpoint: number }
  | { type: 'bulk_receiving_status'; streamId: number; endpoint: number; status: number }
  | {
      type: 'control_packet'; endpoint: number; request: number; requestType: number; status: number;
      value: number; index: number; length: number; data: Uint8Array;
    }
  | { type: 'bulk_packet'; endpoint: number; status: number; length: number; streamId: number; data: Uint8Array }
  | { type: 'iso_packet'; endpoint: number; status: number; length: number; data: Uint8Array }
  | { type: 'interrupt_packet'; endpoint: number; status: number; length: number; data: Uint8Array }
  | { type: 'buffered_bulk_packet'; streamId: number; length: number; endpoint: number; status: number; data: Uint8Array };

export interface UsbRedirPacket {
  /** Request id, echoed in the reply (64-bit with the 64bits_ids cap, else 32-bit). */
  id: bigint;
  msg: UsbRedirMessage;
}

export type MessageOf<T extends UsbRedirTypeName> = Extract<UsbRedirMessage, { type: T }>;

/** A 32-entry array filled with `fill` and the given index → value pairs. */
export function slots(fill: number, set: Record<number, number> = {}): number[] {
  const a = new Array<number>(32).fill(fill);
  for (const [k, v] of Object.entries(set)) a[Number(k)] = v;
  return a;
}

/** The ep_info / interface slot of an endpoint address: number + 16 for IN. */
export function epIndex(address: number): number {
  return (address & 0x0f) | ((address & 0x80) >> 3);
}

/**
 * Negotiation state shared by the parser and the encoder of one connection.
 * Until the peer's hello arrives its caps are unknown (null), which means the
 * 32-bit id header and no optional fields, as in usbredirparser.
 */
export class UsbRedirCaps {
  peerCaps: number[] | null = null;
  peerVersion: string | null = null;
  constructor(
    readonly ourCaps: number[],
    /** 'host' (the device owner, us) or 'guest' (QEMU): fixes which packets each side may send. */
    readonly role: 'host' | 'guest' = 'host',
  ) {}

  static fromNames(names: UsbRedirCapName[], role: 'host' | 'guest' = 'host'): UsbRedirCaps {
    return new UsbRedirCaps(capsFromNames(names), role);
  }
  ours(cap: UsbRedirCapName): boolean {
    return hasCap(this.ourCaps, cap);
  }
  peer(cap: UsbRedirCapName): boolean {
    return this.peerCaps !== null && hasCap(this.peerCaps, cap);
  }
  /** Both sides announced the cap: the optional wire field/packet is in use. */
  both(cap: UsbRedirCapName): boolean {
    return this.ours(cap) && this.peer(cap);
  }
  get headerSize(): number {
    return this.both('64bits_ids') ? HEADER_SIZE_64 : HEADER_SIZE_32;
  }
}

export function capsFromNames(names: UsbRedirCapName[]): number[] {
  let w = 0;
  for (const n of names) w |= 1 << UsbRedirCap[n];
  return [w >>> 0];
}
export function hasCap(caps: number[], cap: UsbRedirCapName): boolean {
  const bit = UsbRedirCap[cap];
  return ((caps[bit >> 5] ?? 0) >>> (bit & 31) & 1) === 1;
}

// ---- which side may send what (usbredirparser's command_for_host) ----------
const TO_HOST = new Set<UsbRedirTypeName>([
  'reset', 'set_configuration', 'get_configuration', 'set_alt_setting', 'get_alt_setting', 'start_iso_stream',
  'stop_iso_stream', 'start_interrupt_receiving', 'stop_interrupt_receiving', 'alloc_bulk_streams',
  'free_bulk_streams', 'cancel_data_packet', 'filter_reject', 'device_disconnect_ack', 'start_bulk_receiving',
  'stop_bulk_receiving',
]);
const TO_GUEST = new Set<UsbRedirTypeName>([
  'device_connect', 'device_disconnect', 'interface_info', 'ep_info', 'configuration_status', 'alt_setting_status',
  'iso_stream_status', 'interrupt_receiving_status', 'bulk_streams_status', 'bulk_receiving_status',
  'buffered_bulk_packet',
]);
// hello, filter_filter and the data packets go both ways.

// ---- fixed type headers: field list per packet type ------------------------
type Field = [name: string, kind: 'u8' | 'u16' | 'u32' | 'u8x32' | 'u16x32' | 'u32x32'];
const LAYOUT: Partial<Record<UsbRedirTypeName, Field[]>> = {
  interface_info: [['interfaceCount', 'u32'], ['interface', 'u8x32'], ['interfaceClass', 'u8x32'], ['interfaceSubclass', 'u8x32'], ['interfaceProtocol', 'u8x32']],
  set_configuration: [['configuration', 'u8']],
  configuration_status: [['status', 'u8'], ['configuration', 'u8']],
  set_alt_setting: [['interface', 'u8'], ['alt', 'u8']],
  get_alt_setting: [['interface', 'u8']],
  alt_setting_status: [['status', 'u8'], ['interface', 'u8'], ['alt', 'u8']],
  start_iso_stream: [['endpoint', 'u8'], ['pktsPerUrb', 'u8'], ['noUrbs', 'u8']],
  stop_iso_stream: [['endpoint', 'u8']],
  iso_stream_status: [['status', 'u8'], ['endpoint', 'u8']],
  start_interrupt_receiving: [['endpoint', 'u8']],
  stop_interrupt_receiving: [['endpoint', 'u8']],
  interrupt_receiving_status: [['status', 'u8'], ['endpoint', 'u8']],
  alloc_bulk_streams: [['endpoints', 'u32'], ['noStreams', 'u32']],
  free_bulk_streams: [['endpoints', 'u32']],
  bulk_streams_status: [['endpoints', 'u32'], ['noStreams', 'u32'], ['status', 'u8']],
  start_bulk_receiving: [['streamId', 'u32'], ['bytesPerTransfer', 'u32'], ['endpoint', 'u8'], ['noTransfers', 'u8']],
  stop_bulk_receiving: [['streamId', 'u32'], ['endpoint', 'u8']],
  bulk_receiving_status: [['streamId', 'u32'], ['endpoint', 'u8'], ['status', 'u8']],
  control_packet: [['endpoint', 'u8'], ['request', 'u8'], ['requestType', 'u8'], ['status', 'u8'], ['value', 'u16'], ['index', 'u16'], ['length', 'u16']],
  iso_packet: [['endpoint', 'u8'], ['status', 'u8'], ['length', 'u16']],
  interrupt_packet: [['endpoint', 'u8'], ['status', 'u8'], ['length', 'u16']],
  buffered_bulk_packet: [['streamId', 'u32'], ['length', 'u32'], ['endpoint', 'u8'], ['status', 'u8']],
};
const DEVICE_CONNECT: Field[] = [['speed', 'u8'], ['deviceClass', 'u8'], ['deviceSubclass', 'u8'], ['deviceProtocol', 'u8'], ['vendorId', 'u16'], ['productId', 'u16']];
const EP_INFO: Field[] = [['epType', 'u8x32'], ['interval', 'u8x32'], ['interface', 'u8x32']];
/** Packets that carry transfer data after their type header. */
const DATA_PACKETS = new Set<UsbRedirTypeName>(['control_packet', 'bulk_packet', 'iso_packet', 'interrupt_packet', 'buffered_bulk_packet']);
const FIELD_SIZE = { u8: 1, u16: 2, u32: 4, u8x32: 32, u16x32: 64, u32x32: 128 } as const;
const NO_HEADER = new Set<UsbRedirTypeName>(['device_disconnect', 'reset', 'get_configuration', 'cancel_data_packet', 'filter_reject', 'filter_filter', 'device_disconnect_ack']);

function fieldsOf(name: UsbRedirTypeName, caps: UsbRedirCaps): Field[] {
  switch (name) {
    case 'device_connect':
      return caps.both('connect_device_version') ? [...DEVICE_CONNECT, ['deviceVersionBcd', 'u16']] : DEVICE_CONNECT;
    case 'ep_info':
      if (caps.both('bulk_streams')) return [...EP_INFO, ['maxPacketSize', 'u16x32'], ['maxStreams', 'u32x32']];
      if (caps.both('ep_info_max_packet_size')) return [...EP_INFO, ['maxPacketSize', 'u16x32']];
      return EP_INFO;
    case 'bulk_packet':
      return caps.both('32bits_bulk_length')
        ? [['endpoint', 'u8'], ['status', 'u8'], ['length', 'u16'], ['streamId', 'u32'], ['lengthHigh', 'u16']]
        : [['endpoint', 'u8'], ['status', 'u8'], ['length', 'u16'], ['streamId', 'u32']];
    default:
      return LAYOUT[name] ?? [];
  }
}

/** Size of the fixed type header of a packet type under the negotiated caps. */
export function typeHeaderSize(name: UsbRedirTypeName, caps: UsbRedirCaps): number {
  if (name === 'hello') return USBREDIR_VERSION_STRING_SIZE;
  if (NO_HEADER.has(name)) return 0;
  return fieldsOf(name, caps).reduce((n, [, k]) => n + FIELD_SIZE[k], 0);
}

/** Whether bytes may follow the fixed type header (caps array, filter string, transfer data). */
function hasTrailingData(name: UsbRedirTypeName): boolean {
  return name === 'hello' || name === 'filter_filter' || DATA_PACKETS.has(name);
}

function readFields(r: ByteReader, fields: Field[], out: Record<string, unknown>): void {
  for (const [name, kind] of fields) {
    switch (kind) {
      case 'u8': out[name] = r.u8(name); break;
      case 'u16': out[name] = r.u16(name); break;
      case 'u32': out[name] = r.u32(name); break;
      case 'u8x32': out[name] = Array.from(r.bytesView(32, name)); break;
      case 'u16x32': out[name] = Array.from({ length: 32 }, () => r.u16(name)); break;
      case 'u32x32': out[name] = Array.from({ length: 32 }, () => r.u32(name)); break;
    }
  }
}

function writeFields(w: ByteWriter, fields: Field[], msg: Record<string, unknown>): void {
  for (const [name, kind] of fields) {
    const v = msg[name];
    if (kind === 'u8x32' || kind === 'u16x32' || kind === 'u32x32') {
      const a = (v as number[] | undefined) ?? [];
      if (a.length > 32) throw new SpiceError('LIMIT', `${name} has ${a.length} entries (32 max)`);
      for (let i = 0; i < 32; i++) {
        const x = a[i] ?? 0;
        if (kind === 'u8x32') w.u8(x); else if (kind === 'u16x32') w.u16(x); else w.u32(x);
      }
    } else {
      const x = (v as number | undefined) ?? 0;
      if (kind === 'u8') w.u8(x); else if (kind === 'u16') w.u16(x); else w.u32(x);
    }
  }
}

/**
 * Which side sends the payload of a data packet: the guest for OUT endpoints
 * (and SETUP data of OUT control requests), the host for IN endpoints.
 */
function dataFromGuest(endpoint: number): boolean {
  return (endpoint & 0x80) === 0;
}

/** Checks direction and cap rules of a packet; `fromGuest` = the guest sends it. */
function checkRules(name: UsbRedirTypeName, fromGuest: boolean, caps: UsbRedirCaps, sending: boolean): void {
  if (fromGuest ? TO_GUEST.has(name) : TO_HOST.has(name)) {
    throw new SpiceError('PROTOCOL', `usbredir ${name} sent by the ${fromGuest ? 'guest' : 'host'}: only the other side sends it`);
  }
  // a packet type behind a cap needs that cap on the receiving side
  const needCap = (cap: UsbRedirCapName): void => {
    const ok = sending ? caps.peer(cap) : caps.ours(cap);
    if (!ok) throw new SpiceError('PROTOCOL', `usbredir ${name} without cap ${cap} on the receiving side`);
  };
  if (name === 'filter_reject' || name === 'filter_filter') needCap('filter');
  if (name === 'device_disconnect_ack') needCap('device_disconnect_ack');
  if (name === 'start_bulk_receiving' || name === 'stop_bulk_receiving' || name === 'bulk_receiving_status' || name === 'buffered_bulk_packet') {
    needCap('bulk_receiving');
  }
}

function checkMessage(msg: Record<string, unknown>, name: UsbRedirTypeName, fromGuest: boolean, dataLen: number): void {
  if (name === 'interface_info' && (msg.interfaceCount as number) > 32) {
    throw new SpiceError('BAD_MESSAGE', `usbredir interface_info count ${msg.interfaceCount} > 32`);
  }
  const inOnly = ['start_interrupt_receiving', 'stop_interrupt_receiving', 'interrupt_receiving_status', 'start_bulk_receiving', 'stop_bulk_receiving', 'bulk_receiving_status'];
  if (inOnly.includes(name) && !((msg.endpoint as number) & 0x80)) {
    throw new SpiceError('BAD_MESSAGE', `usbredir ${name} on OUT endpoint 0x${(msg.endpoint as number).toString(16)}`);
  }
  if (name === 'start_bulk_receiving' && (msg.bytesPerTransfer as number) > MAX_BULK_TRANSFER_SIZE) {
    throw new SpiceError('LIMIT', `usbredir start_bulk_receiving of ${msg.bytesPerTransfer} bytes per transfer`);
  }
  if (!DATA_PACKETS.has(name)) return;
  const ep = msg.endpoint as number;
  const length = msg.length as number;
  if ((name === 'bulk_packet' || name === 'buffered_bulk_packet') && length > MAX_BULK_TRANSFER_SIZE) {
    throw new SpiceError('LIMIT', `usbredir ${name} of ${length} bytes (limit ${MAX_BULK_TRANSFER_SIZE})`);
  }
  if (dataFromGuest(ep) === fromGuest) {
    if (dataLen !== length) {
      throw new SpiceError('BAD_MESSAGE', `usbredir ${name} ep 0x${ep.toString(16)} carries ${dataLen} data bytes, header says ${length}`);
    }
  } else {
    if (dataLen !== 0) throw new SpiceError('BAD_MESSAGE', `usbredir ${name} ep 0x${ep.toString(16)}: unexpected ${dataLen} data bytes`);
    if (name === 'iso_packet' || name === 'buffered_bulk_packet' || (name === 'interrupt_packet' && fromGuest)) {
      throw new SpiceError('PROTOCOL', `usbredir ${name} sent in the wrong direction (ep 0x${ep.toString(16)})`);
    }
  }
}

/** Decodes a packet body (everything after the usbredir header) received from the peer. */
export function decodeBody(type: number, body: Uint8Array, caps: UsbRedirCaps): UsbRedirMessage {
  const name = TYPE_NAME.get(type);
  if (!name) throw new SpiceError('UNKNOWN_MESSAGE', `unknown usbredir packet type ${type}`);
  const fromGuest = caps.role === 'host';
  checkRules(name, fromGuest, caps, false);
  const r = new ByteReader(body);
  if (name === 'hello') {
    const v = r.bytesView(USBREDIR_VERSION_STRING_SIZE, 'hello version');
    const nul = v.indexOf(0);
    const version = new TextDecoder('latin1').decode(nul < 0 ? v : v.subarray(0, nul));
    const caps32: number[] = [];
    while (r.remaining >= 4) caps32.push(r.u32('hello caps'));
    // a trailing partial word is ignored, as in usbredirparser
    return { type: 'hello', version, caps: caps32 };
  }
  if (name === 'filter_filter') {
    const s = r.rest();
    if (s.length < 1 || s[s.length - 1] !== 0) throw new SpiceError('BAD_MESSAGE', 'usbredir filter_filter string is not NUL-terminated');
    return { type: 'filter_filter', rules: new TextDecoder('latin1').decode(s.subarray(0, s.length - 1)) };
  }
  const out: Record<string, unknown> = { type: name };
  readFields(r, fieldsOf(name, caps), out);
  if (name === 'device_connect' && out.deviceVersionBcd === undefined) out.deviceVersionBcd = 0;
  if (name === 'ep_info') {
    out.maxPacketSize ??= slots(0);
    out.maxStreams ??= slots(0);
  }
  if (name === 'bulk_packet') {
    out.length = (out.length as number) + (((out.lengthHigh as number | undefined) ?? 0) * 0x10000);
    delete out.lengthHigh;
  }
  if (hasTrailingData(name)) {
    if (DATA_PACKETS.has(name)) out.data = r.rest();
  } else if (r.remaining) {
    throw new SpiceError('BAD_MESSAGE', `usbredir ${name}: ${r.remaining} bytes after the ${r.offset}-byte body`);
  }
  checkMessage(out, name, fromGuest, (out.data as Uint8Array | undefined)?.length ?? 0);
  return out as UsbRedirMessage;
}

/** Encodes a packet body for sending to the peer (direction and cap rules checked). */
export function encodeBody(msg: UsbRedirMessage, caps: UsbRedirCaps): Uint8Array {
  return encodeInto(msg, caps, 0).finish();
}

/** The body written after `room` bytes left for the header (one buffer for the whole packet: a bulk reply is not copied twice). */
function encodeInto(msg: UsbRedirMessage, caps: UsbRedirCaps, room: number): ByteWriter {
  const name = msg.type;
  const fromGuest = caps.role === 'guest';
  checkRules(name, fromGuest, caps, true);
  // sized up front: a bulk reply carries up to a whole transfer
  const w = new ByteWriter(room + 64 + ('data' in msg ? msg.data.length : 0));
  if (room) w.zeros(room);
  if (msg.type === 'hello') {
    const v = new TextEncoder().encode(msg.version).subarray(0, USBREDIR_VERSION_STRING_SIZE - 1);
    w.bytes(v).zeros(USBREDIR_VERSION_STRING_SIZE - v.length);
    for (const c of msg.caps) w.u32(c);
    return w;
  }
  if (msg.type === 'filter_filter') {
    const s = new TextEncoder().encode(msg.rules);
    if (s.includes(0)) throw new SpiceError('BAD_MESSAGE', 'usbredir filter rules contain NUL');
    return w.bytes(s).u8(0);
  }
  const rec = msg as unknown as Record<string, unknown>;
  let dataLen = 0;
  if (msg.type === 'bulk_packet') {
    if (msg.length > 0xffff && !caps.both('32bits_bulk_length')) {
      throw new SpiceError('LIMIT', `usbredir bulk_packet of ${msg.length} bytes needs cap 32bits_bulk_length`);
    }
    writeFields(w, fieldsOf(name, caps), { ...rec, length: msg.length & 0xffff, lengthHigh: Math.floor(msg.length / 0x10000) });
  } else {
    writeFields(w, fieldsOf(name, caps), rec);
  }
  if ('data' in msg) {
    w.bytes(msg.data);
    dataLen = msg.data.length;
  }
  checkMessage(rec, name, fromGuest, dataLen);
  return w;
}

/** A whole packet (header + body) as the peer expects it now. */
export function encodePacket(packet: UsbRedirPacket, caps: UsbRedirCaps): Uint8Array {
  // hellos always travel with the 32-bit id header (caps are not known yet)
  const wide = packet.msg.type !== 'hello' && caps.headerSize === HEADER_SIZE_64;
  const hs = wide ? HEADER_SIZE_64 : HEADER_SIZE_32;
  const out = encodeInto(packet.msg, caps, hs).finish();
  const bodyLength = out.length - hs;
  if (bodyLength > MAX_PACKET_SIZE) throw new SpiceError('LIMIT', `usbredir ${packet.msg.type} of ${bodyLength} bytes`);
  if (!wide && packet.id > 0xffffffffn) throw new SpiceError('LIMIT', `usbredir id ${packet.id} needs cap 64bits_ids`);
  const v = new DataView(out.buffer, out.byteOffset, hs);
  v.setUint32(0, UsbRedirType[packet.msg.type], true);
  v.setUint32(4, bodyLength, true);
  if (wide) v.setBigUint64(8, packet.id, true); else v.setUint32(8, Number(packet.id), true);
  return out;
}
