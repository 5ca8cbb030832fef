// The fixed-seed fuzz run of npm test: 10,000 cases of mutated display
// command streams and mutated server byte streams for the engine (link, every
// channel with the device managers attached, migration), each in a worker with a deadline and checked
// allocations (test/fuzz). The long run is `npm run fuzz -- --cases 1000000`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSummary, runFuzz, type FuzzSummary } from '../fuzz/run';

const CASES = 10000;
let run: Promise<FuzzSummary> | null = null;
const outDir = mkdtempSync(join(tmpdir(), 'spice-fuzz-'));

function summary(): Promise<FuzzSummary> {
  run ??= runFuzz({ cases: CASES, seed: 9, workers: 4, timeoutMs: 5000, targets: ['display', 'engine'], outDir, quiet: true }).then((s) => {
    console.log(formatSummary(s));
    return s;
  });
  return run;
}

const findings = (s: FuzzSummary, prefix: (c: string) => boolean) => Object.entries(s.findings).filter(([c]) => prefix(c));

/** Display findings (hangs, crashes, uncoded exceptions) and allocations over the budget anywhere. */
const displayOrAlloc = (c: string) => c.includes(':display') || c.startsWith('uncoded:display') || c.startsWith('alloc');

test(`fixed-seed fuzz run: ${CASES} cases, no display case hangs or crashes its worker`, async () => {
  const s = await summary();
  assert.equal(s.cases, CASES);
  assert.ok(s.byTarget.display > CASES / 3 && s.byTarget.engine > CASES / 5, JSON.stringify(s.byTarget));
  assert.deepEqual(findings(s, (c) => (c.startsWith('hang:') || c.startsWith('crash:')) && displayOrAlloc(c)), [], 'display cases past their deadline or out of memory');
  // the mutations reach deep: connected sessions, migrations, decoded images; coded failures of every kind
  const outcomes = Object.keys(s.outcomes).join(' ');
  for (const want of ['display:ok', 'display:coded:DECODE', '+connected', '+dst', '+drawn', '+usb', '+card', '+audio', 'engine:coded:BAD_LINK_REPLY']) {
    assert.ok(outcomes.includes(want), `no ${want} outcome in ${outcomes}`);
  }
});

test('fuzz: every display and decoder failure is a coded SpiceError, no allocation above the budget', async () => {
  const s = await summary();
  assert.deepEqual(findings(s, displayOrAlloc), []);
});

test('fuzz: every engine case ends (no hang), with a final session state and a code, no unhandled rejection', async () => {
  const s = await summary();
  assert.deepEqual(findings(s, (c) => !displayOrAlloc(c)), []);
});

test('fuzz: clean up', async () => {
  await summary();
  rmSync(outDir, { recursive: true, force: true });
});
