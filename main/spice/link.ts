// Link phase codecs (spice/protocol.h): SpiceLinkHeader, SpiceLinkMess,
// SpiceLinkReply, auth selection and the SPICE ticket.
import { ByteReader } from './wire/byte-reader';
import { ByteWriter } from './wire/byte-writer';
import { SpiceError } from './wire/errors';
import { CommonCap, LinkErr } from './protocol/enums';

export const SPICE_MAGIC = 0x51444552; // "REDQ"
export const SPICE_VERSION_MAJOR = 2;
export const SPICE_VERSION_MINOR = 2;
export const LINK_HEADER_SIZE = 16;
export const LINK_MESS_SIZE = 18;
export const TICKET_PUBKEY_BYTES = 162;
export const TICKET_SIZE = 128;
export const MAX_PASSWORD_LENGTH = 60;
/** A link reply is 178 bytes + caps; anything far larger is not a SPICE server. */
export const MAX_LINK_REPLY = 4096;

export interface LinkMess {
  connectionId: number;
  channelType: number;
  channelId: number;
  commonCaps: number[];
  channelCaps: number[];
}

export interface LinkReply {
  error: number;
  pubKey: Uint8Array;
  commonCaps: number[];
  channelCaps: number[];
}

/** Cap list → u32 words (cap N = bit N%32 of word N/32). */
export function capsToWords(caps: number[]): number[] {
  const words: number[] = [];
  for (const c of caps) {
    const w = c >>> 5;
    while (words.length <= w) words.push(0);
    words[w] = (words[w] | (1 << (c & 31))) >>> 0;
  }
  return words;
}

export function wordsToCaps(words: number[]): number[] {
  const caps: number[] = [];
  words.forEach((w, i) => {
    for (let b = 0; b < 32; b++) if (w & (1 << b)) caps.push(i * 32 + b);
  });
  return caps;
}

export function hasCap(caps: number[], cap: number): boolean {
  return caps.includes(cap);
}

export function encodeLinkMess(m: LinkMess): Uint8Array {
  const common = capsToWords(m.commonCaps);
  const chan = capsToWords(m.channelCaps);
  const size = LINK_MESS_SIZE + 4 * (common.length + chan.length);
  const w = new ByteWriter(LINK_HEADER_SIZE + size);
  w.u32(SPICE_MAGIC).u32(SPICE_VERSION_MAJOR).u32(SPICE_VERSION_MINOR).u32(size);
  w.u32(m.connectionId).u8(m.channelType).u8(m.channelId);
  w.u32(common.length).u32(chan.length).u32(LINK_MESS_SIZE);
  for (const x of common) w.u32(x);
  for (const x of chan) w.u32(x);
  return w.finish();
}

/** Validates a SpiceLinkHeader and returns the size of the reply that follows. */
export function decodeLinkHeader(bytes: Uint8Array): number {
  const r = new ByteReader(bytes);
  const magic = r.u32('link magic');
  if (magic !== SPICE_MAGIC) {
    throw new SpiceError('BAD_MAGIC', `not a SPICE server: bad link magic 0x${magic.toString(16).padStart(8, '0')}`);
  }
  const major = r.u32('link major');
  const minor = r.u32('link minor');
  const size = r.u32('link size');
  if (major !== SPICE_VERSION_MAJOR) {
    throw new SpiceError('BAD_VERSION', `server speaks SPICE protocol ${major}.${minor}, this client ${SPICE_VERSION_MAJOR}.${SPICE_VERSION_MINOR}`);
  }
  if (size < 4 || size > MAX_LINK_REPLY) throw new SpiceError('BAD_LINK_REPLY', `link reply size ${size} out of range`);
  return size;
}

export function decodeLinkReply(body: Uint8Array): LinkReply {
  const r = new ByteReader(body);
  const error = r.u32('link error');
  if (error !== LinkErr.OK) return { error, pubKey: new Uint8Array(0), commonCaps: [], channelCaps: [] };
  const pubKey = r.bytesView(TICKET_PUBKEY_BYTES, 'pub_key').slice();
  const nCommon = r.u32('num_common_caps');
  const nChan = r.u32('num_channel_caps');
  const capsOffset = r.u32('caps_offset');
  if (nCommon + nChan > 256) throw new SpiceError('BAD_LINK_REPLY', `link reply claims ${nCommon + nChan} cap words`);
  const cr = r.sub(capsOffset, 4 * (nCommon + nChan), 'link reply caps');
  const cw: number[] = [];
  const hw: number[] = [];
  for (let i = 0; i < nCommon; i++) cw.push(cr.u32());
  for (let i = 0; i < nChan; i++) hw.push(cr.u32());
  return { error, pubKey, commonCaps: wordsToCaps(cw), channelCaps: wordsToCaps(hw) };
}

const LINK_ERR_TEXT: Record<number, string> = {
  [LinkErr.ERROR]: 'the server refused the link',
  [LinkErr.INVALID_MAGIC]: 'the server rejected our link magic',
  [LinkErr.INVALID_DATA]: 'the server rejected our link data',
  [LinkErr.VERSION_MISMATCH]: 'protocol version mismatch',
  [LinkErr.NEED_SECURED]: 'this channel needs a TLS (secure) connection',
  [LinkErr.NEED_UNSECURED]: 'this channel needs a plain (unsecured) connection',
  [LinkErr.PERMISSION_DENIED]: 'authentication failed (wrong password or ticket expired)',
  [LinkErr.BAD_CONNECTION_ID]: 'bad connection id (session unknown to the server)',
  [LinkErr.CHANNEL_NOT_AVAILABLE]: 'channel not available on this server',
};

export function linkError(err: number, what: string): SpiceError {
  const text = LINK_ERR_TEXT[err] ?? `link error ${err}`;
  const code = err === LinkErr.PERMISSION_DENIED ? 'AUTH_FAILED' : 'LINK_ERROR';
  return new SpiceError(code, `${what}: ${text}`, err);
}

/** Client common caps: auth selection + SPICE auth + mini header. */
export const CLIENT_COMMON_CAPS = [CommonCap.PROTOCOL_AUTH_SELECTION, CommonCap.AUTH_SPICE, CommonCap.MINI_HEADER];

/**
 * SPICE ticket: RSA-OAEP (SHA-1, MGF1-SHA-1, empty label) of password + NUL
 * with the server's 1024-bit key (DER SubjectPublicKeyInfo). An empty
 * password is still encrypted: the server always decrypts the 128 bytes.
 * WebCrypto keeps this module free of node: imports.
 */
export async function encryptTicket(pubKeyDer: Uint8Array, password: string): Promise<Uint8Array> {
  const pw = new TextEncoder().encode(password);
  if (pw.length > MAX_PASSWORD_LENGTH) {
    throw new SpiceError('CONFIG', `password is ${pw.length} bytes; SPICE allows at most ${MAX_PASSWORD_LENGTH}`);
  }
  const plain = new Uint8Array(pw.length + 1);
  plain.set(pw);
  let key: Awaited<ReturnType<typeof crypto.subtle.importKey>>;
  try {
    key = await crypto.subtle.importKey('spki', new Uint8Array(pubKeyDer), { name: 'RSA-OAEP', hash: 'SHA-1' }, false, ['encrypt']);
  } catch (e) {
    throw new SpiceError('BAD_LINK_REPLY', `server public key is not a valid RSA key: ${(e as Error).message}`);
  }
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'RSA-OAEP' }, key, plain));
  if (ct.length !== TICKET_SIZE) throw new SpiceError('BAD_LINK_REPLY', `server key gives a ${ct.length}-byte ticket, expected ${TICKET_SIZE}`);
  return ct;
}
