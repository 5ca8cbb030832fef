// Bounds-checked little-endian cursor over a Uint8Array. SPICE is little
// endian on the wire; every read checks the remaining length first and throws
// SpiceError('SHORT_READ') naming the field offset, never reading garbage.
import { SpiceError } from './errors';

export class ByteReader {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  private pos: number;
  private readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    if (start < 0 || end > bytes.length || start > end) {
      throw new SpiceError('SHORT_READ', `reader window ${start}..${end} outside 0..${bytes.length}`);
    }
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }
  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): number {
    if (n < 0 || this.pos + n > this.end) {
      throw new SpiceError('SHORT_READ', `need ${n} bytes for ${what} at offset ${this.pos}, have ${this.end - this.pos}`);
    }
    const p = this.pos;
    this.pos += n;
    return p;
  }

  u8(what = 'u8'): number {
    return this.view.getUint8(this.need(1, what));
  }
  i8(what = 'i8'): number {
    return this.view.getInt8(this.need(1, what));
  }
  u16(what = 'u16'): number {
    return this.view.getUint16(this.need(2, what), true);
  }
  i16(what = 'i16'): number {
    return this.view.getInt16(this.need(2, what), true);
  }
  u32(what = 'u32'): number {
    return this.view.getUint32(this.need(4, what), true);
  }
  i32(what = 'i32'): number {
    return this.view.getInt32(this.need(4, what), true);
  }
  u64(what = 'u64'): bigint {
    return this.view.getBigUint64(this.need(8, what), true);
  }
  i64(what = 'i64'): bigint {
    return this.view.getBigInt64(this.need(8, what), true);
  }
  /** A view (no copy) of the next n bytes. */
  bytesView(n: number, what = 'bytes'): Uint8Array {
    const p = this.need(n, what);
    return this.bytes.subarray(p, p + n);
  }
  /** Everything up to the end of the window, without copying. */
  rest(): Uint8Array {
    const p = this.pos;
    this.pos = this.end;
    return this.bytes.subarray(p, this.end);
  }
  skip(n: number, what = 'padding'): void {
    this.need(n, what);
  }
  /** Moves to an absolute offset inside the window (SPICE pointer fields). */
  seek(abs: number, what = 'pointer'): void {
    if (abs < 0 || abs > this.end) throw new SpiceError('SHORT_READ', `${what} ${abs} outside message of ${this.end} bytes`);
    this.pos = abs;
  }
  /** A sub-reader over [abs, abs+n) of the same buffer, bounds-checked. */
  sub(abs: number, n: number, what = 'sub-struct'): ByteReader {
    if (abs < 0 || n < 0 || abs + n > this.end) {
      throw new SpiceError('SHORT_READ', `${what} ${abs}+${n} outside message of ${this.end} bytes`);
    }
    return new ByteReader(this.bytes, abs, abs + n);
  }
}
