// VSCard: the virtual smart card protocol spoken between a host's emulated
// CCID reader (QEMU ccid-card-passthru) and the client owning the card
// (libcacard's vscard_common.h). Pure codec + streaming parser, no platform.
//
// Byte order, as the sources have it:
// - On QEMU's chardev the 12-byte header {type, reader_id, length} is in
//   network order (big endian).
// - On the SPICE smartcard channel (SPICE_MSG/MSGC_SMARTCARD_DATA, one VSCard
//   message per SPICE message) spice-server swaps the header to and from its
//   host order, i.e. little endian; payloads pass through untouched.
// - Init's magic is the four bytes "VSCD", its version and capabilities are
//   big endian. An Error code is big endian from QEMU but little endian from
//   spice-server's own errors and spice-gtk (QEMU reads it in host order).
import { ByteReader } from '../../spice/wire/byte-reader';
import { ByteWriter } from '../../spice/wire/byte-writer';
import { ByteQueue } from '../../spice/wire/framer';
import { SpiceError } from '../../spice/wire/errors';
import { VscMessageType } from '../../../preload/spice-enums';
import { hexOf } from './bytes';

export { VscMessageType };

export const VSC_HEADER_SIZE = 12;
/** reader_id of messages not tied to a reader (Init, a failed ReaderAdd). */
export const VSCARD_UNDEFINED_READER_ID = 0xffffffff;
export const VSCARD_MINIMAL_READER_ID = 0;
/** MAKE_VERSION(0, 0, 2): major 11 bits, middle 11 bits, minor 10 bits. */
export const VSCARD_VERSION = (0 << 21) | (0 << 10) | 2;
export const VSCARD_MAGIC = Uint8Array.of(0x56, 0x53, 0x43, 0x44); // "VSCD"

export const VscErrorCode = {
  SUCCESS: 0,
  GENERAL_ERROR: 1,
  CANNOT_ADD_MORE_READERS: 2,
  CARD_ALREADY_INSERTED: 3,
} as const;

/** ISO 7816-3: an ATR is at most 33 bytes; QEMU accepts up to 40. */
export const VSC_MAX_ATR = 40;
/** Largest payload accepted: a case-4 extended command APDU (4 + 3 + 65535 + 2). */
export const VSC_MAX_PAYLOAD = 65544;
/** A reader name longer than this is refused rather than buffered. */
export const VSC_MAX_READER_NAME = 1024;
/** Init capabilities: the header allows the array to grow; cap what we keep. */
export const VSC_MAX_CAPABILITIES = 64;

export type VscByteOrder = 'le' | 'be';
/** Header byte order on the SPICE smartcard channel. */
export const SPICE_VSC_ORDER: VscByteOrder = 'le';
/** Header byte order on QEMU's ccid-card-passthru chardev. */
export const CHARDEV_VSC_ORDER: VscByteOrder = 'be';

export type VscMessage =
  | { type: typeof VscMessageType.Init; readerId: number; version: number; capabilities: number[] }
  | { type: typeof VscMessageType.Error; readerId: number; code: number }
  | { type: typeof VscMessageType.ReaderAdd; readerId: number; name: string }
  | { type: typeof VscMessageType.ReaderRemove; readerId: number }
  | { type: typeof VscMessageType.ATR; readerId: number; atr: Uint8Array }
  | { type: typeof VscMessageType.CardRemove; readerId: number }
  | { type: typeof VscMessageType.APDU; readerId: number; data: Uint8Array }
  | { type: typeof VscMessageType.Flush; readerId: number }
  | { type: typeof VscMessageType.FlushComplete; readerId: number };

export interface VscHeader {
  type: number;
  readerId: number;
  length: number;
}

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(VscMessageType).map(([k, v]) => [v, k]));

export function vscTypeName(type: number): string {
  return TYPE_NAMES[type] ?? `type ${type}`;
}

function u32(r: ByteReader, order: VscByteOrder, what: string): number {
  if (order === 'le') return r.u32(what);
  const b = r.bytesView(4, what);
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

function putU32(w: ByteWriter, order: VscByteOrder, v: number): void {
  if (order === 'le') w.u32(v);
  else w.u8(v >>> 24).u8((v >>> 16) & 0xff).u8((v >>> 8) & 0xff).u8(v & 0xff);
}

/** Reads and checks a 12-byte header: known type, payload within limits. */
export function decodeVscHeader(bytes: Uint8Array, order: VscByteOrder): VscHeader {
  const r = new ByteReader(bytes);
  const type = u32(r, order, 'vsc type');
  const readerId = u32(r, order, 'vsc reader_id');
  const length = u32(r, order, 'vsc length');
  if (!TYPE_NAMES[type]) throw new SpiceError('UNKNOWN_MESSAGE', `VSCard message type ${type} (reader ${readerId}, ${length} bytes)`);
  const max = maxPayload(type);
  if (length > max) throw new SpiceError('LIMIT', `VSCard ${vscTypeName(type)} announces ${length} bytes (limit ${max})`);
  return { type, readerId, length };
}

function maxPayload(type: number): number {
  switch (type) {
    case VscMessageType.Init:
      return 8 + 4 * VSC_MAX_CAPABILITIES;
    case VscMessageType.Error:
      return 4;
    case VscMessageType.ReaderAdd:
      return VSC_MAX_READER_NAME;
    case VscMessageType.ATR:
      return VSC_MAX_ATR;
    case VscMessageType.APDU:
      return VSC_MAX_PAYLOAD;
    default:
      return 0; // ReaderRemove, CardRemove, Flush, FlushComplete carry nothing
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** Decodes a payload whose header was checked by decodeVscHeader. Copies what it keeps. */
export function decodeVscPayload(h: VscHeader, payload: Uint8Array): VscMessage {
  if (payload.length !== h.length) throw new SpiceError('SHORT_READ', `VSCard ${vscTypeName(h.type)} needs ${h.length} payload bytes, have ${payload.length}`);
  const readerId = h.readerId;
  const r = new ByteReader(payload);
  switch (h.type) {
    case VscMessageType.Init: {
      const magic = r.bytesView(4, 'init magic');
      if (magic.some((b, i) => b !== VSCARD_MAGIC[i])) throw new SpiceError('BAD_MAGIC', `VSCard Init magic ${hexOf(magic)}, expected "VSCD"`);
      const version = u32(r, 'be', 'init version');
      if (r.remaining % 4) throw new SpiceError('BAD_MESSAGE', `VSCard Init capabilities of ${r.remaining} bytes (not a u32 array)`);
      const capabilities: number[] = [];
      while (r.remaining) capabilities.push(u32(r, 'be', 'init capability'));
      return { type: VscMessageType.Init, readerId, version, capabilities };
    }
    case VscMessageType.Error: {
      const raw = r.bytesView(4, 'error code');
      const be = u32(new ByteReader(raw), 'be', 'error code');
      const le = u32(new ByteReader(raw), 'le', 'error code');
      // codes are 0..3: whichever reading is small is the sender's order
      return { type: VscMessageType.Error, readerId, code: Math.min(be, le) };
    }
    case VscMessageType.ReaderAdd: {
      let end = payload.length;
      while (end > 0 && payload[end - 1] === 0) end--; // libcacard's vscclient sends the NUL
      let name: string;
      try {
        name = utf8.decode(payload.subarray(0, end));
      } catch {
        throw new SpiceError('BAD_MESSAGE', `VSCard ReaderAdd name is not UTF-8 (${hexOf(payload)})`);
      }
      return { type: VscMessageType.ReaderAdd, readerId, name };
    }
    case VscMessageType.ATR:
      if (!payload.length) throw new SpiceError('BAD_MESSAGE', 'VSCard ATR is empty');
      return { type: VscMessageType.ATR, readerId, atr: payload.slice() };
    case VscMessageType.APDU:
      if (!payload.length) throw new SpiceError('BAD_MESSAGE', 'VSCard APDU is empty');
      return { type: VscMessageType.APDU, readerId, data: payload.slice() };
    default:
      return { type: h.type, readerId } as VscMessage;
  }
}

/** One whole message, as carried by one SPICE_MSG_SMARTCARD_DATA body. Trailing bytes are an error. */
export function decodeVscMessage(bytes: Uint8Array, order: VscByteOrder = SPICE_VSC_ORDER): VscMessage {
  const h = decodeVscHeader(bytes.subarray(0, VSC_HEADER_SIZE), order);
  const have = bytes.length - VSC_HEADER_SIZE;
  if (have < h.length) throw new SpiceError('SHORT_READ', `VSCard ${vscTypeName(h.type)} announces ${h.length} bytes, body has ${have}`);
  if (have > h.length) throw new SpiceError('BAD_MESSAGE', `VSCard ${vscTypeName(h.type)} announces ${h.length} bytes, body has ${have}`);
  return decodeVscPayload(h, bytes.subarray(VSC_HEADER_SIZE));
}

export function encodeVscMessage(m: VscMessage, order: VscByteOrder = SPICE_VSC_ORDER): Uint8Array {
  const body = new ByteWriter(16);
  switch (m.type) {
    case VscMessageType.Init:
      body.bytes(VSCARD_MAGIC);
      putU32(body, 'be', m.version);
      for (const c of m.capabilities) putU32(body, 'be', c);
      break;
    case VscMessageType.Error:
      body.u32(m.code); // little endian, as spice-gtk sends it and QEMU (x86) reads it
      break;
    case VscMessageType.ReaderAdd:
      body.bytes(utf8Encoder.encode(m.name));
      break;
    case VscMessageType.ATR:
      body.bytes(m.atr);
      break;
    case VscMessageType.APDU:
      body.bytes(m.data);
      break;
  }
  const payload = body.finish();
  const max = maxPayload(m.type);
  if (payload.length > max) throw new SpiceError('LIMIT', `VSCard ${vscTypeName(m.type)} of ${payload.length} bytes (limit ${max})`);
  const w = new ByteWriter(VSC_HEADER_SIZE + payload.length);
  putU32(w, order, m.type);
  putU32(w, order, m.readerId);
  putU32(w, order, payload.length);
  return w.bytes(payload).finish();
}

/**
 * Streaming parser for a VSCard byte stream (a chardev, or SPICE data split
 * anyhow): push chunks, get whole messages. A bad header throws before any
 * payload is buffered; after a throw the stream is out of sync and the
 * parser refuses further input.
 */
export class VscStreamParser {
  private readonly q = new ByteQueue();
  private header: VscHeader | null = null;
  private failed: SpiceError | null = null;

  constructor(private readonly order: VscByteOrder) {}

  get buffered(): number {
    return this.q.length;
  }

  *push(chunk: Uint8Array): Generator<VscMessage> {
    if (this.failed) throw new SpiceError(this.failed.code, `VSCard stream already failed: ${this.failed.message}`);
    this.q.push(chunk);
    try {
      for (;;) {
        if (!this.header) {
          if (this.q.length < VSC_HEADER_SIZE) return;
          this.header = decodeVscHeader(this.q.take(VSC_HEADER_SIZE), this.order);
        }
        if (this.q.length < this.header.length) return;
        const h = this.header;
        this.header = null;
        yield decodeVscPayload(h, this.q.take(h.length));
      }
    } catch (e) {
      this.failed = e instanceof SpiceError ? e : new SpiceError('BAD_MESSAGE', String(e));
      throw this.failed;
    }
  }
}
