// Logical channel: protocol state, handler table and outgoing queue. It holds
// a replaceable Connection (socket, header type, caps, serials); migration
// swaps the Connection and never this state. Common messages (SET_ACK, PING,
// NOTIFY, DISCONNECTING, WAIT_FOR_CHANNELS, LIST) are handled here, like
// spice-gtk's channel-base.c.
import { ByteReader } from '../wire/byte-reader';
import { ByteWriter } from '../wire/byte-writer';
import { SpiceError } from '../wire/errors';
import type { SpiceMessage } from '../wire/framer';
import type { Connection } from '../connection';
import { Channel as ChannelType, Msg, Msgc } from '../protocol/enums';

export type Handler = (r: ByteReader, msg: SpiceMessage) => void;

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

export const CHANNEL_NAMES: Record<number, string> = {
  [ChannelType.MAIN]: 'main',
  [ChannelType.DISPLAY]: 'display',
  [ChannelType.INPUTS]: 'inputs',
  [ChannelType.CURSOR]: 'cursor',
  [ChannelType.PLAYBACK]: 'playback',
  [ChannelType.RECORD]: 'record',
  [ChannelType.TUNNEL]: 'tunnel',
  [ChannelType.SMARTCARD]: 'smartcard',
  [ChannelType.USBREDIR]: 'usbredir',
  [ChannelType.PORT]: 'port',
  [ChannelType.WEBDAV]: 'webdav',
};

export interface Notify {
  severity: number;
  visibility: number;
  what: number;
  message: string;
}

export abstract class Channel {
  readonly type: number;
  readonly id: number;
  readonly name: string;
  protected readonly log: Logger;
  connection: Connection | null = null;
  /** Called once when the channel fails (protocol error or socket loss). */
  onFailure: ((err: SpiceError) => void) | null = null;
  onNotify: ((n: Notify) => void) | null = null;

  private readonly handlers = new Map<number, Handler>();
  /** Message types valid on this channel that we deliberately do not act on. */
  private readonly ignored = new Set<number>();
  private readonly queue: { type: number; body: Uint8Array }[] = [];
  private ackWindow = 0;
  private ackCount = 0;
  /** Messages handled, by type (tests and stats). */
  readonly received = new Map<number, number>();

  constructor(type: number, id: number, log: Logger) {
    this.type = type;
    this.id = id;
    this.name = `${CHANNEL_NAMES[type] ?? `channel-${type}`}${type === ChannelType.MAIN ? '' : ` ${id}`}`;
    this.log = log;
    this.on(Msg.SET_ACK, (r) => this.handleSetAck(r));
    this.on(Msg.PING, (r) => this.handlePing(r));
    this.on(Msg.NOTIFY, (r) => this.handleNotify(r));
    this.on(Msg.DISCONNECTING, (r) => {
      const ts = r.u64('time_stamp');
      const reason = r.u32('reason');
      this.log.info(`${this.name}: server is disconnecting (reason ${reason}, ts ${ts})`);
    });
    // We process every channel in arrival order on one thread; the cross-channel
    // wait only matters for clients that render channels concurrently.
    this.ignore(Msg.WAIT_FOR_CHANNELS);
    // Seamless migration is handled by the session's migration work; until then a
    // MIGRATE is logged and the server falls back to switch-host for us.
    this.ignore(Msg.MIGRATE, Msg.MIGRATE_DATA);
    this.on(Msg.LIST, (r, msg) => this.handleList(r, msg));
  }

  /** Caps this channel advertises in its link message. */
  abstract channelCaps(): number[];
  /** First messages after link (DISPLAY_INIT, ATTACH_CHANNELS, …). */
  protected abstract onLinked(): void;

  protected on(type: number, h: Handler): void {
    this.handlers.set(type, h);
  }
  protected ignore(...types: number[]): void {
    for (const t of types) this.ignored.add(t);
  }

  /** Installs a linked connection and starts the channel on it. */
  attach(conn: Connection): void {
    this.connection = conn;
    this.ackWindow = 0;
    this.ackCount = 0;
    conn.onMessage = (msg) => this.dispatch(msg);
    conn.onClose = (err) => this.fail(err ?? new SpiceError('CLOSED', `${this.name}: connection closed`));
    this.onLinked();
    this.drain();
  }

  /** Queues or sends one client message. Order is kept across queueing. */
  send(type: number, body: Uint8Array = new Uint8Array(0)): void {
    if (this.connection?.isOpen && this.queue.length === 0) {
      this.connection.send(type, body);
    } else {
      this.queue.push({ type, body });
    }
  }

  protected drain(): void {
    const c = this.connection;
    while (c?.isOpen && this.queue.length) {
      const m = this.queue.shift()!;
      c.send(m.type, m.body);
    }
  }

  get queuedMessages(): number {
    return this.queue.length;
  }

  dispatch(msg: SpiceMessage): void {
    try {
      this.handleOne(msg.type, new ByteReader(msg.body), msg);
      // ACK after every `window` messages (flow control for display/cursor)
      if (this.ackWindow > 0 && ++this.ackCount >= this.ackWindow) {
        this.ackCount = 0;
        this.send(Msgc.ACK);
      }
    } catch (e) {
      const err =
        e instanceof SpiceError
          ? new SpiceError(e.code, `${this.name}: message ${msg.type}: ${e.message}`, e.linkError)
          : new SpiceError('BAD_MESSAGE', `${this.name}: message ${msg.type}: ${(e as Error).message}`);
      this.fail(err);
    }
  }

  private handleOne(type: number, r: ByteReader, msg: SpiceMessage): void {
    this.received.set(type, (this.received.get(type) ?? 0) + 1);
    const h = this.handlers.get(type);
    if (h) {
      h(r, msg);
      return;
    }
    if (this.ignored.has(type)) {
      this.log.debug(`${this.name}: ignoring message ${type} (${msg.body.length} bytes)`);
      return;
    }
    throw new SpiceError('UNKNOWN_MESSAGE', `unknown message type ${type} on the ${this.name} channel`);
  }

  private handleSetAck(r: ByteReader): void {
    const generation = r.u32('generation');
    const window = r.u32('window');
    this.ackWindow = window;
    this.ackCount = 0;
    this.send(Msgc.ACK_SYNC, new ByteWriter(4).u32(generation).finish());
  }

  private handlePing(r: ByteReader): void {
    const id = r.u32('ping id');
    const ts = r.u64('ping timestamp');
    this.send(Msgc.PONG, new ByteWriter(12).u32(id).u64(ts).finish());
  }

  private handleNotify(r: ByteReader): void {
    r.u64('time_stamp');
    const severity = r.u32('severity');
    const visibility = r.u32('visibility');
    const what = r.u32('what');
    const len = r.u32('message_len');
    const text = new TextDecoder().decode(r.bytesView(len, 'notify message')).replace(/\0+$/, '');
    this.log.info(`${this.name}: server notice: ${text}`);
    this.onNotify?.({ severity, visibility, what, message: text });
  }

  /** SPICE_MSG_LIST: SpiceSubMessageList {u16 size; u32 offsets[size]} → {u16 type; u32 size; data}. */
  private handleList(r: ByteReader, msg: SpiceMessage): void {
    const n = r.u16('sub list size');
    const offsets: number[] = [];
    for (let i = 0; i < n; i++) offsets.push(r.u32('sub list offset'));
    for (const off of offsets) {
      const h = r.sub(off, 6, 'sub message header');
      const type = h.u16();
      const size = h.u32();
      r.sub(off + 6, size, 'sub message body'); // bounds check
      const body = msg.body.subarray(off + 6, off + 6 + size);
      // pointers inside a sub-message are relative to its own start
      this.handleOne(type, new ByteReader(body), { type, body, serial: msg.serial });
    }
  }

  /** The single failure path. */
  fail(err: SpiceError): void {
    const c = this.connection;
    this.connection = null;
    if (c) {
      c.onClose = null;
      c.abort(err);
    }
    const cb = this.onFailure;
    this.onFailure = null;
    cb?.(err);
  }

  /** Clean shutdown. */
  close(): void {
    this.onFailure = null;
    this.connection?.close();
    this.connection = null;
  }
}
