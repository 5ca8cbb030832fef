// Issue 11 acceptance, end to end: the client's readers (pcscd + vpcd + two
// vicc cards, test/harness/pcsc.ts) shared by our engine (Session + the
// smartcard device manager) with a QEMU 7.2 guest that has a usb-ccid reader
// with ccid-card-passthru on spicevmc. spice-server takes one smartcard
// chardev (a second one asserts in smartcard_init) and binds it to the channel,
// so one client reader is offered and the other waits; stopping the first
// offers the second, and the guest's reader gets the other card. Inside the guest, Debian's pcscd + libccid + opensc-tool
// (the GUEST_SMARTCARD=1 flavour of scripts/build-guest.sh) list the reader,
// read the card's ATR (the T=1 card bridged to T=0, the T=0 card unchanged),
// SELECT MF gets 90 00 and GET CHALLENGE 8 bytes + 90 00 on both cards, and a
// card removed and put back on the client is seen by the guest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
// the rig first: it sets PCSCLITE_CSOCK_NAME before libpcsclite is loaded
import { PcscRig, READER_NAMES, VICC_T0_ATR, VICC_T1_ATR } from '../harness/pcsc';
import { QemuVm } from '../harness/qemu';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';
import { SmartcardDevices } from '../../main/devices/smartcard/device-manager';
import { PcscBackend } from '../../main/devices/smartcard/pcsc-backend';
import { CCID_ARGS, colonHex as colon, guestSc, startGuestPcscd, useSmartcardGuest } from '../helpers/smartcard-guest';

useSmartcardGuest();

const [R0, R1] = READER_NAMES;
const BRIDGED_ATR = '3b058073ff0100';

/** What the guest must read for the card in each client reader. */
const GUEST_ATR: Record<string, string> = { [R0]: BRIDGED_ATR, [R1]: VICC_T0_ATR };
const CARD_ATR: Record<string, string> = { [R0]: VICC_T1_ATR, [R1]: VICC_T0_ATR };

let rig: PcscRig;
let vm: QemuVm;
let session: Session;
let devices: SmartcardDevices;
let backend: PcscBackend;
const serviceEvents: string[] = [];
const clientErrors: string[] = [];

const sc = (args: string) => guestSc(vm, args);

/** opensc-tool -l: reader number -> card present. */
async function guestReaders(): Promise<{ nr: number; card: boolean; name: string }[]> {
  const { lines } = await sc('-l');
  return lines
    .map((l) => /^(\d+)\s+(Yes|No)\s+(.*)$/.exec(l.trim()))
    .filter((m): m is RegExpExecArray => !!m)
    .map((m) => ({ nr: Number(m[1]), card: m[2] === 'Yes', name: m[3].trim() }));
}

async function pollGuest<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  let last: T;
  for (;;) {
    last = await probe();
    if (ok(last)) return last;
    if (Date.now() > end) throw new Error(`guest never showed ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

before(async () => {
  rig = await PcscRig.start({ cards: [VICC_T1_ATR, VICC_T0_ATR] });
  vm = await QemuVm.start({ name: 'smartcard', extraArgs: CCID_ARGS });
  // pcscd without udevd sees only the readers present when it starts
  await startGuestPcscd(vm);
  backend = new PcscBackend({ retryMinMs: 100, retryMaxMs: 500 });
  backend.onEvent((e) => serviceEvents.push(e.type));
  devices = new SmartcardDevices({ backend, onError: (e, r) => clientErrors.push(`${e.code} ${r ?? ''}: ${e.message}`) });
  session = new Session({ endpoint: { host: '127.0.0.1', port: vm.spicePort }, transport: defaultTransportFactory, devices: [devices] });
  await session.connect();
});

after(async () => {
  session?.disconnect();
  await vm?.stop();
  await rig?.stop();
});

/** Waits (with a deadline) until the client's readers satisfy pred. */
async function clientShares(pred: () => boolean, what: string): Promise<void> {
  const end = Date.now() + 30_000;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`client: ${what}: ${JSON.stringify(devices.readers())}; errors: ${clientErrors.join('; ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const stateOf = (name: string) => devices.readers().find((r) => r.name === name);
let first = '';

/** The ATR opensc-tool reads in guest reader 0 (colon hex), or null with no card. */
async function guestAtrRead(): Promise<string | null> {
  const { lines, rc } = await sc('-r 0 -a');
  return rc === 0 ? (lines.find((l) => /^[0-9a-f]{2}(:[0-9a-f]{2})+$/.test(l.trim()))?.trim() ?? null) : null;
}

async function apdusAnswered(): Promise<void> {
  const { lines, rc } = await sc('-r 0 -s 00A4000C023F00 -s 0084000008');
  assert.equal(rc, 0, lines.join('\n'));
  const received = lines.filter((l) => l.startsWith('Received'));
  assert.equal(received.length, 2, lines.join('\n'));
  assert.match(received[0], /SW1=0x90, SW2=0x00/);
  assert.match(received[1], /SW1=0x90, SW2=0x00/);
  // GET CHALLENGE answers 8 random bytes, printed after its Received line
  const i = lines.indexOf(received[1]);
  const data = (lines[i + 1] ?? '').trim().split(/\s+/).filter((w) => /^[0-9A-F]{2}$/.test(w));
  assert.equal(data.length, 8, lines.join('\n'));
}

test('the guest lists the CCID reader with the card and reads the ATR the client presents; the second client reader waits', async () => {
  await clientShares(() => devices.readers().some((r) => r.state === 'shared' && r.guestAtr) && devices.readers().some((r) => r.state === 'waiting'), 'one reader shared, one waiting');
  first = devices.readers().find((r) => r.state === 'shared')!.name;
  assert.equal(stateOf(first)!.guestAtr, GUEST_ATR[first]);
  assert.equal(stateOf(first)!.bridged, first === R0);
  const readers = await pollGuest('a reader with a card', guestReaders, (l) => l.length === 1 && l[0].card);
  assert.match(readers[0].name, /CCID/);
  assert.equal(await guestAtrRead(), colon(GUEST_ATR[first]));
});

test('APDUs from the guest reach the card: SELECT MF 90 00, GET CHALLENGE 8 bytes + 90 00', async () => {
  await apdusAnswered();
  assert.equal(stateOf(first)!.inUse, true);
  assert.deepEqual(clientErrors, []);
});

test('a card removed and put back on the client is seen by the guest', async (t) => {
  const slot = READER_NAMES.indexOf(first as (typeof READER_NAMES)[number]);
  // figures for "the guest sees it within a second": the client's part (pcscd's event → the
  // VSCard message sent) and what the guest's opensc-tool shows (its polling under TCG adds to it)
  let t0 = Date.now();
  await rig.removeCard(slot);
  await clientShares(() => stateOf(first)?.guestAtr === null, 'the card removal forwarded');
  const clientOut = Date.now() - t0;
  await pollGuest('the card gone', guestReaders, (l) => l.length === 1 && !l[0].card);
  const guestOut = Date.now() - t0;
  t0 = Date.now();
  await rig.insertCard(slot, CARD_ATR[first]);
  await clientShares(() => !!stateOf(first)?.guestAtr, 'the card insertion forwarded');
  const clientIn = Date.now() - t0;
  await pollGuest('the card back', guestReaders, (l) => l.length === 1 && l[0].card);
  const guestIn = Date.now() - t0;
  t.diagnostic(`card removed: client forwarded it after ${clientOut} ms, the guest's opensc-tool -l showed it after ${guestOut} ms; inserted: ${clientIn} ms / ${guestIn} ms`);
  assert.equal(await guestAtrRead(), colon(GUEST_ATR[first]));
  await apdusAnswered();
});

test('File → Remove smartcard: the guest sees no card while it stays in the client reader; Insert smartcard: the guest has it again and its APDUs work', async () => {
  devices.setCardsPresented(false);
  await clientShares(() => stateOf(first)?.ejected === true && stateOf(first)?.guestAtr === null, 'the card taken away in the viewer');
  await pollGuest('the card gone', guestReaders, (l) => l.length === 1 && !l[0].card);
  assert.ok(backend.readers().find((r) => r.name === first)?.card, 'still in the client reader (pcscd shows it)');
  devices.setCardsPresented(true);
  await clientShares(() => stateOf(first)?.ejected === false && !!stateOf(first)?.guestAtr, 'the card presented again');
  await pollGuest('the card back', guestReaders, (l) => l.length === 1 && l[0].card);
  assert.equal(await guestAtrRead(), colon(GUEST_ATR[first]));
  await apdusAnswered();
});

test('stop sharing the reader: the waiting one is offered and the guest reader gets the other card (T=1 bridged and T=0 both used)', async () => {
  const second = first === R0 ? R1 : R0;
  devices.setShared(first, false);
  await clientShares(() => stateOf(second)?.state === 'shared' && !!stateOf(second)?.guestAtr, `${second} shared`);
  assert.equal(stateOf(first)!.state, 'stopped');
  await pollGuest(`the card of ${second}`, guestAtrRead, (a) => a === colon(GUEST_ATR[second]));
  await apdusAnswered();
});

test('pcscd restarted on the client: the client recovers by itself and the guest gets the card back', async () => {
  const shared = devices.readers().find((r) => r.state === 'shared')!.name;
  const from = serviceEvents.length;
  await rig.restartPcscd();
  await clientShares(() => serviceEvents.slice(from).includes('service-up') && stateOf(shared)?.state === 'shared' && !!stateOf(shared)?.guestAtr, `${shared} shared again`);
  assert.ok(serviceEvents.slice(from).includes('service-down'), `pcscd loss seen: ${serviceEvents.slice(from).join(' ')}`);
  assert.equal(session.state, 'connected');
  await pollGuest('the card back after the restart', guestAtrRead, (a) => a === colon(GUEST_ATR[shared]));
  await apdusAnswered();
});
