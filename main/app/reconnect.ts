// Kiosk reconnect policy: exponential back-off with jitter (1 s doubling to
// 30 s), a slower ladder for drops that retrying fast would make worse
// (rejected password, another client took the console over), and a scheduler
// driven by an injected clock so tests run on fake time.
export type DropReason = 'network' | 'server-closed' | 'vm-stopped' | 'taken-over' | 'auth' | 'config' | 'protocol';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  factor: number;
  /** ± fraction of the delay drawn at random, so a room of kiosks does not retry in step. */
  jitter: number;
  /** The slow ladder (auth, taken-over): a wrong password must not hammer the server. */
  slowInitialMs: number;
  slowMaxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 1000,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.2,
  slowInitialMs: 30_000,
  slowMaxMs: 300_000,
};

const SLOW: ReadonlySet<DropReason> = new Set<DropReason>(['auth', 'taken-over', 'config']);

export function isSlowReason(r: DropReason): boolean {
  return SLOW.has(r);
}

/** Delay before attempt n (1-based) for a reason, before and after jitter. */
export function backoffDelay(attempt: number, reason: DropReason, opts: BackoffOptions = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const slow = isSlowReason(reason);
  const base = slow ? opts.slowInitialMs : opts.initialMs;
  const max = slow ? opts.slowMaxMs : opts.maxMs;
  const n = Math.max(1, Math.floor(attempt));
  const raw = Math.min(max, base * Math.pow(opts.factor, Math.min(n - 1, 52)));
  const j = opts.jitter > 0 ? 1 + opts.jitter * (2 * random() - 1) : 1;
  return Math.max(0, Math.round(Math.min(max * (1 + opts.jitter), raw * j)));
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export interface Scheduled {
  attempt: number;
  delayMs: number;
  /** Clock time of the attempt. */
  at: number;
  reason: DropReason;
}

/**
 * Counts consecutive failures and schedules the next attempt. A session that
 * stayed up for `stableMs`, or a drop for another reason, restarts the ladder.
 */
export class ReconnectScheduler {
  private attempt = 0;
  private handle: unknown = null;
  private connectedAt: number | null = null;
  private lastReason: DropReason | null = null;
  pending: Scheduled | null = null;

  constructor(
    private readonly clock: Clock = realClock,
    private readonly opts: BackoffOptions = DEFAULT_BACKOFF,
    private readonly random: () => number = Math.random,
    /** A connection that lasted this long counts as healthy: the next drop starts at the first step again. */
    private readonly stableMs = 10_000,
  ) {}

  /** The session is up. */
  connected(): void {
    this.connectedAt = this.clock.now();
  }

  /** Plans the next try after a drop or a failed attempt; run() is called then. */
  schedule(reason: DropReason, run: () => void): Scheduled {
    this.cancel();
    if (this.connectedAt !== null && this.clock.now() - this.connectedAt >= this.stableMs) this.attempt = 0;
    // a new kind of trouble (VM back but taken over, say) starts its own ladder
    if (reason !== this.lastReason) this.attempt = 0;
    this.lastReason = reason;
    this.connectedAt = null;
    this.attempt++;
    const delayMs = backoffDelay(this.attempt, reason, this.opts, this.random);
    const s: Scheduled = { attempt: this.attempt, delayMs, at: this.clock.now() + delayMs, reason };
    this.pending = s;
    this.handle = this.clock.setTimeout(() => {
      this.handle = null;
      this.pending = null;
      run();
    }, delayMs);
    return s;
  }

  cancel(): void {
    if (this.handle !== null) this.clock.clearTimeout(this.handle);
    this.handle = null;
    this.pending = null;
  }

  /** Forget the failure count (user-initiated connect). */
  reset(): void {
    this.cancel();
    this.attempt = 0;
    this.connectedAt = null;
    this.lastReason = null;
  }

  get attempts(): number {
    return this.attempt;
  }
}
