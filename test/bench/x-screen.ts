// What the side-by-side benchmarks share (bench:e2e, bench:floor): an Xvfb screen
// with an X DAMAGE probe on its root, and the CPU and PSS of process trees read
// from /proc.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- the X DAMAGE probe ----
export function buildProbe(dir: string): string {
  const bin = path.join(dir, 'xdamage-probe');
  execFileSync('gcc', ['-O2', '-o', bin, path.join(ROOT, 'test/bench/xdamage-probe.c'), '-lX11', '-lXdamage'], { stdio: 'inherit' });
  return bin;
}

export interface Screen { display: string; xvfb: ChildProcess; probe: ChildProcess; changes: number[] }

export async function startScreen(n: number, probeBin: string): Promise<Screen> {
  const display = `:${n}`;
  const xvfb = spawn('Xvfb', [display, '-screen', '0', '1280x800x24', '-nolisten', 'tcp', '-noreset'], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !fs.existsSync(`/tmp/.X11-unix/X${n}`); i++) await sleep(50);
  await sleep(200);
  const probe = spawn(probeBin, [], { env: { ...process.env, DISPLAY: display }, stdio: ['ignore', 'pipe', 'inherit'] });
  const changes: number[] = [];
  const rl = readline.createInterface({ input: probe.stdout! });
  await new Promise<void>((ok, fail) => {
    rl.on('line', (l) => {
      if (l === 'ready') ok();
      else changes.push(Number(l) / 1e6);
    });
    probe.once('exit', (c) => fail(new Error(`xdamage-probe on ${display} exited (${c})`)));
  });
  return { display, xvfb, probe, changes };
}

// ---- /proc: process trees, CPU, PSS ----
export interface Proc { pid: number; ppid: number; ticks: number }
export function procs(): Map<number, Proc> {
  const m = new Map<number, Proc>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const st = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      m.set(Number(e), { pid: Number(e), ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch { /* gone */ }
  }
  return m;
}
export function tree(roots: number[], table: Map<number, Proc>): number[] {
  const out = new Set(roots.filter((p) => table.has(p)));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of table.values()) if (!out.has(p.pid) && out.has(p.ppid)) { out.add(p.pid); grew = true; }
  }
  return [...out];
}
export function pssKb(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  } catch { return 0; }
}
export function label(pid: number): string {
  let argv: string[] = [];
  try { argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { return 'gone'; }
  // Chromium's children rewrite their command line as one space-separated string
  if (argv.filter(Boolean).length === 1) argv = argv[0].split(' ');
  const exe = path.basename(argv[0] ?? '');
  if (exe === 'node' || argv[0] === process.execPath) return 'node engine (web host)';
  if (exe === 'esbuild') return 'esbuild (the tsx loader of `node --import tsx`)';
  if (exe.startsWith('chrom')) {
    const type = argv.find((a) => a.startsWith('--type='))?.slice(7);
    if (!type) return 'chromium browser';
    const sub = argv.find((a) => a.startsWith('--utility-sub-type='))?.slice(19).replace(/\.mojom\./, ':');
    return `chromium ${type}${sub ? ` (${sub})` : ''}`;
  }
  return exe || `pid ${pid}`;
}

// ---- the clients ----
export function killTree(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((ok) => p.once('exit', () => ok()));
  try { process.kill(-p.pid!, 'SIGTERM'); } catch { /* gone */ }
  const t = setTimeout(() => { try { process.kill(-p.pid!, 'SIGKILL'); } catch { /* gone */ } }, 3000);
  return gone.finally(() => clearTimeout(t));
}
export const CLIENT_ENV = { NO_AT_BRIDGE: '1', GDK_BACKEND: 'x11' };

/** CPU (% of one core) of every process but these trees, between two tables. */
export function othersPct(before: Map<number, Proc>, after: Map<number, Proc>, mine: number[], ms: number): number {
  const skip = new Set(tree(mine, after));
  let ticks = 0;
  for (const p of after.values()) if (!skip.has(p.pid)) ticks += p.ticks - (before.get(p.pid)?.ticks ?? 0);
  return ((ticks * 1000) / CLK_TCK / ms) * 100;
}

/** Waits (up to 3 min) until nothing else on the machine takes more than maxPct % of a core. */
export async function quiet(mine: number[], maxPct: number): Promise<number> {
  let pct = 0;
  for (let i = 0; i < 90; i++) {
    const a = procs();
    await sleep(2000);
    pct = othersPct(a, procs(), mine, 2000);
    if (pct < maxPct) return pct;
    if (i === 0) console.error(`other processes take ${pct.toFixed(0)} % of a core: waiting for them`);
  }
  return pct;
}

/** A process tree's CPU (ms) between two tables and its PSS (MiB) now, summed and by label(). */
export function treeUsage(roots: number[], before: Map<number, Proc>, after: Map<number, Proc>): { cpuMs: number; pssMb: number; split: Map<string, { cpuMs: number; pssMb: number }> } {
  const split = new Map<string, { cpuMs: number; pssMb: number }>();
  let cpuMs = 0, pssMb = 0;
  for (const pid of tree(roots, after)) {
    const ms = ((after.get(pid)!.ticks - (before.get(pid)?.ticks ?? 0)) * 1000) / CLK_TCK;
    const mb = pssKb(pid) / 1024;
    cpuMs += ms;
    pssMb += mb;
    const l = split.get(label(pid)) ?? { cpuMs: 0, pssMb: 0 };
    l.cpuMs += ms;
    l.pssMb += mb;
    split.set(label(pid), l);
  }
  return { cpuMs, pssMb, split };
}

/** Screen changes in [from, to): DAMAGE events closer than coalesceMs to the one before count as one update (one paint = a few events). */
export function updates(changes: number[], from: number, to: number, coalesceMs: number): number[] {
  const out: number[] = [];
  let last = -Infinity;
  for (const t of changes) {
    if (t < from || t >= to) continue;
    if (t - last >= coalesceMs) out.push(t);
    last = t;
  }
  return out;
}
