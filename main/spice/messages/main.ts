// Main channel codecs for migration (spice.proto DstInfo and friends).
import { ByteReader } from '../wire/byte-reader';
import { ByteWriter } from '../wire/byte-writer';
import { SpiceError } from '../wire/errors';

export interface DstInfo {
  port: number;
  /** TLS port; 0 and 0xFFFF (QEMU's -1) mean none. */
  sport: number;
  host: string;
  certSubject: string | null;
  /** Only in MIGRATE_BEGIN_SEAMLESS. */
  srcMigVersion?: number;
}

export const MAX_HOST_BYTES = 1024;

function readString(r: ByteReader, size: number, off: number, what: string): string {
  if (size > MAX_HOST_BYTES) throw new SpiceError('BAD_MESSAGE', `${what} of ${size} bytes`);
  const bytes = r.sub(off, size, what).rest();
  // do not trust the NUL to be inside size (spice-gtk fix 9b98e01): cut at the first NUL
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
}

/** DstInfo: u16 port, u16 sport, u32 host_size, u32 host_offset, u32 subject_size, u32 subject_offset [, u32 src_mig_version]. */
export function decodeDstInfo(body: Uint8Array, seamless: boolean): DstInfo {
  const r = new ByteReader(body);
  const port = r.u16('port');
  const sport = r.u16('sport');
  const hostSize = r.u32('host_size');
  const hostOff = r.u32('host_offset');
  const subjSize = r.u32('cert_subject_size');
  const subjOff = r.u32('cert_subject_offset');
  const srcMigVersion = seamless ? r.u32('src_mig_version') : undefined;
  if (!hostOff || !hostSize) throw new SpiceError('BAD_MESSAGE', 'migration destination without a host');
  const host = readString(r, hostSize, hostOff, 'destination host');
  const certSubject = subjOff && subjSize ? readString(r, subjSize, subjOff, 'cert subject') : null;
  return { port, sport: sport === 0xffff ? 0 : sport, host, certSubject, ...(srcMigVersion !== undefined ? { srcMigVersion } : {}) };
}

export function encodeU32(v: number): Uint8Array {
  return new ByteWriter(4).u32(v).finish();
}
