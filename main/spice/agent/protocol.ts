// VDAgent message bodies (spice/vd_agent.h): the data that follows a
// VDAgentMessage header inside the AGENT_DATA stream. Pure codecs: bytes in,
// values out, and back; every field is bounds-checked (SHORT_READ), counts and
// sizes are checked before allocating. The header itself and the chunk size
// live in messages/main.ts (encodeAgentMessageHeader, VD_AGENT_MAX_DATA_SIZE).
import { ByteReader } from '../wire/byte-reader';
import { ByteWriter } from '../wire/byte-writer';
import { SpiceError } from '../wire/errors';

/** VD_AGENT_* message types. */
export const AgentMsg = {
  MOUSE_STATE: 1,
  MONITORS_CONFIG: 2,
  REPLY: 3,
  CLIPBOARD: 4,
  DISPLAY_CONFIG: 5,
  ANNOUNCE_CAPABILITIES: 6,
  CLIPBOARD_GRAB: 7,
  CLIPBOARD_REQUEST: 8,
  CLIPBOARD_RELEASE: 9,
  FILE_XFER_START: 10,
  FILE_XFER_STATUS: 11,
  FILE_XFER_DATA: 12,
  CLIENT_DISCONNECTED: 13,
  MAX_CLIPBOARD: 14,
  AUDIO_VOLUME_SYNC: 15,
  GRAPHICS_DEVICE_INFO: 16,
} as const;

/** VD_AGENT_CAP_* bit numbers. */
export const AgentCap = {
  MOUSE_STATE: 0,
  MONITORS_CONFIG: 1,
  REPLY: 2,
  CLIPBOARD: 3,
  DISPLAY_CONFIG: 4,
  CLIPBOARD_BY_DEMAND: 5,
  CLIPBOARD_SELECTION: 6,
  SPARSE_MONITORS_CONFIG: 7,
  GUEST_LINEEND_LF: 8,
  GUEST_LINEEND_CRLF: 9,
  MAX_CLIPBOARD: 10,
  AUDIO_VOLUME_SYNC: 11,
  MONITORS_CONFIG_POSITION: 12,
  FILE_XFER_DISABLED: 13,
  FILE_XFER_DETAILED_ERRORS: 14,
  GRAPHICS_DEVICE_INFO: 15,
  CLIPBOARD_NO_RELEASE_ON_REGRAB: 16,
  CLIPBOARD_GRAB_SERIAL: 17,
} as const;

/** VD_AGENT_CLIPBOARD_* data types. */
export const ClipboardType = { NONE: 0, UTF8_TEXT: 1, IMAGE_PNG: 2, IMAGE_BMP: 3, IMAGE_TIFF: 4, IMAGE_JPG: 5, FILE_LIST: 6 } as const;
/** VD_AGENT_CLIPBOARD_SELECTION_*. */
export const Selection = { CLIPBOARD: 0, PRIMARY: 1, SECONDARY: 2 } as const;
/** VD_AGENT_FILE_XFER_STATUS_*. */
export const FileXferStatus = {
  CAN_SEND_DATA: 0,
  CANCELLED: 1,
  ERROR: 2,
  SUCCESS: 3,
  NOT_ENOUGH_SPACE: 4,
  SESSION_LOCKED: 5,
  VDAGENT_NOT_CONNECTED: 6,
  DISABLED: 7,
} as const;
/** VD_AGENT_CONFIG_MONITORS_FLAG_*. */
export const MonitorsFlag = { USE_POS: 1, PHYSICAL_SIZE: 2 } as const;
/** VD_AGENT_DISPLAY_CONFIG_FLAG_*. */
export const DisplayConfigFlag = { DISABLE_WALLPAPER: 1, DISABLE_FONT_SMOOTH: 2, DISABLE_ANIMATION: 4, SET_COLOR_DEPTH: 8 } as const;
/** VD_AGENT_SUCCESS / VD_AGENT_ERROR in VDAgentReply.error. */
export const AgentReplyResult = { SUCCESS: 1, ERROR: 2 } as const;

/** u32 words in a capability set (VD_AGENT_CAPS_SIZE for VD_AGENT_END_CAP = 18). */
export const AGENT_CAPS_WORDS = 1;
/** More capability words than any agent sends (the set grows one word per 32 caps). */
export const MAX_CAPS_WORDS = 64;
/** VDAgentMonitorsConfig entries we accept or send (spice-gtk: MAX_DISPLAY 16). */
export const MAX_MONITORS = 16;
/** Data types one CLIPBOARD_GRAB may list. */
export const MAX_GRAB_TYPES = 64;
/** The vdagent-file-xfer key file of FILE_XFER_START (name and size only). */
export const MAX_XFER_START_BYTES = 64 * 1024;

export function capsOf(...bits: number[]): number[] {
  const words = new Array<number>(Math.max(AGENT_CAPS_WORDS, ...bits.map((b) => (b >> 5) + 1))).fill(0);
  for (const b of bits) words[b >> 5] = (words[b >> 5] | (1 << (b & 31))) >>> 0;
  return words;
}

/** VD_AGENT_HAS_CAPABILITY. */
export function hasCap(caps: readonly number[], bit: number): boolean {
  return bit >> 5 < caps.length && (caps[bit >> 5] & (1 << (bit & 31))) !== 0;
}

// ---- ANNOUNCE_CAPABILITIES: u32 request, u32 caps[]

export interface AnnounceCapabilities {
  request: boolean;
  caps: number[];
}

export function encodeAnnounceCapabilities(a: AnnounceCapabilities): Uint8Array {
  const w = new ByteWriter(4 + 4 * a.caps.length).u32(a.request ? 1 : 0);
  for (const c of a.caps) w.u32(c);
  return w.finish();
}

export function decodeAnnounceCapabilities(body: Uint8Array): AnnounceCapabilities {
  const r = new ByteReader(body);
  const request = r.u32('request') !== 0;
  // VD_AGENT_CAPS_SIZE_FROM_MSG_SIZE: trailing bytes that do not fill a word are ignored
  const n = Math.floor(r.remaining / 4);
  if (n > MAX_CAPS_WORDS) throw new SpiceError('LIMIT', `agent capabilities of ${n} words (at most ${MAX_CAPS_WORDS})`);
  const caps: number[] = [];
  for (let i = 0; i < n; i++) caps.push(r.u32('caps'));
  return { request, caps };
}

// ---- clipboard: the layout depends on capabilities both sides announced

/** Which optional clipboard fields are on the wire (both sides announced the cap). */
export interface ClipboardLayout {
  /** VD_AGENT_CAP_CLIPBOARD_SELECTION: u8 selection + 3 reserved bytes first. */
  selection: boolean;
  /** VD_AGENT_CAP_CLIPBOARD_GRAB_SERIAL: u32 serial after the selection (GRAB only). */
  serial: boolean;
}

function readSelection(r: ByteReader, l: ClipboardLayout): number {
  if (!l.selection) return Selection.CLIPBOARD;
  const s = r.u8('selection');
  r.skip(3, 'selection reserved');
  if (s > Selection.SECONDARY) throw new SpiceError('BAD_MESSAGE', `clipboard selection ${s}`);
  return s;
}

function writeSelection(w: ByteWriter, l: ClipboardLayout, selection: number): ByteWriter {
  if (l.selection) w.u8(selection).zeros(3);
  else if (selection !== Selection.CLIPBOARD) throw new SpiceError('PROTOCOL', 'the agent has no clipboard selections: only CLIPBOARD');
  return w;
}

export interface ClipboardGrab {
  selection: number;
  /** Present when the layout has serials. */
  serial?: number;
  types: number[];
}

export function encodeClipboardGrab(l: ClipboardLayout, g: ClipboardGrab): Uint8Array {
  const w = writeSelection(new ByteWriter(12 + 4 * g.types.length), l, g.selection);
  if (l.serial) w.u32(g.serial ?? 0);
  for (const t of g.types) w.u32(t);
  return w.finish();
}

export function decodeClipboardGrab(l: ClipboardLayout, body: Uint8Array): ClipboardGrab {
  const r = new ByteReader(body);
  const selection = readSelection(r, l);
  const serial = l.serial ? r.u32('serial') : undefined;
  if (r.remaining % 4) throw new SpiceError('BAD_MESSAGE', `clipboard grab types of ${r.remaining} bytes (not whole u32s)`);
  const n = r.remaining / 4;
  if (n > MAX_GRAB_TYPES) throw new SpiceError('LIMIT', `clipboard grab of ${n} types (at most ${MAX_GRAB_TYPES})`);
  const types: number[] = [];
  for (let i = 0; i < n; i++) types.push(r.u32('type'));
  return serial === undefined ? { selection, types } : { selection, serial, types };
}

export interface ClipboardRequest {
  selection: number;
  type: number;
}

export function encodeClipboardRequest(l: ClipboardLayout, q: ClipboardRequest): Uint8Array {
  return writeSelection(new ByteWriter(8), l, q.selection).u32(q.type).finish();
}

export function decodeClipboardRequest(l: ClipboardLayout, body: Uint8Array): ClipboardRequest {
  const r = new ByteReader(body);
  const selection = readSelection(r, l);
  return { selection, type: r.u32('type') };
}

export interface Clipboard {
  selection: number;
  type: number;
  /** A view into the reassembled message (no copy). */
  data: Uint8Array;
}

/** The bytes before the data of a VD_AGENT_CLIPBOARD (so big data is not copied twice). */
export function encodeClipboardPrefix(l: ClipboardLayout, selection: number, type: number): Uint8Array {
  return writeSelection(new ByteWriter(8), l, selection).u32(type).finish();
}

export function decodeClipboard(l: ClipboardLayout, body: Uint8Array): Clipboard {
  const r = new ByteReader(body);
  const selection = readSelection(r, l);
  return { selection, type: r.u32('type'), data: r.rest() };
}

export function encodeClipboardRelease(l: ClipboardLayout, selection: number): Uint8Array {
  return writeSelection(new ByteWriter(4), l, selection).finish();
}

export function decodeClipboardRelease(l: ClipboardLayout, body: Uint8Array): { selection: number } {
  // spice-vdagentd sends a 1-byte release (just the selection) although the header says 4
  if (l.selection && body.length >= 1 && body.length < 4) {
    const s = body[0];
    if (s > Selection.SECONDARY) throw new SpiceError('BAD_MESSAGE', `clipboard selection ${s}`);
    return { selection: s };
  }
  return { selection: readSelection(new ByteReader(body), l) };
}

// ---- MAX_CLIPBOARD: i32 max (-1: no limit)

export function encodeMaxClipboard(max: number): Uint8Array {
  return new ByteWriter(4).i32(max).finish();
}

export function decodeMaxClipboard(body: Uint8Array): number {
  return new ByteReader(body).i32('max');
}

// ---- MONITORS_CONFIG: u32 num_of_monitors, u32 flags, VDAgentMonConfig[]

export interface MonConfig {
  width: number;
  height: number;
  depth: number;
  x: number;
  y: number;
}

export const MON_CONFIG_SIZE = 20;

/**
 * Exactly 8 + 20 * n bytes and never FLAG_PHYSICAL_SIZE: spice-vdagentd (0.22)
 * drops any other size with "invalid message size for VDAgentMonitorsConfig"
 * (do_client_monitors compares the header size with that sum), so the optional
 * VDAgentMonitorMM block would get the whole request refused.
 */
export function encodeMonitorsConfig(monitors: readonly MonConfig[], flags: number = MonitorsFlag.USE_POS): Uint8Array {
  if (monitors.length < 1 || monitors.length > MAX_MONITORS) throw new SpiceError('LIMIT', `${monitors.length} monitors (1..${MAX_MONITORS})`);
  if (flags & MonitorsFlag.PHYSICAL_SIZE) throw new SpiceError('PROTOCOL', 'MONITORS_CONFIG with physical sizes is refused by spice-vdagentd');
  const w = new ByteWriter(8 + MON_CONFIG_SIZE * monitors.length).u32(monitors.length).u32(flags);
  // VDAgentMonConfig order: height first
  for (const m of monitors) w.u32(m.height).u32(m.width).u32(m.depth).i32(m.x).i32(m.y);
  return w.finish();
}

export function decodeMonitorsConfig(body: Uint8Array): { flags: number; monitors: MonConfig[] } {
  const r = new ByteReader(body);
  const n = r.u32('num_of_monitors');
  const flags = r.u32('flags');
  if (n > MAX_MONITORS) throw new SpiceError('LIMIT', `${n} monitors (at most ${MAX_MONITORS})`);
  const monitors: MonConfig[] = [];
  for (let i = 0; i < n; i++) {
    const height = r.u32('height'), width = r.u32('width'), depth = r.u32('depth'), x = r.i32('x'), y = r.i32('y');
    monitors.push({ width, height, depth, x, y });
  }
  return { flags, monitors };
}

// ---- DISPLAY_CONFIG: u32 flags, u32 depth

export function encodeDisplayConfig(flags: number, depth = 0): Uint8Array {
  return new ByteWriter(8).u32(flags).u32(depth).finish();
}

// ---- REPLY: u32 type, u32 error

export function decodeReply(body: Uint8Array): { type: number; error: number } {
  const r = new ByteReader(body);
  return { type: r.u32('reply type'), error: r.u32('reply error') };
}

// ---- file transfer

/**
 * FILE_XFER_START: u32 id, then a NUL-terminated GKeyFile the agent parses
 * with g_key_file_load_from_data(.., -1): group [vdagent-file-xfer], name, size.
 */
export function encodeFileXferStart(id: number, name: string, size: number): Uint8Array {
  if (/[\n\r\0/]/.test(name) || name === '' || name === '.' || name === '..') throw new SpiceError('PROTOCOL', `file name ${JSON.stringify(name)} cannot be sent`);
  if (!Number.isSafeInteger(size) || size < 0) throw new SpiceError('PROTOCOL', `file size ${size}`);
  // GKeyFile escapes: a leading space and backslash must be escaped in values
  const value = name.replace(/\\/g, '\\\\').replace(/^ /, '\\s');
  const text = new TextEncoder().encode(`[vdagent-file-xfer]\nname=${value}\nsize=${size}\n`);
  if (text.length + 5 > MAX_XFER_START_BYTES) throw new SpiceError('LIMIT', `file name of ${name.length} characters`);
  return new ByteWriter(5 + text.length).u32(id).bytes(text).u8(0).finish();
}

export function decodeFileXferStart(body: Uint8Array): { id: number; name: string; size: number } {
  const r = new ByteReader(body);
  const id = r.u32('id');
  const raw = r.rest();
  if (raw.length > MAX_XFER_START_BYTES) throw new SpiceError('LIMIT', `file-xfer key file of ${raw.length} bytes`);
  const nul = raw.indexOf(0);
  const text = new TextDecoder().decode(nul >= 0 ? raw.subarray(0, nul) : raw);
  const lines = text.split('\n');
  if (lines[0] !== '[vdagent-file-xfer]') throw new SpiceError('BAD_MESSAGE', 'file-xfer start without [vdagent-file-xfer]');
  const get = (k: string) => lines.find((l) => l.startsWith(`${k}=`))?.slice(k.length + 1);
  const name = get('name')?.replace(/^\\s/, ' ').replace(/\\\\/g, '\\');
  const size = Number(get('size'));
  if (!name || !Number.isSafeInteger(size) || size < 0) throw new SpiceError('BAD_MESSAGE', 'file-xfer start without a name or size');
  return { id, name, size };
}

export interface FileXferStatusMsg {
  id: number;
  result: number;
  /** NOT_ENOUGH_SPACE: disk_free_space. */
  freeSpace?: bigint;
  /** ERROR with detail: error_type (0 = GLib GIOError) and error_code. */
  error?: { type: number; code: number };
}

export function encodeFileXferStatus(id: number, result: number): Uint8Array {
  return new ByteWriter(8).u32(id).u32(result).finish();
}

export function decodeFileXferStatus(body: Uint8Array): FileXferStatusMsg {
  const r = new ByteReader(body);
  const s: FileXferStatusMsg = { id: r.u32('id'), result: r.u32('result') };
  // the detail is only there for clients with FILE_XFER_DETAILED_ERRORS and only for these results
  if (s.result === FileXferStatus.NOT_ENOUGH_SPACE && r.remaining >= 8) s.freeSpace = r.u64('disk_free_space');
  if (s.result === FileXferStatus.ERROR && r.remaining >= 5) s.error = { type: r.u8('error_type'), code: r.u32('error_code') };
  return s;
}

/** The bytes before the data of a FILE_XFER_DATA: u32 id, u64 size. */
export function encodeFileXferDataPrefix(id: number, size: number): Uint8Array {
  return new ByteWriter(12).u32(id).u64(BigInt(size)).finish();
}

export function decodeFileXferData(body: Uint8Array): { id: number; data: Uint8Array } {
  const r = new ByteReader(body);
  const id = r.u32('id');
  const size = r.u64('size');
  if (size !== BigInt(r.remaining)) throw new SpiceError('BAD_MESSAGE', `file-xfer data says ${size} bytes, carries ${r.remaining}`);
  return { id, data: r.rest() };
}
