// npm run fuzz [-- --cases N --seed S --workers W --timeout MS --targets display,engine --out DIR]
// npm run fuzz -- --replay FILE [--repeat N]
//
// Runs fuzz cases in worker threads (resourceLimits bound each worker's heap,
// alloc-tracker bounds every typed-array allocation, a per-case deadline
// catches hangs: the worker is terminated, the case counted and the run goes
// on in a fresh worker). Findings are saved under DIR (gitignored) with a
// one-line reproducer. Prints the figures: cases, rate, outcomes, findings.
import { Worker } from 'node:worker_threads';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { decodeFrame, encodeFrame } from '../../preload/codec';
import { caseSeed, Rng } from './mutate';
import { TARGETS, execCase, genCase } from './cases';
import { Finding } from './targets';
import type { BeginMsg, EndMsg, RunMsg } from './worker';

export interface FuzzOptions {
  cases: number;
  seed: number;
  workers: number;
  /** Per-case deadline (ms). */
  timeoutMs: number;
  targets: string[];
  outDir: string;
  /** Cases sent to a worker at a time. */
  batch?: number;
  /** Heap limit per worker (MiB). */
  heapMb?: number;
  progressMs?: number;
  quiet?: boolean;
}

export interface FuzzSummary {
  cases: number;
  ms: number;
  rate: number;
  byTarget: Record<string, number>;
  outcomes: Record<string, number>;
  findings: Record<string, number>;
  hangs: number;
  crashes: number;
  saved: string[];
}

const ROOT = resolve(import.meta.dirname, '../..');
const BOOT = new URL('./boot.mjs', import.meta.url);
const ENTRY = new URL('./worker.ts', import.meta.url).href;
const MAX_SAVED_PER_CATEGORY = 5;

export function reproducer(file: string): string {
  return `node --import tsx test/fuzz/run.ts --replay ${relative(ROOT, file)}`;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const started = Date.now();
  const s: FuzzSummary = { cases: 0, ms: 0, rate: 0, byTarget: {}, outcomes: {}, findings: {}, hangs: 0, crashes: 0, saved: [] };
  const savedPer: Record<string, number> = {};
  const batch = o.batch ?? 200;
  let next = 0;
  const log = (m: string) => o.quiet || console.log(m);

  const save = (category: string, index: number, input: Uint8Array, message: string): void => {
    s.findings[category] = (s.findings[category] ?? 0) + 1;
    savedPer[category] = (savedPer[category] ?? 0) + 1;
    if (savedPer[category] > MAX_SAVED_PER_CATEGORY) return;
    mkdirSync(o.outDir, { recursive: true });
    const file = join(o.outDir, `${category.replace(/[^a-zA-Z0-9_-]+/g, '_')}-s${o.seed}-c${index}.bin`);
    writeFileSync(file, input);
    const racy = category.includes('engine') || category.startsWith('stuck') ? ' --repeat 20' : '';
    writeFileSync(`${file}.txt`, `${category}\n${message}\n\nreproduce: ${reproducer(file)}${racy}\n`);
    s.saved.push(file);
    log(`finding ${category} (case ${index}): ${message.split('\n')[0]}\n  reproduce: ${reproducer(file)}${racy}`);
  };
  /** A case that killed its worker: regenerate its input here (cases are deterministic) to save it. */
  const saveRegenerated = (category: string, index: number, message: string): void => {
    const c = genCase(new Rng(caseSeed(o.seed, index)), o.targets);
    save(`${category}:${c.target}:${(c.input as { seed: string }).seed}`, index, encodeFrame(c), message);
  };

  const progress = setInterval(() => {
    const sec = (Date.now() - started) / 1000;
    log(`… ${s.cases} cases in ${sec.toFixed(0)} s (${(s.cases / sec).toFixed(0)}/s), findings ${Object.entries(s.findings).map(([k, v]) => `${k} ${v}`).join(', ') || 0}`);
  }, o.progressMs ?? 30000);
  // Ctrl-C on a long run still prints the figures reached
  const onInt = (): void => {
    s.ms = Date.now() - started;
    s.rate = s.cases / (s.ms / 1000);
    console.log(`interrupted:\n${formatSummary(s)}`);
    process.exit(130);
  };
  if (!o.quiet) process.once('SIGINT', onInt);

  const lane = (): Promise<void> =>
    new Promise<void>((done) => {
      let worker: Worker | null = null;
      let current = -1;
      let end = 0;
      let timer: NodeJS.Timeout | null = null;
      const clear = () => {
        if (timer) clearTimeout(timer);
        timer = null;
      };
      const spawn = (): void => {
        const w = new Worker(BOOT, {
          workerData: { entry: ENTRY },
          resourceLimits: { maxOldGenerationSizeMb: o.heapMb ?? 768, maxYoungGenerationSizeMb: 64 },
          stdout: true,
          stderr: true,
        });
        worker = w;
        w.stdout.resume();
        w.stderr.resume();
        w.on('message', (m: BeginMsg | EndMsg | { type: 'done' }) => {
          if (m.type === 'begin') {
            current = m.index;
            clear();
            timer = setTimeout(() => {
              // a hang: the case ran past its deadline
              s.hangs++;
              s.cases++;
              const idx = current;
              current = -1;
              worker = null;
              void w.terminate();
              saveRegenerated('hang', idx, `case ran longer than ${o.timeoutMs} ms; the worker was terminated`);
              resume(idx + 1);
            }, o.timeoutMs);
          } else if (m.type === 'end') {
            clear();
            current = -1;
            s.cases++;
            s.byTarget[m.target] = (s.byTarget[m.target] ?? 0) + 1;
            const oc = `${m.target}:${m.outcome}`;
            s.outcomes[oc] = (s.outcomes[oc] ?? 0) + 1;
            if (m.finding) save(m.finding.category, m.index, m.finding.input, m.finding.message);
          } else {
            feed();
          }
        });
        w.on('error', (e) => {
          if (worker !== w) return;
          clear();
          // out of memory (resourceLimits) or a crash: the running case is the culprit
          s.crashes++;
          const idx = current;
          worker = null;
          if (idx >= 0) {
            s.cases++;
            saveRegenerated(`crash:${(e as NodeJS.ErrnoException).code ?? e.name}`, idx, String(e.stack ?? e));
            resume(idx + 1);
          } else resume(end);
        });
        w.on('exit', () => {
          if (worker === w) {
            worker = null;
            resume(current >= 0 ? current + 1 : end);
          }
        });
      };
      const feed = (): void => {
        if (next >= o.cases) {
          const w = worker;
          worker = null;
          void w?.terminate();
          done();
          return;
        }
        const from = next;
        end = Math.min(o.cases, from + batch);
        next = end;
        worker!.postMessage({ type: 'run', seed: o.seed, from, to: end, targets: o.targets } satisfies RunMsg);
      };
      /** Continues this lane's batch [from, end) in a fresh worker. */
      const resume = (from: number): void => {
        spawn();
        if (from < end) worker!.postMessage({ type: 'run', seed: o.seed, from, to: end, targets: o.targets } satisfies RunMsg);
        else feed();
      };
      spawn();
      feed();
    });

  await Promise.all(Array.from({ length: Math.max(1, o.workers) }, lane));
  clearInterval(progress);
  process.off('SIGINT', onInt);
  s.ms = Date.now() - started;
  s.rate = s.cases / (s.ms / 1000);
  return s;
}

export function formatSummary(s: FuzzSummary): string {
  const lines = [
    `fuzz: ${s.cases} cases in ${(s.ms / 1000).toFixed(1)} s (${s.rate.toFixed(0)} cases/s); ${Object.entries(s.byTarget).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `hangs: ${s.hangs}, worker crashes (OOM): ${s.crashes}`,
    `findings: ${Object.values(s.findings).reduce((a, b) => a + b, 0)}`,
    ...Object.entries(s.findings).sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${v}\t${k}`),
    'outcomes:',
    ...Object.entries(s.outcomes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `  ${v}\t${k}`),
  ];
  return lines.join('\n');
}

/** Runs a saved case again (--repeat N: engine cases race sockets against crypto, a finding may need several runs). */
async function replay(file: string, repeat: number): Promise<void> {
  const { target, input } = decodeFrame(readFileSync(file)) as { target: string; input: unknown };
  let rejections = 0;
  process.on('unhandledRejection', (r) => {
    rejections++;
    console.log('unhandled rejection:', r);
  });
  for (let i = 0; i < repeat; i++) {
    const t = Date.now();
    try {
      console.log(`${target}: ${await execCase(target, input)} (${Date.now() - t} ms)`);
    } catch (e) {
      console.log(`${target}: finding ${e instanceof Finding ? e.category : 'exception'} after ${Date.now() - t} ms`);
      console.log(e);
      process.exitCode = 1;
    }
    await new Promise((r) => setImmediate(r));
  }
  if (rejections) process.exitCode = 1;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.dirname, 'run.ts')) {
  const rep = arg('replay');
  if (rep) await replay(rep, Number(arg('repeat') ?? 1));
  else {
    const o: FuzzOptions = {
      cases: Number(arg('cases') ?? 10000),
      seed: Number(arg('seed') ?? 1),
      workers: Number(arg('workers') ?? Math.min(2, availableParallelism())),
      timeoutMs: Number(arg('timeout') ?? 10000),
      targets: (arg('targets') ?? TARGETS.join(',')).split(','),
      outDir: resolve(ROOT, arg('out') ?? '.fuzz-findings'),
      progressMs: Number(arg('progress') ?? 30000),
    };
    console.log(`fuzz: ${o.cases} cases, seed ${o.seed}, ${o.workers} workers, ${o.timeoutMs} ms per case, targets ${o.targets.join(',')}`);
    const s = await runFuzz(o);
    console.log(formatSummary(s));
  }
}
