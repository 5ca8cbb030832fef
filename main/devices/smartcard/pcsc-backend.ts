// SmartcardBackend on the `pcsclite` addon (PC/SC through pcscd).
//
// pcsclite quirks this file absorbs:
// - pcsclite() throws synchronously when pcscd is not running, and after pcscd
//   dies every reader emits error + end and the context emits error: it never
//   recovers, so we drop the instance and create a new one, retrying with
//   backoff until pcscd answers again.
// - Each CardReader runs its own status thread and holds its mutex while our
//   status/error callbacks run: closing a reader from inside them deadlocks,
//   so closes are deferred. PCSCLite.close() does not close the readers.
// - CardReader.connect() is a no-op while `connected` is set: a handle left
//   by a removed card must be disconnected (or the flag cleared) first.
// - The package has no SCardReconnect: after another program resets the card
//   (SCARD_W_RESET_CARD) we disconnect and connect again.
import {
  SmartcardError,
  type CardConnection,
  type CardProtocol,
  type DisconnectDisposition,
  type ReaderInfo,
  type SmartcardBackend,
  type SmartcardBackendEvent,
  type SmartcardErrorCode,
} from './backend';
import { sameBytes } from './bytes';

// ---- the parts of pcsclite's API used here (its typings do not export them)

interface PcscStatus {
  state: number;
  atr?: Uint8Array;
}
type Cb<T = void> = (err: Error | null | undefined, value: T) => void;
interface PcscReader {
  name: string;
  connected: boolean;
  SCARD_SHARE_SHARED: number;
  SCARD_SHARE_EXCLUSIVE: number;
  SCARD_PROTOCOL_T0: number;
  SCARD_PROTOCOL_T1: number;
  SCARD_PROTOCOL_RAW: number;
  SCARD_STATE_PRESENT: number;
  SCARD_STATE_MUTE: number;
  SCARD_LEAVE_CARD: number;
  SCARD_RESET_CARD: number;
  SCARD_UNPOWER_CARD: number;
  on(ev: 'status', l: (s: PcscStatus) => void): unknown;
  on(ev: 'error', l: (e: Error) => void): unknown;
  on(ev: 'end', l: () => void): unknown;
  connect(opts: { share_mode: number; protocol: number }, cb: Cb<number>): void;
  disconnect(disposition: number, cb: Cb<unknown>): void;
  transmit(data: Uint8Array, resLen: number, protocol: number, cb: Cb<Uint8Array>): void;
  close(): void;
}
interface PcscContext {
  on(ev: 'reader', l: (r: PcscReader) => void): unknown;
  on(ev: 'error', l: (e: Error) => void): unknown;
  close(): void;
}
export type PcscFactory = () => PcscContext;

// PC/SC return codes (pcsclite.h) we give a meaning to
const PCSC_CODES: Record<number, SmartcardErrorCode> = {
  0x8010001d: 'NO_SERVICE', // SCARD_E_NO_SERVICE
  0x80100013: 'SERVICE_LOST', // SCARD_F_COMM_ERROR ("RPC transport error")
  0x80100003: 'NOT_CONNECTED', // SCARD_E_INVALID_HANDLE
  0x8010000b: 'SHARING_VIOLATION', // SCARD_E_SHARING_VIOLATION
  0x8010000c: 'NO_CARD', // SCARD_E_NO_SMARTCARD
  0x80100069: 'CARD_REMOVED', // SCARD_W_REMOVED_CARD
  0x80100068: 'CARD_RESET', // SCARD_W_RESET_CARD
  0x80100066: 'CARD_UNRESPONSIVE', // SCARD_W_UNRESPONSIVE_CARD
  0x80100067: 'CARD_UNRESPONSIVE', // SCARD_W_UNPOWERED_CARD
  0x80100009: 'UNKNOWN_READER', // SCARD_E_UNKNOWN_READER
  0x80100017: 'UNKNOWN_READER', // SCARD_E_READER_UNAVAILABLE
  0x80100016: 'TRANSMIT_FAILED', // SCARD_E_NOT_TRANSACTED
  0x8010000f: 'TRANSMIT_FAILED', // SCARD_E_PROTO_MISMATCH
};

const HUMAN: Partial<Record<SmartcardErrorCode, string>> = {
  NO_SERVICE: 'the PC/SC service (pcscd) is not running',
  SERVICE_LOST: 'the PC/SC service (pcscd) went away',
  SHARING_VIOLATION: 'another program holds the reader exclusively',
};

/** Maps a pcsclite Error ("SCardConnect error: Sharing violation.(0x8010000b)") to a coded SmartcardError. */
export function toSmartcardError(e: unknown, fallback: SmartcardErrorCode = 'PCSC'): SmartcardError {
  if (e instanceof SmartcardError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const m = /\(0x([0-9a-f]{8})\)/i.exec(msg);
  const pcscCode = m ? parseInt(m[1], 16) : undefined;
  const code = (pcscCode !== undefined && PCSC_CODES[pcscCode]) || fallback;
  const human = HUMAN[code];
  return new SmartcardError(code, human ? `${human} (${msg})` : msg, pcscCode);
}

const MAX_RESPONSE = 65538; // extended Le 65536 + SW1 SW2

const DISPOSITION: Record<DisconnectDisposition, 'SCARD_LEAVE_CARD' | 'SCARD_RESET_CARD' | 'SCARD_UNPOWER_CARD'> = {
  leave: 'SCARD_LEAVE_CARD',
  reset: 'SCARD_RESET_CARD',
  unpower: 'SCARD_UNPOWER_CARD',
};

interface ReaderEntry {
  r: PcscReader;
  name: string;
  card: { atr: Uint8Array } | null;
  conn: PcscConnection | null;
  connecting: Promise<CardConnection> | null;
  /** its first status arrived (and reader-added was emitted) */
  ready: boolean;
}

const defer = (f: () => void) => setImmediate(f);

export interface PcscBackendOptions {
  /** pcsclite's factory; default: the `pcsclite` package, loaded on start(). */
  factory?: PcscFactory;
  /** Backoff between attempts to reach pcscd (ms). */
  retryMinMs?: number;
  retryMaxMs?: number;
}

export class PcscBackend implements SmartcardBackend {
  private factory: PcscFactory | null;
  private ctx: PcscContext | null = null;
  private readonly entries = new Map<string, ReaderEntry>();
  private readonly listeners = new Set<(e: SmartcardBackendEvent) => void>();
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay: number;
  private lastDown: string | null = null;
  private closed = false;
  private up = false;

  constructor(private readonly opts: PcscBackendOptions = {}) {
    this.factory = opts.factory ?? null;
    this.retryDelay = opts.retryMinMs ?? 100;
  }

  get serviceUp(): boolean {
    return this.up;
  }

  onEvent(listener: (e: SmartcardBackendEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: SmartcardBackendEvent): void {
    for (const l of [...this.listeners]) l(e);
  }

  async start(): Promise<void> {
    if (this.closed) throw new SmartcardError('CLOSED', 'smartcard backend closed');
    if (!this.factory) {
      try {
        const mod = (await import('pcsclite')) as unknown as { default?: PcscFactory } & PcscFactory;
        this.factory = mod.default ?? mod;
      } catch (e) {
        throw new SmartcardError('NO_LIBRARY', `the pcsclite addon could not be loaded: ${(e as Error).message}`);
      }
    }
    if (!this.ctx && !this.retryTimer) this.establish();
  }

  private establish(): void {
    this.retryTimer = null;
    if (this.closed) return;
    let ctx: PcscContext;
    try {
      ctx = this.factory!();
    } catch (e) {
      this.serviceLost(toSmartcardError(e, 'NO_SERVICE'));
      return;
    }
    this.ctx = ctx;
    this.up = true;
    this.lastDown = null;
    this.retryDelay = this.opts.retryMinMs ?? 100;
    ctx.on('error', (e) => {
      if (this.ctx === ctx) this.serviceLost(toSmartcardError(e, 'SERVICE_LOST'));
    });
    ctx.on('reader', (r) => {
      if (this.ctx === ctx) this.addReader(r);
      else defer(() => r.close());
    });
    this.emit({ type: 'service-up' });
  }

  /** Drops the pcsclite instance and everything on it; tries again later. */
  private serviceLost(err: SmartcardError): void {
    const ctx = this.ctx;
    this.ctx = null;
    const wasUp = this.up;
    this.up = false;
    for (const entry of [...this.entries.values()]) this.dropReader(entry, err);
    if (ctx) defer(() => ctx.close());
    if (wasUp || this.lastDown !== err.code) this.emit({ type: 'service-down', error: err });
    this.lastDown = err.code;
    if (this.closed || this.retryTimer) return;
    this.retryTimer = setTimeout(() => this.establish(), this.retryDelay);
    this.retryDelay = Math.min(this.retryDelay * 2, this.opts.retryMaxMs ?? 2000);
  }

  private addReader(r: PcscReader): void {
    // announced with its first status, so a listed reader's card state is known
    const entry: ReaderEntry = { r, name: r.name, card: null, conn: null, connecting: null, ready: false };
    this.entries.set(r.name, entry);
    r.on('status', (st) => {
      if (this.entries.get(r.name) !== entry) return;
      if (!entry.ready) {
        entry.ready = true;
        this.emit({ type: 'reader-added', reader: r.name });
      }
      this.onStatus(entry, st);
    });
    r.on('error', (e) => {
      if (this.entries.get(r.name) !== entry) return;
      const err = toSmartcardError(e);
      // pcscd gone: every reader says so before (or after) the context does
      if (err.code === 'SERVICE_LOST' || err.code === 'NO_SERVICE') this.serviceLost(err);
      else this.emit({ type: 'error', reader: r.name, error: err });
    });
    r.on('end', () => {
      if (this.entries.get(r.name) === entry) this.dropReader(entry, new SmartcardError('UNKNOWN_READER', `reader ${r.name} was removed`));
    });
  }

  private onStatus(entry: ReaderEntry, st: PcscStatus): void {
    const r = entry.r;
    const present = (st.state & r.SCARD_STATE_PRESENT) !== 0 && (st.state & r.SCARD_STATE_MUTE) === 0;
    const atr = present && st.atr ? Uint8Array.from(st.atr) : null;
    if (entry.card && (!atr || !sameBytes(atr, entry.card.atr))) {
      entry.card = null;
      this.closeConn(entry, new SmartcardError('CARD_REMOVED', `the card was removed from ${entry.name}`));
      this.emit({ type: 'card-removed', reader: entry.name });
    }
    if (atr && atr.length && !entry.card) {
      entry.card = { atr };
      this.emit({ type: 'card-inserted', reader: entry.name, atr });
    }
  }

  private dropReader(entry: ReaderEntry, why: SmartcardError): void {
    this.entries.delete(entry.name);
    if (entry.card) {
      entry.card = null;
      this.closeConn(entry, why);
      this.emit({ type: 'card-removed', reader: entry.name });
    }
    if (entry.ready) this.emit({ type: 'reader-removed', reader: entry.name });
    defer(() => entry.r.close());
  }

  /** Marks the connection dead and releases its handle so the reader can connect again. */
  private closeConn(entry: ReaderEntry, why: SmartcardError): void {
    const conn = entry.conn;
    if (!conn) return;
    entry.conn = null;
    conn.kill(why);
    const r = entry.r;
    if (r.connected) {
      r.disconnect(r.SCARD_LEAVE_CARD, () => {
        r.connected = false; // even when pcscd refused: the handle is stale either way
      });
    }
  }

  readers(): ReaderInfo[] {
    return [...this.entries.values()].filter((e) => e.ready).map((e) => ({ name: e.name, card: e.card ? { atr: e.card.atr.slice() } : null }));
  }

  async connect(reader: string, opts: { exclusive?: boolean } = {}): Promise<CardConnection> {
    if (this.closed) throw new SmartcardError('CLOSED', 'smartcard backend closed');
    if (!this.up) throw new SmartcardError(this.lastDown === 'SERVICE_LOST' ? 'SERVICE_LOST' : 'NO_SERVICE', HUMAN.NO_SERVICE!);
    const entry = this.entries.get(reader);
    if (!entry?.ready) throw new SmartcardError('UNKNOWN_READER', `no reader named ${reader}`);
    if (entry.conn?.open) return entry.conn;
    if (!entry.card) throw new SmartcardError('NO_CARD', `no card in ${reader}`);
    // one SCardConnect per reader at a time: a second would replace the first handle
    entry.connecting ??= this.openConnection(entry, opts.exclusive ?? false).finally(() => {
      entry.connecting = null;
    });
    return entry.connecting;
  }

  private async openConnection(entry: ReaderEntry, exclusive: boolean): Promise<CardConnection> {
    const r = entry.r;
    const protocol = await this.rawConnect(r, exclusive);
    if (this.entries.get(entry.name) !== entry || !entry.card) {
      r.disconnect(r.SCARD_LEAVE_CARD, () => {
        r.connected = false;
      });
      throw new SmartcardError('CARD_REMOVED', `the card left ${entry.name} while connecting`);
    }
    const conn = new PcscConnection(this, entry, protocol, exclusive);
    entry.conn = conn;
    return conn;
  }

  /** SCardConnect, T=0 or T=1 as the card and reader agree; returns pcsclite's protocol number. */
  async rawConnect(r: PcscReader, exclusive: boolean): Promise<number> {
    if (r.connected) {
      // a stale handle (its card gone): pcsclite's connect() would do nothing
      await new Promise<void>((res) => r.disconnect(r.SCARD_LEAVE_CARD, () => res()));
      r.connected = false;
    }
    return new Promise((resolve, reject) => {
      const share_mode = exclusive ? r.SCARD_SHARE_EXCLUSIVE : r.SCARD_SHARE_SHARED;
      r.connect({ share_mode, protocol: r.SCARD_PROTOCOL_T0 | r.SCARD_PROTOCOL_T1 }, (err, protocol) => {
        if (err) reject(toSmartcardError(err));
        else resolve(protocol);
      });
    });
  }

  /** After SCARD_W_RESET_CARD: a fresh handle on the same reader, and the card's ATR told to listeners. */
  async reopen(entry: ReaderEntry, exclusive: boolean): Promise<number> {
    const r = entry.r;
    const protocol = await this.rawConnect(r, exclusive); // drops the reset handle first
    if (entry.card) this.emit({ type: 'card-reset', reader: entry.name, atr: entry.card.atr.slice() });
    return protocol;
  }

  detach(entry: ReaderEntry, conn: PcscConnection): void {
    if (entry.conn === conn) entry.conn = null;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const err = new SmartcardError('CLOSED', 'smartcard backend closed');
    const ctx = this.ctx;
    this.ctx = null;
    this.up = false;
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(entries.map(async (e) => {
      const conn = e.conn;
      e.conn = null;
      conn?.kill(err);
      if (e.r.connected) await new Promise<void>((res) => e.r.disconnect(e.r.SCARD_LEAVE_CARD, () => res()));
    }));
    await new Promise<void>((res) => defer(() => {
      ctx?.close();
      for (const e of entries) e.r.close();
      res();
    }));
    this.listeners.clear();
  }
}

const PROTOCOL_NAMES = (r: PcscReader, p: number): CardProtocol => (p === r.SCARD_PROTOCOL_T0 ? 'T0' : p === r.SCARD_PROTOCOL_T1 ? 'T1' : 'RAW');

class PcscConnection implements CardConnection {
  readonly reader: string;
  private protocolNumber: number;
  private dead: SmartcardError | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly backend: PcscBackend,
    private readonly entry: ReaderEntry,
    protocol: number,
    private readonly exclusive: boolean,
  ) {
    this.reader = entry.name;
    this.protocolNumber = protocol;
  }

  get protocol(): CardProtocol {
    return PROTOCOL_NAMES(this.entry.r, this.protocolNumber);
  }
  get open(): boolean {
    return !this.dead;
  }

  kill(why: SmartcardError): void {
    if (!this.dead) this.dead = why;
  }

  transmit(apdu: Uint8Array): Promise<Uint8Array> {
    const run = () => this.transmitNow(apdu);
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => {});
    return p;
  }

  private transmitNow(apdu: Uint8Array): Promise<Uint8Array> {
    if (this.dead) return Promise.reject(new SmartcardError(this.dead.code, `not connected: ${this.dead.message}`));
    const r = this.entry.r;
    return new Promise<Uint8Array>((resolve, reject) => {
      r.transmit(Buffer.from(apdu), MAX_RESPONSE, this.protocolNumber, (err, data) => {
        if (!err) {
          resolve(Uint8Array.from(data));
          return;
        }
        const e = toSmartcardError(err, 'TRANSMIT_FAILED');
        if (e.code === 'CARD_RESET' && !this.dead) {
          // re-open so the next command works; this one was not executed
          this.backend.reopen(this.entry, this.exclusive).then(
            (p) => {
              this.protocolNumber = p;
              reject(e);
            },
            (e2: unknown) => {
              this.kill(toSmartcardError(e2));
              this.backend.detach(this.entry, this);
              reject(e);
            },
          );
          return;
        }
        if (e.code === 'CARD_REMOVED' || e.code === 'SERVICE_LOST' || e.code === 'NOT_CONNECTED') this.kill(e);
        reject(e);
      });
    });
  }

  async disconnect(disposition: DisconnectDisposition = 'leave'): Promise<void> {
    if (this.dead) return;
    this.kill(new SmartcardError('NOT_CONNECTED', 'disconnected'));
    this.backend.detach(this.entry, this);
    const r = this.entry.r;
    await this.chain;
    await new Promise<void>((resolve, reject) => r.disconnect(r[DISPOSITION[disposition]], (err) => {
      r.connected = false;
      if (err) reject(toSmartcardError(err));
      else resolve();
    }));
  }
}
