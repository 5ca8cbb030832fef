// Independent builders of SPICE wire bytes for tests. Deliberately written
// with plain arrays + Buffer, sharing no code with main/spice, so a codec bug
// cannot cancel itself out in a round trip.
export class Bytes {
  private parts: number[] = [];
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16((v >>> 16) & 0xffff);
  }
  i32(v: number): this {
    return this.u32(v >>> 0);
  }
  u64(v: bigint | number): this {
    const b = BigInt(v);
    return this.u32(Number(b & 0xffffffffn)).u32(Number((b >> 32n) & 0xffffffffn));
  }
  raw(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.parts.push(b[i] & 0xff);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  build(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const fromHex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));

/** Server link reply: header + SpiceLinkReply (error, 162-byte key, caps). */
export function linkReply(opts: { error?: number; pubKey?: Uint8Array; common?: number[]; channel?: number[] }): Uint8Array {
  const common = opts.common ?? [0b1011];
  const channel = opts.channel ?? [];
  const body = new Bytes().u32(opts.error ?? 0);
  const key = opts.pubKey ?? new Uint8Array(162);
  body.raw(key).u32(common.length).u32(channel.length).u32(4 + 162 + 12);
  for (const w of common) body.u32(w);
  for (const w of channel) body.u32(w);
  const b = body.build();
  return new Bytes().u32(0x51444552).u32(2).u32(2).u32(b.length).raw(b).build();
}

/** Mini-header server message. */
export function miniMsg(type: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  return new Bytes().u16(type).u32(body.length).raw(body).build();
}

/** Full-header server message. */
export function fullMsg(serial: number, type: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  return new Bytes().u64(serial).u16(type).u32(body.length).u32(0).raw(body).build();
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts.map((p) => Buffer.from(p))));
}
