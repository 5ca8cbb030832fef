// A transport wrapper that can slip a server message into one channel's
// incoming stream at a message boundary, as if the server had sent it: the
// bytes then go through the real socket path, framer and channel (bad-input
// tests against a real server that would never send them). It follows the
// server's stream: link reply (16-byte header + body), 4-byte auth result,
// then mini-header messages (type u16, size u32), as spice-server speaks
// with our client (MINI_HEADER is always agreed).
import type { Dial, Transport, TransportFactory } from '../../main/spice/transport';

export interface InjectableLink {
  /** Channel type and id from the client's SpiceLinkMess. */
  type: number;
  id: number;
  /** Delivers a whole server message (mini header + body) at the next message boundary. */
  inject(message: Uint8Array): void;
}

export function injectingTransport(base: TransportFactory): { factory: TransportFactory; links: InjectableLink[] } {
  const links: InjectableLink[] = [];
  const factory = async (dial: Dial): Promise<Transport> => {
    const t = await base(dial);
    let linkInfo: InjectableLink | null = null;
    // incoming stream position: bytes still owed to the current unit, and which unit
    let stage: 'reply-header' | 'reply-body' | 'auth' | 'msg-header' | 'msg-body' = 'reply-header';
    let need = 16;
    let header: number[] = [];
    const pending: Uint8Array[] = [];
    const wrapper: Transport = {
      description: t.description,
      onData: null,
      onClose: null,
      write(bytes) {
        if (!linkInfo && bytes.length >= 22) {
          // SpiceLinkHeader (16) then SpiceLinkMess: connection_id u32, channel_type u8, channel_id u8
          linkInfo = {
            type: bytes[20], id: bytes[21],
            inject: (m) => {
              pending.push(m);
              if (stage === 'msg-header' && header.length === 0) flush();
            },
          };
          links.push(linkInfo);
        }
        t.write(bytes);
      },
      close: () => t.close(),
    };
    const flush = (): void => {
      for (const m of pending.splice(0)) wrapper.onData?.(m);
    };
    /** Advances the stream position over chunk[from, to) and returns where the current unit ends (or to). */
    const advance = (chunk: Uint8Array, from: number): number => {
      let i = from;
      while (i < chunk.length) {
        const take = Math.min(need, chunk.length - i);
        if (stage === 'reply-header' || stage === 'msg-header') header.push(...chunk.subarray(i, i + take));
        i += take;
        need -= take;
        if (need > 0) break;
        if (stage === 'reply-header') {
          stage = 'reply-body';
          need = new DataView(Uint8Array.from(header).buffer).getUint32(12, true);
          header = [];
        } else if (stage === 'reply-body') {
          stage = 'auth';
          need = 4;
        } else if (stage === 'auth' || stage === 'msg-body') {
          stage = 'msg-header';
          need = 6;
          return i; // a message boundary
        } else {
          stage = 'msg-body';
          need = new DataView(Uint8Array.from(header).buffer).getUint32(2, true);
          header = [];
          if (need === 0) {
            stage = 'msg-header';
            need = 6;
            return i;
          }
        }
      }
      return i;
    };
    t.onData = (chunk) => {
      let from = 0;
      while (from < chunk.length) {
        const to = advance(chunk, from);
        wrapper.onData?.(chunk.subarray(from, to));
        from = to;
        if (stage === 'msg-header' && header.length === 0 && pending.length) flush();
      }
    };
    t.onClose = (err) => wrapper.onClose?.(err);
    return wrapper;
  };
  return { factory, links };
}
