// Binary codec for BridgeFrame values on the web host's WebSocket. It owns
// the byte format only; no imports, so it runs unchanged in Node, a page and
// a worker. Supported values: null, undefined, booleans, numbers, strings,
// bigint, Uint8Array, Uint32Array, arrays and plain objects.
//
// Format: one tag byte per value, little-endian lengths (u32).
// Decoding never trusts a length: every count is checked against the bytes
// left before anything is allocated, and nesting depth is bounded, so garbage
// input throws a CodecError instead of hanging or exhausting memory.

const enum Tag {
  Null = 0,
  Undefined = 1,
  False = 2,
  True = 3,
  Int32 = 4,
  Float64 = 5,
  String = 6,
  BigIntPos = 7,
  BigIntNeg = 8,
  Bytes = 9,
  Uint32s = 10,
  Array = 11,
  Object = 12,
}

/** Deeper nesting than this is rejected on both sides (DisplayCommands need < 10). */
export const MAX_DEPTH = 64;

export class CodecError extends Error {
  readonly code = 'CODEC';
  constructor(message: string) {
    super(`bridge codec: ${message}`);
    this.name = 'CodecError';
  }
}

class Writer {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  len = 0;

  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.reserve(1);
    this.buf[this.len++] = v;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.len, v, true);
    this.len += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.len, v, true);
    this.len += 4;
  }
  f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.len, v, true);
    this.len += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
}

const utf8Encoder = new TextEncoder();

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function writeValue(w: Writer, v: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw new CodecError(`nesting deeper than ${MAX_DEPTH}`);
  if (v === null) return w.u8(Tag.Null);
  switch (typeof v) {
    case 'undefined':
      return w.u8(Tag.Undefined);
    case 'boolean':
      return w.u8(v ? Tag.True : Tag.False);
    case 'number':
      if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff && !Object.is(v, -0)) {
        w.u8(Tag.Int32);
        return w.i32(v);
      }
      w.u8(Tag.Float64);
      return w.f64(v);
    case 'string': {
      const b = utf8Encoder.encode(v);
      w.u8(Tag.String);
      w.u32(b.length);
      return w.bytes(b);
    }
    case 'bigint': {
      // Magnitude as little-endian bytes; sign in the tag.
      let mag = v < 0n ? -v : v;
      const out: number[] = [];
      while (mag > 0n) {
        out.push(Number(mag & 0xffn));
        mag >>= 8n;
      }
      w.u8(v < 0n ? Tag.BigIntNeg : Tag.BigIntPos);
      w.u32(out.length);
      return w.bytes(Uint8Array.from(out));
    }
    case 'object':
      break;
    default:
      throw new CodecError(`cannot encode a ${typeof v}`);
  }
  const o = v as object;
  if (o instanceof Uint8Array) {
    // Only the view's own bytes: subarrays must not leak their parent buffer.
    w.u8(Tag.Bytes);
    w.u32(o.length);
    return w.bytes(o);
  }
  if (o instanceof Uint32Array) {
    w.u8(Tag.Uint32s);
    w.u32(o.length);
    w.reserve(o.length * 4);
    for (let i = 0; i < o.length; i++) {
      w.view.setUint32(w.len, o[i], true);
      w.len += 4;
    }
    return;
  }
  if (Array.isArray(o)) {
    w.u8(Tag.Array);
    w.u32(o.length);
    for (const item of o) writeValue(w, item, depth + 1);
    return;
  }
  if (ArrayBuffer.isView(o) || o instanceof ArrayBuffer) throw new CodecError('unsupported binary type (use Uint8Array or Uint32Array)');
  if (!isPlainObject(o)) throw new CodecError(`cannot encode a ${o.constructor?.name ?? 'non-plain'} object`);
  const keys = Object.keys(o);
  w.u8(Tag.Object);
  w.u32(keys.length);
  for (const k of keys) {
    const kb = utf8Encoder.encode(k);
    w.u32(kb.length);
    w.bytes(kb);
    writeValue(w, (o as Record<string, unknown>)[k], depth + 1);
  }
}

/** Encodes one value into a fresh, exactly sized Uint8Array. */
export function encodeFrame(value: unknown): Uint8Array<ArrayBuffer> {
  const w = new Writer();
  writeValue(w, value, 0);
  return w.buf.slice(0, w.len);
}

class Reader {
  pos = 0;
  readonly view: DataView;
  readonly text = new TextDecoder('utf-8', { fatal: true });
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  need(n: number, what: string): void {
    if (n > this.buf.length - this.pos) {
      throw new CodecError(`truncated frame: ${what} needs ${n} bytes at offset ${this.pos}, ${this.buf.length - this.pos} left`);
    }
  }
  u8(): number {
    this.need(1, 'tag');
    return this.buf[this.pos++];
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  str(what: string): string {
    const n = this.u32(`${what} length`);
    try {
      return this.text.decode(this.take(n, what));
    } catch (e) {
      if (e instanceof CodecError) throw e;
      throw new CodecError(`invalid UTF-8 in ${what}`);
    }
  }
}

function readValue(r: Reader, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new CodecError(`nesting deeper than ${MAX_DEPTH}`);
  const tagAt = r.pos;
  const tag = r.u8();
  switch (tag) {
    case Tag.Null:
      return null;
    case Tag.Undefined:
      return undefined;
    case Tag.False:
      return false;
    case Tag.True:
      return true;
    case Tag.Int32: {
      r.need(4, 'int32');
      const v = r.view.getInt32(r.pos, true);
      r.pos += 4;
      return v;
    }
    case Tag.Float64: {
      r.need(8, 'float64');
      const v = r.view.getFloat64(r.pos, true);
      r.pos += 8;
      return v;
    }
    case Tag.String:
      return r.str('string');
    case Tag.BigIntPos:
    case Tag.BigIntNeg: {
      const n = r.u32('bigint length');
      const b = r.take(n, 'bigint');
      let v = 0n;
      for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
      return tag === Tag.BigIntNeg ? -v : v;
    }
    case Tag.Bytes: {
      const n = r.u32('bytes length');
      return r.take(n, 'bytes').slice();
    }
    case Tag.Uint32s: {
      const n = r.u32('uint32 array length');
      r.need(n * 4, 'uint32 array');
      const out = new Uint32Array(n);
      for (let i = 0; i < n; i++) out[i] = r.view.getUint32(r.pos + i * 4, true);
      r.pos += n * 4;
      return out;
    }
    case Tag.Array: {
      const n = r.u32('array length');
      // Every element takes at least one byte: a larger count is a lie.
      r.need(n, 'array elements');
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = readValue(r, depth + 1);
      return out;
    }
    case Tag.Object: {
      const n = r.u32('object size');
      r.need(n * 5, 'object entries');
      const out: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = r.str('object key');
        // defineProperty: a '__proto__' key stays data, never a prototype swap.
        Object.defineProperty(out, k, { value: readValue(r, depth + 1), enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    default:
      throw new CodecError(`unknown tag 0x${tag.toString(16)} at offset ${tagAt}`);
  }
}

/** Decodes one frame; throws CodecError on malformed, truncated or trailing bytes. */
export function decodeFrame(bytes: Uint8Array): unknown {
  const r = new Reader(bytes);
  const v = readValue(r, 0);
  if (r.pos !== bytes.length) throw new CodecError(`${bytes.length - r.pos} trailing bytes after the value`);
  return v;
}
