// Streaming framer: turns arbitrarily split socket chunks into whole units.
// The link phase asks for exact byte counts (pull style: need(n)); the data
// phase yields SPICE messages under the negotiated header (mini or full).
// Framing knows nothing about message bodies: codecs live elsewhere.
import { ByteReader } from './byte-reader';
import { SpiceError } from './errors';

/** Largest message body we accept. spice-server's biggest (a full-screen bitmap) is far below. */
export const MAX_MESSAGE_SIZE = 128 * 1024 * 1024;
export const MINI_HEADER_SIZE = 6;
export const FULL_HEADER_SIZE = 18;

export interface SpiceMessage {
  type: number;
  /** Body bytes; a view valid until the next push(). Copy to keep. */
  body: Uint8Array;
  /** Serial: explicit with the full header, counted from 1 with the mini header. */
  serial: bigint;
}

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private head = 0; // offset into chunks[0]
  private total = 0;

  get length(): number {
    return this.total;
  }
  push(chunk: Uint8Array): void {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.total += chunk.length;
    }
  }
  /** Takes exactly n bytes (caller checked length); zero-copy when they sit in one chunk. */
  take(n: number): Uint8Array {
    if (n > this.total) throw new SpiceError('SHORT_READ', `queue has ${this.total} bytes, ${n} requested`);
    this.total -= n;
    const first = this.chunks[0];
    if (first && first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      return out;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[0];
      const take = Math.min(c.length - this.head, n - filled);
      out.set(c.subarray(this.head, this.head + take), filled);
      filled += take;
      this.head += take;
      if (this.head === c.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    return out;
  }
}

/** Data-phase framer. */
export class MessageFramer {
  private readonly q = new ByteQueue();
  private pendingType = -1;
  private pendingSize = 0;
  private pendingSerial = 0n;
  private counter = 0n;

  constructor(
    private readonly miniHeader: boolean,
    private readonly maxSize = MAX_MESSAGE_SIZE,
  ) {}

  /** Bytes received but not yet part of a yielded message (e.g. for migration hand-over checks). */
  get buffered(): number {
    return this.q.length;
  }

  /** Adds a chunk and yields every complete message. Throws SpiceError('LIMIT') on an oversized header. */
  *push(chunk: Uint8Array): Generator<SpiceMessage> {
    this.q.push(chunk);
    for (;;) {
      if (this.pendingType < 0) {
        const hs = this.miniHeader ? MINI_HEADER_SIZE : FULL_HEADER_SIZE;
        if (this.q.length < hs) return;
        const r = new ByteReader(this.q.take(hs));
        if (this.miniHeader) {
          this.pendingType = r.u16('msg type');
          this.pendingSize = r.u32('msg size');
          this.pendingSerial = ++this.counter;
        } else {
          this.pendingSerial = r.u64('serial');
          this.pendingType = r.u16('msg type');
          this.pendingSize = r.u32('msg size');
          r.u32('sub_list'); // offsets into the body; handled by the channel (SPICE_MSG_LIST form)
        }
        if (this.pendingSize > this.maxSize) {
          throw new SpiceError('LIMIT', `message type ${this.pendingType} announces ${this.pendingSize} bytes (limit ${this.maxSize})`);
        }
      }
      if (this.q.length < this.pendingSize) return;
      const body = this.q.take(this.pendingSize);
      const msg: SpiceMessage = { type: this.pendingType, body, serial: this.pendingSerial };
      this.pendingType = -1;
      yield msg;
    }
  }
}

/** Serializes one outgoing message under the negotiated header. */
export function frameMessage(miniHeader: boolean, serial: bigint, type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array((miniHeader ? MINI_HEADER_SIZE : FULL_HEADER_SIZE) + body.length);
  frameMessageInto(out, 0, miniHeader, serial, type, body);
  return out;
}

/** frameMessage written into `out` at `at` (several messages in one buffer). */
export function frameMessageInto(out: Uint8Array, at: number, miniHeader: boolean, serial: bigint, type: number, body: Uint8Array): void {
  const hs = miniHeader ? MINI_HEADER_SIZE : FULL_HEADER_SIZE;
  const v = new DataView(out.buffer, out.byteOffset + at, hs);
  if (miniHeader) {
    v.setUint16(0, type, true);
    v.setUint32(2, body.length, true);
  } else {
    v.setBigUint64(0, serial, true);
    v.setUint16(8, type, true);
    v.setUint32(10, body.length, true);
    v.setUint32(14, 0, true);
  }
  out.set(body, at + hs);
}
