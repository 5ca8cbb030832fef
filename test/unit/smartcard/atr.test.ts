// ATR parsing (ISO 7816-3 §8) on ATRs decoded by hand, and the ATR the guest gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAtr, offersT0, guestAtr } from '../../../main/devices/smartcard/atr';
import { SmartcardError } from '../../../main/devices/smartcard/backend';

const fromHex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const badAtr = (e: unknown) => e instanceof SmartcardError && e.code === 'BAD_ATR';

test("vicc's T=1-only ATR: TA1 13, TD1 81 (T=1, TD2 follows), TD2 01 (T=1), 5 historical bytes, TCK 0B", () => {
  const p = parseAtr(fromHex('3B 95 13 81 01 80 73 FF 01 00 0B'));
  assert.equal(p.ts, 0x3b);
  assert.equal(p.t0, 0x95);
  assert.deepEqual(p.groups, [{ ta: 0x13, td: 0x81 }, { td: 0x01 }]);
  assert.deepEqual(p.protocols, [1]);
  assert.equal(hex(p.historical), '8073ff0100');
  assert.equal(p.tck, 0x0b);
  assert.equal(p.tckOk, true); // 95^13^81^01^80^73^FF^01^00 = 0B
  assert.equal(offersT0(fromHex('3B951381018073FF01000B')), false);
});

test('a T=0-only ATR: TA1 only, no TD1 (T=0 implied), no TCK', () => {
  const p = parseAtr(fromHex('3B 15 13 80 73 FF 01 00'));
  assert.deepEqual(p.groups, [{ ta: 0x13 }]);
  assert.deepEqual(p.protocols, [0]);
  assert.equal(hex(p.historical), '8073ff0100');
  assert.equal(p.tck, undefined);
  assert.equal(p.tckOk, true);
});

test("QEMU's default passthru ATR (an Athena card): T=0, T=1 and T=15, TA4, TCK", () => {
  // 3B D5: TA1 TC1 TD1, K=5 | 18 | FF | 80: T=0, TD2 | 91: T=1, TA3 TD3 | FE | 1F: T=15, TA4 | C3 | 80 73 C8 21 13 | 08
  const p = parseAtr(fromHex('3B D5 18 FF 80 91 FE 1F C3 80 73 C8 21 13 08'));
  assert.deepEqual(p.groups, [{ ta: 0x18, tc: 0xff, td: 0x80 }, { td: 0x91 }, { ta: 0xfe, td: 0x1f }, { ta: 0xc3 }]);
  assert.deepEqual(p.protocols, [0, 1, 15]);
  assert.equal(hex(p.historical), '8073c82113');
  assert.equal(p.tck, 0x08);
  assert.equal(p.tckOk, true);
});

test('a wrong TCK is reported, not fatal (real cards get it wrong)', () => {
  assert.equal(parseAtr(fromHex('3B951381018073FF01000C')).tckOk, false);
});

test('the guest ATR: unchanged when the card offers T=0, else 3B 0K + historical bytes', () => {
  const t1 = guestAtr(fromHex('3B951381018073FF01000B'));
  assert.equal(hex(t1.atr), '3b058073ff0100'); // the ATR that worked with QEMU's usb-ccid
  assert.equal(t1.bridged, true);
  assert.deepEqual(parseAtr(t1.atr).protocols, [0]);
  for (const h of ['3b15138073ff0100', '3bd518ff8091fe1fc38073c8211308']) {
    const g = guestAtr(fromHex(h));
    assert.equal(hex(g.atr), h);
    assert.equal(g.bridged, false);
  }
  // no historical bytes: just TS T0
  assert.equal(hex(guestAtr(fromHex('3B 80 01 81')).atr), '3b00'); // TD1 01 (T=1), TCK 81
});

test('malformed ATRs are BAD_ATR', () => {
  for (const h of [
    '', '3b', // shorter than TS T0
    '3c00', // TS
    '3b9513', // ends before TD1
    '3b951381', // ends before TD2
    '3b951381018073ff', // ends inside the historical bytes
    '3b951381018073ff0100', // no TCK with T=1
    '3b15138073ff010000', // a byte after the end
    '3b0f' + '00'.repeat(32), // 34 bytes
  ]) {
    assert.throws(() => parseAtr(fromHex(h)), badAtr, h);
  }
  assert.throws(() => guestAtr(fromHex('3b95')), badAtr);
});
