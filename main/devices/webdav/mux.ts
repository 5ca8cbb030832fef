// The webdav channel's multiplexing (spice-gtk channel-webdav.c, spice-webdavd):
// every TCP connection a guest program opens to spice-webdavd's local port is a
// "client"; both ways its bytes travel as frames
//   { client id: int64 LE, size: uint16 LE, data[size] }
// and a zero-size frame says that side of the client closed. Pure: framing
// (MuxParser, a byte stream split anywhere) apart from the one frame codec.
import { ByteReader } from '../../spice/wire/byte-reader';
import { ByteWriter } from '../../spice/wire/byte-writer';
import { ByteQueue } from '../../spice/wire/framer';
import { SpiceError } from '../../spice/wire/errors';
import { SPICEVMC_MAX_CHUNK } from '../../spice/channels/spicevmc-channel';

export const MUX_HEADER_SIZE = 10;
/** The size field is 16 bits. */
export const MUX_MAX_DATA = 0xffff;
/** What we put in one frame: header + data fill one SPICEVMC_DATA message, never split in two. */
export const MUX_SEND_DATA = SPICEVMC_MAX_CHUNK - MUX_HEADER_SIZE;

export interface MuxFrame {
  client: bigint;
  /** Empty: that side of the client closed. */
  data: Uint8Array;
}

export function decodeMuxHeader(bytes: Uint8Array): { client: bigint; size: number } {
  const r = new ByteReader(bytes);
  return { client: r.i64('webdav client id'), size: r.u16('webdav frame size') };
}

export function encodeMuxFrame(client: bigint, data: Uint8Array): Uint8Array {
  if (data.length > MUX_MAX_DATA) throw new SpiceError('LIMIT', `webdav frame of ${data.length} bytes (at most ${MUX_MAX_DATA})`);
  return new ByteWriter(MUX_HEADER_SIZE + data.length).u64(BigInt.asUintN(64, client)).u16(data.length).bytes(data).finish();
}

/**
 * Guest → client frames from a byte stream split anywhere. `maxData` (the
 * 16-bit field's range unless smaller) is checked on the header, before the
 * data is waited for. After a failure the stream is unusable (there is no
 * marker to resync on).
 */
export class MuxParser {
  private readonly q = new ByteQueue();
  private pending: { client: bigint; size: number } | null = null;
  private failed: SpiceError | null = null;

  constructor(private readonly maxData = MUX_MAX_DATA) {}

  get buffered(): number {
    return this.q.length;
  }

  /** Every complete frame in order; data views stay valid (they are copies or own chunks). */
  push(chunk: Uint8Array): MuxFrame[] {
    if (this.failed) throw this.failed;
    this.q.push(chunk);
    const out: MuxFrame[] = [];
    try {
      for (;;) {
        if (!this.pending) {
          if (this.q.length < MUX_HEADER_SIZE) return out;
          const h = decodeMuxHeader(this.q.take(MUX_HEADER_SIZE));
          if (h.size > this.maxData) throw new SpiceError('LIMIT', `webdav frame of ${h.size} bytes for client ${h.client} (at most ${this.maxData})`);
          this.pending = h;
        }
        if (this.q.length < this.pending.size) return out;
        const { client, size } = this.pending;
        this.pending = null;
        out.push({ client, data: this.q.take(size).slice() });
      }
    } catch (e) {
      this.failed = e instanceof SpiceError ? e : new SpiceError('BAD_MESSAGE', String(e));
      throw this.failed;
    }
  }

  /** The stream ended: a frame cut short is SHORT_READ. */
  end(): void {
    if (this.failed) return;
    if (this.pending || this.q.length) {
      const have = this.q.length;
      this.failed = new SpiceError('SHORT_READ', this.pending
        ? `webdav stream ended inside a frame for client ${this.pending.client} (${have} of ${this.pending.size} bytes)`
        : `webdav stream ended inside a frame header (${have} of ${MUX_HEADER_SIZE} bytes)`);
      throw this.failed;
    }
  }
}
