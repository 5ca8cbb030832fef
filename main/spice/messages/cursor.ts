// Cursor channel message codecs (spice.proto CursorChannel). Pure functions;
// the cursor cache (FROM_CACHE / CACHE_ME) is channel state, not decoded here.
import { ByteReader } from '../wire/byte-reader';
import { SpiceError } from '../wire/errors';
import { CursorFlags } from '../protocol/enums';
import type { CursorShape, Point } from '../../../preload/contract';

export const MAX_CURSOR_SIDE = 1024;

/**
 * SpiceCursor: u16 flags; unless NONE, the SpiceCursorHeader (u64 unique,
 * u8 type, u16 width, u16 height, u16 hot_spot_x, u16 hot_spot_y); then the
 * shape's data to the end of the message (empty when FROM_CACHE).
 */
export interface WireCursor {
  flags: number;
  /** null when flags has NONE; `data` is a view into the message body. */
  shape: CursorShape | null;
}

function readPoint16(r: ByteReader): Point {
  return { x: r.i16('position.x'), y: r.i16('position.y') };
}

function readCursor(r: ByteReader): WireCursor {
  const flags = r.u16('cursor flags');
  if (flags & CursorFlags.NONE) return { flags, shape: null };
  const unique = r.u64('cursor unique');
  const type = r.u8('cursor type');
  const width = r.u16('cursor width');
  const height = r.u16('cursor height');
  const hotX = r.u16('hot_spot_x');
  const hotY = r.u16('hot_spot_y');
  if (!(flags & CursorFlags.FROM_CACHE) && (width > MAX_CURSOR_SIDE || height > MAX_CURSOR_SIDE)) {
    throw new SpiceError('LIMIT', `cursor ${width}x${height} too large`);
  }
  return { flags, shape: { unique, type, width, height, hotX, hotY, data: r.rest() } };
}

/** SPICE_MSG_CURSOR_INIT: Point16 position, u16 trail_length, u16 trail_frequency, u8 visible, SpiceCursor. */
export function decodeCursorInit(body: Uint8Array): { position: Point; trailLength: number; trailFrequency: number; visible: boolean; cursor: WireCursor } {
  const r = new ByteReader(body);
  const position = readPoint16(r);
  const trailLength = r.u16('trail_length');
  const trailFrequency = r.u16('trail_frequency');
  const visible = r.u8('visible') !== 0;
  return { position, trailLength, trailFrequency, visible, cursor: readCursor(r) };
}

/** SPICE_MSG_CURSOR_SET: Point16 position, u8 visible, SpiceCursor. */
export function decodeCursorSet(body: Uint8Array): { position: Point; visible: boolean; cursor: WireCursor } {
  const r = new ByteReader(body);
  const position = readPoint16(r);
  const visible = r.u8('visible') !== 0;
  return { position, visible, cursor: readCursor(r) };
}

/** SPICE_MSG_CURSOR_MOVE: Point16 position. */
export function decodeCursorMove(body: Uint8Array): Point {
  return readPoint16(new ByteReader(body));
}

/** SPICE_MSG_CURSOR_TRAIL: u16 length, u16 frequency. */
export function decodeCursorTrail(body: Uint8Array): { length: number; frequency: number } {
  const r = new ByteReader(body);
  return { length: r.u16('length'), frequency: r.u16('frequency') };
}

/** SPICE_MSG_CURSOR_INVAL_ONE: u64 id. (RESET, HIDE and INVAL_ALL are empty.) */
export function decodeCursorInvalOne(body: Uint8Array): bigint {
  return new ByteReader(body).u64('id');
}
