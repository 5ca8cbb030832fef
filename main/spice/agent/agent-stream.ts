// The agent byte stream inside AGENT_DATA (both directions).
// Client → server: each message is cut into AGENT_DATA bodies of at most
// VD_AGENT_MAX_DATA_SIZE bytes, header in the first; a body never carries two
// messages (spice-server's agent message filter rejects data past a message's end).
// Server → client: spice-server forwards what the agent wrote in its own
// pieces, so a header or a message may be split anywhere and several may share
// one body; the reassembler treats it as a plain byte stream.
import { AGENT_MESSAGE_HEADER_SIZE, VD_AGENT_MAX_DATA_SIZE, VD_AGENT_PROTOCOL, encodeAgentMessageHeader } from '../messages/main';
import { SpiceError } from '../wire/errors';

/** One agent message cut into AGENT_DATA bodies (views of one buffer). */
export function chunkAgentMessage(type: number, parts: readonly Uint8Array[], opaque = 0n): Uint8Array[] {
  const size = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(AGENT_MESSAGE_HEADER_SIZE + size);
  all.set(encodeAgentMessageHeader({ protocol: VD_AGENT_PROTOCOL, type, opaque, size }));
  let at = AGENT_MESSAGE_HEADER_SIZE;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < all.length; o += VD_AGENT_MAX_DATA_SIZE) chunks.push(all.subarray(o, Math.min(all.length, o + VD_AGENT_MAX_DATA_SIZE)));
  return chunks;
}

export interface AgentMessage {
  type: number;
  opaque: bigint;
  data: Uint8Array;
}

export type ReassemblyEvent = { message: AgentMessage } | { error: SpiceError };

/** A message being received: what survives a seamless switch on our side. */
export interface PartialMessage {
  type: number;
  size: number;
  received: number;
  /** true while the body of a refused message (too big, wrong protocol) is skipped */
  skipping: boolean;
}

/**
 * Server → client reassembly. Limits are checked on the header, before the
 * body is allocated; a refused message's body is skipped (its size is known),
 * so the stream stays in step and the next message is read normally.
 */
export class AgentReassembler {
  private readonly head = new Uint8Array(AGENT_MESSAGE_HEADER_SIZE);
  private headLen = 0;
  private cur: { type: number; opaque: bigint; size: number; body: Uint8Array | null; received: number } | null = null;

  constructor(public maxMessageSize: number) {}

  get partial(): PartialMessage | null {
    if (this.cur) return { type: this.cur.type, size: this.cur.size, received: this.cur.received, skipping: this.cur.body === null };
    if (this.headLen) return { type: -1, size: -1, received: this.headLen, skipping: false };
    return null;
  }

  reset(): void {
    this.headLen = 0;
    this.cur = null;
  }

  /** Feeds one AGENT_DATA body; returns the messages (and refusals) it completed, in order. */
  push(bytes: Uint8Array): ReassemblyEvent[] {
    const out: ReassemblyEvent[] = [];
    let p = 0;
    while (p < bytes.length) {
      if (!this.cur) {
        const n = Math.min(AGENT_MESSAGE_HEADER_SIZE - this.headLen, bytes.length - p);
        this.head.set(bytes.subarray(p, p + n), this.headLen);
        this.headLen += n;
        p += n;
        if (this.headLen < AGENT_MESSAGE_HEADER_SIZE) break;
        this.headLen = 0;
        const err = this.startMessage();
        if (err) out.push({ error: err });
      }
      const c = this.cur!;
      const n = Math.min(c.size - c.received, bytes.length - p);
      if (c.body) c.body.set(bytes.subarray(p, p + n), c.received);
      c.received += n;
      p += n;
      if (c.received === c.size) {
        this.cur = null;
        if (c.body) out.push({ message: { type: c.type, opaque: c.opaque, data: c.body } });
      }
    }
    return out;
  }

  private startMessage(): SpiceError | null {
    const v = new DataView(this.head.buffer);
    const protocol = v.getUint32(0, true);
    const type = v.getUint32(4, true);
    const opaque = v.getBigUint64(8, true);
    const size = v.getUint32(16, true);
    let err: SpiceError | null = null;
    if (protocol !== VD_AGENT_PROTOCOL) err = new SpiceError('BAD_MESSAGE', `agent message protocol ${protocol}, expected ${VD_AGENT_PROTOCOL} (type ${type}, ${size} bytes skipped)`);
    else if (size > this.maxMessageSize) err = new SpiceError('LIMIT', `agent message type ${type} of ${size} bytes (at most ${this.maxMessageSize}); skipped`);
    this.cur = { type, opaque, size, body: err ? null : new Uint8Array(size), received: 0 };
    return err;
  }
}
