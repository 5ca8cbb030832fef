// Fuzz worker: runs the cases it is sent, one at a time, and reports each
// one's begin and end to the parent (which enforces the per-case deadline and
// terminates this worker on a hang). Allocations are checked against the
// budget; unhandled rejections are findings of the case that was running.
import { parentPort } from 'node:worker_threads';
import { encodeFrame } from '../../preload/codec';
import { AllocBudgetError, allocStats, installAllocTracker, resetAllocStats } from './alloc-tracker';
import { caseSeed, Rng } from './mutate';
import { execCase, genCase, MAX_ALLOC_BYTES, MAX_CASE_ALLOC_BYTES } from './cases';
import { Finding } from './targets';

export interface RunMsg {
  type: 'run';
  seed: number;
  from: number;
  to: number;
  targets: string[];
}
export interface BeginMsg {
  type: 'begin';
  index: number;
}
export interface EndMsg {
  type: 'end';
  index: number;
  target: string;
  seed: string;
  outcome: string;
  finding?: { category: string; message: string; input: Uint8Array };
}

installAllocTracker(MAX_ALLOC_BYTES);
const port = parentPort!;
let pendingRejection: unknown = null;
process.on('unhandledRejection', (reason) => {
  pendingRejection ??= reason ?? new Error('undefined rejection');
});

async function runOne(seed: number, index: number, targets: string[]): Promise<EndMsg> {
  const { target, input } = genCase(new Rng(caseSeed(seed, index)), targets);
  resetAllocStats();
  pendingRejection = null;
  let outcome = 'ok';
  let finding: { category: string; message: string } | null = null;
  try {
    outcome = await execCase(target, input);
  } catch (e) {
    if (e instanceof Finding) finding = { category: e.category, message: e.message };
    else finding = { category: `uncoded:${target}:${(e as Error)?.name}`, message: String((e as Error)?.stack ?? e) };
  }
  // a rejection nobody handled surfaces a turn later
  await new Promise((r) => setImmediate(r));
  const a = allocStats();
  if (a.refused) finding = { category: `alloc-over-budget:${target}`, message: `refused ${a.refused} allocation(s), largest ${a.peak} bytes (limit ${MAX_ALLOC_BYTES})` };
  else if (a.total > MAX_CASE_ALLOC_BYTES) finding = { category: `alloc-total-over-budget:${target}`, message: `${a.total} bytes allocated in one case` };
  if (pendingRejection) {
    const r = pendingRejection as Error;
    finding = { category: `unhandled-rejection:${target}:${r?.name ?? typeof r}`, message: String(r?.stack ?? r) };
  }
  // an AllocBudgetError caught and reported as an exception is the budget finding, not an uncoded one
  if (finding && finding.message.includes(AllocBudgetError.name) && !finding.category.startsWith('alloc')) finding.category = `alloc-over-budget:${target}`;
  const msg: EndMsg = { type: 'end', index, target, seed: (input as { seed: string }).seed, outcome };
  if (finding) msg.finding = { ...finding, input: encodeFrame({ target, input }) };
  return msg;
}

port.on('message', async (m: RunMsg) => {
  for (let i = m.from; i < m.to; i++) {
    port.postMessage({ type: 'begin', index: i } satisfies BeginMsg);
    port.postMessage(await runOne(m.seed, i, m.targets));
  }
  port.postMessage({ type: 'done' });
});
