// Fake clock for the reconnect tests: timers fire only when advance() passes them.
import type { Clock } from '../../../main/app/reconnect';

export class FakeClock implements Clock {
  t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private seq = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const h = { at: this.t + ms, fn, id: ++this.seq };
    this.timers.push(h);
    return h;
  }
  clearTimeout(h: unknown): void {
    this.timers = this.timers.filter((x) => x !== h);
  }
  get pending(): number {
    return this.timers.length;
  }
  /** Moves time forward, firing due timers in time order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}
