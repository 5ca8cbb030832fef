// Smartcard manager: the client's readers (a SmartcardBackend) offered to the
// guest over VSCard, as spice-gtk's smartcard channel does it:
// - ReaderAdd / ReaderRemove / ATR / CardRemove wait for the server's Error
//   answer before the next one goes (one control message in flight). The
//   answer to ReaderAdd carries the reader id the server assigned (spice-server
//   patches it in); CANNOT_ADD_MORE_READERS leaves the reader unshared
//   (spice-server has one reader per ccid-card-passthru device).
// - APDUs from the guest are handled strictly in order, one in flight, a queue
//   behind it; each gets exactly one answer: the card's response, or an Error
//   GENERAL_ERROR when there is no card or the transmit failed (QEMU turns it
//   into a failed CCID transfer instead of a guest that waits forever).
// - Flush is answered with FlushComplete once every earlier APDU is answered.
// - The guest sees T=0 (QEMU's usb-ccid): guestAtr() and T0Bridge cover cards
//   driven over T=1.
// Transport-free: messages go out through `send` and come in through
// handleMessage()/handleBytes(); the channel wiring frames them.
import { guestAtr } from './atr';
import { SmartcardError, type CardConnection, type SmartcardBackend, type SmartcardBackendEvent } from './backend';
import { hexOf } from './bytes';
import { T0Bridge } from './t0-bridge';
import { VSCARD_UNDEFINED_READER_ID, VscErrorCode, VscMessageType as T, decodeVscMessage, vscTypeName, type VscByteOrder, type VscMessage } from './vscard';
import { SpiceError } from '../../spice/wire/errors';

export type ReaderShareState =
  | 'adding' // ReaderAdd queued or in flight
  | 'shared' // the server gave it a reader id
  | 'rejected' // the server has no room for it
  | 'waiting' // maxReaders are offered already; offered when one of them goes
  | 'stopped'; // the user stopped sharing it

export interface SharedReader {
  name: string;
  state: ReaderShareState;
  vscId: number | null;
  /** ATR the guest was given (hex), null without a card. */
  guestAtr: string | null;
  /** The guest ATR differs from the card's (T=1-only card bridged to T=0). */
  bridged: boolean;
  /** A card connection is open (the guest has used the card). */
  inUse: boolean;
  /** The user took the card out in the viewer (File → Remove smartcard); it is still in the reader. */
  ejected: boolean;
}

interface Reader {
  name: string;
  state: ReaderShareState;
  vscId: number | null;
  /** the card's ATR as the backend reports it */
  cardAtr: Uint8Array | null;
  guestAtr: Uint8Array | null;
  /** the guest was told about the card (ATR sent, no CardRemove since) */
  cardAnnounced: boolean;
  /** removed in the viewer, not from the reader: the guest sees no card until put back */
  ejected: boolean;
  conn: CardConnection | null;
  bridge: T0Bridge | null;
  gone: boolean;
}

interface Control {
  msg: VscMessage;
  reader: Reader;
}

export interface SmartcardManagerOptions {
  backend: SmartcardBackend;
  /** Sends one VSCard message to the server. */
  send: (msg: VscMessage) => void;
  /** Header byte order of handleBytes() input (the SPICE channel: little endian). */
  order?: VscByteOrder;
  /**
   * Readers offered at once; the others wait ('waiting') and the first of them
   * is offered when a shared one is stopped or unplugged. spice-server binds one
   * ccid-card-passthru device to the channel, so the smartcard channel takes 1.
   */
  maxReaders?: number;
  /** Reports failures that are not protocol errors (a transmit that failed, a rejected reader). */
  onError?: (e: SmartcardError, reader?: string) => void;
}

export class SmartcardManager {
  private readonly list: Reader[] = [];
  private readonly control: Control[] = [];
  private controlInFlight: Control | null = null;
  private readonly apdus: { readerId: number; data: Uint8Array }[] = [];
  private apduBusy = false;
  private flushes = 0;
  private unsubscribe: (() => void) | null = null;
  private readonly changeListeners = new Set<() => void>();
  private closed = false;

  constructor(private readonly opts: SmartcardManagerOptions) {}

  /** Offers the backend's current readers and follows its events. */
  start(): void {
    this.unsubscribe = this.opts.backend.onEvent((e) => this.onBackend(e));
    for (const r of this.opts.backend.readers()) {
      this.onBackend({ type: 'reader-added', reader: r.name });
      if (r.card) this.onBackend({ type: 'card-inserted', reader: r.name, atr: r.card.atr });
    }
  }

  /** Stops serving: card connections are closed (left as they are), nothing more is sent. */
  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    this.changeListeners.clear();
    for (const r of this.list) this.dropConnection(r);
  }

  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  readers(): SharedReader[] {
    return this.list.filter((r) => !r.gone).map((r) => ({
      name: r.name,
      state: r.state,
      vscId: r.vscId,
      guestAtr: r.guestAtr && r.cardAnnounced ? hexOf(r.guestAtr) : null,
      bridged: !!r.guestAtr && !!r.cardAtr && hexOf(r.guestAtr) !== hexOf(r.cardAtr),
      inUse: !!r.conn?.open,
      ejected: r.ejected,
    }));
  }

  /**
   * remote-viewer's Insert / Remove smartcard for a card that stays in the
   * reader: removed, the guest gets CardRemove and no APDU reaches the card;
   * put back, the guest gets its ATR again. Taking it out of the reader ends it.
   */
  setCardPresented(name: string, presented: boolean): void {
    const r = this.find(name);
    if (!r) throw new SmartcardError('UNKNOWN_READER', `no reader named ${name}`);
    if (presented === !r.ejected) return;
    r.ejected = !presented;
    if (presented) this.announceCard(r);
    else if (r.cardAnnounced) {
      this.dropConnection(r);
      r.cardAnnounced = false;
      if (r.state === 'shared') this.queueControl(r, { type: T.CardRemove, readerId: r.vscId! });
    }
    this.changed();
  }

  /** Number of guest APDUs received and not yet answered (in flight + queued). */
  get pendingApdus(): number {
    return this.apdus.length + (this.apduBusy ? 1 : 0);
  }

  /** Stops (or resumes) offering a reader to the guest. */
  setShared(name: string, shared: boolean): void {
    const r = this.find(name);
    if (!r) throw new SmartcardError('UNKNOWN_READER', `no reader named ${name}`);
    if (!shared && r.state !== 'stopped') {
      const [atr, guest] = [r.cardAtr, r.guestAtr];
      this.withdraw(r);
      [r.cardAtr, r.guestAtr] = [atr, guest]; // still in the reader: offered again on resume
      r.state = 'stopped';
      this.offerWaiting();
      this.changed();
    } else if (shared && r.state === 'stopped') {
      this.addReader(r);
    }
  }

  /** One SPICE_MSG_SMARTCARD_DATA body. A malformed one throws a coded SpiceError and changes nothing. */
  handleBytes(body: Uint8Array): void {
    this.handleMessage(decodeVscMessage(body, this.opts.order ?? 'le'));
  }

  handleMessage(msg: VscMessage): void {
    if (this.closed) return;
    switch (msg.type) {
      case T.Error:
        this.onAck(msg.readerId, msg.code);
        break;
      case T.APDU:
        this.apdus.push({ readerId: msg.readerId, data: msg.data });
        this.pumpApdus();
        break;
      case T.Flush:
        this.flushes++;
        this.maybeFlushComplete();
        break;
      case T.Init:
        break; // spice-server keeps Init to itself; nothing to negotiate (no capabilities exist)
      default:
        // ReaderAdd/ReaderRemove/ATR/CardRemove/FlushComplete only go client -> server
        throw new SpiceError('PROTOCOL', `VSCard ${vscTypeName(msg.type)} from the server`);
    }
  }

  // ---- backend events

  private onBackend(e: SmartcardBackendEvent): void {
    if (this.closed) return;
    switch (e.type) {
      case 'reader-added': {
        let r = this.find(e.reader);
        if (!r) {
          r = { name: e.reader, state: 'adding', vscId: null, cardAtr: null, guestAtr: null, cardAnnounced: false, ejected: false, conn: null, bridge: null, gone: false };
          this.list.push(r);
        }
        r.gone = false;
        if (r.state !== 'stopped') this.addReader(r);
        break;
      }
      case 'reader-removed': {
        const r = this.find(e.reader);
        if (!r) break;
        const stopped = r.state === 'stopped';
        this.withdraw(r);
        r.gone = true;
        r.state = stopped ? 'stopped' : 'adding'; // the user's choice stays; otherwise offered again if it comes back
        this.offerWaiting();
        this.changed();
        break;
      }
      case 'card-inserted': {
        const r = this.find(e.reader);
        if (!r) break;
        r.cardAtr = e.atr;
        try {
          r.guestAtr = guestAtr(e.atr).atr;
        } catch (err) {
          r.guestAtr = null; // an ATR that does not parse is not offered
          this.opts.onError?.(err as SmartcardError, r.name);
        }
        this.announceCard(r);
        this.changed();
        break;
      }
      case 'card-removed': {
        const r = this.find(e.reader);
        if (r) this.cardGone(r);
        this.changed();
        break;
      }
      case 'card-reset': {
        const r = this.find(e.reader);
        r?.bridge?.reset();
        break;
      }
      default:
        break;
    }
  }

  private addReader(r: Reader): void {
    r.vscId = null;
    if (this.offered(r) >= (this.opts.maxReaders ?? Infinity)) {
      r.state = 'waiting';
      this.changed();
      return;
    }
    r.state = 'adding';
    this.queueControl(r, { type: T.ReaderAdd, readerId: VSCARD_UNDEFINED_READER_ID, name: r.name });
    this.changed();
  }

  /** Readers other than `except` offered to the server (being added or shared). */
  private offered(except: Reader): number {
    return this.list.filter((x) => x !== except && !x.gone && (x.state === 'adding' || x.state === 'shared')).length;
  }

  /** A reader left: the first waiting one takes its place (its ReaderAdd queues behind the ReaderRemove). */
  private offerWaiting(): void {
    const w = this.list.find((x) => x.state === 'waiting' && !x.gone);
    if (w) this.addReader(w);
  }

  /** Takes a reader (and its card) away from the guest; a ReaderAdd still queued is simply dropped. */
  private withdraw(r: Reader): void {
    this.cardGone(r);
    const queued = this.control.findIndex((c) => c.reader === r && c.msg.type === T.ReaderAdd);
    if (queued >= 0) this.control.splice(queued, 1);
    else if (r.state === 'shared') this.queueControl(r, { type: T.ReaderRemove, readerId: r.vscId! });
    // a ReaderAdd in flight is undone when its answer comes (onAck)
    r.state = 'adding';
    r.vscId = null;
  }

  private announceCard(r: Reader): void {
    if (r.state !== 'shared' || !r.guestAtr || r.cardAnnounced || r.ejected) return;
    r.cardAnnounced = true;
    this.queueControl(r, { type: T.ATR, readerId: r.vscId!, atr: r.guestAtr });
  }

  private cardGone(r: Reader): void {
    r.cardAtr = null;
    r.guestAtr = null;
    r.ejected = false; // out of the reader: the next card is presented as it comes
    this.dropConnection(r);
    if (r.cardAnnounced && r.state === 'shared') this.queueControl(r, { type: T.CardRemove, readerId: r.vscId! });
    r.cardAnnounced = false;
  }

  private dropConnection(r: Reader): void {
    const conn = r.conn;
    r.conn = null;
    r.bridge = null;
    if (conn?.open) conn.disconnect().catch(() => {});
  }

  // ---- control messages: one in flight, each answered by an Error

  private queueControl(reader: Reader, msg: VscMessage): void {
    this.control.push({ reader, msg });
    this.pumpControl();
  }

  private pumpControl(): void {
    if (this.controlInFlight || !this.control.length) return;
    this.controlInFlight = this.control.shift()!;
    this.opts.send(this.controlInFlight.msg);
  }

  private onAck(readerId: number, code: number): void {
    const c = this.controlInFlight;
    if (!c) return; // an Error nobody waits for (spice-server's own, for a reader it dropped)
    this.controlInFlight = null;
    if (c.msg.type === T.ReaderAdd) {
      const r = c.reader;
      const undone = r.gone || r.state === 'stopped' || this.control.some((q) => q.reader === r && q.msg.type === T.ReaderAdd);
      if (code === VscErrorCode.SUCCESS && undone) {
        this.control.unshift({ reader: r, msg: { type: T.ReaderRemove, readerId } });
      } else if (code === VscErrorCode.SUCCESS) {
        r.state = 'shared';
        r.vscId = readerId;
        this.announceCard(r);
      } else if (!undone) {
        r.state = 'rejected';
        this.opts.onError?.(new SmartcardError('READER_REFUSED', `the server has no room for reader ${r.name} (VSCard error ${code})`), r.name);
      }
      this.changed();
    } else if (code !== VscErrorCode.SUCCESS) {
      // e.g. QEMU refusing an ATR it finds inconsistent: the guest sees no card
      this.opts.onError?.(new SmartcardError('PCSC', `the server refused VSCard ${vscTypeName(c.msg.type)} for ${c.reader.name} (error ${code})`), c.reader.name);
    }
    this.pumpControl();
  }

  // ---- APDUs: strictly in order, one in flight

  private pumpApdus(): void {
    if (this.apduBusy) return;
    const next = this.apdus.shift();
    if (!next) {
      this.maybeFlushComplete();
      return;
    }
    this.apduBusy = true;
    this.exchange(next.readerId, next.data).then(
      (resp) => this.opts.send({ type: T.APDU, readerId: next.readerId, data: resp }),
      (e: unknown) => {
        this.opts.onError?.(e instanceof SmartcardError ? e : new SmartcardError('TRANSMIT_FAILED', String(e)), this.byId(next.readerId)?.name);
        this.opts.send({ type: T.Error, readerId: next.readerId, code: VscErrorCode.GENERAL_ERROR });
      },
    ).finally(() => {
      this.apduBusy = false;
      if (!this.closed) this.pumpApdus();
    });
  }

  private async exchange(readerId: number, data: Uint8Array): Promise<Uint8Array> {
    const r = this.byId(readerId);
    if (!r) throw new SmartcardError('UNKNOWN_READER', `APDU for reader id ${readerId}, which is not shared`);
    if (!r.cardAnnounced) throw new SmartcardError('NO_CARD', `APDU for ${r.name}, which has no card`);
    if (!r.conn?.open) {
      const conn = await this.opts.backend.connect(r.name);
      r.conn = conn;
      r.bridge = new T0Bridge(conn.protocol);
      this.changed();
    }
    const conn = r.conn!;
    return r.bridge!.exchange(data, (a) => conn.transmit(a));
  }

  private maybeFlushComplete(): void {
    while (this.flushes && !this.apduBusy && !this.apdus.length) {
      this.flushes--;
      this.opts.send({ type: T.FlushComplete, readerId: 0 });
    }
  }

  private find(name: string): Reader | undefined {
    return this.list.find((r) => r.name === name);
  }

  private byId(id: number): Reader | undefined {
    return this.list.find((r) => r.state === 'shared' && r.vscId === id && !r.gone);
  }

  private changed(): void {
    for (const l of [...this.changeListeners]) l();
  }
}
