// A scripted in-memory SPICE server for Session unit tests: a TransportFactory
// whose transports answer the link (reply, auth result), run main's
// MAIN_INIT → ATTACH_CHANNELS → CHANNELS_LIST, and let the test send and
// watch messages per link. Wire bytes come from spice-bytes.ts (no engine code).
import { generateKeyPairSync } from 'node:crypto';
import type { Dial, Transport, TransportFactory } from '../../main/spice/transport';
import { Bytes, concat, linkReply, miniMsg } from './spice-bytes';

const spki = new Uint8Array(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }));

const MAIN = 1;
const MSG_MAIN_INIT = 103;
const MSG_MAIN_CHANNELS_LIST = 104;
const MSGC_MAIN_ATTACH_CHANNELS = 104;
/** link mess (16 + 18 + 3 words of caps) + auth mechanism (4) + ticket (128) */
const AUTH_BYTES = 4 + 128;

export interface FakeLink {
  readonly dial: Dial;
  type: number;
  id: number;
  connectionId: number;
  /** Channel caps the client advertised (first word). */
  channelCaps: number;
  /** Client messages after the link, in order. */
  messages: { type: number; body: Uint8Array }[];
  /** Server → client bytes. */
  send(bytes: Uint8Array): void;
  /** The server closes the socket. */
  close(): void;
  closedByClient: boolean;
}

export class FakeSpiceServer {
  readonly links: FakeLink[] = [];
  sessionId = 0x1234;
  /** Channels main lists after ATTACH_CHANNELS. */
  channels: { type: number; id: number }[] = [];
  /** Bytes the server puts in the same chunk as the auth result of a link (nothing by default). */
  afterAuth: (l: FakeLink) => Uint8Array | undefined = () => undefined;
  /** A client message on a linked channel. */
  onMessage: (l: FakeLink, type: number, body: Uint8Array) => void = () => {};
  /** Server channel caps in the link reply, by channel type. */
  serverCaps: (type: number) => number[] = () => [];

  readonly factory: TransportFactory = async (dial) => new ServerSide(this, dial);

  link(type: number, id = 0): FakeLink | undefined {
    return this.links.filter((l) => l.type === type && l.id === id).at(-1);
  }

  /** MAIN_INIT (server mouse mode only, no agent). */
  mainInit(): Uint8Array {
    return miniMsg(MSG_MAIN_INIT, new Bytes().u32(this.sessionId).u32(1).u32(1).u32(1).u32(0).u32(0).u32(0).u32(0).build());
  }

  channelsList(): Uint8Array {
    const b = new Bytes().u32(this.channels.length);
    for (const c of this.channels) b.u8(c.type).u8(c.id);
    return miniMsg(MSG_MAIN_CHANNELS_LIST, b.build());
  }
}

class ServerSide implements Transport {
  readonly description = 'fake server';
  onData: ((chunk: Uint8Array) => void) | null = null;
  onClose: ((err?: Error) => void) | null = null;
  private got = 0;
  private linked = false;
  private rx: Uint8Array = new Uint8Array(0);
  private link: FakeLink | null = null;

  constructor(
    private readonly srv: FakeSpiceServer,
    private readonly dial: Dial,
  ) {}

  private deliver(bytes: Uint8Array): void {
    // like a socket: later, never inside the client's write()
    setImmediate(() => this.onData?.(bytes));
  }

  write(bytes: Uint8Array): void {
    if (!this.link) {
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const link: FakeLink = {
        dial: this.dial,
        connectionId: v.getUint32(16, true),
        type: bytes[20],
        id: bytes[21],
        channelCaps: v.getUint32(22 + 4, true) ? v.getUint32(16 + v.getUint32(30, true) + 4 * v.getUint32(22, true), true) : 0,
        messages: [],
        closedByClient: false,
        send: (b) => this.deliver(b),
        close: () => setImmediate(() => this.onClose?.()),
      };
      this.link = link;
      this.srv.links.push(link);
      this.deliver(linkReply({ pubKey: spki, common: [0b1011], channel: this.srv.serverCaps(link.type) }));
      return;
    }
    if (!this.linked) {
      this.got += bytes.length;
      if (this.got < AUTH_BYTES) return;
      this.linked = true;
      const link = this.link;
      this.deliver(concat(new Bytes().u32(0).build(), this.srv.afterAuth(link) ?? new Uint8Array(0)));
      if (link.type === MAIN) this.deliver(this.srv.mainInit());
      return;
    }
    this.rx = concat(this.rx, bytes);
    while (this.rx.length >= 6) {
      const v = new DataView(this.rx.buffer, this.rx.byteOffset, this.rx.byteLength);
      const type = v.getUint16(0, true);
      const size = v.getUint32(2, true);
      if (this.rx.length < 6 + size) break;
      const body = this.rx.slice(6, 6 + size);
      this.rx = this.rx.slice(6 + size);
      this.link.messages.push({ type, body });
      if (this.link.type === MAIN && type === MSGC_MAIN_ATTACH_CHANNELS) this.deliver(this.srv.channelsList());
      this.srv.onMessage(this.link, type, body);
    }
  }

  close(): void {
    if (this.link) this.link.closedByClient = true;
  }
}

/** Resolves when cond holds; fails after ms (a deadline, not a sleep). */
export async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/** A promise's outcome, or 'pending' after ms (so a hang fails the test instead of stalling it). */
export function settleWithin<T>(p: Promise<T>, ms: number): Promise<{ ok: T } | { err: unknown } | 'pending'> {
  return Promise.race([
    p.then(
      (ok) => ({ ok }),
      (err: unknown) => ({ err }),
    ),
    new Promise<'pending'>((r) => setTimeout(() => r('pending'), ms).unref()),
  ]);
}
