// An in-memory SmartcardBackend for the manager's unit tests: readers and
// cards the test adds and removes, and a card whose answers the test gives
// (each transmit waits until the test answers it, so ordering is visible).
// The real backend is tested against pcscd in test/integration/pcsc-backend.test.ts.
import {
  SmartcardError,
  type CardConnection,
  type CardProtocol,
  type ReaderInfo,
  type SmartcardBackend,
  type SmartcardBackendEvent,
} from '../../../main/devices/smartcard/backend';

export interface PendingTransmit {
  reader: string;
  apdu: string;
  answer(hex: string): void;
  fail(e: SmartcardError): void;
}

export class ScriptedBackend implements SmartcardBackend {
  serviceUp = true;
  private readonly cards = new Map<string, { atr: Uint8Array; protocol: CardProtocol } | null>();
  private readonly listeners = new Set<(e: SmartcardBackendEvent) => void>();
  /** transmits waiting for the test to answer, oldest first */
  readonly transmits: PendingTransmit[] = [];
  /** every APDU the card was sent, in order */
  readonly sent: string[] = [];
  connects = 0;

  async start(): Promise<void> {}
  async close(): Promise<void> {}
  onEvent(l: (e: SmartcardBackendEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  private emit(e: SmartcardBackendEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
  readers(): ReaderInfo[] {
    return [...this.cards].map(([name, c]) => ({ name, card: c ? { atr: c.atr } : null }));
  }

  /** pcscd goes away: every reader with it. */
  serviceDown(error: SmartcardError): void {
    for (const name of [...this.cards.keys()]) this.removeReader(name);
    this.serviceUp = false;
    this.emit({ type: 'service-down', error });
  }
  serviceBack(): void {
    this.serviceUp = true;
    this.emit({ type: 'service-up' });
  }

  addReader(name: string): void {
    this.cards.set(name, null);
    this.emit({ type: 'reader-added', reader: name });
  }
  removeReader(name: string): void {
    if (this.cards.get(name)) this.removeCard(name);
    this.cards.delete(name);
    this.emit({ type: 'reader-removed', reader: name });
  }
  insertCard(name: string, atrHex: string, protocol: CardProtocol): void {
    const atr = Uint8Array.from(Buffer.from(atrHex, 'hex'));
    this.cards.set(name, { atr, protocol });
    this.emit({ type: 'card-inserted', reader: name, atr });
  }
  removeCard(name: string): void {
    this.cards.set(name, null);
    this.emit({ type: 'card-removed', reader: name });
  }

  async connect(reader: string): Promise<CardConnection> {
    const card = this.cards.get(reader);
    if (card === undefined) throw new SmartcardError('UNKNOWN_READER', reader);
    if (!card) throw new SmartcardError('NO_CARD', reader);
    this.connects++;
    let open = true;
    const { cards, sent, transmits } = this;
    return {
      reader,
      protocol: card.protocol,
      get open() {
        return open && cards.get(reader) === card;
      },
      transmit(apdu: Uint8Array): Promise<Uint8Array> {
        const h = Buffer.from(apdu).toString('hex');
        sent.push(h);
        return new Promise((resolve, reject) => {
          transmits.push({
            reader,
            apdu: h,
            answer: (a) => resolve(Uint8Array.from(Buffer.from(a, 'hex'))),
            fail: reject,
          });
        });
      },
      async disconnect() {
        open = false;
      },
    };
  }
}
