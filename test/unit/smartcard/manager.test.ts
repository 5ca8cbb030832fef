// SmartcardManager over the VSCard codec: server messages are hand-built bytes
// (little-endian header, as spice-server sends them on the smartcard channel),
// what the manager sends is checked as bytes too. The readers and cards come
// from a scripted backend whose transmits the test answers one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SmartcardManager } from '../../../main/devices/smartcard/manager';
import { encodeVscMessage, decodeVscMessage, type VscMessage } from '../../../main/devices/smartcard/vscard';
import { SmartcardError } from '../../../main/devices/smartcard/backend';
import { SpiceError } from '../../../main/spice/wire/errors';
import { ScriptedBackend } from './scripted-backend';
import { vscBytes, vscError } from './vsc-bytes';

const T1_ATR = '3b951381018073ff01000b';
const T0_ATR = '3b15138073ff0100';
const R0 = 'Virtual PCD 00 00';
const R1 = 'Virtual PCD 00 01';

const srv = vscBytes;
const ack = vscError;
const apduMsg = (readerId: number, hex: string) => srv(7, readerId, hex);
const flush = () => srv(8, 0);

async function ticks(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  assert.fail(`never happened: ${what}`);
}

function setup(readers: [string, string | null, 'T0' | 'T1'][] = [[R0, T1_ATR, 'T1']]) {
  const backend = new ScriptedBackend();
  for (const [name, atr, proto] of readers) {
    backend.addReader(name);
    if (atr) backend.insertCard(name, atr, proto);
  }
  const out: Uint8Array[] = [];
  const errors: [string, string | undefined][] = [];
  const m = new SmartcardManager({ backend, send: (msg) => out.push(encodeVscMessage(msg, 'le')), onError: (e, r) => errors.push([e.code, r]) });
  m.start();
  const hexOut = () => out.map((b) => Buffer.from(b).toString('hex'));
  const msgs = (): VscMessage[] => out.map((b) => decodeVscMessage(b, 'le'));
  return { backend, m, out, hexOut, msgs, errors };
}

/** ReaderAdd acked with id 0, ATR acked: the usual start. */
function shared(readers?: [string, string | null, 'T0' | 'T1'][]) {
  const s = setup(readers);
  s.m.handleBytes(ack(0));
  s.m.handleBytes(ack(0));
  s.out.length = 0;
  return s;
}

test('a reader is added (one control message in flight), its id comes from the answer, then the guest ATR', () => {
  const { m, hexOut, out } = setup();
  const name = Buffer.from(R0).toString('hex');
  // ReaderAdd: type 3, reader_id UNDEFINED, the name's length, the name (no NUL)
  assert.deepEqual(hexOut(), ['03000000' + 'ffffffff' + '11000000' + name]);
  assert.equal(m.readers()[0].state, 'adding');
  // the ATR waits for the answer; spice-server answers Error SUCCESS with the reader id it assigned
  m.handleBytes(ack(0));
  assert.deepEqual(hexOut().slice(1), ['05000000' + '00000000' + '07000000' + '3b058073ff0100']); // T=1-only card: bridged ATR
  assert.deepEqual(m.readers(), [{ name: R0, state: 'shared', vscId: 0, guestAtr: '3b058073ff0100', bridged: true, inUse: false, ejected: false }]);
  m.handleBytes(ack(0)); // ATR acknowledged
  assert.equal(out.length, 2);
});

test('a control message the server refuses (QEMU: ATR inconsistent -> GENERAL_ERROR, network order) is reported', () => {
  const { m, errors } = setup();
  m.handleBytes(ack(0));
  m.handleBytes(srv(2, 0, '00000001'));
  assert.deepEqual(errors, [['PCSC', R0]]);
});

test('a T=0 card gets its own ATR', () => {
  const { m, msgs } = setup([[R0, T0_ATR, 'T0']]);
  m.handleBytes(ack(0));
  assert.deepEqual(msgs()[1], { type: 5, readerId: 0, atr: Uint8Array.from(Buffer.from(T0_ATR, 'hex')) });
  assert.equal(m.readers()[0].bridged, false);
});

test('APDUs are answered strictly in order, one in flight, each exactly once', async () => {
  const { m, backend, hexOut } = shared([[R0, T0_ATR, 'T0']]);
  const cmds = ['00a4000c023f00', '00ca000000', '00a4040000'];
  for (const c of cmds) m.handleBytes(apduMsg(0, c));
  assert.equal(m.pendingApdus, 3);
  await ticks(() => backend.transmits.length === 1, 'first transmit');
  await new Promise((r) => setImmediate(r));
  assert.equal(backend.transmits.length, 1, 'one in flight');
  backend.transmits[0].answer('9000');
  await ticks(() => backend.transmits.length === 2, 'second transmit');
  backend.transmits[1].answer('6a81');
  await ticks(() => backend.transmits.length === 3, 'third transmit');
  backend.transmits[2].answer('6a82');
  await ticks(() => hexOut().length === 3, 'three answers');
  assert.deepEqual(backend.sent, cmds);
  assert.deepEqual(hexOut(), [
    '07000000' + '00000000' + '02000000' + '9000',
    '07000000' + '00000000' + '02000000' + '6a81',
    '07000000' + '00000000' + '02000000' + '6a82',
  ]);
  assert.equal(m.pendingApdus, 0);
  assert.equal(backend.connects, 1, 'one connection, opened on the first APDU');
  assert.equal(m.readers()[0].inUse, true);
});

test('T=1 card: the guest\'s case 4 without Le gets 61 xx, GET RESPONSE the data (bridge in the path)', async () => {
  const { m, backend, msgs } = shared();
  m.handleBytes(apduMsg(0, '00a4040007a0000000030000'));
  await ticks(() => backend.transmits.length === 1, 'transmit');
  assert.equal(backend.transmits[0].apdu, '00a4040007a000000003000000', 'sent with Le 00');
  backend.transmits[0].answer('6f0a8408a000000003000000' + '9000');
  await ticks(() => msgs().length === 1, 'answer');
  m.handleBytes(apduMsg(0, '00c000000c'));
  await ticks(() => msgs().length === 2, 'GET RESPONSE answer');
  assert.deepEqual(msgs().map((x) => x.type === 7 && Buffer.from(x.data).toString('hex')), ['610c', '6f0a8408a000000003000000' + '9000']);
  assert.equal(backend.sent.length, 1);
});

test('Flush is answered with FlushComplete only after every earlier APDU', async () => {
  const { m, backend, hexOut } = shared([[R0, T0_ATR, 'T0']]);
  m.handleBytes(flush());
  assert.deepEqual(hexOut(), ['09000000' + '00000000' + '00000000'], 'nothing pending: at once');
  m.handleBytes(apduMsg(0, '00a4000c023f00'));
  m.handleBytes(apduMsg(0, '00ca000000'));
  m.handleBytes(flush());
  await ticks(() => backend.transmits.length === 1, 'transmit');
  backend.transmits[0].answer('9000');
  await ticks(() => backend.transmits.length === 2, 'transmit 2');
  assert.equal(hexOut().length, 2, 'no FlushComplete while an APDU is unanswered');
  backend.transmits[1].answer('6a81');
  await ticks(() => hexOut().length === 4, 'answer + FlushComplete');
  assert.deepEqual(hexOut().slice(2), ['07000000' + '00000000' + '02000000' + '6a81', '09000000' + '00000000' + '00000000']);
});

test('a failed transmit, an unknown reader id and a reader without card each get Error GENERAL_ERROR, in order', async () => {
  const { m, backend, msgs, errors } = shared([[R0, T0_ATR, 'T0']]);
  m.handleBytes(apduMsg(0, '00a4000c023f00'));
  m.handleBytes(apduMsg(5, '00a4000c023f00'));
  m.handleBytes(apduMsg(0, '00ca000000'));
  await ticks(() => backend.transmits.length === 1, 'transmit');
  backend.transmits[0].fail(new SmartcardError('TRANSMIT_FAILED', 'card mute'));
  await ticks(() => backend.transmits.length === 2, 'transmit after the failures');
  backend.transmits[1].answer('6a81');
  await ticks(() => msgs().length === 3, 'three answers');
  assert.deepEqual(msgs(), [
    { type: 2, readerId: 0, code: 1 },
    { type: 2, readerId: 5, code: 1 },
    { type: 7, readerId: 0, data: Uint8Array.of(0x6a, 0x81) },
  ]);
  assert.deepEqual(errors.map((e) => e[0]), ['TRANSMIT_FAILED', 'UNKNOWN_READER']);
  // Error payload as spice-gtk writes it: code little endian
  assert.equal(Buffer.from(encodeVscMessage(msgs()[0], 'le')).toString('hex'), '02000000' + '00000000' + '04000000' + '01000000');

  backend.removeCard(R0);
  assert.deepEqual(msgs()[3], { type: 6, readerId: 0 }, 'CardRemove');
  m.handleBytes(ack(0));
  m.handleBytes(apduMsg(0, '00a4000c023f00'));
  await ticks(() => msgs().length === 5, 'answer without card');
  assert.deepEqual(msgs()[4], { type: 2, readerId: 0, code: 1 });
  backend.insertCard(R0, T0_ATR, 'T0');
  assert.deepEqual(msgs()[5], { type: 5, readerId: 0, atr: Uint8Array.from(Buffer.from(T0_ATR, 'hex')) });
});

test('a second reader waits for the first answer; refused (CANNOT_ADD_MORE_READERS) it stays unshared', () => {
  const { m, msgs, errors } = setup([[R0, T0_ATR, 'T0'], [R1, T1_ATR, 'T1']]);
  assert.equal(msgs().length, 1);
  m.handleBytes(ack(0)); // R0 gets id 0 -> R0's ATR is queued behind R1's ReaderAdd
  assert.deepEqual(msgs().map((x) => x.type), [3, 3]);
  // spice-server's own refusal: reader_id UNDEFINED, code 2 in host order
  m.handleBytes(srv(2, 0xffffffff, '02000000'));
  assert.deepEqual(msgs().map((x) => x.type), [3, 3, 5]);
  assert.deepEqual(m.readers().map((r) => [r.name, r.state, r.vscId]), [[R0, 'shared', 0], [R1, 'rejected', null]]);
  assert.deepEqual(errors, [['READER_REFUSED', R1]]);
});

test('readers removed before or while being added: a queued add is dropped, an answered one is undone', () => {
  const { m, backend, msgs } = setup([[R0, null, 'T0'], [R1, null, 'T0']]);
  backend.removeReader(R1); // its ReaderAdd was still queued
  m.handleBytes(ack(0));
  assert.deepEqual(msgs().map((x) => x.type), [3], 'R1 never announced');
  backend.addReader(R1);
  backend.removeReader(R1); // ReaderAdd now in flight
  assert.deepEqual(msgs().map((x) => x.type), [3, 3]);
  m.handleBytes(ack(1));
  assert.deepEqual(msgs()[2], { type: 4, readerId: 1 }, 'ReaderRemove with the id the server just gave');
  assert.deepEqual(m.readers().map((r) => r.name), [R0]);
});

test('stop sharing a reader: CardRemove, ReaderRemove; resume: ReaderAdd, then the ATR', () => {
  const { m, msgs } = shared();
  m.setShared(R0, false);
  assert.deepEqual(msgs(), [{ type: 6, readerId: 0 }]);
  m.handleBytes(ack(0));
  assert.deepEqual(msgs()[1], { type: 4, readerId: 0 });
  m.handleBytes(ack(0));
  assert.equal(m.readers()[0].state, 'stopped');
  m.setShared(R0, true);
  assert.deepEqual(msgs()[2], { type: 3, readerId: 0xffffffff, name: R0 });
  m.handleBytes(ack(0));
  assert.deepEqual(msgs()[3], { type: 5, readerId: 0, atr: Uint8Array.from(Buffer.from('3b058073ff0100', 'hex')) });
  assert.throws(() => m.setShared('nope', false), (e: unknown) => e instanceof SmartcardError && e.code === 'UNKNOWN_READER');
});

test('a stopped reader stays stopped when it is unplugged and comes back (or pcscd restarts): nothing is offered', () => {
  const { m, msgs, backend } = shared();
  m.setShared(R0, false);
  m.handleBytes(ack(0)); // CardRemove
  m.handleBytes(ack(0)); // ReaderRemove
  const sent = msgs().length;
  backend.removeReader(R0);
  assert.deepEqual(m.readers(), []);
  backend.addReader(R0);
  backend.insertCard(R0, T1_ATR, 'T1');
  assert.equal(m.readers()[0].state, 'stopped');
  assert.equal(msgs().length, sent, 'no ReaderAdd for a reader the user stopped');
  m.setShared(R0, true);
  assert.deepEqual(msgs()[sent], { type: 3, readerId: 0xffffffff, name: R0 });
});

test('malformed or unexpected server messages are coded errors and change nothing', async () => {
  const { m, backend, msgs } = shared([[R0, T0_ATR, 'T0']]);
  const bad: [Uint8Array, string][] = [
    [srv(7, 0).subarray(0, 11), 'SHORT_READ'],
    [srv(42, 0), 'UNKNOWN_MESSAGE'],
    [srv(7, 0, ''), 'BAD_MESSAGE'], // empty APDU
    [srv(5, 0, T1_ATR), 'PROTOCOL'], // ATR only goes client -> server
  ];
  for (const [bytes, code] of bad) assert.throws(() => m.handleBytes(bytes), (e: unknown) => e instanceof SpiceError && e.code === code, code);
  assert.equal(m.pendingApdus, 0);
  m.handleBytes(apduMsg(0, '00a4000c023f00'));
  await ticks(() => backend.transmits.length === 1, 'still works');
  backend.transmits[0].answer('9000');
  await ticks(() => msgs().length === 1, 'answer');
});

test('Remove smartcard (in the viewer): CardRemove, APDUs refused, the card stays in the reader; Insert: its ATR again; out of the reader ends it', async () => {
  const { m, backend, msgs } = shared([[R0, T0_ATR, 'T0']]);
  m.setCardPresented(R0, false);
  assert.deepEqual(msgs(), [{ type: 6, readerId: 0 }], 'CardRemove');
  m.handleBytes(ack(0));
  assert.deepEqual(m.readers()[0], { name: R0, state: 'shared', vscId: 0, guestAtr: null, bridged: false, inUse: false, ejected: true });
  m.handleBytes(apduMsg(0, '00a4000c023f00'));
  await ticks(() => msgs().length === 2, 'answer while removed');
  assert.deepEqual(msgs()[1], { type: 2, readerId: 0, code: 1 }, 'no card for the guest: GENERAL_ERROR');
  assert.equal(backend.transmits.length, 0, 'nothing reached the card');
  m.setCardPresented(R0, false);
  assert.equal(msgs().length, 2, 'removing twice sends nothing');
  m.setCardPresented(R0, true);
  assert.deepEqual(msgs()[2], { type: 5, readerId: 0, atr: Uint8Array.from(Buffer.from(T0_ATR, 'hex')) }, 'ATR again');
  m.handleBytes(ack(0));
  assert.equal(m.readers()[0].ejected, false);
  // removed in the viewer, then taken out of the reader and put back: presented as it comes
  m.setCardPresented(R0, false);
  m.handleBytes(ack(0));
  backend.removeCard(R0);
  backend.insertCard(R0, T0_ATR, 'T0');
  assert.deepEqual(msgs().at(-1), { type: 5, readerId: 0, atr: Uint8Array.from(Buffer.from(T0_ATR, 'hex')) });
  assert.throws(() => m.setCardPresented('nope', true), (e: unknown) => e instanceof SmartcardError && e.code === 'UNKNOWN_READER');
});
