// npm run bench:migration — seamless migration figures on two real QEMUs
// (ping-pong A→B→A…, ≥ 5 runs): per channel MIGRATE received → swapped onto
// the destination, first MIGRATE → last channel swapped, source "completed"
// → client on the destination only, and the longest gap between display
// updates the client received around the switch (the guest redraws every 100 ms),
// and how long input was held so that none is lost (from CONNECTED_SEAMLESS, and
// after the swap until the destination VM runs).
import { performance } from 'node:perf_hooks';
import { startMigratableVm, startDestination, migrate, finishSource } from '../harness/migration';
import type { QemuVm } from '../harness/qemu';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';
import type { MigrationStatus } from '../../preload/contract';

const RUNS = Number(process.env.RUNS ?? 5);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const vms: QemuVm[] = [];
try {
  let cur = await startMigratableVm({ name: 'bench-a', warmUp: true });
  vms.push(cur);
  const displayAt: number[] = [];
  const statuses: { st: MigrationStatus; at: number }[] = [];
  const s = new Session({
    endpoint: { host: '127.0.0.1', port: cur.spicePort },
    transport: defaultTransportFactory,
    onDisplay: () => displayAt.push(performance.now()),
    onMigration: (st) => statuses.push({ st, at: Date.now() }),
  });
  await s.connect();
  await sleep(1000);
  const perChannel: number[] = [];
  const total: number[] = [];
  const completedToClient: number[] = [];
  const gaps: number[] = [];
  const held: number[] = [];
  const heldAfterSwap: number[] = [];
  const releases: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    const dst = await startDestination(cur, { name: `bench-${i}` });
    vms.push(dst);
    const before = statuses.length;
    const t0 = performance.now();
    const res = await migrate(cur, dst);
    let done: { st: MigrationStatus; at: number } | undefined;
    while (!(done = statuses.slice(before).find((x) => x.st.phase === 'done' || x.st.phase === 'failed'))) await sleep(5);
    if (done.st.phase !== 'done' || done.st.mode !== 'seamless') throw new Error(`run ${i + 1}: ${done.st.mode}/${done.st.phase}: ${done.st.message}`);
    await sleep(1000);
    const hold = s.migration.lastInputHold;
    if (hold) {
      held.push(hold.heldMs);
      heldAfterSwap.push(hold.afterSwapMs);
      releases.push(hold.why);
    }
    const t1 = performance.now();
    for (const c of done.st.channels) if (c.swapMs !== undefined) perChannel.push(c.swapMs);
    total.push(done.st.durationMs ?? NaN);
    completedToClient.push(done.at - res.completedAt);
    const win = displayAt.filter((t) => t >= t0 - 500 && t <= t1);
    let gap = 0;
    for (let k = 1; k < win.length; k++) gap = Math.max(gap, win[k] - win[k - 1]);
    gaps.push(gap);
    await finishSource(cur);
    cur = dst;
  }
  s.disconnect();
  const f = (xs: number[]) => `median ${median(xs).toFixed(2)} ms (min ${Math.min(...xs).toFixed(2)}, max ${Math.max(...xs).toFixed(2)}, n=${xs.length})`;
  console.log(`seamless migration, ${RUNS} runs (QEMU 7.2 TCG, loopback):`);
  console.log(`  per channel: MIGRATE received → swapped to the destination: ${f(perChannel)}`);
  console.log(`  first MIGRATE → last channel swapped:                        ${f(total)}`);
  console.log(`  source MIGRATION completed (QMP) → client done (≤0: before):  ${f(completedToClient)}`);
  console.log(`  longest gap between display updates around the switch:       ${f(gaps)}  (guest redraws every ~100 ms)`);
  console.log(`  input held (CONNECTED_SEAMLESS → destination runs):          ${f(held)}`);
  console.log(`    of which after the inputs channel's swap:                  ${f(heldAfterSwap)}  (released by: ${releases.join(', ')})`);
} finally {
  for (const vm of vms) await vm.stop();
}
