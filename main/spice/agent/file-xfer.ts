// Client → guest file transfer through the agent (VD_AGENT_FILE_XFER_*), as
// spice-gtk does it and spice-vdagent 0.22 answers:
//   FILE_XFER_START (id + key file with name and size) → the agent creates the
//   file (a free name: "a (1).txt" if "a.txt" exists) and answers STATUS
//   CAN_SEND_DATA → FILE_XFER_DATA messages in order → STATUS SUCCESS once it
//   has written `size` bytes. Any other STATUS ends the transfer in the guest.
//   Our STATUS CANCELLED (or ERROR when our source fails) makes the agent delete
//   the partial file; it answers nothing.
//
// States per transfer: starting (START queued, no data before CAN_SEND_DATA) →
// sending → finishing (all data queued, waiting for SUCCESS) → done | failed.
// finish() is the one exit: every end (agent status, cancel, read failure,
// agent gone) goes through it once and resolves `result`.
//
// Pacing: data is read in blocks of FILE_XFER_BLOCK (64 KiB, spice-gtk's
// FILE_XFER_CHUNK_SIZE) and a block is read only while all transfers together
// have less than `windowBytes` read but not yet handed to the channel (the
// agent queue waits for server tokens, i.e. for the guest to consume), so
// memory stays bounded whatever the file size. `sent` counts bytes whose
// message left the agent queue.
//
// Migration: this object hangs on the AgentChannel of the logical MainChannel,
// not on a connection; a seamless switch keeps both, and every block is queued
// once. An agent that goes away (AGENT_DISCONNECTED, a server that lost our
// agent state) fails every transfer with AGENT_GONE.
import { SpiceError, type SpiceErrorCode } from '../wire/errors';
import type { AgentChannel } from './agent-channel';
import type { AgentMessage } from './agent-stream';
import * as p from './protocol';
import { AgentCap, AgentMsg, FileXferStatus } from './protocol';
import { formatBytes } from '../../../preload/bytes';

/** Bytes per FILE_XFER_DATA (spice-gtk: VD_AGENT_MAX_DATA_SIZE * 32). */
export const FILE_XFER_BLOCK = 64 * 1024;
/** Default bytes read but not yet sent, over all transfers. */
export const DEFAULT_XFER_WINDOW = 256 * 1024;
/** Transfers at once (spice-vdagentd refuses more than 64 with ERROR / TOO_MANY_OPEN_FILES). */
export const MAX_ACTIVE_XFERS = 64;

export type TransferState = 'starting' | 'sending' | 'finishing' | 'done' | 'failed';

export interface FileSource {
  /** The name the guest saves under (no directory). */
  name: string;
  size: number;
  /** 1..max bytes at offset (fewer is fine, none before the end is an error). */
  read(offset: number, max: number): Promise<Uint8Array>;
  /** Bytes sent so far (monotonic); percent reaches 100 only on the agent's SUCCESS. */
  onProgress?(p: TransferProgress): void;
}

export interface TransferProgress {
  id: number;
  sent: number;
  size: number;
  percent: number;
}

export type TransferResult =
  | { ok: true; id: number; size: number }
  | {
      ok: false;
      id: number;
      error: SpiceError;
      /** The agent's VD_AGENT_FILE_XFER_STATUS_* when it ended the transfer. */
      agentStatus?: number;
      /** NOT_ENOUGH_SPACE: the free bytes the agent reported. */
      freeSpace?: bigint;
    };

export interface FileTransfer {
  readonly id: number;
  readonly name: string;
  readonly size: number;
  readonly state: TransferState;
  readonly sent: number;
  /** Resolves once, with the outcome; never rejects. */
  readonly result: Promise<TransferResult>;
  /** Stops the transfer (the agent deletes the partial file); no-op once ended. */
  cancel(): void;
}

export interface FileTransferOptions {
  windowBytes?: number;
  blockBytes?: number;
  maxActive?: number;
  /** A malformed FILE_XFER_STATUS (its transfer cannot be told). */
  onError?(err: SpiceError): void;
}

class Xfer implements FileTransfer {
  state: TransferState = 'starting';
  sent = 0;
  /** Bytes read and queued (the next read's offset). */
  offset = 0;
  reading = false;
  readonly result: Promise<TransferResult>;
  resolve!: (r: TransferResult) => void;

  constructor(
    readonly id: number,
    readonly src: FileSource,
    private readonly owner: FileTransfers,
  ) {
    this.result = new Promise((r) => (this.resolve = r));
  }

  get name(): string {
    return this.src.name;
  }

  get size(): number {
    return this.src.size;
  }

  get ended(): boolean {
    return this.state === 'done' || this.state === 'failed';
  }

  cancel(): void {
    this.owner.cancel(this);
  }
}

type Failure = { code: SpiceErrorCode; message: string; agentStatus?: number; freeSpace?: bigint };

export class FileTransfers {
  private readonly active = new Map<number, Xfer>();
  private nextId = 1;
  /** Bytes read (or being read) and not yet handed to the channel, all transfers. */
  private unsent = 0;
  private rr = 0;
  private pumping = false;
  private again = false;
  private readonly window: number;
  private readonly block: number;
  private readonly maxActive: number;
  private readonly unlisten: () => void;

  constructor(
    private readonly agent: AgentChannel,
    private readonly opts: FileTransferOptions = {},
  ) {
    this.window = opts.windowBytes ?? DEFAULT_XFER_WINDOW;
    this.block = opts.blockBytes ?? FILE_XFER_BLOCK;
    this.maxActive = opts.maxActive ?? MAX_ACTIVE_XFERS;
    this.unlisten = agent.listen({
      onState: (s) => {
        if (s === 'absent') for (const x of [...this.active.values()]) this.finish(x, { code: 'AGENT_GONE', message: 'the guest agent disconnected' });
      },
      onMessage: (m) => this.onMessage(m),
    });
  }

  /** Transfers not yet ended. */
  list(): FileTransfer[] {
    return [...this.active.values()];
  }

  /** Bytes read but not yet handed to the channel (bounded by the window plus one block). */
  get bufferedBytes(): number {
    return this.unsent;
  }

  dispose(): void {
    this.unlisten();
    for (const x of [...this.active.values()]) this.finish(x, { code: 'CANCELLED', message: 'file transfers were shut down' }, FileXferStatus.CANCELLED);
  }

  start(src: FileSource): FileTransfer {
    const x = new Xfer(this.nextId++, src, this);
    let start: Uint8Array;
    try {
      // name and size are checked here (PROTOCOL / LIMIT), before anything is queued
      start = p.encodeFileXferStart(x.id, src.name, src.size);
    } catch (e) {
      const err = e instanceof SpiceError ? e : new SpiceError('PROTOCOL', String(e));
      this.finish(x, { code: err.code, message: err.message });
      return x;
    }
    this.active.set(x.id, x);
    if (this.agent.state !== 'ready') this.finish(x, { code: 'AGENT_GONE', message: 'no guest agent is connected' });
    // spice-server adds this cap to the agent's when QEMU runs with disable-agent-file-xfer=on
    else if (p.hasCap(this.agent.agentCaps, AgentCap.FILE_XFER_DISABLED)) this.finish(x, { code: 'DISABLED', message: 'file transfer to this VM is disabled' });
    else if (this.active.size > this.maxActive) this.finish(x, { code: 'LIMIT', message: `more than ${this.maxActive} file transfers at once` });
    else this.agent.send(AgentMsg.FILE_XFER_START, [start]);
    return x;
  }

  cancel(t: FileTransfer): void {
    const x = this.active.get(t.id);
    if (x) this.finish(x, { code: 'CANCELLED', message: `the transfer of ${x.name} was cancelled` }, FileXferStatus.CANCELLED);
  }

  // ---- the agent's side

  private onMessage(m: AgentMessage): void {
    if (m.type !== AgentMsg.FILE_XFER_STATUS) return;
    let s: p.FileXferStatusMsg;
    try {
      s = p.decodeFileXferStatus(m.data);
    } catch (e) {
      this.opts.onError?.(e instanceof SpiceError ? e : new SpiceError('BAD_MESSAGE', String(e)));
      return;
    }
    // an id we do not know: a transfer we already ended (e.g. cancelled before CAN_SEND_DATA)
    const x = this.active.get(s.id);
    if (!x) return;
    if (s.result === FileXferStatus.CAN_SEND_DATA) {
      // a repeated CAN_SEND_DATA changes nothing
      if (x.state === 'starting') {
        x.state = 'sending';
        this.pump();
      }
    } else if (s.result === FileXferStatus.SUCCESS) {
      if (x.sent === x.size && x.state === 'finishing') this.finish(x, null);
      else this.finish(x, { code: 'PROTOCOL', message: `the guest agent reported ${x.name} complete after ${x.sent} of ${x.size} bytes`, agentStatus: s.result });
    } else {
      this.finish(x, agentFailure(x, s));
    }
  }

  // ---- data

  /** Starts reads while the window allows, round-robin over the sending transfers. */
  private pump(): void {
    // sent callbacks and reads may call back in: one loop at a time
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        const xs = [...this.active.values()];
        for (let k = 0; k < xs.length; k++) {
          const x = xs[(this.rr + k) % xs.length];
          if (x.state !== 'sending' || x.reading) continue;
          const n = Math.min(this.block, x.size - x.offset);
          // one block may always be in flight, so a window smaller than a block still moves
          if (this.unsent > 0 && this.unsent + n > this.window) break;
          this.rr = (this.rr + k + 1) % xs.length;
          if (n === 0) this.sendData(x, new Uint8Array(0)); // an empty file: one empty DATA completes it in the agent
          else this.read(x, n);
          this.again = true;
          break;
        }
      } while (this.again);
    } finally {
      this.pumping = false;
    }
  }

  private read(x: Xfer, n: number): void {
    x.reading = true;
    this.unsent += n;
    const offset = x.offset;
    let pending: Promise<Uint8Array>;
    try {
      pending = Promise.resolve(x.src.read(offset, n));
    } catch (e) {
      pending = Promise.reject(e);
    }
    pending.then(
      (data) => this.readDone(x, n, data, null),
      (e: unknown) => this.readDone(x, n, null, e),
    );
  }

  private readDone(x: Xfer, n: number, data: Uint8Array | null, err: unknown): void {
    x.reading = false;
    this.unsent -= n;
    if (!x.ended) {
      if (err !== null || !(data instanceof Uint8Array)) {
        this.finish(x, { code: 'IO', message: `reading ${x.name} at ${x.offset}: ${err instanceof Error ? err.message : String(err)}` }, FileXferStatus.ERROR);
      } else if (data.length === 0) {
        this.finish(x, { code: 'IO', message: `${x.name} ended at ${x.offset} of ${x.size} bytes` }, FileXferStatus.ERROR);
      } else if (data.length > n) {
        this.finish(x, { code: 'LIMIT', message: `reading ${x.name} gave ${data.length} bytes for ${n} asked` }, FileXferStatus.ERROR);
      } else {
        this.unsent += data.length;
        this.sendData(x, data);
      }
    }
    this.pump();
  }

  private sendData(x: Xfer, data: Uint8Array): void {
    x.offset += data.length;
    if (x.offset === x.size) x.state = 'finishing';
    const len = data.length;
    this.agent.send(AgentMsg.FILE_XFER_DATA, [p.encodeFileXferDataPrefix(x.id, len), data], () => {
      this.unsent -= len;
      if (!x.ended) {
        x.sent += len;
        // 100 % is the agent's SUCCESS, not our last byte leaving
        x.src.onProgress?.({ id: x.id, sent: x.sent, size: x.size, percent: x.size === 0 ? 0 : Math.min(99, Math.floor((x.sent * 100) / x.size)) });
      }
      this.pump();
    });
  }

  /** The one exit: null = SUCCESS. `tell`: the STATUS the agent must hear (our cancel or error). */
  private finish(x: Xfer, f: Failure | null, tell?: number): void {
    if (x.ended) return;
    this.active.delete(x.id);
    // also while starting: the STATUS follows START in the stream, and the agent drops the task it made
    if (tell !== undefined && this.agent.state === 'ready') this.agent.send(AgentMsg.FILE_XFER_STATUS, [p.encodeFileXferStatus(x.id, tell)]);
    if (f === null) {
      x.state = 'done';
      x.src.onProgress?.({ id: x.id, sent: x.sent, size: x.size, percent: 100 });
      x.resolve({ ok: true, id: x.id, size: x.size });
    } else {
      x.state = 'failed';
      const r: TransferResult = { ok: false, id: x.id, error: new SpiceError(f.code, f.message) };
      if (f.agentStatus !== undefined) r.agentStatus = f.agentStatus;
      if (f.freeSpace !== undefined) r.freeSpace = f.freeSpace;
      x.resolve(r);
    }
    this.pump();
  }
}

/** GIOErrorEnum values spice-vdagent sends in VDAgentFileXferStatusError (error_type GLIB_IO = 0). */
const GIO_ERRORS: Record<number, string> = {
  1: 'not found',
  2: 'a file of that name exists',
  9: 'the file name is too long',
  10: 'the file name is not valid',
  12: 'no space left on the device',
  14: 'permission denied',
  21: 'read-only file system',
  31: 'too many transfers at once',
};

function agentFailure(x: Xfer, s: p.FileXferStatusMsg): Failure {
  const base = { agentStatus: s.result };
  switch (s.result) {
    case FileXferStatus.CANCELLED:
      return { ...base, code: 'CANCELLED', message: `the transfer of ${x.name} was cancelled in the guest` };
    case FileXferStatus.NOT_ENOUGH_SPACE: {
      const free = s.freeSpace === undefined ? '' : `, ${formatBytes(s.freeSpace)} free`;
      const f: Failure = { ...base, code: 'NO_SPACE', message: `not enough space in the guest for ${x.name} (${formatBytes(BigInt(x.size))} needed${free})` };
      if (s.freeSpace !== undefined) f.freeSpace = s.freeSpace;
      return f;
    }
    case FileXferStatus.SESSION_LOCKED:
      return { ...base, code: 'SESSION_LOCKED', message: 'the guest session is locked: unlock it and send the file again' };
    case FileXferStatus.VDAGENT_NOT_CONNECTED:
      return { ...base, code: 'AGENT_GONE', message: 'no user session agent (spice-vdagent) is running in the guest: log in to the guest desktop first' };
    case FileXferStatus.DISABLED:
      return { ...base, code: 'DISABLED', message: 'file transfer is disabled in the guest agent' };
    case FileXferStatus.ERROR: {
      const why = s.error === undefined ? '' : s.error.type === 0 ? `: ${GIO_ERRORS[s.error.code] ?? `GIO error ${s.error.code}`}` : `: error ${s.error.type}/${s.error.code}`;
      return { ...base, code: 'AGENT_ERROR', message: `the guest agent could not save ${x.name}${why}` };
    }
    default:
      return { ...base, code: 'AGENT_ERROR', message: `the guest agent ended the transfer of ${x.name} with status ${s.result}` };
  }
}
