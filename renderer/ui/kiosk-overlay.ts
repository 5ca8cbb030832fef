// Kiosk overlay: a full-screen notice while a kiosk session is down — why it
// dropped, in plain words, and a countdown to the next automatic attempt.
// Hidden while connected; it never accepts input (nothing to escape to).
import type { ReconnectInfo, SessionStatus } from '../../preload/contract';

export interface OverlayView {
  visible: boolean;
  reason: string;
  text: string;
  countdown: string;
  attempt: number;
}

/** "Reconnecting in 12 s (attempt 3)" / "Reconnecting now… (attempt 3)". */
export function countdownText(r: ReconnectInfo, now: number): string {
  const left = Math.max(0, Math.min(r.delayMs, r.at - now));
  const secs = Math.ceil(left / 1000);
  return secs > 0 ? `Reconnecting in ${secs} s (attempt ${r.attempt})` : `Reconnecting now… (attempt ${r.attempt})`;
}

export class KioskOverlay {
  private timer: ReturnType<typeof setInterval> | null = null;
  private info: ReconnectInfo | null = null;
  private state: SessionStatus['state'] = 'idle';
  view: OverlayView = { visible: false, reason: '', text: '', countdown: '', attempt: 0 };

  private readonly title: HTMLElement | null;
  private readonly detail: HTMLElement | null;
  private readonly count: HTMLElement | null;

  constructor(
    private readonly el: HTMLElement,
    private readonly now: () => number = () => Date.now(),
  ) {
    el.hidden = true;
    this.title = el.querySelector<HTMLElement>('.kiosk-title');
    this.detail = el.querySelector<HTMLElement>('.kiosk-detail');
    this.count = el.querySelector<HTMLElement>('.kiosk-countdown');
  }

  update(s: SessionStatus): void {
    this.state = s.state;
    const r = s.app?.reconnect ?? null;
    this.info = s.state === 'connected' ? null : r;
    if (!s.app?.kiosk || s.state === 'connected' || (!r && s.state !== 'disconnected')) {
      this.hide();
      return;
    }
    this.render(s);
    // only a countdown changes between status updates
    if (r && !this.timer) this.timer = setInterval(() => this.render(null), 250);
    if (!r && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private hide(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.el.hidden = true;
    this.view = { visible: false, reason: '', text: '', countdown: '', attempt: 0 };
  }

  private render(s: SessionStatus | null): void {
    const r = this.info;
    const text = r ? r.text : s ? `Disconnected: ${s.message}` : this.view.text;
    const countdown = r ? (this.state === 'connecting' ? `Reconnecting now… (attempt ${r.attempt})` : countdownText(r, this.now())) : '';
    if (this.title) this.title.textContent = text;
    if (this.detail) this.detail.textContent = r ? r.detail : '';
    if (this.count) this.count.textContent = countdown;
    this.el.dataset.reason = r?.reason ?? '';
    this.el.hidden = false;
    this.view = { visible: true, reason: r?.reason ?? '', text, countdown, attempt: r?.attempt ?? 0 };
  }
}
