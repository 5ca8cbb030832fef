// SCSI/MMC logical unit of the emulated CD-ROM (--spice-share-cd): the commands
// Linux (sr, cdrom, udev's cdrom_id) and Windows (cdrom.sys) send to a USB CD
// drive, over a read-only 2048-byte-block medium behind a BlockSource. Sense
// data as in SPC (fixed format); media events as in MMC GET EVENT STATUS.
// Pure: the medium is injected, nothing here touches files.
import type { BlockSource } from './backend';

export const CD_BLOCK = 2048;
/** A CD holds at most about 80 minutes: above that we present a DVD-ROM. */
const CD_MAX_BLOCKS = 80 * 60 * 75;

export const SenseKey = { noSense: 0, notReady: 2, mediumError: 3, illegalRequest: 5, unitAttention: 6 } as const;

export interface Sense { key: number; asc: number; ascq: number }
const NO_SENSE: Sense = { key: 0, asc: 0, ascq: 0 };
const S = {
  noMedium: { key: 2, asc: 0x3a, ascq: 0 },
  invalidOpcode: { key: 5, asc: 0x20, ascq: 0 },
  lbaOutOfRange: { key: 5, asc: 0x21, ascq: 0 },
  invalidField: { key: 5, asc: 0x24, ascq: 0 },
  lunNotSupported: { key: 5, asc: 0x25, ascq: 0 },
  writeProtected: { key: 7, asc: 0x27, ascq: 0 },
  removalPrevented: { key: 5, asc: 0x53, ascq: 0x02 },
  mediumChanged: { key: 6, asc: 0x28, ascq: 0 },
  readError: { key: 3, asc: 0x11, ascq: 0 },
  incompatibleMedium: { key: 5, asc: 0x30, ascq: 0x02 },
} satisfies Record<string, Sense>;

/** Data-in of a command: produced on demand, so a big READ never sits in memory whole. */
export interface DataIn {
  length: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}
export type ScsiResult = { status: 'good'; data?: DataIn } | { status: 'check'; sense: Sense };

export type MediaEvent = 'new-media' | 'removal' | 'eject-request';

export interface CdromInfo {
  vendor: string; // 8 chars
  product: string; // 16 chars
  revision: string; // 4 chars
  serial: string;
}

function ascii(s: string, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (i < s.length ? s.charCodeAt(i) & 0x7f : 0x20));
}
const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const be24 = (v: number) => [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
const be32 = (v: number) => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
const rd16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const rd32 = (b: Uint8Array, o: number) => ((b[o] << 24) >>> 0) + ((b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]);

/** LBA → MSF bytes (0, M, S, F) as READ TOC reports them with the MSF bit. */
function msf(lba: number): number[] {
  const f = lba + 150;
  return [0, Math.floor(f / (60 * 75)) & 0xff, Math.floor(f / 75) % 60, f % 75];
}

function bytesIn(bytes: number[] | Uint8Array, allocation: number): ScsiResult {
  const all = Uint8Array.from(bytes);
  const out = all.subarray(0, Math.min(all.length, allocation));
  return { status: 'good', data: { length: out.length, read: async (o, n) => out.subarray(o, o + n) } };
}

export class ScsiCdrom {
  private medium: BlockSource | null;
  private sense: Sense = NO_SENSE;
  /** A medium change not yet reported: the next command but INQUIRY/REQUEST SENSE gets UNIT ATTENTION. */
  private attention = false;
  private events: MediaEvent[] = [];
  private locked = false;
  private trayOpen = false;
  /** Guest-side eject / load (START STOP UNIT), for the device manager to show. */
  onEject: (() => void) | null = null;

  constructor(
    medium: BlockSource | null,
    readonly info: CdromInfo,
  ) {
    this.medium = medium;
  }

  get hasMedium(): boolean {
    return this.medium !== null;
  }
  get isLocked(): boolean {
    return this.locked;
  }
  private get blocks(): number {
    return this.medium ? Math.floor(this.medium.size / CD_BLOCK) : 0;
  }
  private get isDvd(): boolean {
    return this.blocks > CD_MAX_BLOCKS;
  }

  /** The user shares a (new) image: tray closes with it, guest is told. */
  insert(medium: BlockSource): void {
    this.medium = medium;
    this.trayOpen = false;
    this.attention = true;
    this.events.push('new-media');
  }

  /** The medium goes away (unshared in the picker, or ejected by the guest). Returns it for closing. */
  remove(): BlockSource | null {
    const m = this.medium;
    if (!m) return null;
    this.medium = null;
    this.locked = false;
    this.attention = true;
    this.events.push('removal');
    return m;
  }

  /** Bus reset: clears sense; medium, lock and pending events stay. */
  reset(): void {
    this.sense = NO_SENSE;
  }

  async execute(cdb: Uint8Array, lun: number, dataOut: Uint8Array | null): Promise<ScsiResult> {
    const op = cdb[0];
    const r = await this.dispatch(op, cdb, lun, dataOut);
    if (op !== 0x03) this.sense = r.status === 'check' ? r.sense : NO_SENSE;
    return r;
  }

  private check(sense: Sense): ScsiResult {
    return { status: 'check', sense };
  }

  private async dispatch(op: number, cdb: Uint8Array, lun: number, _dataOut: Uint8Array | null): Promise<ScsiResult> {
    if (lun !== 0) return op === 0x12 ? this.inquiry(cdb, true) : this.check(S.lunNotSupported);
    // INQUIRY, REQUEST SENSE and GET EVENT STATUS NOTIFICATION are never blocked by a pending unit attention
    if (this.attention && op !== 0x12 && op !== 0x03 && op !== 0x4a && op !== 0x46) {
      this.attention = false;
      return this.check(S.mediumChanged);
    }
    switch (op) {
      case 0x00: // TEST UNIT READY
        return this.medium ? { status: 'good' } : this.check(S.noMedium);
      case 0x03: // REQUEST SENSE
        return this.requestSense(cdb);
      case 0x12:
        return this.inquiry(cdb, false);
      case 0x1a: // MODE SENSE(6)
        return this.modeSense(cdb[2], cdb[4], false);
      case 0x5a: // MODE SENSE(10)
        return this.modeSense(cdb[2], rd16(cdb, 7), true);
      case 0x15: // MODE SELECT(6)
      case 0x55: // MODE SELECT(10): nothing settable; accepted as a CD drive does
      case 0x35: // SYNCHRONIZE CACHE
      case 0xbb: // SET CD SPEED
      case 0xb6: // SET STREAMING
        return { status: 'good' };
      case 0x1e: // PREVENT ALLOW MEDIUM REMOVAL
        this.locked = (cdb[4] & 1) === 1;
        return { status: 'good' };
      case 0x1b: // START STOP UNIT
        return this.startStop(cdb);
      case 0x25: // READ CAPACITY(10)
        if (!this.medium) return this.check(S.noMedium);
        return bytesIn([...be32(this.blocks - 1), ...be32(CD_BLOCK)], 8);
      case 0x23: // READ FORMAT CAPACITIES (Windows asks every USB storage device)
        return this.readFormatCapacities(rd16(cdb, 7));
      case 0x28: // READ(10)
        return this.read(rd32(cdb, 2), rd16(cdb, 7));
      case 0xa8: // READ(12)
        return this.read(rd32(cdb, 2), rd32(cdb, 6));
      case 0x2f: // VERIFY(10)
        if (!this.medium) return this.check(S.noMedium);
        return rd32(cdb, 2) + rd16(cdb, 7) > this.blocks ? this.check(S.lbaOutOfRange) : { status: 'good' };
      case 0x2a: // WRITE(10)
      case 0xaa: // WRITE(12)
        return this.check(this.medium ? S.writeProtected : S.noMedium);
      case 0x43:
        return this.readToc(cdb);
      case 0x51: // READ DISC INFORMATION
        return this.readDiscInfo(rd16(cdb, 7));
      case 0x52: // READ TRACK INFORMATION
        return this.readTrackInfo(cdb);
      case 0x46:
        return this.getConfiguration(cdb);
      case 0x4a:
        return this.getEventStatus(cdb);
      case 0xbd: // MECHANISM STATUS
        return bytesIn([0, (this.trayOpen ? 0x10 : 0), 0, 0, 0, 0, 0, 0], rd16(cdb, 8));
      case 0xac:
        return this.getPerformance(cdb);
      case 0xad:
        return this.readDvdStructure(cdb);
      default:
        return this.check(S.invalidOpcode);
    }
  }

  private requestSense(cdb: Uint8Array): ScsiResult {
    let s = this.sense;
    if (s.key === 0 && !this.medium) s = S.noMedium;
    if (s.key === 0 && this.attention) s = S.mediumChanged;
    this.sense = NO_SENSE;
    if (s === S.mediumChanged) this.attention = false;
    const fixed = [0x70, 0, s.key, 0, 0, 0, 0, 10, 0, 0, 0, 0, s.asc, s.ascq, 0, 0, 0, 0];
    return bytesIn(fixed, cdb[4]);
  }

  private inquiry(cdb: Uint8Array, badLun: boolean): ScsiResult {
    const alloc = rd16(cdb, 3);
    if (cdb[1] & 1) {
      // vital product data: supported pages and the unit serial number
      if (cdb[2] === 0x00) return bytesIn([5, 0x00, 0, 2, 0x00, 0x80], alloc);
      if (cdb[2] === 0x80) {
        const sn = ascii(this.info.serial, this.info.serial.length);
        return bytesIn([5, 0x80, 0, sn.length, ...sn], alloc);
      }
      return this.check(S.invalidField);
    }
    if (cdb[2] !== 0) return this.check(S.invalidField);
    // peripheral 0x05 = CD/DVD; 0x7f = no unit at this LUN. RMB, SPC-3, response format 2.
    const std = [badLun ? 0x7f : 0x05, 0x80, 0x05, 0x02, 31, 0, 0, 0,
      ...ascii(this.info.vendor, 8), ...ascii(this.info.product, 16), ...ascii(this.info.revision, 4)];
    return bytesIn(std, alloc);
  }

  private modeSense(pageByte: number, alloc: number, ten: boolean): ScsiResult {
    const pc = pageByte >> 6;
    const page = pageByte & 0x3f;
    if (pc === 3) return this.check({ key: 5, asc: 0x39, ascq: 0 }); // saving parameters not supported
    const pages: Record<number, number[]> = {
      // read error recovery: retry count 5
      0x01: [0x01, 0x0a, 0, 5, 0, 0, 0, 0, 5, 0, 0, 0],
      // power condition: no timers
      0x1a: [0x1a, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
      // CD capabilities and mechanical status: reads CD-R/RW and DVD, tray loader, eject, lock (+ state)
      0x2a: [0x2a, 0x14, 0x3b, 0, 0x71, 0x63, 0x29 | (this.locked ? 0x02 : 0), 0, ...be16(1412 * 16), 0, 0, ...be16(64),
        ...be16(1412 * 16), 0, 0, 0, 0, 0, 0],
    };
    const chosen = page === 0x3f ? [0x01, 0x1a, 0x2a] : pages[page] ? [page] : null;
    if (!chosen) return this.check(S.invalidField);
    // page control 1 = changeable values: none are
    const body = chosen.flatMap((p) => (pc === 1 ? pages[p].map((b, i) => (i < 2 ? b : 0)) : pages[p]));
    const hdr = ten ? [...be16(body.length + 6), 0, 0, 0, 0, 0, 0] : [body.length + 3, 0, 0, 0];
    return bytesIn([...hdr, ...body], alloc);
  }

  private startStop(cdb: Uint8Array): ScsiResult {
    const loej = (cdb[4] & 2) !== 0;
    const start = (cdb[4] & 1) !== 0;
    if (!loej) return { status: 'good' };
    if (start) {
      this.trayOpen = false;
      return { status: 'good' };
    }
    if (this.locked) return this.check(S.removalPrevented);
    this.trayOpen = true;
    if (this.medium) {
      this.medium = null;
      this.events.push('removal');
      this.onEject?.();
    }
    return { status: 'good' };
  }

  private readFormatCapacities(alloc: number): ScsiResult {
    // descriptor type 2 = formatted medium, 3 = no medium (then the maximum)
    const d = this.medium ? [...be32(this.blocks), 0x02, ...be24(CD_BLOCK)] : [...be32(CD_MAX_BLOCKS), 0x03, ...be24(CD_BLOCK)];
    return bytesIn([0, 0, 0, 8, ...d], alloc);
  }

  private read(lba: number, count: number): ScsiResult {
    const m = this.medium;
    if (!m) return this.check(S.noMedium);
    if (lba + count > this.blocks) return this.check(S.lbaOutOfRange);
    const base = lba * CD_BLOCK;
    return { status: 'good', data: { length: count * CD_BLOCK, read: (o, n) => m.read(base + o, n) } };
  }

  private readToc(cdb: Uint8Array): ScsiResult {
    if (!this.medium) return this.check(S.noMedium);
    const useMsf = (cdb[1] & 2) !== 0;
    const format = (cdb[2] & 0x0f) || (cdb[9] >> 6);
    const track = cdb[6];
    const alloc = rd16(cdb, 7);
    const addr = (lba: number) => (useMsf ? msf(lba) : be32(lba));
    const withLen = (body: number[]) => [...be16(body.length), ...body];
    if (format === 0) {
      if (track > 1 && track !== 0xaa) return this.check(S.invalidField);
      const d: number[] = [1, 1];
      // one data track (ADR 1, control 4), then the lead-out
      if (track <= 1) d.push(0, 0x14, 1, 0, ...addr(0));
      d.push(0, 0x14, 0xaa, 0, ...addr(this.blocks));
      return bytesIn(withLen(d), alloc);
    }
    if (format === 1) return bytesIn(withLen([1, 1, 0, 0x14, 1, 0, ...addr(0)]), alloc);
    if (format === 2) {
      const out = msf(this.blocks);
      const point = (p: number, pm: number, ps: number, pf: number) => [1, 0x14, 0, p, 0, 0, 0, 0, pm, ps, pf];
      return bytesIn(withLen([1, 1, ...point(0xa0, 1, 0, 0), ...point(0xa1, 1, 0, 0), ...point(0xa2, out[1], out[2], out[3]),
        ...point(1, 0, 2, 0)]), alloc);
    }
    return this.check(S.invalidField);
  }

  private readDiscInfo(alloc: number): ScsiResult {
    if (!this.medium) return this.check(S.noMedium);
    // complete session, finalized disc, one session with track 1
    const d = [0, 32, 0x0e, 1, 1, 1, 1, 0x20, 0x00, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    return bytesIn(d, alloc);
  }

  private readTrackInfo(cdb: Uint8Array): ScsiResult {
    if (!this.medium) return this.check(S.noMedium);
    const type = cdb[1] & 3;
    const n = rd32(cdb, 2);
    // address type 1 = track number; 0 = LBA inside the track
    if ((type === 1 && n !== 1) || (type === 0 && n >= this.blocks) || type > 1) return this.check(S.invalidField);
    const d = [0, 34, 1, 1, 0, 0x04, 0x01, 0, ...be32(0), ...be32(0), ...be32(0), ...be32(0), ...be32(this.blocks),
      ...be32(this.blocks - 1), 0, 0, 0, 0];
    return bytesIn(d, rd16(cdb, 7));
  }

  private getConfiguration(cdb: Uint8Array): ScsiResult {
    const rt = cdb[1] & 3;
    const from = rd16(cdb, 2);
    const profile = !this.medium ? 0 : this.isDvd ? 0x0010 : 0x0008;
    const feature = (code: number, version: number, current: boolean, data: number[], persistent = false) =>
      ({ code, current, bytes: [...be16(code), (version << 2) | (persistent ? 2 : 0) | (current ? 1 : 0), data.length, ...data] });
    const has = !!this.medium;
    const features = [
      feature(0x0000, 0, true, [...be16(0x0010), profile === 0x0010 ? 1 : 0, 0, ...be16(0x0008), profile === 0x0008 ? 1 : 0, 0], true),
      feature(0x0001, 1, true, [...be32(8), 1, 0, 0, 0], true), // core: USB, DBE
      feature(0x0002, 1, true, [2, 0, 0, 0], true), // morphing: OCEvent
      feature(0x0003, 0, true, [0x29 | (this.locked ? 2 : 0), 0, 0, 0], true), // removable: tray, eject, lock
      feature(0x0010, 0, has, [...be32(CD_BLOCK), 0, 1, 0, 0]), // random readable
      feature(0x001e, 2, has && profile === 0x0008, [0, 0, 0, 0]), // CD read
      feature(0x001f, 0, has && profile === 0x0010, []), // DVD read
      feature(0x0100, 0, true, [], true), // power management
    ];
    let chosen = features.filter((f) => f.code >= from);
    if (rt === 1) chosen = chosen.filter((f) => f.current);
    if (rt === 2) chosen = features.filter((f) => f.code === from);
    if (rt === 3) return this.check(S.invalidField);
    const body = chosen.flatMap((f) => f.bytes);
    return bytesIn([...be32(body.length + 4), 0, 0, ...be16(profile), ...body], rd16(cdb, 7));
  }

  private getEventStatus(cdb: Uint8Array): ScsiResult {
    if (!(cdb[1] & 1)) return this.check(S.invalidField); // asynchronous mode is not supported
    const alloc = rd16(cdb, 7);
    const MEDIA = 0x10;
    if (!(cdb[4] & MEDIA)) return bytesIn([0, 2, 0x80, MEDIA], alloc); // no event class we support was asked for
    const ev = this.events.shift();
    const code = ev === 'new-media' ? 2 : ev === 'removal' ? 3 : ev === 'eject-request' ? 1 : 0;
    return bytesIn([0, 6, 4, MEDIA, code, (this.medium ? 2 : 0) | (this.trayOpen ? 1 : 0), 0, 0], alloc);
  }

  /** READ DVD STRUCTURE: physical format and copyright of the DVD profile; a CD has none. */
  private readDvdStructure(cdb: Uint8Array): ScsiResult {
    const format = cdb[7];
    const alloc = rd16(cdb, 8);
    if (format === 0xff) return bytesIn([0, 14, 0, 0, 0x00, 0x40, ...be16(2052), 0x01, 0x40, ...be16(8), 0xff, 0x40, ...be16(16)], alloc);
    if (!this.medium) return this.check(S.noMedium);
    if (!this.isDvd) return this.check(S.incompatibleMedium);
    if (format === 0x00) {
      if (cdb[6] !== 0) return this.check(S.invalidField); // one layer
      // DVD-ROM book v1, 120 mm, one read-only layer; data area from sector 0x30000
      const d = new Array<number>(2052).fill(0);
      d.splice(0, 20, ...be16(2050), 0, 0, 0x01, 0x0f, 0x01, 0x00, ...be32(0x30000), ...be32(0x30000 + this.blocks - 1), ...be32(0));
      return bytesIn(d, alloc);
    }
    if (format === 0x01) return bytesIn([0, 6, 0, 0, 0, 0, 0, 0], alloc); // no copy protection, all regions
    return this.check(S.invalidField);
  }

  private getPerformance(cdb: Uint8Array): ScsiResult {
    const type = cdb[10];
    const max = rd16(cdb, 8);
    const alloc = max * 16 + 8;
    if (type !== 0 || !this.medium || max === 0) return bytesIn([0, 0, 0, 4, 0, 0, 0, 0], alloc);
    // one nominal descriptor: the whole disc at a constant 16x CD speed
    const d = [...be32(0), ...be32(1412 * 16), ...be32(this.blocks - 1), ...be32(1412 * 16)];
    return bytesIn([0, 0, 0, 4 + d.length, 0, 0, 0, 0, ...d], alloc);
  }
}
