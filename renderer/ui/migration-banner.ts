// Non-blocking migration banner: destination, mode, phase, outcome, duration
// and the queued/forwarded/dropped counters. It floats over the top of the
// screen (never moves or blanks the picture; clicks pass through); finished
// migrations fade after a few seconds.
import type { MigrationStatus } from '../../preload/contract';

export const BANNER_LINGER_MS = 8000;

export function formatMigration(m: MigrationStatus): string {
  const queued = m.channels.reduce((n, c) => n + c.queuedBytes, 0);
  const forwarded = m.channels.reduce((n, c) => n + c.forwardedBytes, 0);
  const dropped = m.channels.reduce((n, c) => n + c.droppedBytes, 0);
  const parts = [`migration (${m.mode}) → ${m.destination}: ${m.phase}`, m.message];
  if (m.durationMs !== undefined) parts.push(`${m.durationMs.toFixed(1)} ms`);
  if (queued || forwarded || dropped || m.phase === 'done') parts.push(`queued ${queued} B, forwarded ${forwarded} B, dropped ${dropped} B`);
  return parts.join(' · ');
}

export class MigrationBanner {
  private timer: ReturnType<typeof setTimeout> | null = null;
  last: MigrationStatus | null = null;

  constructor(private readonly el: HTMLElement) {
    el.hidden = true;
  }

  show(m: MigrationStatus): void {
    this.last = m;
    this.el.hidden = false;
    this.el.dataset.phase = m.phase;
    this.el.dataset.mode = m.mode;
    this.el.textContent = formatMigration(m);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (m.phase === 'done' || m.phase === 'failed' || m.phase === 'cancelled') {
      this.timer = setTimeout(() => (this.el.hidden = true), BANNER_LINGER_MS);
    }
  }
}
