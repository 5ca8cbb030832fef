// The smartcard device manager on the real engine: a Session linked to an
// in-memory SPICE server that lists a smartcard channel, the real channel
// classes, and a scripted reader backend. Server-side VSCard bytes are built
// by hand (header little endian, as spice-server puts it on the smartcard
// channel); what the client sends is read back from the SPICE DATA messages,
// which must each hold exactly one VSCard message (spice-server asserts it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../../main/spice/session';
import { Channel as ChannelType, MsgcSpicevmc, MsgSpicevmc } from '../../../main/spice/protocol/enums';
import { SmartcardDevices, smartcardDevicesFor } from '../../../main/devices/smartcard/device-manager';
import { planLaunch } from '../../../main/app/launch';
import type { EffectiveConfig } from '../../../main/config/effective';
import { FakeSpiceServer, until, type FakeLink } from '../../helpers/fake-spice-server';
import { miniMsg } from '../../helpers/spice-bytes';
import { ScriptedBackend } from './scripted-backend';
import { SmartcardError } from '../../../main/devices/smartcard/backend';
import { vscBytes, vscError } from './vsc-bytes';

const T1_ATR = '3b951381018073ff01000b';
const T0_ATR = '3b15138073ff0100';
const R0 = 'Virtual PCD 00 00';
const R1 = 'Virtual PCD 00 01';
const VSC = { Init: 1, Error: 2, ReaderAdd: 3, ReaderRemove: 4, ATR: 5, CardRemove: 6, APDU: 7, Flush: 8, FlushComplete: 9 };

/** A VSCard message as spice-server sends it, in one SMARTCARD_DATA message. */
const vsc = (type: number, readerId: number, payloadHex = '') => miniMsg(MsgSpicevmc.DATA, vscBytes(type, readerId, payloadHex));
const errorMsg = (readerId: number, code = 0) => miniMsg(MsgSpicevmc.DATA, vscError(readerId, code));

interface Got {
  type: number;
  readerId: number;
  payload: string;
}

/** The client's VSCard messages on the smartcard link, one per DATA message, decoded by hand. */
function received(l: FakeLink): Got[] {
  return l.messages
    .filter((m) => m.type === MsgcSpicevmc.DATA)
    .map((m) => {
      const b = Buffer.from(m.body);
      const len = b.readUInt32LE(8);
      assert.equal(b.length, 12 + len, 'one VSCard message per SPICE message');
      return { type: b.readUInt32LE(0), readerId: b.readUInt32LE(4), payload: b.subarray(12).toString('hex') };
    });
}

async function linked(readers: [string, string, 'T0' | 'T1'][]) {
  const srv = new FakeSpiceServer();
  srv.channels = [
    { type: ChannelType.SMARTCARD, id: 0 },
    { type: ChannelType.USBREDIR, id: 0 },
  ];
  const backend = new ScriptedBackend();
  for (const [name, atr, proto] of readers) {
    backend.addReader(name);
    backend.insertCard(name, atr, proto);
  }
  const errors: string[] = [];
  const devices = new SmartcardDevices({ backend, onError: (e, r) => errors.push(`${e.code} ${r ?? ''}`) });
  const s = new Session({ endpoint: { host: '127.0.0.1', port: 5900 }, transport: srv.factory, devices: [devices] });
  await s.connect();
  const sc = srv.link(ChannelType.SMARTCARD)!;
  const got = () => received(sc);
  return { srv, s, sc, got, backend, devices, errors };
}

test('smartcard channel: ReaderAdd, reader id from the answer, bridged ATR, APDUs in order with one in flight, card out and in', async () => {
  const { s, sc, got, backend, devices } = await linked([[R0, T1_ATR, 'T1']]);
  // ReaderAdd (no reader id yet), name without NUL
  await until(() => got().length === 1, 'ReaderAdd');
  assert.deepEqual(got()[0], { type: VSC.ReaderAdd, readerId: 0xffffffff, payload: Buffer.from(R0).toString('hex') });
  assert.equal(devices.readers()[0].state, 'adding');

  // spice-server answers with the reader id it assigned (here 0): the ATR follows, bridged to T=0
  sc.send(errorMsg(0));
  await until(() => got().length === 2, 'ATR');
  assert.deepEqual(got()[1], { type: VSC.ATR, readerId: 0, payload: '3b058073ff0100' });
  sc.send(errorMsg(0));
  await until(() => devices.readers()[0]?.guestAtr === '3b058073ff0100', 'reader shared');
  assert.equal(devices.readers()[0].bridged, true);

  // the guest sends two APDUs back to back: the second waits for the first's answer
  sc.send(vsc(VSC.APDU, 0, '00a4000c023f00'));
  sc.send(vsc(VSC.APDU, 0, '00ca000000'));
  await until(() => backend.transmits.length === 1, 'first transmit');
  // T=1 card: the T=0 bridge sends a command with data as case 4 (Le 00), see t0-bridge.ts
  assert.deepEqual(backend.sent, ['00a4000c023f0000']);
  backend.transmits.shift()!.answer('9000');
  await until(() => got().length === 3 && backend.transmits.length === 1, 'first answer, second transmit');
  assert.deepEqual(got()[2], { type: VSC.APDU, readerId: 0, payload: '9000' });
  assert.deepEqual(backend.sent, ['00a4000c023f0000', '00ca000000']);
  backend.transmits.shift()!.answer('6a81');
  await until(() => got().length === 4, 'second answer');
  assert.deepEqual(got()[3], { type: VSC.APDU, readerId: 0, payload: '6a81' });
  assert.equal(devices.readers()[0].inUse, true);

  // card removed on the client: CardRemove; put back: its ATR again
  backend.removeCard(R0);
  await until(() => got().length === 5, 'CardRemove');
  assert.deepEqual(got()[4], { type: VSC.CardRemove, readerId: 0, payload: '' });
  sc.send(errorMsg(0));
  backend.insertCard(R0, T1_ATR, 'T1');
  await until(() => got().length === 6, 'ATR after insertion');
  assert.deepEqual(got()[5], { type: VSC.ATR, readerId: 0, payload: '3b058073ff0100' });
  sc.send(errorMsg(0));

  // nothing went to the usbredir channel, and every message was a DATA message
  assert.deepEqual(sc.messages.filter((m) => m.type !== MsgcSpicevmc.DATA), []);
  s.disconnect();
  assert.equal(devices.manager, null, 'manager dropped with the channel');
});

test('one reader at a time (spice-server binds one device per channel): the second waits and takes over when the first is stopped', async () => {
  const { s, sc, got, backend, devices } = await linked([
    [R0, T1_ATR, 'T1'],
    [R1, T0_ATR, 'T0'],
  ]);
  await until(() => got().length === 1, 'ReaderAdd');
  sc.send(errorMsg(0));
  await until(() => got().length === 2, 'ATR of R0');
  assert.deepEqual(got()[1], { type: VSC.ATR, readerId: 0, payload: '3b058073ff0100' });
  sc.send(errorMsg(0));
  await until(() => devices.readers().find((r) => r.name === R0)?.guestAtr !== null, 'R0 shared');
  assert.deepEqual(
    devices.readers().map((r) => [r.name, r.state]),
    [
      [R0, 'shared'],
      [R1, 'waiting'],
    ],
  );
  assert.equal(got().length, 2, 'no ReaderAdd for the second reader');
  // the Devices panel's lines (File → USB devices and smartcards)
  assert.deepEqual(devices.entries(), [
    { kind: 'smartcard', id: R0, label: R0, detail: 'card inserted (T=1 card bridged to T=0)', state: 'shared', shared: true },
    { kind: 'smartcard', id: R1, label: R1, detail: 'waiting: the VM takes one reader at a time (stop sharing the other to use this one)', state: 'waiting', shared: false },
  ]);

  // the user stops sharing R0: its card and reader go, then R1 is offered in its place
  await devices.setShared(R0, false);
  await until(() => got().length === 3, 'CardRemove');
  assert.deepEqual(got()[2], { type: VSC.CardRemove, readerId: 0, payload: '' });
  sc.send(errorMsg(0));
  await until(() => got().length === 4, 'ReaderRemove');
  assert.deepEqual(got()[3], { type: VSC.ReaderRemove, readerId: 0, payload: '' });
  sc.send(errorMsg(0));
  await until(() => got().length === 5, 'ReaderAdd of R1');
  assert.deepEqual(got()[4], { type: VSC.ReaderAdd, readerId: 0xffffffff, payload: Buffer.from(R1).toString('hex') });
  sc.send(errorMsg(0));
  await until(() => got().length === 6, 'ATR of R1');
  assert.deepEqual(got()[5], { type: VSC.ATR, readerId: 0, payload: T0_ATR }, 'a T=0 card keeps its ATR');
  sc.send(errorMsg(0));

  sc.send(vsc(VSC.APDU, 0, '0084000008'));
  await until(() => backend.transmits.length === 1, 'transmit on R1');
  assert.equal(backend.transmits[0].reader, R1);
  backend.transmits.shift()!.answer('01020304050607089000');
  await until(() => got().length === 7, 'answer');
  assert.deepEqual(got()[6], { type: VSC.APDU, readerId: 0, payload: '01020304050607089000' });
  assert.deepEqual(
    devices.readers().map((r) => [r.name, r.state]),
    [
      [R0, 'stopped'],
      [R1, 'shared'],
    ],
  );
  assert.deepEqual(devices.entries().map((e) => [e.id, e.detail, e.shared, e.inUse ?? false]), [
    [R0, 'not shared', false, false],
    [R1, 'card in use by the guest', true, true],
  ]);
  s.disconnect();
});

test('pcscd away: the panel says why while no reader is listed, and stops saying it once pcscd is back', async () => {
  const { s, sc, got, backend, devices } = await linked([[R0, T0_ATR, 'T0']]);
  await until(() => got().length === 1, 'ReaderAdd');
  sc.send(errorMsg(0));
  await until(() => devices.entries()[0]?.state === 'shared', 'R0 shared');
  backend.serviceDown(new SmartcardError('SERVICE_LOST', 'pcscd is not running (start it: systemctl start pcscd)'));
  await until(() => devices.entries()[0]?.state === 'error', 'the problem listed');
  assert.deepEqual(devices.entries(), [
    { kind: 'smartcard', id: '', label: 'Smartcard readers', detail: '', state: 'error', shared: false, error: 'pcscd is not running (start it: systemctl start pcscd)' },
  ]);
  backend.serviceBack();
  assert.deepEqual(devices.entries(), [], 'pcscd is back with no reader yet: nothing stale');
  s.disconnect();
});

test('a card answer too big for one SPICE message (spice-server asserts one VSCard per message) becomes Error GENERAL_ERROR', async () => {
  const { s, sc, got, backend, errors } = await linked([[R1, T0_ATR, 'T0']]);
  await until(() => got().length === 1, 'ReaderAdd');
  sc.send(errorMsg(0));
  await until(() => got().length === 2, 'ATR');
  sc.send(errorMsg(0));
  sc.send(vsc(VSC.APDU, 0, '00b0000000ffff')); // READ BINARY, extended Le
  await until(() => backend.transmits.length === 1, 'transmit');
  backend.transmits.shift()!.answer('ab'.repeat(65530) + '9000');
  await until(() => got().length === 3, 'answer');
  assert.deepEqual(got()[2], { type: VSC.Error, readerId: 0, payload: '01000000' });
  assert.deepEqual(errors, ['TRANSMIT_FAILED ']);
  // the next APDU is served as usual
  sc.send(vsc(VSC.APDU, 0, '00ca000000'));
  await until(() => backend.transmits.length === 1, 'second transmit');
  backend.transmits.shift()!.answer('6a81');
  await until(() => got().length === 4, 'second answer');
  assert.deepEqual(got()[3], { type: VSC.APDU, readerId: 0, payload: '6a81' });
  s.disconnect();
});

test('malformed VSCard from the server: coded error on the smartcard channel, the session lives', async () => {
  const { s, sc, got, devices } = await linked([[R0, T1_ATR, 'T1']]);
  await until(() => got().length === 1, 'ReaderAdd');
  // header says 8 payload bytes, the message has 2
  const bad = Buffer.alloc(14);
  bad.writeUInt32LE(VSC.APDU, 0);
  bad.writeUInt32LE(0, 4);
  bad.writeUInt32LE(8, 8);
  sc.send(miniMsg(MsgSpicevmc.DATA, Uint8Array.from(bad)));
  await until(() => s.linkFailures.length === 1, 'smartcard channel failed');
  assert.equal(s.linkFailures[0].name, 'smartcard 0');
  assert.match(s.linkFailures[0].error.code, /^(SHORT_READ|PROTOCOL|BAD_MESSAGE)$/);
  assert.equal(s.state, 'connected');
  assert.equal(devices.manager, null, 'the manager was told and dropped the channel');
  s.disconnect();
});

test('a VSCard message the client never receives (ReaderAdd from the server): coded PROTOCOL failure of that channel only', async () => {
  const { s, sc, got } = await linked([[R0, T1_ATR, 'T1']]);
  await until(() => got().length === 1, 'ReaderAdd');
  sc.send(vsc(VSC.ReaderAdd, 0, '41'));
  await until(() => s.linkFailures.length === 1, 'smartcard channel failed');
  assert.equal(s.linkFailures[0].error.code, 'PROTOCOL');
  assert.equal(s.state, 'connected');
  s.disconnect();
});

async function config(args: string[]): Promise<EffectiveConfig> {
  const p = await planLaunch(args, { env: {} });
  assert.equal(p.kind, 'run');
  return (p as { config: EffectiveConfig }).config;
}

test('the controller factory: a smartcard manager only with --spice-smartcard', async () => {
  const backend = () => new ScriptedBackend();
  assert.deepEqual(smartcardDevicesFor(await config(['spice://127.0.0.1:5999']), { backend }), []);
  const on = smartcardDevicesFor(await config(['--spice-smartcard', 'spice://127.0.0.1:5999']), { backend });
  assert.equal(on.length, 1);
  assert.ok(on[0] instanceof SmartcardDevices);
  assert.deepEqual(on[0].channelTypes, [ChannelType.SMARTCARD]);
});
