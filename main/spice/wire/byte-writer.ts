// Growable little-endian writer. Methods chain; finish() returns a copy-free
// view of what was written.
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private pos = 0;

  constructor(initial = 64) {
    this.buf = new Uint8Array(Math.max(8, initial));
    this.view = new DataView(this.buf.buffer);
  }

  get length(): number {
    return this.pos;
  }

  // Callers must call ensure() before touching this.view/this.buf: it may replace them.
  private ensure(n: number): number {
    const need = this.pos + n;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.pos));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    const p = this.pos;
    this.pos = need;
    return p;
  }

  u8(v: number): this {
    const p = this.ensure(1);
    this.view.setUint8(p, v);
    return this;
  }
  u16(v: number): this {
    const p = this.ensure(2);
    this.view.setUint16(p, v, true);
    return this;
  }
  i16(v: number): this {
    const p = this.ensure(2);
    this.view.setInt16(p, v, true);
    return this;
  }
  u32(v: number): this {
    const p = this.ensure(4);
    this.view.setUint32(p, v >>> 0, true);
    return this;
  }
  i32(v: number): this {
    const p = this.ensure(4);
    this.view.setInt32(p, v, true);
    return this;
  }
  u64(v: bigint): this {
    const p = this.ensure(8);
    this.view.setBigUint64(p, BigInt.asUintN(64, v), true);
    return this;
  }
  bytes(b: Uint8Array): this {
    const p = this.ensure(b.length);
    this.buf.set(b, p);
    return this;
  }
  zeros(n: number): this {
    const p = this.ensure(n);
    this.buf.fill(0, p, this.pos);
    return this;
  }
  /** Overwrites a u32 already written (sizes known only at the end). */
  patchU32(at: number, v: number): this {
    this.view.setUint32(at, v >>> 0, true);
    return this;
  }
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}
