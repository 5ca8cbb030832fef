// Connect dialog (File → Connect…, and at start when there is no target, as
// remote-viewer's): an address field with the recent connections as its
// history, the recent list as buttons, a password field and a .vv file
// opener (the file's bytes go to main, which parses it as the command line
// would). Never a made-up default address.
import type { SessionStatus, ViewerApi } from '../../preload/contract';

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

export class ConnectDialog {
  private readonly dialog = byId<HTMLDialogElement>('connect-dialog');
  private readonly address = byId<HTMLInputElement>('connect-address');
  private readonly password = byId<HTMLInputElement>('connect-password');
  private readonly recentList = byId<HTMLUListElement>('connect-recent');
  private readonly vvInput = byId<HTMLInputElement>('connect-vv');
  private recentShown: string | null = null;

  constructor(private readonly api: ViewerApi) {
    byId<HTMLFormElement>('connect-dialog-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const uri = this.address.value.trim();
      if (!uri) {
        this.address.setAttribute('aria-invalid', 'true');
        this.address.focus();
        return;
      }
      this.address.removeAttribute('aria-invalid');
      this.go(uri);
    });
    byId('connect-cancel').addEventListener('click', () => this.dialog.close());
    this.vvInput.addEventListener('change', () => void this.openVv());
  }

  /** The recent connections the page was told about (tests). */
  get recent(): string[] {
    return [...this.recentList.querySelectorAll<HTMLButtonElement>('button')].map((b) => b.dataset.uri ?? '');
  }

  get isOpen(): boolean {
    return this.dialog.open;
  }

  /** Modal from File → Connect…; at start without a target it leaves the rest of the window usable. */
  open(modal = true): void {
    if (!this.dialog.open) {
      if (modal) this.dialog.showModal();
      else this.dialog.show();
    }
    this.address.focus();
  }

  update(s: SessionStatus): void {
    this.showRecent(s.app?.recent ?? []);
  }

  private go(uri: string): void {
    const pw = this.password.value;
    this.password.value = '';
    this.dialog.close();
    this.api.connect(uri, pw || undefined);
  }

  private showRecent(uris: string[]): void {
    const key = uris.join('\n');
    if (key === this.recentShown) return;
    this.recentShown = key;
    this.recentList.replaceChildren(
      ...uris.map((u) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.dataset.uri = u;
        b.textContent = u;
        b.setAttribute('aria-label', `Connect to ${u}`);
        b.addEventListener('click', () => this.go(u));
        li.append(b);
        return li;
      }),
    );
    byId('connect-recent-empty').hidden = uris.length > 0;
  }

  private async openVv(): Promise<void> {
    const file = this.vvInput.files?.[0];
    this.vvInput.value = '';
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    this.dialog.close();
    this.api.openVv(bytes);
  }
}
