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
import { Channel as ChannelType, MigrateFlags, Msg, Msgc } from '../protocol/enums';
import { messageName } from '../protocol/message-names';

/** A channel stuck between MIGRATE and MIGRATE_DATA longer than this is failed. */
export const MIGRATE_DATA_TIMEOUT_MS = 10_000;

export interface MigrationStats {
  /** Bytes the app produced for this channel while it was held between MIGRATE and the swap. */
  queuedBytes: number;
  /** Of those, bytes drained to the destination after the swap. */
  forwardedBytes: number;
  /** Bytes lost (only when a migration or the session fails with data still queued). */
  droppedBytes: number;
  flushMarks: number;
  migrateDataBytes: number;
  /** performance.now() of MIGRATE receipt and of the swap, for timing events. */
  migrateAt: number;
  swappedAt: number;
  flags: number;
}

export type Handler = (r: ByteReader, msg: SpiceMessage) => void;

/**
 * Bounds of a channel's outgoing queue (messages produced while no connection
 * is attached, a migration holds the channel or its output is paused).
 * Passing either is a coded LIMIT failure of the channel, never unbounded growth.
 */
export interface QueueLimits {
  maxBytes: number;
  maxMessages: number;
}

export const DEFAULT_QUEUE_LIMITS: Readonly<QueueLimits> = { maxBytes: 64 * 1024 * 1024, maxMessages: 100_000 };

export interface QueueStats {
  /** Bytes and messages waiting now. */
  bytes: number;
  messages: number;
  /** Most bytes that ever waited at once. */
  peakBytes: number;
}

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  /**
   * --spice-debug: one line per protocol step and message. Absent otherwise, and callers use
   * `log.protocol?.(…)`, which does not even build the text then (a display sends thousands).
   */
  protocol?(msg: string): void;
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

/** Display and cursor clients are created in spice-server's display worker (see Connection.close). */
export const WORKER_CHANNEL_LINGER_MS = 1000;
const WORKER_CHANNELS: ReadonlySet<number> = new Set([ChannelType.DISPLAY, ChannelType.CURSOR]);

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
  /** Clock for replay timing (a test may substitute a fake one). */
  now: () => number = () => performance.now();
  /** Unsent messages, with now() of when the app produced them (replay timing). */
  private readonly queue: { type: number; body: Uint8Array; at: number }[] = [];
  private queueBytes = 0;
  private peakQueueBytes = 0;
  queueLimits: QueueLimits = { ...DEFAULT_QUEUE_LIMITS };
  /**
   * Output the migration holds from CONNECTED_SEAMLESS until the destination
   * VM runs (see MigrationController): input and device data.
   */
  readonly holdsOutputForSwitch: boolean = false;
  private ackWindow = 0;
  private ackCount = 0;
  /**
   * Deferred ACK (display): when set, a received message counts toward the ACK
   * window only once its owner reports it processed (ackProcessed), so a slow
   * consumer slows the server; called after each message that awaits that.
   */
  ackDeferred: (() => void) | null = null;
  private ackEpoch = 0;
  private unclaimed = 0;
  /** Messages handled, by type (tests and stats). */
  readonly received = new Map<number, number>();

  // ---- seamless migration: the destination connection, linked and held until the swap
  private target: Connection | null = null;
  private held: SpiceMessage[] = [];
  private migrating: 'none' | 'held' | 'awaiting-data' = 'none';
  /** Output held after a swap until the destination VM runs (see MigrationController). */
  private outputPaused = false;
  /** A timed replay of the queue after a pause (see resumeOutput). */
  private pace: { speedup: number; timer: ReturnType<typeof setTimeout> | null } | null = null;
  private migrateDataTimer: ReturnType<typeof setTimeout> | null = null;
  migration: MigrationStats = Channel.freshStats();
  /** Session hooks: MIGRATE received (timing) and swap done (the old connection is handed back to close). */
  onMigrate: ((ch: Channel, flags: number) => void) | null = null;
  onSwapped: ((ch: Channel, old: Connection) => void) | null = null;
  /** The held destination connection dropped before the swap. */
  onTargetLost: ((ch: Channel, err: SpiceError) => void) | null = null;
  /** Armed by the migration after a swap: called once on a message that proves the destination VM runs. */
  onGuestRunning: ((ch: Channel) => void) | null = null;

  /**
   * True for messages a server only sends while its VM runs. Device channels
   * override it: spice-server reads a device only while the VM runs. Display
   * and cursor messages do not qualify (a destination replays QXL state while
   * it is still loading).
   */
  protected provesGuestRunning(_type: number): boolean {
    return false;
  }

  /** Fires onGuestRunning (once) for a message that proves the VM runs. */
  protected checkGuestRunning(type: number): void {
    const cb = this.onGuestRunning;
    if (!cb || !this.provesGuestRunning(type)) return;
    this.onGuestRunning = null;
    cb(this);
  }

  private static freshStats(): MigrationStats {
    return { queuedBytes: 0, forwardedBytes: 0, droppedBytes: 0, flushMarks: 0, migrateDataBytes: 0, migrateAt: 0, swappedAt: 0, flags: 0 };
  }

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
    this.on(Msg.MIGRATE, (r) => this.handleMigrate(r.u32('migrate flags')));
    // MIGRATE_DATA is consumed by dispatch() while awaiting it; anywhere else it is a protocol error
    this.on(Msg.MIGRATE_DATA, () => {
      throw new SpiceError('PROTOCOL', 'MIGRATE_DATA without a preceding MIGRATE');
    });
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

  /** True once the channel has served a connection (a new server then needs a reset). */
  linkedOnce = false;

  /** Installs a linked connection and starts the channel on it. */
  attach(conn: Connection): void {
    this.linkedOnce = true;
    this.connection = conn;
    this.resetAck(0);
    conn.onMessage = (msg) => this.dispatch(msg);
    conn.onClose = (err) => this.fail(err ?? new SpiceError('CLOSED', `${this.name}: connection closed`));
    this.onLinked();
    this.drain();
  }

  /**
   * Several messages of one type: in one socket write when they can go out at
   * once (a device channel's write split in chunks), else each as send() does.
   */
  sendAll(type: number, bodies: Uint8Array[]): void {
    if (bodies.length > 1 && this.canSend && this.queue.length === 0) {
      this.log.protocol?.(`${this.name} >> ${bodies.length} × ${messageName(this.type, type, 'out')} (${bodies.reduce((n, b) => n + b.length, 0)} bytes)`);
      this.connection!.sendAll(type, bodies);
      return;
    }
    for (const b of bodies) this.send(type, b);
  }

  /** Queues or sends one client message. Order is kept across queueing. */
  send(type: number, body: Uint8Array = new Uint8Array(0)): void {
    if (this.canSend && this.queue.length === 0) {
      this.log.protocol?.(`${this.name} >> ${messageName(this.type, type, 'out')} (${body.length} bytes)`);
      this.connection!.send(type, body);
      return;
    }
    const { maxBytes, maxMessages } = this.queueLimits;
    if (this.queueBytes + body.length > maxBytes || this.queue.length + 1 > maxMessages) {
      // the message is not queued; the channel fails with the reason
      this.fail(
        new SpiceError('LIMIT', `${this.name}: outgoing queue full (${this.queue.length} messages, ${this.queueBytes} bytes waiting; limits ${maxMessages} messages, ${maxBytes} bytes)`),
      );
      return;
    }
    if (this.migrating !== 'none' || this.outputPaused || this.pace) this.migration.queuedBytes += body.length;
    this.queue.push({ type, body, at: this.now() });
    this.queueBytes += body.length;
    if (this.queueBytes > this.peakQueueBytes) this.peakQueueBytes = this.queueBytes;
    this.queueChanged();
  }

  /** The outgoing queue grew or shrank (producer flow control hooks in here). */
  protected queueChanged(): void {}

  get queueStats(): QueueStats {
    return { bytes: this.queueBytes, messages: this.queue.length, peakBytes: this.peakQueueBytes };
  }

  private get canSend(): boolean {
    return !!this.connection?.isOpen && this.migrating === 'none' && !this.outputPaused;
  }

  private sendOne(): void {
    const m = this.queue.shift()!;
    this.queueBytes -= m.body.length;
    if (this.migration.queuedBytes) this.migration.forwardedBytes += m.body.length;
    this.log.protocol?.(`${this.name} >> ${messageName(this.type, m.type, 'out')} (${m.body.length} bytes, queued)`);
    this.connection!.send(m.type, m.body);
  }

  protected drain(): void {
    if (this.pace) {
      // a timed replay owns the queue; restart it if a pause or a swap stopped it
      if (!this.pace.timer) this.paceTick();
      return;
    }
    const before = this.queue.length;
    while (this.queue.length && this.canSend) this.sendOne();
    if (this.queue.length !== before) this.queueChanged();
  }

  /** Queues (never drops) everything sent until resumeOutput(). A replay in progress waits. */
  pauseOutput(): void {
    this.outputPaused = true;
    if (this.pace?.timer) {
      clearTimeout(this.pace.timer);
      this.pace.timer = null;
    }
  }

  /**
   * Ends a pause. With replay, the queued messages keep the gaps between them
   * as the app produced them, shortened `speedup` times, instead of going out
   * in one burst: QEMU pushes every input event spice-server reads into the
   * guest's PS/2 queue (16 bytes) at once, and a guest has only a small event
   * buffer per reader, so a burst of held keys is lost where a typed sequence
   * is not. New messages queue behind the replay until it has caught up.
   */
  resumeOutput(replay?: { speedup: number }): void {
    if (!this.outputPaused) return;
    this.outputPaused = false;
    if (replay && this.queue.length && !this.pace) this.pace = { speedup: replay.speedup, timer: null };
    this.drain();
  }

  private paceTick(): void {
    const p = this.pace;
    if (!p) return;
    p.timer = null;
    while (this.queue.length && this.canSend) {
      const at = this.queue[0].at;
      this.sendOne();
      if (!this.queue.length) break;
      const gap = (this.queue[0].at - at) / p.speedup;
      if (gap >= 1) {
        p.timer = setTimeout(() => this.paceTick(), gap);
        this.queueChanged();
        return;
      }
    }
    if (!this.queue.length) this.pace = null; // caught up
    this.queueChanged();
    // else paused, migrating or closed: the next drain() resumes the replay
  }

  private stopPacing(): void {
    if (this.pace?.timer) clearTimeout(this.pace.timer);
    this.pace = null;
  }

  get isOutputPaused(): boolean {
    return this.outputPaused;
  }

  get queuedMessages(): number {
    return this.queue.length;
  }

  dispatch(msg: SpiceMessage): void {
    try {
      if (this.migrating === 'awaiting-data') {
        // exactly one MIGRATE_DATA may follow MIGRATE; forwarding anything else has crashed servers
        if (msg.type !== Msg.MIGRATE_DATA) {
          throw new SpiceError('PROTOCOL', `expected MIGRATE_DATA after MIGRATE, got message ${msg.type}; migration of this channel aborted`);
        }
        this.received.set(msg.type, (this.received.get(msg.type) ?? 0) + 1);
        this.swap(msg.body.slice());
        return;
      }
      this.handleOne(msg.type, new ByteReader(msg.body), msg);
      this.checkGuestRunning(msg.type);
      // ACK after every `window` messages (flow control for display/cursor)
      if (this.ackDeferred) {
        this.unclaimed++;
        this.ackDeferred();
      } else this.countAck(1);
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
    this.log.protocol?.(`${this.name} << ${messageName(this.type, type, 'in')} (${msg.body.length} bytes)`);
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

  private countAck(n: number): void {
    if (this.ackWindow <= 0) return;
    this.ackCount += n;
    while (this.ackCount >= this.ackWindow) {
      this.ackCount -= this.ackWindow;
      this.send(Msgc.ACK);
    }
  }

  /** Deferred ACK: takes the messages received since the last call (to report once processed). */
  takeReceived(): { epoch: number; n: number } {
    const n = this.unclaimed;
    this.unclaimed = 0;
    return { epoch: this.ackEpoch, n };
  }

  /** Deferred ACK: messages received and not taken yet. */
  get receivedUntaken(): number {
    return this.unclaimed;
  }

  /** Deferred ACK: messages taken with takeReceived are processed. Counts from an older window are dropped. */
  ackProcessed(taken: { epoch: number; n: number }): void {
    if (taken.epoch === this.ackEpoch) this.countAck(taken.n);
  }

  /** A new ACK window (SET_ACK, a new connection): messages received before it are not counted in it. */
  private resetAck(window: number): void {
    this.ackWindow = window;
    this.ackCount = 0;
    this.ackEpoch++;
    this.unclaimed = 0;
  }

  private handleSetAck(r: ByteReader): void {
    const generation = r.u32('generation');
    const window = r.u32('window');
    this.resetAck(window);
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

  /**
   * SPICE_MSG_LIST: SpiceSubMessageList {u16 size; u32 offsets[size]} → {u16 type; u32 size; data}.
   * Lists do not nest and sub-messages do not share bytes (spice-server builds
   * them that way); allowing either lets a few hundred bytes cost exponential work.
   */
  private handleList(r: ByteReader, msg: SpiceMessage): void {
    const n = r.u16('sub list size');
    const tableEnd = 2 + 4 * n;
    const subs: { off: number; type: number; size: number }[] = [];
    for (let i = 0; i < n; i++) {
      const off = r.u32('sub list offset');
      const h = r.sub(off, 6, 'sub message header');
      const type = h.u16();
      const size = h.u32();
      r.sub(off + 6, size, 'sub message body'); // bounds check
      if (type === Msg.LIST) throw new SpiceError('BAD_MESSAGE', `sub-message ${i} of a list is a list (lists do not nest)`);
      subs.push({ off, type, size });
    }
    const byOffset = [...subs].sort((a, b) => a.off - b.off);
    let end = tableEnd;
    for (const s of byOffset) {
      if (s.off < end) throw new SpiceError('BAD_MESSAGE', `list sub-message at offset ${s.off} overlaps the offset table or another sub-message`);
      end = s.off + 6 + s.size;
    }
    for (const { off, type, size } of subs) {
      const body = msg.body.subarray(off + 6, off + 6 + size);
      // pointers inside a sub-message are relative to its own start
      this.handleOne(type, new ByteReader(body), { type, body, serial: msg.serial });
    }
  }

  // ------------------------------------------------------------ migration

  /** Holds a linked destination connection: its messages wait until the swap. */
  holdTarget(conn: Connection, alreadyHeld: SpiceMessage[] = []): void {
    this.target = conn;
    this.held = alreadyHeld;
    this.migration = Channel.freshStats();
    conn.onMessage = (m) => this.held.push({ type: m.type, body: m.body.slice(), serial: m.serial });
    conn.onClose = (err) => {
      if (this.target !== conn) return;
      this.target = null;
      this.onTargetLost?.(this, err ?? new SpiceError('CLOSED', `${this.name}: destination closed the connection`));
    };
  }

  get hasTarget(): boolean {
    return this.target !== null;
  }
  get migrationPhase(): 'none' | 'held' | 'awaiting-data' {
    return this.migrating;
  }

  /** Abandons a held destination (cancel / failure before the swap). */
  dropTarget(): void {
    const t = this.target;
    this.target = null;
    this.held = [];
    t?.close();
  }

  /** SPICE_MSG_MIGRATE: flush mark now, then (maybe) wait for MIGRATE_DATA, then swap. */
  private handleMigrate(flags: number): void {
    this.migration.migrateAt = performance.now();
    this.migration.flags = flags;
    this.onMigrate?.(this, flags);
    if (!this.target) {
      this.log.warn(`${this.name}: MIGRATE (flags ${flags}) without a destination; staying on the source`);
      return;
    }
    this.migrating = 'held'; // from here the app's messages queue for the destination
    if (flags & MigrateFlags.NEED_FLUSH) {
      // bypasses the queue: the source must see it before anything we send later
      this.connection?.send(Msgc.MIGRATE_FLUSH_MARK, new Uint8Array(0));
      this.migration.flushMarks++;
    }
    if (flags & MigrateFlags.NEED_DATA_TRANSFER) {
      this.migrating = 'awaiting-data';
      this.migrateDataTimer = setTimeout(
        () => this.fail(new SpiceError('TIMEOUT', `${this.name}: no MIGRATE_DATA within ${MIGRATE_DATA_TIMEOUT_MS / 1000} s of MIGRATE`)),
        MIGRATE_DATA_TIMEOUT_MS,
      );
    } else {
      this.swap(null);
    }
  }

  /** Moves the channel onto its destination connection; state, caches and queue stay. */
  private swap(data: Uint8Array | null): void {
    const old = this.connection;
    const target = this.target;
    if (this.migrateDataTimer) clearTimeout(this.migrateDataTimer);
    this.migrateDataTimer = null;
    if (!target || !old) throw new SpiceError('PROTOCOL', `${this.name}: swap without a destination`);
    this.target = null;
    this.migrating = 'none';
    // the source sends nothing after MIGRATE(_DATA); anything that still arrives is not acted on
    old.onMessage = (m) => this.log.debug(`${this.name}: ignoring message ${m.type} from the source after MIGRATE`);
    old.onClose = null;
    this.connection = target;
    this.resetAck(0); // the destination sends its own SET_ACK
    target.onMessage = (m) => this.dispatch(m);
    target.onClose = (err) => this.fail(err ?? new SpiceError('CLOSED', `${this.name}: connection closed`));
    if (data) {
      target.send(Msgc.MIGRATE_DATA, data); // verbatim, first on the destination
      this.migration.migrateDataBytes = data.length;
    }
    this.migration.swappedAt = performance.now();
    // the session may hold this channel's output until the destination VM runs
    this.onSwapped?.(this, old);
    this.drain();
    const held = this.held;
    this.held = [];
    for (const m of held) {
      if (this.connection !== target) break;
      this.dispatch(m);
    }
  }

  /**
   * Semi-seamless / reconnect: adopt a connection to a server that lost our
   * state — reset what the new server cannot know, run the normal channel up.
   */
  adopt(conn: Connection): void {
    const held = this.target === conn ? this.held : [];
    this.target = null;
    this.held = [];
    this.migrating = 'none';
    this.resetForNewServer();
    this.attach(conn);
    for (const m of held) {
      if (this.connection !== conn) break;
      this.dispatch(m);
    }
  }

  /** What a channel forgets when its server changes without seamless state transfer. */
  protected resetForNewServer(): void {}

  /** What a channel lets go of when it ends for good (failure or close). */
  protected onEnded(): void {}

  /** The single failure path. */
  fail(err: SpiceError): void {
    if (this.migrateDataTimer) clearTimeout(this.migrateDataTimer);
    this.migrateDataTimer = null;
    this.stopPacing();
    this.dropTarget();
    this.migration.droppedBytes += this.queueBytes;
    // counted as dropped above: release it (up to the queue bounds) and never send it to a later connection
    this.queue.length = 0;
    this.queueBytes = 0;
    this.migrating = 'none';
    this.outputPaused = false;
    this.queueChanged();
    const c = this.connection;
    this.connection = null;
    if (c) {
      c.onClose = null;
      c.abort(err);
    }
    this.onEnded();
    const cb = this.onFailure;
    this.onFailure = null;
    cb?.(err);
  }

  /** Clean shutdown. */
  close(): void {
    if (this.migrateDataTimer) clearTimeout(this.migrateDataTimer);
    this.migrateDataTimer = null;
    this.stopPacing();
    this.dropTarget();
    this.onFailure = null;
    // how long a socket that has heard nothing yet is kept (see Connection.close)
    this.connection?.close(WORKER_CHANNELS.has(this.type) ? WORKER_CHANNEL_LINGER_MS : 0);
    this.connection = null;
    this.onEnded();
  }
}
