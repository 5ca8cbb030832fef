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
    ['Encryption', tlsText(s)],
    ['Video codec', s.app?.codecs?.video ? `${s.app.codecs.video} (the last video stream)` : '— (no video stream yet)'],
    ['Audio codec', s.app?.codecs?.audio ?? '— (no sound yet)'],
  ];
}

/** TLS per channel: all, none, or which (remote-viewer's secure-channels can encrypt some only). */
function tlsText(s: SessionStatus): string {
  const all = s.channels ?? [];
  const sec = new Set(s.secureChannels ?? []);
  if (!all.length) return '—';
  if (all.every((c) => sec.has(c))) return 'TLS on every channel';
  if (!all.some((c) => sec.has(c))) return 'none (plain TCP)';
  return `TLS on ${all.filter((c) => sec.has(c)).join(', ')}; plain: ${all.filter((c) => !sec.has(c)).join(', ')}`;
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

/** A dialog that follows the latest status: rendered when opened and again while open. */
export abstract class StatusDialog {
  protected last: SessionStatus = { state: 'idle', message: '' };

  constructor(protected readonly dialog: HTMLDialogElement) {
    dialog.querySelector('.details-close')?.addEventListener('click', () => dialog.close());
  }

  update(s: SessionStatus): void {
    this.last = s;
    if (this.dialog.open) this.render();
  }

  open(): void {
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
    this.focusTarget()?.focus();
  }

  protected abstract render(): void;

  /** What has the focus when the dialog opens (its Close button by default). */
  protected focusTarget(): HTMLElement | null {
    return this.dialog.querySelector<HTMLButtonElement>('.details-close');
  }
}

/** A dialog that shows rows made from the latest status (Guest details, About), refreshed while open. */
export class GuestDetails extends StatusDialog {
  constructor(
    dialog: HTMLDialogElement,
    private readonly rows: (s: SessionStatus) => [string, string][] = guestDetailRows,
  ) {
    super(dialog);
  }

  protected render(): void {
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
