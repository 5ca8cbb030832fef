// USB Mass Storage Bulk-Only Transport (BOT, usbmassbulk_10): a CBW on bulk
// OUT, an optional data phase, a CSW on bulk IN. Transfers arrive one at a
// time with the host's lengths, so the data phase is served in whatever pieces
// the host asks for; a reply shorter than dCBWDataTransferLength ends with a
// short transfer and the CSW carries the residue. A malformed CBW stalls both
// pipes until the class reset (Bulk-Only Mass Storage Reset).
import type { UsbTransferResult } from './backend';
import type { DataIn, ScsiResult } from './scsi-cdrom';

export const CBW_SIZE = 31;
export const CSW_SIZE = 13;
const CBW_SIG = 0x43425355; // 'USBC'
const CSW_SIG = 0x53425355; // 'USBS'
export const CSW_PASSED = 0;
export const CSW_FAILED = 1;
export const CSW_PHASE_ERROR = 2;

export interface Cbw { tag: number; length: number; dirIn: boolean; lun: number; cdb: Uint8Array }

/** Parses a 31-byte CBW; null when it is not meaningful (wrong size/signature/CB length). */
export function parseCbw(b: Uint8Array): Cbw | null {
  if (b.length !== CBW_SIZE) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint32(0, true) !== CBW_SIG) return null;
  const cbLen = b[14] & 0x1f;
  if (cbLen < 1 || cbLen > 16) return null;
  return { tag: v.getUint32(4, true), length: v.getUint32(8, true), dirIn: (b[12] & 0x80) !== 0, lun: b[13] & 0x0f, cdb: b.slice(15, 15 + 16) };
}

export function buildCsw(tag: number, residue: number, status: number): Uint8Array {
  const b = new Uint8Array(CSW_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(0, CSW_SIG, true);
  v.setUint32(4, tag, true);
  v.setUint32(8, residue, true);
  b[12] = status;
  return b;
}

/** A SCSI target the transport hands each command to. */
export interface ScsiTarget {
  execute(cdb: Uint8Array, lun: number, dataOut: Uint8Array | null): Promise<ScsiResult>;
  reset(): void;
}

type Phase =
  | { kind: 'idle' }
  | { kind: 'data-out'; cbw: Cbw; got: Uint8Array[]; remaining: number }
  | { kind: 'data-in'; cbw: Cbw; data: DataIn; sent: number; status: number; ahead: ReadAhead | null }
  | { kind: 'status'; csw: Uint8Array }
  | { kind: 'stalled' };

const ok = (data: Uint8Array, actual = data.length): UsbTransferResult => ({ status: 'success', data, actual });
const stall: UsbTransferResult = { status: 'stall', data: new Uint8Array(0), actual: 0 };
const EMPTY: Uint8Array = new Uint8Array(0);
/**
 * The data phase is read ahead, up to this much, as soon as the CBW is carried
 * out (and again after each bulk IN that leaves some): the medium read (a file
 * read on the thread pool) then runs while the CBW's completion travels to the
 * guest and its bulk IN comes back, instead of after it arrived.
 */
export const READ_AHEAD_BYTES = 1024 * 1024;

interface ReadAhead {
  offset: number;
  length: number;
  /** Never rejects: a failed read is null (the bulk IN that takes it fails the command). */
  data: Promise<Uint8Array | null>;
}

/** Largest data-out phase accepted (MODE SELECT parameter lists are tiny; we store no writes). */
const MAX_DATA_OUT = 1024 * 1024;

export class BulkOnlyTransport {
  private phase: Phase = { kind: 'idle' };

  constructor(private readonly target: ScsiTarget) {}

  get state(): Phase['kind'] {
    return this.phase.kind;
  }

  /** Bulk-Only Mass Storage Reset (class request 0xff) and USB reset. */
  reset(): void {
    this.phase = { kind: 'idle' };
    this.target.reset();
  }

  async bulkOut(data: Uint8Array): Promise<UsbTransferResult> {
    const p = this.phase;
    if (p.kind === 'data-out') {
      const take = data.subarray(0, p.remaining);
      p.got.push(take.slice());
      p.remaining -= take.length;
      if (p.remaining === 0) await this.finishDataOut(p.cbw, p.got);
      return { status: 'success', data: EMPTY, actual: data.length };
    }
    if (p.kind !== 'idle') {
      // a CBW while a command is still running: the host lost sync
      this.phase = { kind: 'stalled' };
      return stall;
    }
    const cbw = parseCbw(data);
    if (!cbw) {
      this.phase = { kind: 'stalled' };
      return stall;
    }
    if (!cbw.dirIn && cbw.length > 0) {
      if (cbw.length > MAX_DATA_OUT) {
        this.phase = { kind: 'stalled' };
        return stall;
      }
      this.phase = { kind: 'data-out', cbw, got: [], remaining: cbw.length };
      return { status: 'success', data: EMPTY, actual: data.length };
    }
    const r = await this.target.execute(cbw.cdb, cbw.lun, null);
    const status = r.status === 'good' ? CSW_PASSED : CSW_FAILED;
    if (cbw.dirIn && cbw.length > 0) {
      const data = r.status === 'good' && r.data ? r.data : { length: 0, read: async () => EMPTY };
      const p: Phase & { kind: 'data-in' } = { kind: 'data-in', cbw, data, sent: 0, status, ahead: null };
      this.readAhead(p);
      this.phase = p;
    } else {
      this.phase = { kind: 'status', csw: buildCsw(cbw.tag, cbw.length, status) };
    }
    return { status: 'success', data: EMPTY, actual: data.length };
  }

  private async finishDataOut(cbw: Cbw, parts: Uint8Array[]): Promise<void> {
    const all = new Uint8Array(cbw.length);
    let o = 0;
    for (const x of parts) { all.set(x, o); o += x.length; }
    const r = await this.target.execute(cbw.cdb, cbw.lun, all);
    this.phase = { kind: 'status', csw: buildCsw(cbw.tag, 0, r.status === 'good' ? CSW_PASSED : CSW_FAILED) };
  }

  async bulkIn(length: number): Promise<UsbTransferResult> {
    const p = this.phase;
    if (p.kind === 'status') {
      this.phase = { kind: 'idle' };
      return ok(p.csw.subarray(0, length));
    }
    if (p.kind !== 'data-in') return stall;
    const avail = Math.min(p.data.length, p.cbw.length) - p.sent;
    const n = Math.min(length, avail);
    let chunk = EMPTY;
    const ahead = p.ahead;
    p.ahead = null;
    if (n > 0 && ahead && ahead.offset === p.sent && ahead.length >= n) {
      const got = await ahead.data;
      if (got === null) {
        p.status = CSW_FAILED;
      } else {
        chunk = got.subarray(0, n);
        // what this bulk IN did not take stays read ahead for the next one
        if (got.length > n) p.ahead = { offset: p.sent + n, length: got.length - n, data: Promise.resolve(got.subarray(n)) };
      }
    } else if (n > 0) {
      try {
        chunk = await p.data.read(p.sent, n);
      } catch {
        chunk = EMPTY;
        p.status = CSW_FAILED;
      }
    }
    if (chunk.length < n) p.status = CSW_FAILED; // the medium returned less than asked (read error, file shrank)
    p.sent += chunk.length;
    // a short transfer ends the data phase, as does reaching the host's length
    if (chunk.length < length || p.sent === p.cbw.length) {
      this.phase = { kind: 'status', csw: buildCsw(p.cbw.tag, p.cbw.length - p.sent, p.status) };
    } else {
      this.readAhead(p);
    }
    return ok(chunk);
  }

  /** Starts reading the next piece of the data phase (nothing when a piece is already read ahead or all was sent). */
  private readAhead(p: Phase & { kind: 'data-in' }): void {
    if (p.ahead) return;
    const length = Math.min(Math.min(p.data.length, p.cbw.length) - p.sent, READ_AHEAD_BYTES);
    if (length <= 0) return;
    let data: Promise<Uint8Array | null>;
    try {
      data = p.data.read(p.sent, length).catch(() => null);
    } catch {
      data = Promise.resolve(null);
    }
    p.ahead = { offset: p.sent, length, data };
  }
}
