// Smartcard across seamless migration (issue 11): the guest's opensc-tool
// sends APDUs in a loop (SELECT MF -> 90 00, GET DATA -> 6A 81, GET CHALLENGE
// -> 8 bytes + 90 00, repeated; vicc's answers are deterministic) to the card
// our client shares, while the VM migrates seamlessly (stopped-VM moves, see
// warmUp() in test/harness/migration.ts, and live ones) again and again. The manager's state
// (reader id, the APDU in flight, the queue behind it) lives on the logical
// channel, which a seamless switch keeps: every APDU gets exactly one answer,
// the right one, in order, and the guest's loop never stalls. The same with
// seamless-migration=off (semi-seamless: the channel is re-linked to the
// destination's spice-server, which attaches its passthru device to the new
// client; QEMU migrated the reader's state).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
// the rig first: it sets PCSCLITE_CSOCK_NAME before libpcsclite is loaded
import { PcscRig, VICC_T0_ATR, VICC_T1_ATR } from '../harness/pcsc';
import { startMigratableVm, startDestination, migrate, finishSource, serialAcross, guestCrash, guestLiveness } from '../harness/migration';
import type { QemuVm } from '../harness/qemu';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';
import { SmartcardDevices } from '../../main/devices/smartcard/device-manager';
import { PcscBackend } from '../../main/devices/smartcard/pcsc-backend';
import type { MigrationStatus } from '../../preload/contract';
import { CCID_ARGS, guestSc, startGuestPcscd, useSmartcardGuest } from '../helpers/smartcard-guest';

useSmartcardGuest();

const BATCHES = Number(process.env.SC_BATCHES ?? 8);
const REPS = 10; // x 3 APDUs per opensc-tool run
const MIN_MIGRATIONS = Number(process.env.SC_MIGRATIONS ?? 2);
const MAX_MIGRATIONS = 8;
/** Live migrations: 'gated' (default) continues the destination once the client moved; 'autostart' as QEMU does by itself. */
const LIVE_ORDER = process.env.SC_LIVE_ORDER === 'autostart' ? 'autostart' : 'gated';

const vms: QemuVm[] = [];
let rig: PcscRig | null = null;
let session: Session | null = null;
before(async () => {
  rig = await PcscRig.start({ cards: [VICC_T1_ATR, VICC_T0_ATR] });
});
after(async () => {
  session?.disconnect();
  for (const vm of vms) await vm.stop();
  await rig?.stop();
  // This file's process must end: once (after 3 crashed live attempts) it sat idle after its test
  // passed, no JS handle left but stdio, so a native one (pcsclite is the only addon here), and
  // `node --test` waits for every file. The runner has reported and set the exit code by then.
  setTimeout(() => process.exit(), 30_000).unref();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * SC_TRACE=<dir>: the client's smartcard/main protocol trace and migration timeline
 * (Date.now() ms) in <dir>/client-<test>.log, for investigating a stall; with
 * QEMU_TRACE and KEEP_QEMU_DIR (test/harness/qemu.ts) QEMU's side is kept too.
 */
function traceLog(name: string): { log: (line: string) => void; logger: { debug(m: string): void; info(m: string): void; warn(m: string): void; protocol(m: string): void } | undefined } {
  const dir = process.env.SC_TRACE;
  if (!dir) return { log: () => {}, logger: undefined };
  fs.mkdirSync(dir, { recursive: true });
  const fd = fs.openSync(path.join(dir, `client-${name}.log`), 'a');
  const log = (line: string) => fs.writeSync(fd, `${Date.now()} ${line}\n`);
  const keep = (m: string) => /^(smartcard|main)\b|migration/.test(m);
  return {
    log,
    logger: {
      debug: (m) => keep(m) && log(`D ${m}`),
      info: (m) => log(`I ${m}`),
      warn: (m) => log(`W ${m}`),
      protocol: (m) => keep(m) && log(`P ${m}`),
    },
  };
}

/** With SC_TRACE: the guest's USB kernel messages and pcscd's log (its last 400 lines) into the trace. */
async function traceStall(trace: ReturnType<typeof traceLog>, vm: QemuVm, what: string): Promise<void> {
  if (!trace.logger) return;
  trace.log(what);
  const from = vm.serialLines().length;
  await vm.command('dmesg usb|xhci|ccid|hub|hung', /^GUEST (OK|ERR) dmesg/, 30_000).catch((e: Error) => trace.log(`dmesg: ${e.message}`));
  await vm.command('sc log', /^GUEST (OK|ERR) sc\b/, 240_000).catch((e: Error) => trace.log(`sc log: ${e.message}`));
  const lines = vm.serialLines().slice(from);
  for (const l of lines.filter((x) => x.startsWith('GUEST DMESG'))) trace.log(l);
  for (const l of lines.filter((x) => x.startsWith('GUEST SC ')).slice(-400)) trace.log(l);
}

/**
 * SC_ANSWER_DELAY_MS=<ms>: every card answer reaches the client this much later (for investigating:
 * a card that computes a signature is this slow, and answers are then in flight as the VM stops).
 */
function slowedBackend(b: PcscBackend): PcscBackend {
  const ms = Number(process.env.SC_ANSWER_DELAY_MS ?? 0);
  if (!ms) return b;
  const connect = b.connect.bind(b);
  b.connect = async (reader, opts) => {
    const c = await connect(reader, opts);
    const transmit = c.transmit.bind(c);
    return Object.assign(Object.create(c) as typeof c, { transmit: async (apdu: Uint8Array) => { const r = await transmit(apdu); await sleep(ms); return r; } });
  };
  return b;
}

/** QMP event time in Date.now() ms. */
const qmpMs = (ev: { timestamp?: { seconds: number; microseconds: number } }) => (ev.timestamp ? ev.timestamp.seconds * 1000 + Math.round(ev.timestamp.microseconds / 1000) : 0);

/** One opensc-tool run's output: its Received lines must follow the 3-APDU pattern exactly. */
function checkBatch(b: number, lines: string[]): void {
  const rc = lines.find((l) => l.startsWith('rc='));
  assert.equal(rc, 'rc=0', `batch ${b}: opensc-tool ${rc}\n${lines.join('\n')}`);
  const received = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('Received'));
  assert.equal(received.length, 3 * REPS, `batch ${b}: ${received.length} answers for ${3 * REPS} APDUs\n${lines.join('\n')}`);
  received.forEach(([l, i], k) => {
    const want = ['SW1=0x90, SW2=0x00)', 'SW1=0x6A, SW2=0x81)', 'SW1=0x90, SW2=0x00):'][k % 3];
    assert.equal(l, `Received (${want}`, `batch ${b}, APDU ${k}: ${l}`);
    if (k % 3 === 2) {
      const data = (lines[i + 1] ?? '').trim().split(/\s+/).filter((w) => /^[0-9A-F]{2}$/.test(w));
      assert.equal(data.length, 8, `batch ${b}, APDU ${k}: GET CHALLENGE data ${lines[i + 1]}`);
    }
  });
}

interface LoopOptions {
  /** Live migrations (the VM runs while it moves) instead of stopped-VM moves. */
  live?: boolean;
  /** The loop's batches (at most, with untilMigrations). */
  batches?: number;
  minMigrations?: number;
  /**
   * Migrates until minMigrations have happened and the loop has run this many
   * batches (maxMigrations at most), then ends the loop (after the batch it is in).
   */
  untilBatches?: number;
}

/**
 * The guest kernel oopsed after a live move (QEMU 7.2 TCG, see the note above the live test):
 * the attempt ends; what it proved before the crash is kept (`confirmed` moves after which the
 * loop went on, its finished batches checked answer by answer).
 */
class GuestKernelCrash extends Error {
  constructor(
    readonly confirmed: number,
    readonly apdus: number,
    detail: string,
  ) {
    super(`guest kernel crashed after ${confirmed} confirmed live migrations: ${detail}`);
  }
}

/** A loop that has shown no new batch for this long has stalled (a batch takes ~4.5 s idle, ~3x that on a busy machine). */
const STALL_MS = Number(process.env.SC_STALL_MS ?? 120_000);

async function apduLoopAcross(mode: 'seamless' | 'semi-seamless', maxMigrations: number, o: LoopOptions = {}): Promise<number> {
  const batches = o.batches ?? BATCHES;
  const minMigrations = o.minMigrations ?? MIN_MIGRATIONS;
  let cur = await startMigratableVm({ warmUp: true, extraArgs: CCID_ARGS, name: 'sc-mig', seamless: mode === 'seamless' });
  vms.push(cur);
  const chain = [cur];
  await startGuestPcscd(cur);

  const statuses: MigrationStatus[] = [];
  let apduPendingAtMigrate = 0;
  const errors: string[] = [];
  const trace = traceLog(`${mode}${o.live ? '-live' : ''}`);
  const devices = new SmartcardDevices({ backend: slowedBackend(new PcscBackend()), onError: (e, r) => errors.push(`${e.code} ${r ?? ''}: ${e.message}`) });
  session = new Session({
    endpoint: { host: '127.0.0.1', port: cur.spicePort },
    transport: defaultTransportFactory,
    devices: [devices],
    ...(trace.logger ? { log: trace.logger } : {}),
    onMigration: (m) => {
      statuses.push(m);
      trace.log(`MIGRATION ${m.phase} ${m.message} ${m.phase === 'done' ? JSON.stringify(m.channels.filter((c) => /smartcard|main/.test(c.name))) : ''}`);
      // figures only: an APDU the client holds (received, not yet answered) as the migration starts
      if (m.phase === 'migrating' && (devices.manager?.pendingApdus ?? 0) > 0) apduPendingAtMigrate++;
    },
  });
  await session.connect();
  const deadline = Date.now() + 30_000;
  while (!devices.readers().some((r) => r.state === 'shared' && r.guestAtr)) {
    if (Date.now() > deadline) assert.fail(`no reader shared: ${JSON.stringify(devices.readers())} ${errors.join('; ')}`);
    await sleep(50);
  }
  const manager = devices.manager;
  // the guest's pcscd sees the card
  const t0 = Date.now();
  while (!(await guestSc(cur, '-l')).lines.some((l) => /^0\s+Yes\b/.test(l.trim()))) {
    if (Date.now() - t0 > 60_000) assert.fail('guest never saw the card');
    await sleep(500);
  }

  const first = cur.serialLines().length;
  const reply = await cur.command(`sc loop ${batches} ${REPS}`, /^GUEST (OK|ERR) sc\b/);
  assert.match(reply, /OK sc loop/);
  const loopLines = () => serialAcross(chain, first).filter((l) => l.startsWith('GUEST SCL '));
  const done = () => loopLines().includes('GUEST SCL DONE');
  // the loop is running: the first batch came back
  while (!loopLines().some((l) => /^GUEST SCL 0 rc=/.test(l))) {
    if (Date.now() - t0 > 120_000) assert.fail(`loop did not start: ${loopLines().slice(-5).join(' | ')}`);
    await sleep(200);
  }

  let migrations = 0;
  let migrationsBeforeDone = 0;
  /** Live moves after which the loop went on (an answer came back through the destination). */
  let confirmed = 0;
  const ranBatches = () => loopLines().filter((l) => / rc=/.test(l)).length;
  /** A guest kernel oops in live mode: the batches that finished are checked, then the attempt ends. */
  const crashed = async (crash: string): Promise<never> => {
    const lines = loopLines();
    const ran = ranBatches();
    for (let b = 0; b < ran; b++) {
      const prefix = `GUEST SCL ${b} `;
      checkBatch(b, lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length)));
    }
    assert.deepEqual(errors, []);
    session?.disconnect();
    session = null;
    for (const vm of chain) await vm.stop();
    throw new GuestKernelCrash(confirmed, ran * REPS * 3, crash);
  };
  /** On a stall: is the guest alive (said in the failure)? In live moves a frozen guest ends the attempt like an oops. */
  const checkGuest = async (what: string): Promise<string> => {
    const alive = await guestLiveness(cur);
    trace.log(`liveness (${what}): ${alive.summary}`);
    // the guest kernel hung without an oops (the same TCG corruption; its own serial ticker stopped too)
    if (alive.frozen && o.live) await crashed(`guest froze ${what}: ${alive.summary}`);
    return alive.summary;
  };
  const more = () =>
    migrations < maxMigrations && (o.untilBatches === undefined || migrations < minMigrations || ranBatches() < o.untilBatches);
  while (!done() && more()) {
    const dst = await startDestination(cur, { name: 'sc-mig' });
    vms.push(dst);
    chain.push(dst);
    const before = statuses.filter((m) => m.phase === 'done' || m.phase === 'failed').length;
    trace.log(`migrate ${migrations + 1} start (src qemu ${cur.pid} -> dst qemu ${dst.pid}, dir ${dst.dir})`);
    // semi-seamless: the answer to an APDU the stopped source's guest already sent goes to the source
    // before `migrate` (see the comment above the semi-seamless test)
    const answered = async (): Promise<void> => {
      const t = Date.now();
      // none held for 50 ms: an APDU the guest queued before the stop has left the source's QEMU by then
      let quietSince = Date.now();
      while (Date.now() - quietSince < 50 && Date.now() - t < 30_000) {
        if ((devices.manager?.pendingApdus ?? 0) > 0) quietSince = Date.now();
        await sleep(5);
      }
      trace.log(`migrate ${migrations + 1}: source stopped; client answered what it held after ${Date.now() - t} ms`);
    };
    await migrate(cur, dst, { stopped: !o.live, resumeAfterClient: o.live && LIVE_ORDER !== 'autostart', ...(mode === 'semi-seamless' ? { afterStop: answered } : {}) });
    const resume = dst.qmp.events.find((ev) => ev.event === 'RESUME');
    trace.log(`migrate ${migrations + 1}: dst RESUME at ${resume ? qmpMs(resume) : '?'}; src MIGRATION completed at ${qmpMs(cur.qmp.events.filter((ev) => ev.event === 'MIGRATION' && ev.data?.status === 'completed').pop() ?? {})}`);
    let outcome: MigrationStatus | undefined;
    const t1 = Date.now();
    while (!(outcome = statuses.filter((m) => m.phase === 'done' || m.phase === 'failed')[before])) {
      const crash = guestCrash(cur) ?? guestCrash(dst);
      if (crash && o.live) await crashed(crash);
      assert.equal(crash, null, `migration ${migrations + 1}: guest kernel crashed: ${crash}`);
      if (Date.now() - t1 > 20_000) assert.fail(`migration ${migrations + 1}: client never finished`);
      await sleep(20);
    }
    assert.equal(outcome.phase, 'done', `migration ${migrations + 1}: ${outcome.message}`);
    assert.equal(outcome.mode, mode, `migration ${migrations + 1} mode`);
    assert.equal(outcome.channels.reduce((n, c) => n + c.droppedBytes, 0), 0, `migration ${migrations + 1}: dropped bytes`);
    const fin = await finishSource(cur);
    assert.ok(fin.completed, `migration ${migrations + 1}: source SPICE_MIGRATE_COMPLETED`);
    cur = dst;
    migrations++;
    if (!done()) migrationsBeforeDone = migrations;
    if (o.untilBatches !== undefined) {
      // the guest barely runs while TCG migrates it live: let it answer something before the next move
      const n0 = loopLines().length;
      const t2 = Date.now();
      let pinged = false;
      while (loopLines().length === n0 && !done()) {
        // a guest kernel that oopsed right after the move looks like a stalled loop: say which it is
        const crash = chain.map(guestCrash).find((c) => c !== null) ?? null;
        if (crash) await crashed(crash);
        // the guest's ticker writes every ~5 s: silent for 30, ask at once whether it froze
        if (!pinged && Date.now() - Math.max(t2, cur.lastSerialAt) > 30_000) {
          pinged = true;
          await checkGuest(`after live migration ${migrations}`);
        }
        if (Date.now() - t2 > STALL_MS) {
          const alive = await checkGuest(`after live migration ${migrations}`);
          await traceStall(trace, cur, `STALL after live migration ${migrations}`);
          assert.fail(
            `APDU loop stalled after live migration ${migrations} (${alive}): last lines ${loopLines().slice(-5).join(' | ')}; client: ${devices.manager?.pendingApdus ?? '-'} APDUs pending; ` +
              `guest serial: ${serialAcross(chain, first).filter((l) => !l.startsWith('GUEST SCL ')).slice(-6).join(' | ') || 'nothing since the loop started'}`,
          );
        }
        await sleep(50);
      }
      confirmed = migrations;
    }
  }

  if (o.untilBatches !== undefined && !done()) {
    const r = await cur.command('sc stop', /^GUEST (OK|ERR) sc\b/).catch((e: Error) => e.message);
    assert.match(r, /OK sc stop/, `after ${migrations} migrations, ${ranBatches()} batches; guest serial: ${serialAcross(chain, first).slice(-8).join(' | ')}`);
  }
  // stalled = no new line from the loop for STALL_MS (a deadline for the whole loop would
  // only measure how busy the machine is)
  let seen = loopLines().length;
  let progressAt = Date.now();
  while (!done()) {
    const crash = guestCrash(cur);
    assert.equal(crash, null, `guest kernel crashed: ${crash}`);
    const n = loopLines().length;
    if (n !== seen) [seen, progressAt] = [n, Date.now()];
    if (Date.now() - progressAt > STALL_MS) {
      const alive = await checkGuest(`after ${migrations} migrations`);
      await traceStall(trace, cur, `STALL after ${migrations} migrations`);
      assert.fail(
        `APDU loop stalled after ${migrations} migrations (no progress for ${STALL_MS / 1000} s; ${alive}): last lines ${loopLines().slice(-5).join(' | ')}; client: ${devices.manager?.pendingApdus ?? '-'} APDUs pending, ` +
          `readers ${JSON.stringify(devices.readers())}, errors ${errors.join('; ') || 'none'}; guest serial: ${serialAcross(chain, first).filter((l) => !l.startsWith('GUEST SCL ')).slice(-6).join(' | ')}`,
      );
    }
    await sleep(200);
  }
  assert.ok(migrationsBeforeDone >= minMigrations, `only ${migrationsBeforeDone} migrations happened while the loop ran (raise the batches)`);

  const lines = loopLines();
  const ran = ranBatches();
  assert.ok(ran >= (o.untilBatches ?? batches), `${ran} of ${o.untilBatches ?? batches} batches ran`);
  for (let b = 0; b < ran; b++) {
    const prefix = `GUEST SCL ${b} `;
    checkBatch(
      b,
      lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length)),
    );
  }
  assert.equal(session.state, 'connected');
  assert.equal(devices.manager, manager, 'the same manager served the whole loop (no channel down/up)');
  assert.equal(manager!.pendingApdus, 0);
  assert.deepEqual(errors, []);
  console.log(`${ran * REPS * 3} APDUs across ${migrationsBeforeDone} ${o.live ? 'live ' : ''}${mode} migrations (of ${migrations}), all answered in order; an APDU was pending in the client as ${apduPendingAtMigrate} of them began`);
  session.disconnect();
  session = null;
  await cur.stop();
  return migrationsBeforeDone;
}

test(`APDU loop across >= ${MIN_MIGRATIONS} seamless migrations: every APDU answered once, correctly, in order`, async () => {
  await apduLoopAcross('seamless', MAX_MIGRATIONS);
});

// Known QEMU 7.2 loss in semi-seamless switches (seen with SC_ANSWER_DELAY_MS=300: a stall in 2 of
// 3 runs): a card answer that reaches the source after its VM stopped is lost with it. Holding it
// for the destination instead (tried) was worse (4 of 4 runs stalled): in about half the moves the
// destination's usb-ccid had no pending answer ("CCID ERROR: got an APDU without pending answers")
// although the source had the command pending; why was not found (docs/architecture.md).
// With vicc's own speed (answers in ~5 ms) the window is a few ms per move, but a slow answer on a
// busy machine hit it in CI (ci12, ci18: stalled after the 3rd move, guest alive, no APDU pending in
// the client). No client can carry that answer (semi-seamless has no state transfer), so the test
// keeps it out of the race: between the source's stop and `migrate` it waits until the client has
// answered what it held (the stopped guest sends nothing new); that answer then reaches the source's
// usb-ccid before its state is saved, as the management layer's order would let it with a fast card.
// What the test checks is unchanged: every APDU answered once, correctly, in order, on either VM.
test(`APDU loop across >= ${MIN_MIGRATIONS} semi-seamless migrations: every APDU answered once, correctly, in order`, async () => {
  await apduLoopAcross('semi-seamless', MIN_MIGRATIONS + 1);
});

// QEMU 7.2's usb-ccid does not migrate a card answer it holds for the guest (remote-viewer stalled in
// 2 of 4 live migrations); our client holds device output from CONNECTED_SEAMLESS until the
// destination runs, so no answer sits in the source's usb-ccid at the stop. The loop runs until
// the last migration is done (sc stop), each migration starting as soon as the previous one ended,
// and for at least 7 batches (210 APDUs); after each move the guest answers something before the next.
// The destination is continued once the client has moved (migrate's resumeAfterClient): QEMU 7.2
// loses a VSCard message ccid-card-passthru writes before the destination's spice-server has the
// client's smartcard MIGRATE_DATA (spice-server refuses device reads until then; passthru ignores
// the chardev's short write), and the guest then waits forever for that APDU's answer (proven with
// the client's forwarding delayed 3 s; SC_LIVE_ORDER=autostart runs QEMU's own order).
// QEMU 7.2 TCG crashes the guest kernel in about 1 of 40 of these live moves, 1 of 3-4 on a busy
// machine (NULL dereferences, invalid opcode in kmem_cache_free, general protection faults, right
// after the move: the corruption warmUp() describes; no client involved). The 3 stalls inspected
// while chasing a CI run's stall after live migration 5 (no APDU pending in the client, no serial
// kept) were such crashes, which the post-move wait did not look for. One more, with the guest
// alive and pcscd waiting in IFDHTransmitToICC(), followed an answer released to the source by the
// 5 s pre-switch limit 12 ms before the stop: smartcard answers now wait up to 60 s for the switch.
// A guest can also hang without an oops (its own serial ticker stops, it answers no ping while
// QEMU runs: seen once in CI after live migration 15): guestLiveness() tells that from a stalled
// smartcard exchange, and it ends the attempt like an oops.
// So the moves are counted across attempts: an oops (named, found in the serial) ends an attempt
// after its finished batches are checked, and a fresh pair of VMs goes on counting; a stall, a
// wrong or missing answer, a client error fail at once. npm test: 20 moves; test:soak: 60.
const LIVE = Number(process.env.SC_LIVE_MIGRATIONS ?? 20);
const LIVE_ATTEMPTS = Number(process.env.SC_LIVE_ATTEMPTS ?? 10);
if (LIVE > 0) {
  test(`APDU loop across >= ${LIVE} live seamless migrations: no stall, every APDU answered once, correctly, in order`, { timeout: LIVE_ATTEMPTS * 240_000 + LIVE * 30_000 }, async (t) => {
    let total = 0;
    let apdus = 0;
    for (let attempt = 1; total < LIVE; attempt++) {
      assert.ok(attempt <= LIVE_ATTEMPTS, `${total} of ${LIVE} live migrations confirmed in ${LIVE_ATTEMPTS} attempts: the guest kernel crashed in every one`);
      const want = LIVE - total;
      try {
        total += await apduLoopAcross('seamless', want * 4, { live: true, minMigrations: want, batches: 1000, untilBatches: Math.min(7, want + 2) });
      } catch (e) {
        if (!(e instanceof GuestKernelCrash)) throw e;
        total += e.confirmed;
        apdus += e.apdus;
        t.diagnostic(`attempt ${attempt}: ${e.message}; ${e.apdus} APDUs checked; ${total} of ${LIVE} so far`);
      }
    }
    t.diagnostic(`${LIVE} live migrations confirmed (${apdus} APDUs checked in crashed attempts besides the finished ones)`);
  });
}
