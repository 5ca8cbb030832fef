// Status line: one line of text for the session state (connecting /
// connected to NAME / disconnected: reason), plus a data-state attribute
// that styles and tests can key on.
import type { SessionStatus } from '../../preload/contract';
import { formatStatus } from '../../preload/status-text';

export class StatusLine {
  private last: SessionStatus = { state: 'idle', message: '' };

  constructor(private readonly el: HTMLElement) {
    this.set(this.last);
  }

  get current(): SessionStatus {
    return this.last;
  }

  set(s: SessionStatus): void {
    this.last = s;
    this.el.dataset.state = s.state;
    this.el.textContent = formatStatus(s);
    this.el.title = s.channels?.length ? `channels: ${s.channels.join(', ')}` : '';
  }
}
