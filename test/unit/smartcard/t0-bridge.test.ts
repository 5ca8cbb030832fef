// T0Bridge: the guest speaks T=0 TPDUs (case 4 without Le, 61xx / GET RESPONSE),
// the card is driven over T=1. The card here is a script: the commands it is
// sent are recorded and it answers from a table, so each test states exactly
// what reaches the card and what the guest gets back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { T0Bridge } from '../../../main/devices/smartcard/t0-bridge';
import { SmartcardError } from '../../../main/devices/smartcard/backend';

const fromHex = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function card(answers: Record<string, string>) {
  const sent: string[] = [];
  const transmit = async (apdu: Uint8Array) => {
    const h = hex(apdu);
    sent.push(h);
    const a = answers[h];
    if (a === undefined) throw new Error(`card: unexpected command ${h}`);
    return fromHex(a);
  };
  return { sent, transmit };
}

const DATA20 = '00112233445566778899aabbccddeeff01020304';
const SELECT_AID = '00a4040007a0000000030000'; // case 4 as a T=0 TPDU: no Le

test('T=0 card: everything passes through untouched', async () => {
  const b = new T0Bridge('T0');
  assert.equal(b.active, false);
  const c = card({ [SELECT_AID]: '6114', '00c0000014': DATA20 + '9000' });
  assert.equal(hex(await b.exchange(fromHex(SELECT_AID), c.transmit)), '6114');
  assert.equal(hex(await b.exchange(fromHex('00c0000014'), c.transmit)), DATA20 + '9000');
  assert.deepEqual(c.sent, [SELECT_AID, '00c0000014']);
});

test('T=1 card, case 4: sent with Le 00, the guest gets 61 xx, then the data from GET RESPONSE', async () => {
  const b = new T0Bridge('T1');
  const c = card({ [SELECT_AID + '00']: DATA20 + '9000' });
  assert.equal(hex(await b.exchange(fromHex(SELECT_AID), c.transmit)), '6114');
  assert.equal(b.pendingLength, 20);
  assert.equal(hex(await b.exchange(fromHex('00c0000014'), c.transmit)), DATA20 + '9000');
  assert.equal(b.pendingLength, 0);
  assert.deepEqual(c.sent, [SELECT_AID + '00'], 'GET RESPONSE is answered by the bridge, not sent to the card');
});

test('GET RESPONSE in pieces: 61 xx for the rest, the card SW (a warning too) with the last piece', async () => {
  const b = new T0Bridge('T1');
  const c = card({ [SELECT_AID + '00']: DATA20 + '6283' });
  assert.equal(hex(await b.exchange(fromHex(SELECT_AID), c.transmit)), '6114');
  assert.equal(hex(await b.exchange(fromHex('00c0000008'), c.transmit)), DATA20.slice(0, 16) + '610c');
  assert.equal(hex(await b.exchange(fromHex('00c000000c'), c.transmit)), DATA20.slice(16) + '6283');
  assert.equal(c.sent.length, 1);
});

test('GET RESPONSE asking for more than is left: 6C xx, and the data stays for the retry', async () => {
  const b = new T0Bridge('T1');
  const c = card({ [SELECT_AID + '00']: DATA20 + '9000' });
  await b.exchange(fromHex(SELECT_AID), c.transmit);
  assert.equal(hex(await b.exchange(fromHex('00c0000020'), c.transmit)), '6c14');
  assert.equal(hex(await b.exchange(fromHex('00c0000000'), c.transmit)), '6c14'); // Le 00 = 256
  assert.equal(hex(await b.exchange(fromHex('00c0000014'), c.transmit)), DATA20 + '9000');
});

test('256 bytes of response: 61 00, GET RESPONSE with Le 00 takes them all', async () => {
  const b = new T0Bridge('T1');
  const big = 'ab'.repeat(256);
  const c = card({ [SELECT_AID + '00']: big + '9000' });
  assert.equal(hex(await b.exchange(fromHex(SELECT_AID), c.transmit)), '6100');
  assert.equal(hex(await b.exchange(fromHex('00c0000000'), c.transmit)), big + '9000');
});

test('a case-3 command (no response data) returns the card SW, nothing is kept', async () => {
  const b = new T0Bridge('T1');
  const verify = '0020008108313233340000000000'.slice(0, 26); // VERIFY, Lc 08
  const c = card({ [verify + '00']: '9000', '00c0000000': '6985' });
  assert.equal(hex(await b.exchange(fromHex(verify), c.transmit)), '9000');
  assert.equal(b.pendingLength, 0);
  // with nothing kept, GET RESPONSE goes to the card
  assert.equal(hex(await b.exchange(fromHex('00c0000000'), c.transmit)), '6985');
  assert.deepEqual(c.sent, [verify + '00', '00c0000000']);
});

test('a card refusing the added Le (67 00) gets the command again as the guest sent it', async () => {
  const b = new T0Bridge('T1');
  const cmd = '80e2000003010203';
  const c = card({ [cmd + '00']: '6700', [cmd]: '9000' });
  assert.equal(hex(await b.exchange(fromHex(cmd), c.transmit)), '9000');
  assert.deepEqual(c.sent, [cmd + '00', cmd]);
});

test('5-byte TPDUs (case 1/2) and the card\'s own 61xx / 6Cxx pass through unchanged', async () => {
  const b = new T0Bridge('T1');
  const c = card({ '0084000008': '0102030405060708' + '9000', '00b0000000': '6c10', ['00880000080102030405060708' + '00']: '6108' });
  assert.equal(hex(await b.exchange(fromHex('0084000008'), c.transmit)), '01020304050607089000');
  assert.equal(hex(await b.exchange(fromHex('00b0000000'), c.transmit)), '6c10');
  assert.equal(hex(await b.exchange(fromHex('00880000080102030405060708'), c.transmit)), '6108');
  assert.equal(b.pendingLength, 0);
  assert.deepEqual(c.sent, ['0084000008', '00b0000000', '00880000080102030405060708' + '00']);
});

test('any other command drops what was kept (as a T=0 card forgets its pending response)', async () => {
  const b = new T0Bridge('T1');
  const c = card({ [SELECT_AID + '00']: DATA20 + '9000', ['00a4000c023f00' + '00']: '9000', '00c0000014': '6f00' });
  await b.exchange(fromHex(SELECT_AID), c.transmit);
  assert.equal(hex(await b.exchange(fromHex('00a4000c023f00'), c.transmit)), '9000');
  assert.equal(b.pendingLength, 0);
  assert.equal(hex(await b.exchange(fromHex('00c0000014'), c.transmit)), '6f00', 'went to the card');
  b.reset();
});

test('bad input: a command under 4 bytes is BAD_APDU; a card answer without SW is TRANSMIT_FAILED', async () => {
  const b = new T0Bridge('T1');
  const c = card({ [SELECT_AID + '00']: '90' });
  await assert.rejects(b.exchange(fromHex('00a400'), c.transmit), (e: unknown) => e instanceof SmartcardError && e.code === 'BAD_APDU');
  await assert.rejects(b.exchange(fromHex(SELECT_AID), c.transmit), (e: unknown) => e instanceof SmartcardError && e.code === 'TRANSMIT_FAILED');
  assert.equal(c.sent.length, 1);
});
