// File → USB devices and smartcards: the Devices panel. One line per USB
// device of the client machine or shared CD image, per smartcard reader and for
// the shared folder (its path, read-only or not), with a checkbox that
// redirects / gives back (USB) or offers / stops offering (a reader, the
// folder) — main owns the devices; this only shows their state and asks.
// The status line's device indicator says at a glance what the guest has.
import type { DeviceEntry, ViewerApi } from '../../preload/contract';

/** The short indicator text: what is shared now ('' when nothing). */
export function deviceIndicator(entries: readonly DeviceEntry[]): string {
  const usb = entries.filter((e) => e.kind === 'usb' && e.state === 'redirected').length;
  const cards = entries.filter((e) => e.kind === 'smartcard' && e.state === 'shared');
  const parts: string[] = [];
  if (usb) parts.push(`USB ${usb}`);
  if (cards.length) parts.push(`smartcard${cards.some((c) => c.inUse) ? ' in use' : ' shared'}`);
  const folder = entries.find((e) => e.kind === 'folder' && e.state === 'shared');
  if (folder) parts.push(`folder${folder.detail.startsWith('read-only') ? ' (read-only)' : ''}`);
  return parts.join(' · ');
}

export class DevicesPanel {
  entries: DeviceEntry[] = [];

  constructor(
    private readonly dialog: HTMLDialogElement,
    private readonly indicator: HTMLElement,
    private readonly api: ViewerApi,
  ) {
    dialog.querySelector('.devices-close')?.addEventListener('click', () => dialog.close());
    api.on('devices', (list) => this.update(list));
  }

  update(list: DeviceEntry[]): void {
    this.entries = list;
    const text = deviceIndicator(list);
    this.indicator.hidden = !text;
    this.indicator.textContent = text;
    if (this.dialog.open) this.render();
  }

  open(): void {
    this.render();
    if (!this.dialog.open) this.dialog.showModal();
  }

  private render(): void {
    for (const kind of ['usb', 'smartcard', 'folder'] as const) {
      const ul = this.dialog.querySelector<HTMLElement>(`ul[data-kind='${kind}']`);
      if (!ul) continue;
      const mine = this.entries.filter((e) => e.kind === kind);
      const empty = this.dialog.querySelector<HTMLElement>(`p[data-empty='${kind}']`);
      if (empty) empty.hidden = mine.length > 0;
      ul.replaceChildren(...mine.map((e) => this.line(e)));
    }
  }

  private line(e: DeviceEntry): HTMLLIElement {
    const li = document.createElement('li');
    li.dataset.id = e.id;
    li.dataset.state = e.state;
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.checked = e.shared;
    // a line without an id (pcscd away) or a drive on its way has nothing to toggle
    box.disabled = !e.id || e.state === 'connecting' || e.state === 'adding';
    box.setAttribute('aria-label', `${e.kind === 'usb' ? 'Redirect' : 'Share'} ${e.label}`);
    box.addEventListener('change', () => this.api.setDeviceShared(e.kind, e.id, box.checked));
    const label = document.createElement('span');
    label.className = 'device-label';
    label.textContent = e.label;
    const detail = document.createElement('span');
    detail.className = 'device-detail';
    detail.textContent = [e.detail, e.kind === 'usb' ? e.state : ''].filter(Boolean).join(' · ');
    li.append(box, label, detail);
    if (e.error) {
      const err = document.createElement('span');
      err.className = 'device-error';
      err.setAttribute('role', 'alert');
      err.textContent = e.error;
      li.append(err);
    }
    return li;
  }
}
