// Connection doctor panel: after a failed connect, the steps from parsing the
// address to linking channels with the one that failed marked, the reason in
// plain words, what to check, and "Copy report" (text without the password).
import { DOCTOR_STEPS, type Diagnosis, type SessionStatus } from '../../preload/contract';

/** ok / failed / not reached, per step, for a failed step. */
export function stepMarks(failed: string): { step: string; label: string; mark: 'ok' | 'failed' | 'skipped' }[] {
  const i = DOCTOR_STEPS.findIndex((s) => s.step === failed);
  return DOCTOR_STEPS.map((s, k) => ({ ...s, mark: i < 0 ? 'ok' : k < i ? 'ok' : k === i ? 'failed' : 'skipped' }));
}

export class DoctorPanel {
  last: Diagnosis | null = null;

  constructor(private readonly el: HTMLElement) {
    el.hidden = true;
    el.querySelector<HTMLButtonElement>('.doctor-copy')?.addEventListener('click', () => void this.copy());
    el.querySelector<HTMLButtonElement>('.doctor-close')?.addEventListener('click', () => (el.hidden = true));
  }

  update(s: SessionStatus): void {
    const d = s.app?.diagnosis;
    // kiosk has its own overlay; a connect in progress or up clears the panel
    if (!d || s.app?.kiosk || s.state !== 'disconnected') {
      if (s.state !== 'disconnected') this.el.hidden = true;
      if (!d) this.last = null;
      return;
    }
    this.last = d;
    const steps = this.el.querySelector<HTMLElement>('.doctor-steps');
    if (steps) {
      steps.textContent = '';
      for (const m of stepMarks(d.step)) {
        const li = document.createElement('li');
        li.dataset.mark = m.mark;
        li.dataset.step = m.step;
        li.textContent = `${m.mark === 'ok' ? '✓' : m.mark === 'failed' ? '✗' : '·'} ${m.label}`;
        steps.append(li);
      }
    }
    const set = (sel: string, text: string): void => {
      const n = this.el.querySelector<HTMLElement>(sel);
      if (n) n.textContent = text;
    };
    set('.doctor-step', `Failed at: ${d.stepText}`);
    set('.doctor-summary', d.summary);
    set('.doctor-hint', d.hint);
    set('.doctor-report', d.report);
    this.el.dataset.step = d.step;
    this.el.hidden = false;
  }

  async copy(): Promise<void> {
    if (!this.last) return;
    const text = this.last.report;
    const btn = this.el.querySelector<HTMLButtonElement>('.doctor-copy');
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // no async clipboard (permissions): select the report text and copy it
      const pre = this.el.querySelector<HTMLElement>('.doctor-report');
      if (pre) {
        const range = document.createRange();
        range.selectNodeContents(pre);
        const sel = getSelection();
        sel?.removeAllRanges();
        sel?.addRange(range);
        document.execCommand('copy');
      }
    }
    if (btn) {
      btn.textContent = 'Copied';
      setTimeout(() => (btn.textContent = 'Copy report'), 1500);
    }
  }
}
