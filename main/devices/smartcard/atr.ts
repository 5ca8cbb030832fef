// ATR parsing (ISO 7816-3 §8) and the ATR the guest is shown. Pure.
//
// QEMU's usb-ccid offers only T=0. A card whose ATR offers only T=1 passed
// through unchanged makes the guest's pcscd fail the PTS ("Protocol T=1 not
// supported by reader", then "Card is unresponsive"). So the guest gets an
// ATR that offers T=0 with default parameters and keeps the card's historical
// bytes (which middleware matches cards on); t0-bridge.ts then carries the
// guest's T=0 exchanges over the card's real protocol.
import { SmartcardError } from './backend';
import { hexOf } from './bytes';

export interface InterfaceBytes {
  ta?: number;
  tb?: number;
  tc?: number;
  td?: number;
}

export interface ParsedAtr {
  ts: number;
  t0: number;
  /** Interface byte groups i = 1, 2, ... (TAi, TBi, TCi, TDi). */
  groups: InterfaceBytes[];
  /** Protocols the card offers, in ATR order (T=0 implied when there is no TD1). */
  protocols: number[];
  historical: Uint8Array;
  /** TCK, present unless only T=0 is indicated. */
  tck?: number;
  /** XOR of T0 .. TCK is zero (meaningful only with a TCK). */
  tckOk: boolean;
}

/** ISO 7816-3: TS + T0 + at most 32 more bytes. */
export const MAX_ATR_LENGTH = 33;

export function parseAtr(atr: Uint8Array): ParsedAtr {
  const bad = (why: string) => new SmartcardError('BAD_ATR', `ATR ${hexOf(atr)}: ${why}`);
  if (atr.length < 2) throw bad('shorter than TS + T0');
  if (atr.length > MAX_ATR_LENGTH) throw bad(`longer than ${MAX_ATR_LENGTH} bytes`);
  const ts = atr[0];
  if (ts !== 0x3b && ts !== 0x3f) throw bad(`TS ${ts.toString(16)} is neither 3B (direct) nor 3F (inverse)`);
  const t0 = atr[1];
  const k = t0 & 0x0f;
  let y = t0 >> 4;
  let pos = 2;
  const groups: InterfaceBytes[] = [];
  const protocols: number[] = [];
  const next = (what: string) => {
    if (pos >= atr.length) throw bad(`ends before ${what}`);
    return atr[pos++];
  };
  for (let i = 1; y; i++) {
    const g: InterfaceBytes = {};
    if (y & 1) g.ta = next(`TA${i}`);
    if (y & 2) g.tb = next(`TB${i}`);
    if (y & 4) g.tc = next(`TC${i}`);
    if (y & 8) {
      g.td = next(`TD${i}`);
      const t = g.td & 0x0f;
      if (!protocols.includes(t)) protocols.push(t);
      y = g.td >> 4;
    } else {
      y = 0;
    }
    groups.push(g);
  }
  if (!protocols.length) protocols.push(0);
  if (pos + k > atr.length) throw bad(`ends inside its ${k} historical bytes`);
  const historical = atr.slice(pos, pos + k);
  pos += k;
  const needTck = protocols.some((t) => t !== 0);
  let tck: number | undefined;
  if (needTck) {
    if (pos >= atr.length) throw bad('has no TCK although it offers T!=0');
    tck = atr[pos++];
  }
  if (pos !== atr.length) throw bad(`${atr.length - pos} bytes after the end`);
  let x = 0;
  for (let i = 1; i < atr.length; i++) x ^= atr[i];
  return { ts, t0, groups, protocols, historical, ...(tck !== undefined ? { tck } : {}), tckOk: tck === undefined || x === 0 };
}

/** True when the card can be driven with T=0 (as QEMU's CCID reader will). */
export function offersT0(atr: Uint8Array): boolean {
  return parseAtr(atr).protocols.includes(0);
}

/**
 * The ATR to give the guest: the card's own when it offers T=0; otherwise
 * 3B, T0 = number of historical bytes, the historical bytes (T=0 implied,
 * default Fi/Di, no TCK). vicc's 3B951381018073FF01000B becomes 3B058073FF0100.
 */
export function guestAtr(atr: Uint8Array): { atr: Uint8Array; bridged: boolean } {
  const p = parseAtr(atr);
  if (p.protocols.includes(0)) return { atr: atr.slice(), bridged: false };
  const out = new Uint8Array(2 + p.historical.length);
  out[0] = 0x3b;
  out[1] = p.historical.length;
  out.set(p.historical, 2);
  return { atr: out, bridged: true };
}
