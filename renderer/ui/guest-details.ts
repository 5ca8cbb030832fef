// Help → Guest details: what the session knows about the guest — VM name,
// UUID, the target, mouse mode and the channels linked — as a definition list
// in a dialog, refreshed with every status while open.
import type { SessionStatus } from '../../preload/contract';

/** The rows shown, in order (pure: what a status says about the guest). */
export function guestDetailRows(s: SessionStatus): [string, string][] {
  return [
    ['State', s.state],
    ['Address', s.app?.target ?? '—'],
    ['Name', s.name ?? '—'],
    ['UUID', s.uuid ?? '—'],
    ['Mouse mode', s.mouseMode ?? '—'],
    ['Round trip', s.app?.latencyMs !== undefined ? `${s.app.latencyMs} ms (input to the server and back)` : '— (measured while the pointer moves)'],
    ['Channels', s.channels?.length ? s.channels.join(', ') : '—'],
  ];
}

/** Help → About's rows: the viewer's version, its runtime, the protocol and what it speaks. */
export function aboutRows(s: SessionStatus): [string, string][] {
  const a = s.app?.about;
  if (!a) return [['Version', '—']];
  return [['Version', a.version], ['Runs on', a.runtime], ['Protocol', a.protocol], ...a.features.map((f): [string, string] => {
    const i = f.indexOf(': ');
    return i > 0 ? [f.slice(0, i), f.slice(i + 2)] : ['', f];
  })];
}

/** A dialog that shows rows made from the latest status (Guest details, About), refreshed while open. */
export class GuestDetails {
  private last: SessionStatus = { state: 'idle', message: '' };

  constructor(
    private readonly dialog: HTMLDialogElement,
    private readonly rows: (s: SessionStatus) => [string, string][] = guestDetailRows,
  ) {
    dialog.querySelector('.details-close')?.addEventListener('click', () => dialog.close());
  }

  update(s: SessionStatus): void {
    this.last = s;
    if (this.dialog.open) this.render();
  }

  open(): void {
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
    this.dialog.querySelector<HTMLButtonElement>('.details-close')?.focus();
  }

  private render(): void {
    const dl = this.dialog.querySelector('dl');
    if (!dl) return;
    dl.replaceChildren(
      ...this.rows(this.last).flatMap(([k, v]) => {
        const dt = document.createElement('dt');
        dt.textContent = k;
        const dd = document.createElement('dd');
        dd.textContent = v;
        dd.dataset.field = k.toLowerCase().replace(/\s+/g, '-');
        return [dt, dd];
      }),
    );
  }
}
