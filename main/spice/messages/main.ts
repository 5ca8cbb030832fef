// Main channel message codecs (spice.proto MainChannel; the agent header from
// spice/vd_agent.h). Pure functions: body bytes in, values out, and back. Every
// field is bounds-checked (SHORT_READ), counts are checked before allocating.
import { ByteReader } from '../wire/byte-reader';
import { ByteWriter } from '../wire/byte-writer';
import { SpiceError } from '../wire/errors';

// ---- server → client

/** SPICE_MSG_MAIN_INIT. */
export interface MainInit {
  sessionId: number;
  displayChannelsHint: number;
  supportedMouseModes: number;
  currentMouseMode: number;
  agentConnected: boolean;
  agentTokens: number;
  multiMediaTime: number;
  ramHint: number;
}

export function decodeMainInit(body: Uint8Array): MainInit {
  const r = new ByteReader(body);
  return {
    sessionId: r.u32('session_id'),
    displayChannelsHint: r.u32('display_channels_hint'),
    supportedMouseModes: r.u32('supported_mouse_modes'),
    currentMouseMode: r.u32('current_mouse_mode'),
    agentConnected: r.u32('agent_connected') !== 0,
    agentTokens: r.u32('agent_tokens'),
    multiMediaTime: r.u32('multi_media_time'),
    ramHint: r.u32('ram_hint'),
  };
}

/** SpiceChannelId: one entry of CHANNELS_LIST. */
export interface ChannelRef {
  type: number;
  id: number;
}

/** More than any server offers (spice-server: one per type and id in use). */
export const MAX_CHANNELS = 256;

/** SPICE_MSG_MAIN_CHANNELS_LIST: u32 num_of_channels, {u8 type, u8 id}[]. */
export function decodeChannelsList(body: Uint8Array): ChannelRef[] {
  const r = new ByteReader(body);
  const n = r.u32('num_of_channels');
  if (n > MAX_CHANNELS) throw new SpiceError('LIMIT', `channel list of ${n} entries (at most ${MAX_CHANNELS})`);
  const list: ChannelRef[] = [];
  for (let i = 0; i < n; i++) list.push({ type: r.u8('channel type'), id: r.u8('channel id') });
  return list;
}

/** SPICE_MSG_MAIN_MOUSE_MODE: mouse_mode is flags16 in spice.proto. */
export function decodeMouseMode(body: Uint8Array): { supported: number; current: number } {
  const r = new ByteReader(body);
  return { supported: r.u16('supported_modes'), current: r.u16('current_mode') };
}

/** The single u32 of MULTI_MEDIA_TIME (time), AGENT_TOKEN and AGENT_CONNECTED_TOKENS (num_tokens), AGENT_DISCONNECTED (error_code). */
export function decodeMainU32(body: Uint8Array, what: string): number {
  return new ByteReader(body).u32(what);
}

/** SPICE_MSG_MAIN_NAME: u32 name_len, name_len bytes (spice-server counts the NUL). */
export function decodeName(body: Uint8Array): string {
  const r = new ByteReader(body);
  const len = r.u32('name_len');
  return cutAtNul(r.bytesView(len, 'name'));
}

/** SPICE_MSG_MAIN_UUID: 16 bytes, shown in the RFC 4122 form. */
export function decodeUuid(body: Uint8Array): string {
  const b = new ByteReader(body).bytesView(16, 'uuid');
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** MIGRATE_BEGIN, MIGRATE_BEGIN_SEAMLESS and MIGRATE_SWITCH_HOST (same layout). */
export interface DstInfo {
  port: number;
  /** TLS port; 0 and 0xFFFF (QEMU's -1) mean none. */
  sport: number;
  host: string;
  certSubject: string | null;
  /** Only in MIGRATE_BEGIN_SEAMLESS. */
  srcMigVersion?: number;
}

export const MAX_HOST_BYTES = 1024;

function cutAtNul(bytes: Uint8Array): string {
  // do not trust the NUL to be inside size (spice-gtk fix 9b98e01): cut at the first NUL
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
}

function readString(r: ByteReader, size: number, off: number, what: string): string {
  if (size > MAX_HOST_BYTES) throw new SpiceError('LIMIT', `${what} of ${size} bytes (at most ${MAX_HOST_BYTES})`);
  return cutAtNul(r.sub(off, size, what).rest());
}

/** DstInfo: u16 port, u16 sport, u32 host_size, u32 host_offset, u32 subject_size, u32 subject_offset [, u32 src_mig_version]. */
export function decodeDstInfo(body: Uint8Array, seamless: boolean): DstInfo {
  const r = new ByteReader(body);
  const port = r.u16('port');
  const sport = r.u16('sport');
  const hostSize = r.u32('host_size');
  const hostOff = r.u32('host_offset');
  const subjSize = r.u32('cert_subject_size');
  const subjOff = r.u32('cert_subject_offset');
  const srcMigVersion = seamless ? r.u32('src_mig_version') : undefined;
  if (!hostOff || !hostSize) throw new SpiceError('BAD_MESSAGE', 'migration destination without a host');
  const host = readString(r, hostSize, hostOff, 'destination host');
  const certSubject = subjOff && subjSize ? readString(r, subjSize, subjOff, 'cert subject') : null;
  return { port, sport: sport === 0xffff ? 0 : sport, host, certSubject, ...(srcMigVersion !== undefined ? { srcMigVersion } : {}) };
}

// ---- client → server (ATTACH_CHANNELS, MIGRATE_CONNECTED[_SEAMLESS], MIGRATE_CONNECT_ERROR and MIGRATE_END are empty)

/** SPICE_MSGC_MAIN_MOUSE_MODE_REQUEST: u16 mode. */
export function encodeMouseModeRequest(mode: number): Uint8Array {
  return new ByteWriter(2).u16(mode).finish();
}

/** SPICE_MSGC_MAIN_AGENT_START and AGENT_TOKEN: u32 num_tokens. */
export function encodeAgentTokens(numTokens: number): Uint8Array {
  return new ByteWriter(4).u32(numTokens).finish();
}

/** SPICE_MSGC_MAIN_MIGRATE_DST_DO_SEAMLESS: u32 src_version (the source's src_mig_version). */
export function encodeMigrateDstDoSeamless(srcVersion: number): Uint8Array {
  return new ByteWriter(4).u32(srcVersion).finish();
}

// ---- AGENT_DATA (both ways): a VDAgentMessage header starts each agent message;
// a message longer than VD_AGENT_MAX_DATA_SIZE continues in the next AGENT_DATA bodies.

export const VD_AGENT_PROTOCOL = 1;
/** Most bytes of agent data in one AGENT_DATA message (header included). */
export const VD_AGENT_MAX_DATA_SIZE = 2048;
export const AGENT_MESSAGE_HEADER_SIZE = 20;

/** VDAgentMessage without its data: u32 protocol, u32 type, u64 opaque, u32 size. */
export interface AgentMessageHeader {
  protocol: number;
  type: number;
  opaque: bigint;
  /** Bytes of data that follow the header (possibly across several AGENT_DATA). */
  size: number;
}

export function encodeAgentMessageHeader(h: AgentMessageHeader): Uint8Array {
  return new ByteWriter(AGENT_MESSAGE_HEADER_SIZE).u32(h.protocol).u32(h.type).u64(h.opaque).u32(h.size).finish();
}

export function decodeAgentMessageHeader(body: Uint8Array): AgentMessageHeader {
  const r = new ByteReader(body);
  const h = { protocol: r.u32('agent protocol'), type: r.u32('agent message type'), opaque: r.u64('agent opaque'), size: r.u32('agent data size') };
  if (h.protocol !== VD_AGENT_PROTOCOL) throw new SpiceError('BAD_MESSAGE', `agent protocol ${h.protocol}, expected ${VD_AGENT_PROTOCOL}`);
  return h;
}
