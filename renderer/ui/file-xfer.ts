// Files dropped on the display go to the guest (the agent saves them in its
// download folder). The page keeps the File objects and hands main their bytes
// block by block when asked, so a large file is never held in memory twice; a
// panel shows a bar per file and overall, a cancel button each, and the
// agent's errors in words (disk full, disabled, no agent).
import type { FileXferEvent, SessionStatus, ViewerApi } from '../../preload/contract';
import { formatBytes } from '../../preload/bytes';

export interface XferRow {
  id: number;
  name: string;
  size: number;
  sent: number;
  percent: number;
  state: 'sending' | 'done' | 'failed' | 'cancelled';
  error?: string;
  /** Every progress figure as it came (tests check it only grows). */
  history: number[];
}

interface RowElements {
  li: HTMLLIElement;
  bar: HTMLProgressElement;
  text: HTMLElement;
  cancel: HTMLButtonElement;
}

export class FileXferPanel {
  private enabled = false;
  private readonly files = new Map<number, File>();
  readonly rows = new Map<number, XferRow>();
  private readonly els = new Map<number, RowElements>();
  private readonly list: HTMLElement;
  private readonly overall: HTMLProgressElement;
  private readonly summary: HTMLElement;

  constructor(
    private readonly api: ViewerApi,
    dropTarget: HTMLElement,
    private readonly panel: HTMLElement,
  ) {
    this.list = panel.querySelector('ul')!;
    this.overall = panel.querySelector('progress')!;
    this.summary = panel.querySelector('.xfer-summary')!;
    panel.querySelector('.xfer-close')!.addEventListener('click', () => this.clearEnded());
    dropTarget.addEventListener('dragover', (e) => {
      if (!this.enabled || !e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = 'copy';
    });
    dropTarget.addEventListener('drop', (e) => {
      if (!this.enabled || !e.dataTransfer?.files.length) return;
      e.preventDefault();
      for (const f of e.dataTransfer.files) this.send(f);
    });
    api.on('fileXfer', (ev) => this.onEvent(ev));
  }

  /** Dropping works while connected with an agent in the guest. */
  update(s: SessionStatus): void {
    this.enabled = s.state === 'connected' && !!s.app?.agent;
  }

  send(file: File): number {
    // random ids: several pages may share one engine (web host), and a reloaded page starts afresh
    let id = 0;
    while (id === 0 || this.rows.has(id)) id = crypto.getRandomValues(new Uint32Array(1))[0]! & 0x7fffffff;
    this.files.set(id, file);
    this.rows.set(id, { id, name: file.name, size: file.size, sent: 0, percent: 0, state: 'sending', history: [] });
    this.api.fileXferStart(id, file.name, file.size);
    this.render();
    return id;
  }

  cancel(id: number): void {
    if (this.rows.get(id)?.state === 'sending') this.api.fileXferCancel(id);
  }

  private onEvent(ev: FileXferEvent): void {
    const row = this.rows.get(ev.id);
    if (!row) return;
    if (ev.t === 'read') {
      const file = this.files.get(ev.id);
      if (!file) return;
      file
        .slice(ev.offset, ev.offset + ev.max)
        .arrayBuffer()
        .then(
          (b) => this.api.fileXferData(ev.id, ev.offset, new Uint8Array(b)),
          // an empty answer: main ends the transfer with an error
          () => this.api.fileXferData(ev.id, ev.offset, new Uint8Array(0)),
        );
      return;
    }
    if (ev.t === 'progress') {
      row.sent = ev.sent;
      row.percent = ev.percent;
      row.history.push(ev.sent);
    } else {
      this.files.delete(ev.id);
      row.state = ev.ok ? 'done' : ev.code === 'CANCELLED' ? 'cancelled' : 'failed';
      if (ev.ok) {
        row.sent = row.size;
        row.percent = 100;
      } else if (ev.error) row.error = ev.error;
    }
    this.render();
  }

  private clearEnded(): void {
    for (const [id, r] of this.rows) if (r.state !== 'sending') this.rows.delete(id);
    this.render();
  }

  private render(): void {
    const rows = [...this.rows.values()];
    this.panel.hidden = rows.length === 0;
    const active = rows.filter((r) => r.state === 'sending');
    const total = rows.reduce((n, r) => n + r.size, 0);
    const sent = rows.reduce((n, r) => n + (r.state === 'done' ? r.size : r.sent), 0);
    this.overall.max = Math.max(1, total);
    this.overall.value = sent;
    this.summary.textContent = active.length
      ? `Sending ${active.length} file${active.length > 1 ? 's' : ''} to the guest: ${total ? Math.floor((sent * 100) / total) : 0} %`
      : `Sent ${rows.filter((r) => r.state === 'done').length} of ${rows.length} file${rows.length > 1 ? 's' : ''}`;
    // rows are updated in place: a Cancel button rebuilt on every progress event could not be clicked
    for (const [id, el] of this.els) {
      if (this.rows.has(id)) continue;
      el.li.remove();
      this.els.delete(id);
    }
    for (const r of rows) {
      let el = this.els.get(r.id);
      if (!el) {
        el = this.rowElement(r);
        this.els.set(r.id, el);
        this.list.append(el.li);
      }
      el.li.dataset.state = r.state;
      el.bar.value = r.state === 'done' ? el.bar.max : r.sent;
      el.bar.setAttribute('aria-label', `${r.name}: ${r.percent} %`);
      el.text.textContent = r.state === 'sending' ? `${r.percent} %` : r.state === 'done' ? 'done' : r.state === 'cancelled' ? 'cancelled' : `failed: ${r.error ?? 'unknown error'}`;
      el.cancel.hidden = r.state !== 'sending';
    }
  }

  private rowElement(r: XferRow): RowElements {
    const li = document.createElement('li');
    li.dataset.id = String(r.id);
    const name = document.createElement('span');
    name.className = 'xfer-name';
    name.textContent = `${r.name} (${formatBytes(r.size)})`;
    const bar = document.createElement('progress');
    bar.max = Math.max(1, r.size);
    const text = document.createElement('span');
    text.className = 'xfer-state';
    const cancel = document.createElement('button');
    cancel.type = 'button';
    cancel.className = 'xfer-cancel';
    cancel.textContent = 'Cancel';
    cancel.setAttribute('aria-label', `Cancel sending ${r.name}`);
    cancel.addEventListener('click', () => this.cancel(r.id));
    li.append(name, bar, text, cancel);
    return { li, bar, text, cancel };
  }
}
