// Soak test (npm run test:soak; not part of npm test until it is reliably green —
// see the migration issue): ten consecutive seamless ping-pong migrations (A→B→A…, a fresh -incoming
// QEMU each time) with traffic running the whole time: a byte stream client →
// guest on the port channel (guest checks length + FNV-1a) and guest → client
// records "SEQ k" (client checks the sequence has no gap) must lose nothing;
// keystrokes typed continuously must arrive in order and never doubled (the
// count QEMU drops while the VM is stopped for the switch is reported).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMigratableVm, startDestination, migrate, finishSource, serialAcross, guestCrash, TEST_PORT_NAME } from '../harness/migration';
import type { QemuVm } from '../harness/qemu';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';
import type { MigrationStatus } from '../../preload/contract';
import { sleep } from '../helpers/client';

const MIGRATIONS = Number(process.env.MIGRATIONS ?? 10);
const vms: QemuVm[] = [];
let stopTraffic: () => void = () => {};
after(async () => {
  stopTraffic(); // a failed assertion must not leave the typist/writer loops running
  for (const vm of vms) await vm.stop();
});

/** FNV-1a 32, as the guest computes it. */
function fnv(h: number, bytes: Uint8Array): number {
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

// set-1 scancodes of a..z → Linux keycodes are the same numbers for these keys
const KEYS = [0x1e, 0x30, 0x2e, 0x20, 0x12, 0x21, 0x22, 0x23, 0x17, 0x24, 0x25, 0x26, 0x32, 0x31, 0x18, 0x19, 0x10, 0x13, 0x1f, 0x14, 0x16, 0x2f, 0x11, 0x2d, 0x15, 0x2c];

test(`${MIGRATIONS} seamless ping-pong migrations lose no port byte and never reorder or double a key`, async () => {
  const src = await startMigratableVm();
  vms.push(src);
  const statuses: MigrationStatus[] = [];
  const s = new Session({
    endpoint: { host: '127.0.0.1', port: src.spicePort },
    transport: defaultTransportFactory,
    onMigration: (m) => statuses.push(m),
    log: process.env.MIG_DEBUG ? { debug: () => {}, info: (m) => console.log('I', m), warn: (m) => console.log('W', m) } : undefined,
  });
  await s.connect();
  const t0 = Date.now();
  while (!s.port(TEST_PORT_NAME)) {
    if (Date.now() - t0 > 10000) assert.fail('no PORT_INIT for the test port');
    await sleep(20);
  }
  const port = s.port(TEST_PORT_NAME)!;

  // guest → client: "SEQ k\n" records
  let rxText = '';
  port.onData = (b) => (rxText += Buffer.from(b).toString('latin1'));
  const firstSerial = src.serialLines().length;
  const records = 400 + MIGRATIONS * 150;
  await src.command(`portsend ${records} 10`, /GUEST OK portsend/);

  // client → guest: deterministic bytes every 5 ms; keys every 25 ms
  let sentBytes = 0;
  let sentFnv = 0x811c9dc5;
  let seed = 1;
  const typed: number[] = [];
  let running = true;
  const writer = (async () => {
    while (running) {
      const chunk = new Uint8Array(257 + (seed % 700));
      for (let i = 0; i < chunk.length; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        chunk[i] = seed >>> 24;
      }
      port.write(chunk);
      sentBytes += chunk.length;
      sentFnv = fnv(sentFnv, chunk);
      await sleep(5);
    }
  })();
  const typist = (async () => {
    let k = 0;
    while (running) {
      const sc = KEYS[k++ % KEYS.length];
      s.input({ t: 'key', scancode: sc, down: true });
      s.input({ t: 'key', scancode: sc, down: false });
      typed.push(sc);
      await sleep(25);
    }
  })();

  stopTraffic = () => {
    running = false;
    s.disconnect();
  };
  // ping-pong
  const chain: QemuVm[] = [src];
  let cur = src;
  for (let i = 0; i < MIGRATIONS; i++) {
    const dst = await startDestination(cur);
    vms.push(dst);
    chain.push(dst);
    const before = statuses.filter((m) => m.phase === 'done' || m.phase === 'failed').length;
    await migrate(cur, dst);
    const t1 = Date.now();
    let outcome: MigrationStatus | undefined;
    while (!(outcome = statuses.filter((m) => m.phase === 'done' || m.phase === 'failed')[before])) {
      if (Date.now() - t1 > 20000) assert.fail(`migration ${i + 1}: client never finished`);
      await sleep(20);
    }
    assert.equal(outcome.phase, 'done', `migration ${i + 1}: ${outcome.message}`);
    assert.equal(outcome.mode, 'seamless', `migration ${i + 1} mode`);
    const dropped = outcome.channels.reduce((n, c) => n + c.droppedBytes, 0);
    assert.equal(dropped, 0, `migration ${i + 1}: dropped bytes`);
    const fin = await finishSource(cur);
    assert.ok(fin.completed, `migration ${i + 1}: source SPICE_MIGRATE_COMPLETED`);
    cur = dst;
  }
  running = false;
  await Promise.all([writer, typist]);
  // TCG guests occasionally oops after a migration on a loaded host: say so instead of a confusing count
  const crash = serialAcross(chain, firstSerial).find((l) => /Oops|Kernel panic|BUG:|general protection|stack-protector/.test(l)) ?? guestCrash(cur);
  assert.equal(crash, null, `guest kernel crashed after migration: ${crash}`);
  assert.equal(s.state, 'connected');

  // guest → client: every record, in order, exactly once
  // TXDONE may be printed by any VM of the chain (the send can finish before the last switch)
  const txDeadline = Date.now() + 60000;
  while (!serialAcross(chain, firstSerial).some((l) => /GUEST PORT TXDONE/.test(l))) {
    if (Date.now() > txDeadline) assert.fail(`guest writer did not finish: client has ${(rxText.match(/SEQ/g) ?? []).length} of ${records} records`);
    await sleep(100);
  }
  const deadline = Date.now() + 10000;
  const count = () => (rxText.match(/SEQ \d+\n/g) ?? []).length;
  while (count() < records && Date.now() < deadline) await sleep(50);
  const seq = (rxText.match(/SEQ (\d+)\n/g) ?? []).map((l) => Number(l.slice(4)));
  const gap = seq.findIndex((k, i) => k !== i);
  assert.equal(seq.length, records, `received ${seq.length} of ${records} records; first gap at ${gap} (got SEQ ${seq[gap]}); last ${seq[seq.length - 1]}`);
  seq.forEach((k, i) => assert.equal(k, i, `record ${i} is SEQ ${k}`));
  assert.ok(!serialAcross(chain, firstSerial).some((l) => /GUEST PORT DROP/.test(l)), 'guest dropped no record');

  // client → guest: length and checksum
  const want = `${sentBytes} ${sentFnv.toString(16).padStart(8, '0')}`;
  let stat = '';
  const until = Date.now() + 15000;
  while (Date.now() < until) {
    stat = (await cur.command('portstat', /GUEST OK portstat/)).replace(/^.*portstat /, '').trim();
    if (stat === want) break;
    await sleep(200);
  }
  assert.equal(stat, want, 'guest received every byte the client wrote, in order');

  // keys: every typed key reached the guest once, in order (down events)
  const keyDowns = () =>
    serialAcross(chain, firstSerial)
      .map((l) => /GUEST KEY (\d+) 1\b/.exec(l))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => Number(m[1]));
  const keyDeadline = Date.now() + 10000;
  while (keyDowns().length < typed.length && Date.now() < keyDeadline) await sleep(100);
  const downs = keyDowns();
  // Order is kept and nothing is doubled: the guest's keys are a subsequence of what we typed.
  let j = 0;
  for (const k of downs) {
    while (j < typed.length && typed[j] !== k) j++;
    assert.ok(j < typed.length, `guest key ${k} out of order or doubled`);
    j++;
  }
  // Known gap (issue note): QEMU drops input that reaches a VM while it is stopped for the
  // switch, so a key typed in that window can be lost. Reported, not yet asserted to be 0.
  const lostKeys = typed.length - downs.length;
  console.log(`zero-loss: ${MIGRATIONS} migrations, ${typed.length} keys typed, ${lostKeys} lost in QEMU's stopped-VM window, ${sentBytes} bytes up, ${records} records down; durations ms: ${statuses.filter((m) => m.phase === 'done').map((m) => m.durationMs?.toFixed(1)).join(' ')}`);
  s.disconnect();
});
