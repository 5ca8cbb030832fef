// PcscBackend against a real pcscd with vpcd and two vicc cards (test/harness/pcsc.ts):
// reader 0 holds vicc's T=1-only card, reader 1 the same card presenting a T=0 ATR.
// vicc's ISO 7816 answers are deterministic: SELECT MF (P2=0C) 90 00, SELECT by
// empty AID 6A 82, GET DATA 6A 81, GET CHALLENGE 8 random bytes + 90 00, and with
// Le shorter than its data 61 xx + GET RESPONSE for the rest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
// the rig first: it sets PCSCLITE_CSOCK_NAME before libpcsclite is loaded
import { PcscRig, READER_NAMES, VICC_T0_ATR, VICC_T1_ATR } from '../harness/pcsc';
import { PcscBackend } from '../../main/devices/smartcard/pcsc-backend';
import { SmartcardError, type SmartcardBackendEvent, type SmartcardBackend } from '../../main/devices/smartcard/backend';
import { T0Bridge } from '../../main/devices/smartcard/t0-bridge';
import { guestAtr } from '../../main/devices/smartcard/atr';
import { SmartcardManager } from '../../main/devices/smartcard/manager';
import { VscMessageType as V, encodeVscMessage, decodeVscMessage, type VscMessage } from '../../main/devices/smartcard/vscard';

const [R0, R1] = READER_NAMES;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const apdu = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const isCode = (code: string) => (e: unknown) => e instanceof SmartcardError && e.code === code;

let rig: PcscRig;
before(async () => {
  rig = await PcscRig.start({ cards: [VICC_T1_ATR, VICC_T0_ATR] });
});
after(async () => {
  await rig?.stop();
});

/** Records a backend's events; next() waits (event-driven, with a deadline) for one matching pred. */
function recorder(b: SmartcardBackend) {
  const seen: SmartcardBackendEvent[] = [];
  let waiters: { pred: (e: SmartcardBackendEvent) => boolean; resolve: (e: SmartcardBackendEvent) => void }[] = [];
  b.onEvent((e) => {
    seen.push(e);
    waiters = waiters.filter((w) => !(w.pred(e) && (w.resolve(e), true)));
  });
  return {
    seen,
    /** Waits for an event matching pred that arrives from now on (or already arrived after `from`). */
    next(pred: (e: SmartcardBackendEvent) => boolean, what: string, from = seen.length, ms = 15_000): Promise<SmartcardBackendEvent> {
      const got = seen.slice(from).find(pred);
      if (got) return Promise.resolve(got);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}; events: ${JSON.stringify(seen.map((e) => e.type + ('reader' in e ? ` ${e.reader}` : '')))}\n${rig.log}`)), ms);
        waiters.push({ pred, resolve: (e) => (clearTimeout(t), resolve(e)) });
      });
    },
  };
}

const inserted = (reader: string) => (e: SmartcardBackendEvent) => e.type === 'card-inserted' && e.reader === reader;

async function startedBackend() {
  const b = new PcscBackend({ retryMinMs: 50, retryMaxMs: 400 });
  const rec = recorder(b);
  await b.start();
  await rec.next(inserted(R0), 'card in reader 0', 0);
  await rec.next(inserted(R1), 'card in reader 1', 0);
  return { b, rec };
}

test('lists both readers with the ATRs the cards present; connects T=1 and T=0; vicc answers', async () => {
  const { b } = await startedBackend();
  try {
    assert.equal(rig.presented[0], VICC_T1_ATR);
    assert.equal(rig.presented[1], VICC_T0_ATR);
    const list = b.readers().sort((x, y) => x.name.localeCompare(y.name));
    assert.deepEqual(list.map((r) => [r.name, r.card && hex(r.card.atr)]), [[R0, rig.presented[0]], [R1, rig.presented[1]]]);

    const [c0, again] = await Promise.all([b.connect(R0), b.connect(R0)]);
    assert.equal(c0, again, 'concurrent connects share one SCardConnect');
    const c1 = await b.connect(R1);
    assert.equal(c0.protocol, 'T1');
    assert.equal(c1.protocol, 'T0');
    for (const c of [c0, c1]) {
      assert.equal(hex(await c.transmit(apdu('00A4000C023F00'))), '9000', `${c.reader} SELECT MF`);
      assert.equal(hex(await c.transmit(apdu('00A4040000'))), '6a82', `${c.reader} SELECT empty AID`);
      assert.equal(hex(await c.transmit(apdu('00CA000000'))), '6a81', `${c.reader} GET DATA`);
      const ch = await c.transmit(apdu('0084000008'));
      assert.equal(ch.length, 10);
      assert.equal(hex(ch.subarray(8)), '9000');
      // Le 4 of an 8-byte answer: 4 bytes + 61 04, GET RESPONSE gives the other 4 + 90 00
      const part = await c.transmit(apdu('0084000004'));
      assert.equal(hex(part.subarray(4)), '6104');
      const rest = await c.transmit(apdu('00C0000004'));
      assert.equal(rest.length, 6);
      assert.equal(hex(rest.subarray(4)), '9000');
    }
    // commands issued together still run one after the other, in order
    const burst = await Promise.all(['00A4000C023F00', '00CA000000', '00A4040000', '00A4000C023F00'].map((h) => c0.transmit(apdu(h))));
    assert.deepEqual(burst.map(hex), ['9000', '6a81', '6a82', '9000']);
    await c0.disconnect();
    await c1.disconnect();
    assert.equal(c0.open, false);
    await assert.rejects(c0.transmit(apdu('00A4000C023F00')), isCode('NOT_CONNECTED'));
  } finally {
    await b.close();
  }
});

test('the guest\'s T=0 case 4 (INTERNAL AUTHENTICATE without Le, 61 08, GET RESPONSE) comes out the same on the T=1 card (bridged) and the T=0 card', async () => {
  const { b } = await startedBackend();
  try {
    const auth = apdu('0088000008 0102030405060708'); // as a T=0 TPDU: Lc 08, no Le
    for (const [reader, protocol, bridged] of [[R0, 'T1', true], [R1, 'T0', false]] as const) {
      const c = await b.connect(reader);
      assert.equal(c.protocol, protocol);
      const info = b.readers().find((r) => r.name === reader)!;
      assert.equal(guestAtr(info.card!.atr).bridged, bridged);
      // what the card computes, asked directly with Le
      const direct = await c.transmit(apdu('0088000008 0102030405060708 00'));
      assert.equal(direct.length, 10);
      assert.equal(hex(direct.subarray(8)), '9000');
      const bridge = new T0Bridge(c.protocol);
      const send = (a: Uint8Array) => c.transmit(a);
      assert.equal(hex(await bridge.exchange(auth, send)), '6108', `${reader}: 61 08 to the guest`);
      assert.equal(hex(await bridge.exchange(apdu('00C0000008'), send)), hex(direct), `${reader}: GET RESPONSE gives the card's answer`);
      assert.equal(hex(await bridge.exchange(apdu('00A4000C023F00'), send)), '9000');
    }
  } finally {
    await b.close();
  }
});

test('card removal and insertion: events, a dead connection, and a working one after re-insertion', async () => {
  const { b, rec } = await startedBackend();
  try {
    const c1 = await b.connect(R1);
    assert.equal(hex(await c1.transmit(apdu('00A4000C023F00'))), '9000');
    const from = rec.seen.length;
    await rig.removeCard(1);
    await rec.next((e) => e.type === 'card-removed' && e.reader === R1, 'card-removed', from);
    assert.equal(b.readers().find((r) => r.name === R1)?.card, null);
    assert.equal(c1.open, false);
    await assert.rejects(c1.transmit(apdu('00A4000C023F00')), isCode('CARD_REMOVED'));
    await assert.rejects(b.connect(R1), isCode('NO_CARD'));
    // the other reader is untouched
    assert.equal(hex(await (await b.connect(R0)).transmit(apdu('00A4000C023F00'))), '9000');

    const again = rec.seen.length;
    await rig.insertCard(1, VICC_T0_ATR);
    const ev = await rec.next(inserted(R1), 'card-inserted again', again);
    assert.equal(ev.type === 'card-inserted' && hex(ev.atr), rig.presented[1]);
    const c1b = await b.connect(R1);
    assert.equal(c1b.protocol, 'T0');
    assert.equal(hex(await c1b.transmit(apdu('00A4000C023F00'))), '9000');
  } finally {
    await b.close();
  }
});

test('a reader held exclusively by another program: SHARING_VIOLATION, then usable once released', async () => {
  const { b } = await startedBackend();
  const { b: other } = await startedBackend();
  try {
    const held = await other.connect(R1, { exclusive: true });
    const err = await b.connect(R1).then(() => null, (e: unknown) => e);
    assert.ok(err instanceof SmartcardError && err.code === 'SHARING_VIOLATION', String(err));
    assert.match(err.message, /exclusively/);
    await held.disconnect();
    const c = await b.connect(R1);
    assert.equal(hex(await c.transmit(apdu('00A4000C023F00'))), '9000');
  } finally {
    await b.close();
    await other.close();
  }
});

test('a card reset by another program: CARD_RESET for that command, card-reset event, next command works', async () => {
  const { b, rec } = await startedBackend();
  const { b: other } = await startedBackend();
  try {
    const c = await b.connect(R0);
    assert.equal(hex(await c.transmit(apdu('00A4000C023F00'))), '9000');
    const from = rec.seen.length;
    await (await other.connect(R0)).disconnect('reset');
    await assert.rejects(c.transmit(apdu('00A4000C023F00')), isCode('CARD_RESET'));
    const ev = await rec.next((e) => e.type === 'card-reset', 'card-reset', from);
    assert.equal(ev.type === 'card-reset' && hex(ev.atr), VICC_T1_ATR);
    assert.equal(hex(await c.transmit(apdu('00A4000C023F00'))), '9000');
    assert.equal(c.open, true);
  } finally {
    await b.close();
    await other.close();
  }
});

test('pcscd restarted: service-down, then the backend recovers by itself (new pcsclite instance)', async () => {
  const { b, rec } = await startedBackend();
  try {
    const c0 = await b.connect(R0);
    assert.equal(hex(await c0.transmit(apdu('00A4000C023F00'))), '9000');
    const from = rec.seen.length;
    await rig.stopPcscd();
    const down = await rec.next((e) => e.type === 'service-down', 'service-down', from);
    assert.ok(down.type === 'service-down' && ['SERVICE_LOST', 'NO_SERVICE'].includes(down.error.code), JSON.stringify(down));
    assert.equal(b.serviceUp, false);
    assert.deepEqual(b.readers(), []);
    assert.equal(c0.open, false);
    await assert.rejects(b.connect(R0), (e: unknown) => e instanceof SmartcardError && /pcscd/.test(e.message));

    const back = rec.seen.length;
    await rig.startPcscd();
    await rig.insertCard(0, VICC_T1_ATR);
    await rig.insertCard(1, VICC_T0_ATR);
    await rec.next((e) => e.type === 'service-up', 'service-up', back);
    await rec.next(inserted(R0), 'card in reader 0 after restart', back);
    await rec.next(inserted(R1), 'card in reader 1 after restart', back);
    const c0b = await b.connect(R0);
    assert.equal(hex(await c0b.transmit(apdu('00A4000C023F00'))), '9000');
    const c1b = await b.connect(R1);
    assert.equal(hex(await c1b.transmit(apdu('00A4000C023F00'))), '9000');
  } finally {
    await b.close();
  }
});

test('started while pcscd is down: NO_SERVICE, then up when pcscd comes', async () => {
  await rig.stopPcscd();
  const b = new PcscBackend({ retryMinMs: 50, retryMaxMs: 400 });
  const rec = recorder(b);
  try {
    await b.start();
    const down = await rec.next((e) => e.type === 'service-down', 'service-down', 0);
    assert.ok(down.type === 'service-down' && down.error.code === 'NO_SERVICE', JSON.stringify(down));
    assert.match(down.type === 'service-down' ? down.error.message : '', /pcscd\) is not running/);
    await assert.rejects(b.connect(R0), isCode('NO_SERVICE'));
    await rig.restartPcscd();
    await rec.next(inserted(R0), 'card in reader 0', 0);
    assert.equal(rec.seen.filter((e) => e.type === 'service-down').length, 1, 'one service-down while retrying, not one per attempt');
    assert.equal(hex(await (await b.connect(R0)).transmit(apdu('00A4000C023F00'))), '9000');
  } finally {
    await b.close();
  }
});

test('manager on the real backend: readers and guest ATRs announced, APDUs answered in order, card removal reflected', async () => {
  const { b, rec } = await startedBackend();
  // the server side as bytes on the SPICE channel (little-endian header)
  const out: VscMessage[] = [];
  let arrived: (() => void) | null = null;
  const m = new SmartcardManager({
    backend: b,
    send: (msg) => {
      out.push(decodeVscMessage(encodeVscMessage(msg, 'le'), 'le'));
      arrived?.();
    },
  });
  const nextOut = (n: number) => new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`manager sent ${out.length} messages, waited for ${n}: ${JSON.stringify(out.map((o) => o.type))}`)), 15_000);
    arrived = () => {
      if (out.length >= n) {
        clearTimeout(t);
        arrived = null;
        resolve();
      }
    };
    arrived();
  });
  const server = (msg: VscMessage) => m.handleBytes(encodeVscMessage(msg, 'le'));
  try {
    m.start();
    // a server with two reader slots: ids 0 and 1, each answer unblocking the next control message
    await nextOut(1);
    assert.equal(out[0].type, V.ReaderAdd);
    server({ type: V.Error, readerId: 0, code: 0 });
    await nextOut(2);
    server({ type: V.Error, readerId: 1, code: 0 });
    await nextOut(3);
    server({ type: V.Error, readerId: 0, code: 0 });
    await nextOut(4);
    server({ type: V.Error, readerId: 1, code: 0 });
    const byId = Object.fromEntries(m.readers().map((r) => [r.name, r]));
    const atrs = out.filter((o) => o.type === V.ATR).map((o) => o.type === V.ATR && [o.readerId, hex(o.atr)]);
    assert.deepEqual(atrs.sort(), [[byId[R0].vscId, '3b058073ff0100'], [byId[R1].vscId, VICC_T0_ATR]].sort());
    // APDUs to both readers, interleaved: answered in the order they came
    const id0 = byId[R0].vscId!, id1 = byId[R1].vscId!;
    const cmds: [number, string, string][] = [[id0, '00A4000C023F00', '9000'], [id1, '00CA000000', '6a81'], [id0, '00A4040000', '6a82'], [id1, '00A4000C023F00', '9000'], [id0, '0088000008 0102030405060708', '6108']];
    const before = out.length;
    for (const [id, c] of cmds) server({ type: V.APDU, readerId: id, data: apdu(c) });
    await nextOut(before + cmds.length);
    assert.deepEqual(out.slice(before).map((o) => o.type === V.APDU && [o.readerId, hex(o.data)]), cmds.map(([id, , r]) => [id, r]));
    // GET RESPONSE after the bridged 61 08 on the T=1 card
    server({ type: V.APDU, readerId: id0, data: apdu('00C0000008') });
    await nextOut(before + cmds.length + 1);
    const gr = out[out.length - 1];
    assert.ok(gr.type === V.APDU && gr.data.length === 10 && hex(gr.data.subarray(8)) === '9000', JSON.stringify(gr));
    assert.deepEqual(m.readers().map((r) => r.inUse), [true, true]);

    const from = rec.seen.length;
    const n = out.length;
    await rig.removeCard(1);
    await rec.next((e) => e.type === 'card-removed' && e.reader === R1, 'card-removed', from);
    await nextOut(n + 1);
    assert.deepEqual(out[n], { type: V.CardRemove, readerId: id1 });
    server({ type: V.Error, readerId: id1, code: 0 });
    server({ type: V.APDU, readerId: id1, data: apdu('00A4000C023F00') });
    await nextOut(n + 2);
    assert.deepEqual(out[n + 1], { type: V.Error, readerId: id1, code: 1 }, 'no card: GENERAL_ERROR, not silence');
    await rig.waitFor((s) => s[R1]?.present === false, 'pcscd sees reader 1 empty');
    await rig.insertCard(1, VICC_T0_ATR);
    await nextOut(n + 3);
    assert.deepEqual(out[n + 2], { type: V.ATR, readerId: id1, atr: apdu(VICC_T0_ATR) });
  } finally {
    m.close();
    await b.close();
  }
});
