// Carries the guest's T=0 exchanges to a card the client drives over T=1.
// Pure: the card is reached through the transmit function given per call.
//
// Behind QEMU's usb-ccid (TPDU level, T=0 only) the guest's middleware sends
// T=0 command TPDUs: a case-4 command goes out without its Le
// (CLA INS P1 P2 Lc data) and the response data is expected to come back
// through "61 xx" and GET RESPONSE (CLA C0 00 00 xx). A T=1 card sent that
// case-3 form answers without data. So, for a card on T=1:
// - a command with data is sent with Le = 00 (up to 256 bytes back); a card
//   refusing the extra Le with 67 00 (checked before execution) gets the
//   command again as sent;
// - response data is kept and the guest gets 61 xx (xx = 00 for 256);
//   its GET RESPONSEs are answered from what was kept, 61 xx while more
//   remains, then the card's own status word; a Le larger than what remains
//   gets 6C xx (T=0's "wrong length, xx available"), as a T=0 card would;
// - anything else is passed through, and drops what was kept (a T=0 card
//   forgets its pending response on the next command).
// A card on T=0 needs none of this: the bridge passes everything through.
import { SmartcardError, type CardProtocol } from './backend';
import { concatBytes } from './bytes';

export type Transmit = (apdu: Uint8Array) => Promise<Uint8Array>;

const INS_GET_RESPONSE = 0xc0;

const sw = (sw1: number, sw2: number) => Uint8Array.of(sw1, sw2);

export class T0Bridge {
  /** Response data of the last bridged command not yet fetched by GET RESPONSE. */
  private pending: Uint8Array | null = null;
  private pendingSw: Uint8Array = sw(0x90, 0x00);

  /** protocol: what the client negotiated with the real card. */
  constructor(readonly protocol: CardProtocol) {}

  get active(): boolean {
    return this.protocol === 'T1';
  }

  /** Bytes kept for GET RESPONSE (0 when none). */
  get pendingLength(): number {
    return this.pending?.length ?? 0;
  }

  /** Forgets kept response data (card removed, reset, reconnected). */
  reset(): void {
    this.pending = null;
  }

  async exchange(cmd: Uint8Array, transmit: Transmit): Promise<Uint8Array> {
    if (cmd.length < 4) throw new SmartcardError('BAD_APDU', `command APDU of ${cmd.length} bytes`);
    if (!this.active) return transmit(cmd);
    if (cmd[1] === INS_GET_RESPONSE && cmd.length === 5 && this.pending) return this.getResponse(cmd[4]);
    this.pending = null;
    // T=0 TPDU with data: CLA INS P1 P2 P3=Lc data (P3 = 0 is a 5-byte TPDU, not this form)
    const lc = cmd.length > 5 ? cmd[4] : -1;
    if (lc <= 0 || cmd.length !== 5 + lc) return transmit(cmd);
    let res = await transmit(concatBytes(cmd, Uint8Array.of(0x00)));
    if (res.length === 2 && res[0] === 0x67 && res[1] === 0x00) res = await transmit(cmd);
    if (res.length < 2) throw new SmartcardError('TRANSMIT_FAILED', `card answered ${res.length} bytes (no status word)`);
    if (res.length === 2) return res;
    this.pending = res.slice(0, res.length - 2);
    this.pendingSw = res.slice(res.length - 2);
    return this.more();
  }

  private getResponse(le: number): Uint8Array {
    const data = this.pending!;
    const want = le === 0 ? 256 : le;
    if (want > data.length) return sw(0x6c, data.length & 0xff); // pending kept: the guest asks again
    this.pending = data.subarray(want);
    const out = concatBytes(data.subarray(0, want), this.pending.length ? this.more() : this.pendingSw);
    if (!this.pending.length) this.pending = null;
    return out;
  }

  /** "61 xx": xx bytes are waiting (00 = 256 or more). */
  private more(): Uint8Array {
    const n = this.pending!.length;
    return sw(0x61, n >= 256 ? 0x00 : n);
  }
}
