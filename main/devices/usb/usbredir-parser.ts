// Streaming usbredir parser: arbitrarily split byte chunks (spicevmc data or a
// socket) in, whole decoded packets out. The header is {type u32, length u32,
// id u32|u64}: 64-bit ids once both hellos announced 64bits_ids, so the parser
// records the peer's hello in the shared UsbRedirCaps before reading on.
// Every failure is a SpiceError; after one the stream is unusable (no resync).
import { ByteReader } from '../../spice/wire/byte-reader';
import { ByteQueue } from '../../spice/wire/framer';
import { SpiceError } from '../../spice/wire/errors';
import {
  HEADER_SIZE_32, MAX_PACKET_SIZE, UsbRedirCaps, decodeBody, typeHeaderSize, usbRedirTypeName,
  type UsbRedirPacket,
} from './usbredir-proto';

export class UsbRedirParser {
  private readonly q = new ByteQueue();
  private pending: { type: number; length: number; id: bigint } | null = null;
  private failed: SpiceError | null = null;

  constructor(
    readonly caps: UsbRedirCaps,
    /** Largest packet body accepted; checked before waiting for (and allocating) the body. */
    private readonly maxPacketSize = MAX_PACKET_SIZE,
  ) {}

  /** Bytes received that are not yet part of a yielded packet. */
  get buffered(): number {
    return this.q.length;
  }

  /** Adds a chunk and yields every complete packet; the body views are valid until the next push. */
  *push(chunk: Uint8Array): Generator<UsbRedirPacket> {
    if (this.failed) throw this.failed;
    this.q.push(chunk);
    try {
      for (;;) {
        if (!this.pending) {
          // the first packet is the hello, always with the 32-bit id header
          const hs = this.caps.peerCaps === null ? HEADER_SIZE_32 : this.caps.headerSize;
          if (this.q.length < hs) return;
          const r = new ByteReader(this.q.take(hs));
          const type = r.u32('usbredir type');
          const length = r.u32('usbredir length');
          const id = hs === HEADER_SIZE_32 ? BigInt(r.u32('usbredir id')) : r.u64('usbredir id');
          this.checkHeader(type, length);
          this.pending = { type, length, id };
        }
        if (this.q.length < this.pending.length) return;
        const { type, length, id } = this.pending;
        this.pending = null;
        const msg = decodeBody(type, this.q.take(length), this.caps);
        if (msg.type === 'hello') {
          if (this.caps.peerCaps !== null) throw new SpiceError('PROTOCOL', 'usbredir: second hello');
          this.caps.peerCaps = msg.caps;
          this.caps.peerVersion = msg.version;
        } else if (this.caps.peerCaps === null) {
          throw new SpiceError('PROTOCOL', `usbredir ${msg.type} before hello`);
        }
        yield { id, msg };
      }
    } catch (e) {
      this.failed = e instanceof SpiceError ? e : new SpiceError('BAD_MESSAGE', String(e));
      throw this.failed;
    }
  }

  /** The stream ended: a packet cut short is an error, not silently dropped. */
  end(): void {
    if (this.failed) throw this.failed;
    if (this.pending || this.q.length) {
      this.failed = new SpiceError('SHORT_READ', `usbredir stream ended inside a packet (${this.q.length} bytes buffered)`);
      throw this.failed;
    }
  }

  private checkHeader(type: number, length: number): void {
    const name = usbRedirTypeName(type);
    if (!name) throw new SpiceError('UNKNOWN_MESSAGE', `unknown usbredir packet type ${type} (${length} bytes)`);
    if (length > this.maxPacketSize) {
      throw new SpiceError('LIMIT', `usbredir ${name} announces ${length} bytes (limit ${this.maxPacketSize})`);
    }
    const min = typeHeaderSize(name, this.caps);
    if (length < min) throw new SpiceError('SHORT_READ', `usbredir ${name} of ${length} bytes, its header needs ${min}`);
  }
}
