// Smartcard round trips on the pcscd + vpcd + vicc rig (test/harness/pcsc.ts):
// the host talking to the card directly through PcscBackend, and the same
// APDUs arriving as VSCard bytes at the SmartcardManager (the guest's path
// minus QEMU): APDUs per second, and the latency the client adds (VSCard
// APDU received → pcsclite transmit → VSCard answer sent, minus the transmit
// itself), median and p99. vicc is slow: its rate is the ceiling.
// Run: node --import tsx test/bench/smartcard.bench.ts   (N=200 by default)
import { performance } from 'node:perf_hooks';
import { PcscRig, READER_NAMES } from '../harness/pcsc';
import { PcscBackend } from '../../main/devices/smartcard/pcsc-backend';
import { SmartcardManager } from '../../main/devices/smartcard/manager';
import { encodeVscMessage, VscMessageType as V, type VscMessage } from '../../main/devices/smartcard/vscard';
import type { CardConnection, SmartcardBackend } from '../../main/devices/smartcard/backend';

const N = Number(process.env.N ?? 200);
const SELECT_MF = Uint8Array.of(0x00, 0xa4, 0x00, 0x0c, 0x02, 0x3f, 0x00);
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

/** The backend with each transmit timed, so the manager's own time can be told apart. */
function timed(b: SmartcardBackend, transmitMs: number[]): SmartcardBackend {
  return {
    start: () => b.start(),
    get serviceUp() {
      return b.serviceUp;
    },
    readers: () => b.readers(),
    onEvent: (l) => b.onEvent(l),
    close: () => b.close(),
    async connect(reader, opts): Promise<CardConnection> {
      const c = await b.connect(reader, opts);
      return {
        reader: c.reader,
        protocol: c.protocol,
        get open() {
          return c.open;
        },
        disconnect: (d) => c.disconnect(d),
        async transmit(apdu) {
          const t = performance.now();
          try {
            return await c.transmit(apdu);
          } finally {
            transmitMs.push(performance.now() - t);
          }
        },
      };
    },
  };
}

const rig = await PcscRig.start();
const backend = new PcscBackend();
try {
  await backend.start();
  await new Promise<void>((resolve) => {
    const check = () => backend.readers().some((r) => r.name === READER_NAMES[0] && r.card) && resolve();
    backend.onEvent(check);
    check();
  });

  // host → card directly
  const conn = await backend.connect(READER_NAMES[0]);
  const direct: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await conn.transmit(SELECT_MF);
    direct.push(performance.now() - t);
  }
  const directRate = N / ((performance.now() - t0) / 1000);
  await conn.disconnect();

  // VSCard APDU in → manager → pcsclite → VSCard APDU out
  const transmitMs: number[] = [];
  let answered: ((m: VscMessage) => void) | null = null;
  const m = new SmartcardManager({ backend: timed(backend, transmitMs), send: (msg) => answered?.(msg) });
  const acks: VscMessage[] = [];
  answered = (msg) => acks.push(msg);
  m.start();
  const ack = (id: number) => m.handleBytes(encodeVscMessage({ type: V.Error, readerId: id, code: 0 }, 'le'));
  ack(0); // ReaderAdd (reader 0) -> id 0
  ack(1); // ReaderAdd (reader 1) -> id 1
  ack(0); // ATR
  ack(1); // ATR
  const id = m.readers().find((r) => r.name === READER_NAMES[0])!.vscId!;
  const apduBytes = encodeVscMessage({ type: V.APDU, readerId: id, data: SELECT_MF }, 'le');
  const total: number[] = [];
  const t1 = performance.now();
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await new Promise<void>((resolve) => {
      answered = (msg) => {
        if (msg.type === V.APDU) resolve();
      };
      m.handleBytes(apduBytes);
    });
    total.push(performance.now() - t);
  }
  const viaRate = N / ((performance.now() - t1) / 1000);
  const added = total.map((t, i) => t - transmitMs[i]);
  m.close();

  console.log(`smartcard round trips, ${N} SELECT MF on vicc (T=1) through pcscd/vpcd`);
  console.log(`  host direct (PcscBackend):   ${directRate.toFixed(1)} APDU/s, median ${fmt(pct(direct, 50))}, p99 ${fmt(pct(direct, 99))}`);
  console.log(`  via SmartcardManager:        ${viaRate.toFixed(1)} APDU/s, median ${fmt(pct(total, 50))}, p99 ${fmt(pct(total, 99))}`);
  console.log(`  added by the client:         median ${fmt(pct(added, 50))}, p99 ${fmt(pct(added, 99))}`);
} finally {
  await backend.close();
  await rig.stop();
}
