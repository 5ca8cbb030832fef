// Records every byte each connection sends and receives, keyed by the peer
// port, and re-parses the streams independently of the engine's framer: link
// phase, then mini-header messages. Used to check migration on the wire.
import type { Endpoint, Transport, TransportFactory } from '../../main/spice/transport';
import { defaultTransportFactory } from '../../main/transport/index';

export interface RecordedConnection {
  port: number;
  sent: Buffer[];
  received: Buffer[];
  closed: boolean;
  /** channel type/id from the link message */
  channelType?: number;
  channelId?: number;
}

export interface WireMessage {
  type: number;
  body: Buffer;
}

export class WireRecorder {
  readonly connections: RecordedConnection[] = [];
  readonly factory: TransportFactory = async (ep: Endpoint) => {
    const t = await defaultTransportFactory(ep);
    const rec: RecordedConnection = { port: ep.port, sent: [], received: [], closed: false };
    this.connections.push(rec);
    const wrapped: Transport = {
      description: t.description,
      onData: null,
      onClose: null,
      write: (b) => {
        rec.sent.push(Buffer.from(b));
        if (rec.channelType === undefined && rec.sent.length === 1 && b.length >= 22) {
          rec.channelType = b[20];
          rec.channelId = b[21];
        }
        t.write(b);
      },
      close: () => {
        rec.closed = true;
        t.close();
      },
    };
    t.onData = (c) => {
      rec.received.push(Buffer.from(c));
      wrapped.onData?.(c);
    };
    t.onClose = (e) => {
      rec.closed = true;
      wrapped.onClose?.(e);
    };
    return wrapped;
  };

  /** Client → server messages after the link phase (link mess, auth mechanism, 128-byte ticket). */
  static clientMessages(rec: RecordedConnection): WireMessage[] {
    const all = Buffer.concat(rec.sent);
    let pos = 16 + all.readUInt32LE(12) + 4 + 128;
    const out: WireMessage[] = [];
    while (pos + 6 <= all.length) {
      const type = all.readUInt16LE(pos);
      const size = all.readUInt32LE(pos + 2);
      out.push({ type, body: all.subarray(pos + 6, pos + 6 + size) });
      pos += 6 + size;
    }
    return out;
  }

  /** Server → client messages after the link reply and the auth result. */
  static serverMessages(rec: RecordedConnection): WireMessage[] {
    const all = Buffer.concat(rec.received);
    if (all.length < 16) return [];
    let pos = 16 + all.readUInt32LE(12) + 4;
    const out: WireMessage[] = [];
    while (pos + 6 <= all.length) {
      const type = all.readUInt16LE(pos);
      const size = all.readUInt32LE(pos + 2);
      if (pos + 6 + size > all.length) break;
      out.push({ type, body: all.subarray(pos + 6, pos + 6 + size) });
      pos += 6 + size;
    }
    return out;
  }
}
