// Server -> client VSCard messages built by hand for the smartcard unit tests
// (no engine code): the header as spice-server sends it on the smartcard
// channel, u32 little endian type, reader_id, length, then the payload.

export function vscBytes(type: number, readerId: number, payloadHex = ''): Uint8Array {
  const payload = Buffer.from(payloadHex, 'hex');
  const h = Buffer.alloc(12);
  h.writeUInt32LE(type, 0);
  h.writeUInt32LE(readerId >>> 0, 4);
  h.writeUInt32LE(payload.length, 8);
  return Uint8Array.from(Buffer.concat([h, payload]));
}

/** An Error message (spice-server's ack): its code little endian, as spice-server writes its own. */
export const vscError = (readerId: number, code = 0): Uint8Array => vscBytes(2, readerId, Buffer.from(Uint32Array.of(code).buffer).toString('hex'));
