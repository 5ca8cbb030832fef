// Connection quality at the end of the status line: the round trip of the
// user's input to the server and back (AppState.latencyMs, timed by the
// inputs channel's MOTION_ACKs), with a coloured dot. Shown once measured.
import type { SessionStatus } from '../../preload/contract';

/** Tiers a user feels: typing and pointing are fine under 50 ms, sluggish over 150. */
export function qualityOf(ms: number): 'good' | 'fair' | 'poor' {
  return ms < 50 ? 'good' : ms < 150 ? 'fair' : 'poor';
}

export class QualityIndicator {
  constructor(private readonly el: HTMLElement) {}

  update(s: SessionStatus): void {
    const ms = s.state === 'connected' ? s.app?.latencyMs : undefined;
    this.el.hidden = ms === undefined;
    if (ms === undefined) return;
    const text = `${ms} ms`;
    if (this.el.textContent !== text) this.el.textContent = text;
    this.el.dataset.quality = qualityOf(ms);
  }
}
