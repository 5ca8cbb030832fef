// The client machine's smart card readers, as the smartcard manager sees
// them: a list of readers with their card (ATR), hotplug events, and shared
// connections that transmit APDUs. pcsc-backend.ts implements it on pcsclite;
// nothing above this interface knows about PC/SC handles or pcscd.

/** Transmission protocol negotiated with the card (PC/SC SCARD_PROTOCOL_*). */
export type CardProtocol = 'T0' | 'T1' | 'RAW';

export type SmartcardErrorCode =
  | 'NO_LIBRARY' // the pcsclite addon could not be loaded
  | 'NO_SERVICE' // pcscd is not running (SCARD_E_NO_SERVICE)
  | 'SERVICE_LOST' // pcscd went away mid-session (SCARD_F_COMM_ERROR): the backend reconnects by itself
  | 'SHARING_VIOLATION' // another program holds the reader exclusively
  | 'NO_CARD'
  | 'CARD_REMOVED'
  | 'CARD_RESET' // another program reset the card: the handle was re-opened, the command was not sent
  | 'CARD_UNRESPONSIVE'
  | 'UNKNOWN_READER'
  | 'TRANSMIT_FAILED'
  | 'NOT_CONNECTED'
  | 'CLOSED'
  | 'READER_REFUSED' // the server has no reader slot left for it (VSCard CANNOT_ADD_MORE_READERS)
  | 'BAD_ATR' // an ATR that does not parse (ISO 7816-3)
  | 'BAD_APDU' // a command APDU too short to be one
  | 'PCSC'; // any other PC/SC failure (pcscCode says which)

export class SmartcardError extends Error {
  readonly code: SmartcardErrorCode;
  /** The PC/SC return code (0x801000xx) when the failure came from PC/SC. */
  readonly pcscCode?: number;
  constructor(code: SmartcardErrorCode, message: string, pcscCode?: number) {
    super(message);
    this.name = 'SmartcardError';
    this.code = code;
    if (pcscCode !== undefined) this.pcscCode = pcscCode;
  }
}

export interface CardInfo {
  atr: Uint8Array;
}

export interface ReaderInfo {
  name: string;
  /** null while the reader is empty (or the card does not answer). */
  card: CardInfo | null;
}

export type SmartcardBackendEvent =
  | { type: 'service-up' }
  | { type: 'service-down'; error: SmartcardError }
  | { type: 'reader-added'; reader: string }
  | { type: 'reader-removed'; reader: string }
  | { type: 'card-inserted'; reader: string; atr: Uint8Array }
  | { type: 'card-removed'; reader: string }
  /** The card was reset under an open connection; the connection is usable again with this ATR. */
  | { type: 'card-reset'; reader: string; atr: Uint8Array }
  | { type: 'error'; reader?: string; error: SmartcardError };

export type DisconnectDisposition = 'leave' | 'reset' | 'unpower';

export interface CardConnection {
  readonly reader: string;
  readonly protocol: CardProtocol;
  /** False once disconnected, the card removed, or pcscd lost. */
  readonly open: boolean;
  /** Sends one command APDU, resolves with the response (data + SW1 SW2). Calls run in order. */
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
  disconnect(disposition?: DisconnectDisposition): Promise<void>;
}

export interface SmartcardBackend {
  /** Starts watching readers; while pcscd is away it retries by itself (service-down, then service-up). */
  start(): Promise<void>;
  readonly serviceUp: boolean;
  readers(): ReaderInfo[];
  /** Subscribes to events; returns the unsubscribe function. */
  onEvent(listener: (e: SmartcardBackendEvent) => void): () => void;
  /** Opens the card in `reader` (shared unless exclusive), negotiating T=0 or T=1. */
  connect(reader: string, opts?: { exclusive?: boolean }): Promise<CardConnection>;
  close(): Promise<void>;
}
