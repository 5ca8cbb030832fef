// Smartcard test rig: a real pcscd with the vsmartcard vpcd driver (two
// virtual readers, "Virtual PCD 00 00" and "... 00 01") and vicc virtual cards.
//
// - vpcd listens on 0.0.0.0 (no option for loopback), so pcscd and the cards
//   run in a private network namespace that has only "lo".
// - pcscd 1.9.9 always creates /run/pcscd/pcscd.comm; it runs in a private
//   mount namespace where a directory of ours is bound over /run/pcscd, so its
//   socket lands at <dir>/run/pcscd.comm. A unix socket is a filesystem path,
//   reachable from our network namespace. Clients find it through
//   PCSCLITE_CSOCK_NAME (libpcsclite reads it once per process), which this
//   module sets on load: several rigs (processes, worktrees) can run at once,
//   and a system pcscd, if any, is left alone.
// - Debian 12's vicc needs PYTHONPATH=.../site-packages/virtualsmartcard and a
//   "Crypto" -> pycryptodome shim (its packaging bugs); vicc-card.py can present
//   another ATR (the T=0 card).
// Stray rigs of dead test processes (namespaces named pcscrig-<pid>) are
// killed and removed on start. Needs root (ip netns) and the Debian packages
// in RIG_PACKAGES.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcscBackend } from '../../main/devices/smartcard/pcsc-backend';

export const RIG_PACKAGES = ['pcscd', 'vsmartcard-vpcd', 'vsmartcard-vpicc', 'python3-virtualsmartcard', 'python3-pycryptodome', 'iproute2'];
export const READER_NAMES = ['Virtual PCD 00 00', 'Virtual PCD 00 01'] as const;
/** vicc's ISO 7816 card: T=1 only (TD1 = 81, TD2 = 01). */
export const VICC_T1_ATR = '3b951381018073ff01000b';
/** The same card presenting a T=0-only ATR (TA1 = 13, no TD1: T=0 implied), same historical bytes. */
export const VICC_T0_ATR = '3b15138073ff0100';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const VICC_CARD = path.join(HERE, 'vicc-card.py');
const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
const VICC_LIB = '/usr/lib/python3/site-packages/virtualsmartcard';
const CRYPTODOME = '/usr/lib/python3/dist-packages/Cryptodome';
const VPCD_PORT = 0x8c7b; // vpcd's default 35963; slot 1 is port + 1
const NS_PREFIX = 'pcscrig-';

/** One socket path per process: libpcsclite caches PCSCLITE_CSOCK_NAME at first use. */
export const RIG_DIR = `/tmp/pcsc-rig-${process.pid}`;
export const RIG_SOCKET = path.join(RIG_DIR, 'run', 'pcscd.comm');
process.env.PCSCLITE_CSOCK_NAME = RIG_SOCKET;

export interface CardState {
  present: boolean;
  /** lower-case hex, '' without a card */
  atr: string;
}
export type RigSnapshot = Record<string, CardState>;

const live = new Set<ChildProcess>();
let exitHooked = false;
function hookExit(ns: string): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const c of live) {
      try {
        if (c.pid) process.kill(c.pid, 'SIGKILL');
      } catch {}
    }
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {}
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills what runs in pcscrig-<pid> namespaces whose test process is gone, and deletes them. */
export function sweepStrayRigs(): string[] {
  const swept: string[] = [];
  const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    if (!name.startsWith(NS_PREFIX)) continue;
    const owner = Number(name.slice(NS_PREFIX.length));
    if (owner === process.pid || (Number.isInteger(owner) && pidAlive(owner))) continue;
    const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {}
    }
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {}
    fs.rmSync(`/tmp/pcsc-rig-${owner}`, { recursive: true, force: true });
    swept.push(name);
  }
  for (const d of fs.readdirSync('/tmp')) {
    const m = /^pcsc-rig-(\d+)$/.exec(d);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) fs.rmSync(path.join('/tmp', d), { recursive: true, force: true });
  }
  return swept;
}

function checkEnvironment(): void {
  const missing: string[] = [];
  if (!fs.existsSync('/usr/sbin/pcscd')) missing.push('pcscd');
  if (!fs.existsSync(VPCD_DRIVER)) missing.push('vsmartcard-vpcd');
  if (!fs.existsSync(path.join(VICC_LIB, 'virtualsmartcard'))) missing.push('python3-virtualsmartcard');
  if (!fs.existsSync(CRYPTODOME)) missing.push('python3-pycryptodome');
  if (missing.length) throw new Error(`pcsc rig: missing Debian packages ${missing.join(' ')} (scripts/setup.sh installs ${RIG_PACKAGES.join(' ')})`);
  if (process.getuid?.() !== 0) throw new Error('pcsc rig: needs root for ip netns (CI runs as root)');
}

function exited(c: ChildProcess): Promise<void> {
  return c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((res) => c.once('exit', () => res()));
}

function withDeadline<T>(p: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, rej) => {
      timer = setTimeout(() => rej(new Error(`pcsc rig: timed out after ${ms} ms waiting for ${what()}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export class PcscRig {
  readonly ns = `${NS_PREFIX}${process.pid}`;
  readonly dir = RIG_DIR;
  readonly socketPath = RIG_SOCKET;
  private pcscd: ChildProcess | null = null;
  private readonly cards: (ChildProcess | null)[] = [null, null];
  /** ATR each slot's card presents when (re)inserted; null = no card. */
  private readonly slotAtr: (string | null)[];
  private logs: string[] = [];
  /** The ATR each slot's vicc said it presents (its own report, not pcscd's). */
  readonly presented: (string | null)[] = [null, null];

  private constructor(cards: (string | null)[]) {
    this.slotAtr = [cards[0] ?? null, cards[1] ?? null];
  }

  /** Starts pcscd and the cards (default: slot 0 the T=1 card, slot 1 the T=0 card) and waits until pcscd shows them. */
  static async start(opts: { cards?: (string | null)[] } = {}): Promise<PcscRig> {
    checkEnvironment();
    sweepStrayRigs();
    const rig = new PcscRig(opts.cards ?? [VICC_T1_ATR, VICC_T0_ATR]);
    hookExit(rig.ns);
    fs.rmSync(rig.dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(rig.dir, 'run'), { recursive: true });
    fs.mkdirSync(path.join(rig.dir, 'reader.conf.d'));
    fs.mkdirSync(path.join(rig.dir, 'pyshim'));
    fs.symlinkSync(CRYPTODOME, path.join(rig.dir, 'pyshim', 'Crypto'));
    // one vpcd entry = two readers (slots on port and port + 1); a second entry breaks vpcd
    fs.writeFileSync(path.join(rig.dir, 'reader.conf.d', 'vpcd'),
      `FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x${VPCD_PORT.toString(16)}\nLIBPATH      ${VPCD_DRIVER}\n`);
    fs.mkdirSync('/run/pcscd', { recursive: true }); // the mount point; stays empty in our namespace
    execFileSync('ip', ['netns', 'add', rig.ns]);
    execFileSync('ip', ['-n', rig.ns, 'link', 'set', 'lo', 'up']);
    try {
      await rig.startPcscd();
      await rig.insertAll();
    } catch (e) {
      await rig.stop();
      throw e;
    }
    return rig;
  }

  /** The log lines of pcscd and the cards (for failure messages). */
  get log(): string {
    return this.logs.slice(-200).join('');
  }

  private spawnIn(tag: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
    const c = spawn('ip', ['netns', 'exec', this.ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    live.add(c);
    c.once('exit', () => live.delete(c));
    const onData = (d: Buffer) => {
      this.logs.push(`${tag}: ${d.toString()}`);
      if (this.logs.length > 1000) this.logs.splice(0, 500);
    };
    c.stdout!.on('data', onData);
    c.stderr!.on('data', onData);
    return c;
  }

  /** Starts pcscd (not the cards) and waits for its socket. */
  async startPcscd(): Promise<void> {
    if (this.pcscd) throw new Error('pcsc rig: pcscd already running');
    fs.rmSync(this.socketPath, { force: true });
    const run = path.dirname(this.socketPath);
    const conf = path.join(this.dir, 'reader.conf.d');
    const c = this.spawnIn('pcscd', ['unshare', '-m', '--propagation', 'private', 'sh', '-c',
      `mount --bind '${run}' /run/pcscd && exec pcscd -f -c '${conf}'`]);
    this.pcscd = c;
    const ready = new Promise<void>((resolve, reject) => {
      const w = fs.watch(run, () => {
        if (fs.existsSync(this.socketPath)) done();
      });
      const done = (err?: Error) => {
        w.close();
        c.off('exit', onExit);
        if (err) reject(err);
        else resolve();
      };
      const onExit = (code: number | null) => done(new Error(`pcsc rig: pcscd exited (${code}) before its socket appeared:\n${this.log}`));
      c.once('exit', onExit);
      if (fs.existsSync(this.socketPath)) done();
    });
    await withDeadline(ready, 10_000, () => `pcscd's socket ${this.socketPath}\n${this.log}`);
  }

  /** Stops pcscd (SIGTERM, then SIGKILL); the cards exit on their own when vpcd goes away. */
  async stopPcscd(): Promise<void> {
    const c = this.pcscd;
    if (!c) return;
    this.pcscd = null;
    c.kill('SIGTERM');
    await withDeadline(exited(c), 5000, () => 'pcscd to exit').catch(async () => {
      c.kill('SIGKILL');
      await exited(c);
    });
    await Promise.all(this.cards.map(async (card, slot) => {
      if (!card) return;
      await withDeadline(exited(card), 5000, () => `card ${slot} to exit after pcscd`).catch(async () => {
        card.kill('SIGKILL');
        await exited(card);
      });
      this.cards[slot] = null;
      this.presented[slot] = null;
    }));
  }

  /** pcscd killed and started again, cards re-inserted as they were. */
  async restartPcscd(): Promise<void> {
    await this.stopPcscd();
    await this.startPcscd();
    await this.insertAll();
  }

  private async insertAll(): Promise<void> {
    const want = [...this.slotAtr];
    const ready = (s: RigSnapshot) => READER_NAMES.every((n, slot) => s[n] && s[n].present === (want[slot] !== null) && (want[slot] === null || s[n].atr === want[slot]));
    for (let attempt = 1; ; attempt++) {
      for (let slot = 0; slot < 2; slot++) if (want[slot] !== null && !this.cards[slot]) await this.insertCard(slot, want[slot]!);
      try {
        await this.waitFor(ready, 'readers and cards');
        return;
      } catch (e) {
        // seen once in CI: a card connected to vpcd that pcscd never showed present; a card
        // put in again is seen (the rig is the test's fixture, not what is under test)
        if (attempt >= 2) throw e;
        const snap = await this.waitFor(() => true, 'a snapshot', 5000).catch(() => ({}) as RigSnapshot);
        for (let slot = 0; slot < 2; slot++) {
          const n = READER_NAMES[slot];
          if (want[slot] !== null && !(snap[n]?.present && snap[n]?.atr === want[slot])) {
            await this.removeCard(slot);
            await this.waitFor((s) => !!s[n] && !s[n].present, `slot ${slot} empty`).catch(() => {});
            this.slotAtr[slot] = want[slot];
          }
        }
      }
    }
  }

  /**
   * Puts a vicc card (presenting `atr`) into slot 0 or 1 and waits until it
   * has connected to vpcd. pcscd notices it on its next poll: wait for that
   * through the code under test (or waitFor). After a removal, wait until
   * pcscd has seen the slot empty before inserting again, or vpcd keeps the
   * old card's state.
   */
  async insertCard(slot: number, atr = VICC_T1_ATR): Promise<void> {
    if (this.cards[slot]) throw new Error(`pcsc rig: slot ${slot} already has a card`);
    this.slotAtr[slot] = atr;
    const env = { ...process.env, PYTHONPATH: `${VICC_LIB}:${path.join(this.dir, 'pyshim')}` };
    const deadline = Date.now() + 10_000;
    for (;;) {
      const c = this.spawnIn(`card${slot}`, ['/usr/bin/python3', VICC_CARD, '127.0.0.1', String(VPCD_PORT + slot), atr], env);
      let out = '';
      const connected = await new Promise<boolean>((resolve) => {
        const onData = (d: Buffer) => {
          out += d.toString();
          const m = /vicc-card: connected, ATR ([0-9a-f]+)\n/.exec(out);
          if (m) {
            this.presented[slot] = m[1];
            finish(true);
          }
        };
        const onExit = () => finish(false);
        const finish = (ok: boolean) => {
          c.stdout!.off('data', onData);
          c.off('exit', onExit);
          resolve(ok);
        };
        c.stdout!.on('data', onData);
        c.once('exit', onExit);
      });
      if (connected) {
        this.cards[slot] = c;
        return;
      }
      // vicc exits when vpcd's port does not accept yet (pcscd still loading the driver)
      if (Date.now() > deadline) throw new Error(`pcsc rig: card ${slot} could not connect to vpcd:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Takes the card out of slot 0 or 1 (vicc stops; pcscd sees the slot empty). */
  async removeCard(slot: number): Promise<void> {
    const c = this.cards[slot];
    this.slotAtr[slot] = null;
    this.presented[slot] = null;
    if (!c) return;
    this.cards[slot] = null;
    c.kill('SIGTERM');
    await withDeadline(exited(c), 5000, () => `card ${slot} to exit`).catch(async () => {
      c.kill('SIGKILL');
      await exited(c);
    });
  }

  /**
   * Resolves when pcscd's view (readers, card presence, ATR) satisfies `pred`,
   * watched through a PcscBackend of its own (pcsclite status events, no
   * polling; the native package is only used under main/devices).
   */
  async waitFor(pred: (s: RigSnapshot) => boolean, what: string, ms = 15_000): Promise<RigSnapshot> {
    const b = new PcscBackend();
    let snap: RigSnapshot = {};
    try {
      return await withDeadline(new Promise<RigSnapshot>((resolve, reject) => {
        b.onEvent((e) => {
          if (e.type === 'service-down') reject(new Error(`pcsc rig: watching pcscd failed: ${e.error.message}`));
          snap = Object.fromEntries(b.readers().map((r) => [r.name, { present: !!r.card, atr: r.card ? Buffer.from(r.card.atr).toString('hex') : '' }]));
          if (pred(snap)) resolve(snap);
        });
        b.start().catch(reject);
      }), ms, () => `${what}; pcscd shows ${JSON.stringify(snap)}\n${this.log}`);
    } finally {
      await b.close();
    }
  }

  /** Stops everything and removes the namespace and the directory. */
  async stop(): Promise<void> {
    for (let slot = 0; slot < 2; slot++) await this.removeCard(slot);
    await this.stopPcscd();
    try {
      execFileSync('ip', ['netns', 'del', this.ns], { stdio: 'ignore' });
    } catch {}
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
