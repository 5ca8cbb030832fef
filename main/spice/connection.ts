// Connection: one socket of one channel — link handshake, header type,
// negotiated caps, serial counters. A logical Channel holds a Connection and
// can swap it for another (seamless migration) without touching its state.
//
// Link state machine: header → reply → auth-result → data; one failure path
// (fail) that closes the transport and reports a SpiceError exactly once.
import { ByteQueue, frameMessage, frameMessageInto, FULL_HEADER_SIZE, MINI_HEADER_SIZE, MessageFramer, type SpiceMessage } from './wire/framer';
import { ByteReader } from './wire/byte-reader';
import { ByteWriter } from './wire/byte-writer';
import { SpiceError } from './wire/errors';
import { CommonCap, LinkErr } from './protocol/enums';
import {
  CLIENT_COMMON_CAPS,
  decodeLinkHeader,
  decodeLinkReply,
  encodeLinkMess,
  encryptTicket,
  hasCap,
  LINK_HEADER_SIZE,
  linkError,
  type LinkReply,
} from './link';
import type { Transport } from './transport';

export const LINK_TIMEOUT_MS = 10_000;

export interface LinkParams {
  connectionId: number;
  channelType: number;
  channelId: number;
  channelCaps: number[];
  password: string;
  /** For error texts: "main", "display 0", … */
  name: string;
  timeoutMs?: number;
}

type LinkState = 'header' | 'reply' | 'auth-result' | 'data' | 'closed';

export class Connection {
  readonly transport: Transport;
  readonly name: string;
  miniHeader = false;
  /** Encrypted to the server (TLS, or a wss:// WebSocket): Guest details says so per channel. */
  secure = false;
  serverCommonCaps: number[] = [];
  serverChannelCaps: number[] = [];
  /** Received/sent message counts (the implicit serials of the mini header). */
  received = 0n;
  sent = 0n;
  bytesIn = 0;
  bytesOut = 0;
  private closeHandler: ((err: SpiceError | null) => void) | null = null;
  /**
   * A failure that happened while nobody listened (bytes that came with the
   * auth result are framed before the channel attaches): told to the next
   * listener instead of being lost.
   */
  private unheardClose: { err: SpiceError | null } | null = null;
  private handler: ((msg: SpiceMessage) => void) | null = null;
  /** Messages that arrived before anyone listened (e.g. in the same chunk as the auth result). */
  private inbox: SpiceMessage[] = [];

  private state: LinkState = 'header';
  private readonly linkQueue = new ByteQueue();
  private framer: MessageFramer | null = null;
  private replySize = 0;

  private constructor(transport: Transport, name: string) {
    this.transport = transport;
    this.name = name;
  }

  get onMessage(): ((msg: SpiceMessage) => void) | null {
    return this.handler;
  }
  /** Installing a handler delivers what arrived before it, in order, then live messages. */
  set onMessage(fn: ((msg: SpiceMessage) => void) | null) {
    this.handler = fn;
    if (fn && this.inbox.length) queueMicrotask(() => this.flushInbox());
  }

  get onClose(): ((err: SpiceError | null) => void) | null {
    return this.closeHandler;
  }
  /** Installing a listener on a connection that already failed unheard reports that failure (next microtask). */
  set onClose(fn: ((err: SpiceError | null) => void) | null) {
    this.closeHandler = fn;
    const pending = this.unheardClose;
    if (fn && pending) {
      this.unheardClose = null;
      queueMicrotask(() => {
        if (this.closeHandler === fn) fn(pending.err);
        else if (!this.closeHandler) this.unheardClose = pending;
      });
    }
  }

  /** Reports a close to the listener, or keeps it for the first one to come. */
  private tellClose(err: SpiceError | null): void {
    const fn = this.closeHandler;
    if (fn) fn(err);
    else this.unheardClose = { err };
  }

  private flushInbox(): void {
    while (this.handler && this.inbox.length && this.state === 'data') this.handler(this.inbox.shift()!);
  }

  /** Bytes the transport holds that the OS has not taken (0 when it cannot tell). */
  get unsentBytes(): number {
    return this.transport.unsentBytes?.() ?? 0;
  }

  /** Called once the transport has handed all its bytes to the OS; one listener. */
  set onDrain(fn: (() => void) | null) {
    this.transport.onDrain = fn;
  }

  get isOpen(): boolean {
    return this.state === 'data';
  }

  /** Runs the link handshake; resolves with an open Connection or rejects with a SpiceError. */
  static link(transport: Transport, p: LinkParams): Promise<Connection> {
    const c = new Connection(transport, p.name);
    return c.runLink(p);
  }

  private runLink(p: LinkParams): Promise<Connection> {
    return new Promise<Connection>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => fail(new SpiceError('TIMEOUT', `${p.name}: no link reply within ${p.timeoutMs ?? LINK_TIMEOUT_MS} ms`)), p.timeoutMs ?? LINK_TIMEOUT_MS);
      const fail = (e: unknown) => {
        const err = e instanceof SpiceError ? e : new SpiceError('PROTOCOL', `${p.name}: ${(e as Error).message}`);
        if (!settled) {
          settled = true;
          clearTimeout(timer);
          this.state = 'closed';
          this.transport.onData = null;
          this.transport.onClose = null;
          this.transport.close();
          reject(err);
        } else {
          this.failData(err);
        }
      };
      let reply: LinkReply | null = null;
      const step = async (): Promise<void> => {
        for (;;) {
          if (this.state === 'header') {
            if (this.linkQueue.length < LINK_HEADER_SIZE) return;
            this.replySize = decodeLinkHeader(this.linkQueue.take(LINK_HEADER_SIZE));
            this.state = 'reply';
          } else if (this.state === 'reply') {
            if (this.linkQueue.length < this.replySize) return;
            reply = decodeLinkReply(this.linkQueue.take(this.replySize));
            if (reply.error !== LinkErr.OK) throw linkError(reply.error, p.name);
            this.serverCommonCaps = reply.commonCaps;
            this.serverChannelCaps = reply.channelCaps;
            // spice-server picks the mini header iff we advertised it; it tells us so in its caps
            this.miniHeader = hasCap(reply.commonCaps, CommonCap.MINI_HEADER);
            this.state = 'auth-result';
            const ticket = await encryptTicket(reply.pubKey, p.password);
            if (hasCap(reply.commonCaps, CommonCap.PROTOCOL_AUTH_SELECTION)) {
              this.writeRaw(new ByteWriter(4).u32(CommonCap.AUTH_SPICE).finish());
            }
            this.writeRaw(ticket);
          } else if (this.state === 'auth-result') {
            if (this.linkQueue.length < 4) return;
            const result = new ByteReader(this.linkQueue.take(4)).u32('link result');
            if (result !== LinkErr.OK) throw linkError(result, p.name);
            this.state = 'data';
            this.framer = new MessageFramer(this.miniHeader);
            settled = true;
            clearTimeout(timer);
            resolve(this);
            // bytes that arrived with the auth result belong to the data phase
            const rest = this.linkQueue.length ? this.linkQueue.take(this.linkQueue.length) : null;
            if (rest) queueMicrotask(() => this.feed(rest));
            return;
          } else {
            return;
          }
        }
      };
      let chain = Promise.resolve();
      this.transport.onData = (chunk) => {
        this.bytesIn += chunk.length;
        if (this.state === 'data') {
          this.feed(chunk);
          return;
        }
        this.linkQueue.push(chunk);
        // serialize: the ticket step is async
        chain = chain.then(step).catch(fail);
      };
      this.transport.onClose = (err) => {
        if (this.state === 'data') {
          this.state = 'closed';
          this.tellClose(err ? new SpiceError('TRANSPORT', `${p.name}: ${err.message}`) : new SpiceError('CLOSED', `${p.name}: server closed the connection`));
          return;
        }
        const during = this.state === 'auth-result' ? 'authentication' : 'link';
        // spice-server closes right after a failed ticket on some versions: treat a close while
        // waiting for the auth result as an authentication failure, the way users see it
        fail(
          this.state === 'auth-result'
            ? new SpiceError('AUTH_FAILED', `${p.name}: authentication failed (connection closed during ${during})`, LinkErr.PERMISSION_DENIED)
            : new SpiceError('CLOSED', `${p.name}: server closed the connection during ${during}${err ? `: ${err.message}` : ''}`),
        );
      };
      this.writeRaw(
        encodeLinkMess({
          connectionId: p.connectionId,
          channelType: p.channelType,
          channelId: p.channelId,
          commonCaps: CLIENT_COMMON_CAPS,
          channelCaps: p.channelCaps,
        }),
      );
    });
  }

  private feed(chunk: Uint8Array): void {
    if (this.state !== 'data' || !this.framer) return;
    try {
      for (const msg of this.framer.push(chunk)) {
        this.received++;
        // never drop: until a handler exists (or while older messages wait) keep order in the inbox
        if (!this.handler || this.inbox.length) {
          this.inbox.push(msg);
          if (this.handler) queueMicrotask(() => this.flushInbox());
        } else {
          this.handler(msg);
        }
        if (this.state !== 'data') return;
      }
    } catch (e) {
      // name the channel: a framing error says nothing about where it happened
      this.failData(e instanceof SpiceError ? new SpiceError(e.code, `${this.name}: ${e.message}`, e.linkError) : new SpiceError('PROTOCOL', `${this.name}: ${(e as Error).message}`));
    }
  }

  private failData(err: SpiceError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.transport.onData = null;
    this.transport.onClose = null;
    this.transport.close();
    this.tellClose(err);
  }

  private writeRaw(bytes: Uint8Array): void {
    this.bytesOut += bytes.length;
    this.transport.write(bytes);
  }

  /** Sends messages of one type in one transport write (framed as send() frames each). */
  sendAll(type: number, bodies: Uint8Array[]): void {
    if (this.state !== 'data') throw new SpiceError('PROTOCOL', `${this.name}: send on a connection that is not open`);
    const hs = this.miniHeader ? MINI_HEADER_SIZE : FULL_HEADER_SIZE;
    const out = new Uint8Array(bodies.reduce((n, b) => n + hs + b.length, 0));
    let off = 0;
    for (const b of bodies) {
      this.sent++;
      frameMessageInto(out, off, this.miniHeader, this.sent, type, b);
      off += hs + b.length;
    }
    this.writeRaw(out);
  }

  /** Sends one message under this connection's header type. */
  send(type: number, body: Uint8Array): void {
    if (this.state !== 'data') throw new SpiceError('PROTOCOL', `${this.name}: send on a connection that is not open`);
    this.sent++;
    this.writeRaw(frameMessage(this.miniHeader, this.sent, type, body));
  }

  /** Fails the connection from above (protocol error in a handler). */
  abort(err: SpiceError): void {
    this.failData(err);
  }

  /**
   * Clean close (no error reported). With `lingerMs`, a connection that has not heard a single
   * message yet keeps its socket until the first bytes arrive (or the time is up) but delivers
   * nothing more: spice-server 0.15.1 creates display and cursor clients later, in its display
   * worker, and a client that leaves before that makes the server drop the next client that links.
   */
  close(lingerMs = 0): void {
    this.unheardClose = null;
    if (this.state === 'closed') return;
    this.state = 'closed';
    const t = this.transport;
    t.onData = null;
    t.onClose = null;
    if (lingerMs <= 0 || this.received > 0n) {
      t.close();
      return;
    }
    const timer = setTimeout(() => t.close(), lingerMs);
    timer.unref?.();
    const done = (): void => {
      clearTimeout(timer);
      t.onData = null;
      t.onClose = null;
      t.close();
    };
    t.onData = done;
    t.onClose = done;
  }
}
