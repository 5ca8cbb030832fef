// The clipboard, page side. In the web host the page IS the host clipboard
// (only a page may call the browser's async Clipboard API): it reads the
// browser's clipboard while the window has focus and reports changes
// (clipboardContent), and writes what the guest copied ('clipboard' 'write').
// In Electron main uses the system clipboard and the page only shows the
// indicator. Browsers refuse clipboard access without permission or focus:
// the indicator then says so in words, instead of a paste that silently fails.
import type { ClipboardEvent, ClipKind, SessionStatus, ViewerApi } from '../../preload/contract';
import { formatBytes } from '../../preload/bytes';

/** How often the page looks at the browser's clipboard while it has focus. */
export const CLIPBOARD_POLL_MS = 1000;

type Items = { kind: ClipKind; data: Uint8Array }[];

const sameItems = (a: Items, b: Items) =>
  a.length === b.length && a.every((x, i) => x.kind === b[i]!.kind && x.data.length === b[i]!.data.length && x.data.every((v, k) => v === b[i]!.data[k]));

/** The indicator's words for one transfer. */
export function transferText(ev: Extract<ClipboardEvent, { t: 'transfer' }>): string {
  const what = ev.kind === 'png' ? 'image' : 'text';
  const way = ev.direction === 'to-guest' ? 'to the guest' : 'from the guest';
  return ev.blocked ? `Clipboard: ${what} ${way} not shared: ${ev.blocked}` : `Clipboard: ${formatBytes(ev.bytes)} of ${what} ${way}`;
}

export class PageClipboard {
  private state: NonNullable<SessionStatus['app']>['clipboard'] | undefined;
  private connected = false;
  /** What the browser's clipboard held at the last look (or what we wrote). */
  private last: Items = [];
  private timer: ReturnType<typeof setInterval> | null = null;
  private reading = false;
  /** A write of the guest's copy is under way: a look now would see it half done (a re-encoded image) as new. */
  private writing = false;
  /** The browser refused: stop asking until the window gets focus again. */
  private refused = false;
  /** Last indicator text (tests). */
  text = '';
  /** Changes of the browser's clipboard reported to main (tests). */
  sent = 0;

  constructor(
    private readonly api: ViewerApi,
    private readonly indicator: HTMLElement,
  ) {
    api.on('clipboard', (ev) => this.onEvent(ev));
    window.addEventListener('focus', () => {
      this.refused = false;
      void this.look();
    });
  }

  update(s: SessionStatus): void {
    this.state = s.app?.clipboard;
    this.connected = s.state === 'connected';
    const agent = !!s.app?.agent;
    const poll = this.connected && agent && !!this.state?.page && (this.state.policy === 'both' || this.state.policy === 'to-guest');
    if (poll && !this.timer) {
      this.timer = setInterval(() => void this.look(), CLIPBOARD_POLL_MS);
      void this.look();
    } else if (!poll && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
    if (!this.connected || !agent || !this.state) this.show('');
    else if (this.state.policy === 'off') this.show('Clipboard: not shared');
    else if (!this.text) this.show(this.state.policy === 'both' ? 'Clipboard: shared' : `Clipboard: shared ${this.state.policy === 'to-guest' ? 'to the guest only' : 'from the guest only'}`);
  }

  private show(text: string): void {
    this.text = text;
    this.indicator.textContent = text;
    this.indicator.hidden = !text;
  }

  private onEvent(ev: ClipboardEvent): void {
    if (ev.t === 'transfer') {
      this.show(transferText(ev));
      return;
    }
    void this.write(ev.kind, ev.data);
  }

  /** The guest copied: the browser's clipboard gets it (and we remember it, so it does not go back). */
  private async write(kind: ClipKind, data: Uint8Array): Promise<void> {
    this.writing = true;
    try {
      const copy = new Uint8Array(data);
      if (kind === 'text') await navigator.clipboard.writeText(new TextDecoder().decode(copy));
      else await navigator.clipboard.write([new ClipboardItem({ 'image/png': new Blob([copy], { type: 'image/png' }) })]);
      // the browser may re-encode an image: what it holds now is the baseline
      this.last = (await this.read()) ?? [{ kind, data: copy }];
    } catch (e) {
      this.show(`Clipboard: the browser did not let this page write the clipboard (${(e as Error).name}); allow clipboard access for this site`);
    } finally {
      this.writing = false;
    }
  }

  private async read(): Promise<Items | null> {
    const items = await navigator.clipboard.read();
    const out: Items = [];
    for (const item of items) {
      if (item.types.includes('text/plain') && !out.some((i) => i.kind === 'text')) out.push({ kind: 'text', data: new Uint8Array(await (await item.getType('text/plain')).arrayBuffer()) });
      if (item.types.includes('image/png') && !out.some((i) => i.kind === 'png')) out.push({ kind: 'png', data: new Uint8Array(await (await item.getType('image/png')).arrayBuffer()) });
    }
    return out;
  }

  /** One look at the browser's clipboard: a change goes to main, which offers it to the guest. */
  private async look(): Promise<void> {
    if (!this.timer || this.reading || this.writing || this.refused || !document.hasFocus()) return;
    this.reading = true;
    try {
      const now = await this.read();
      if (now && !sameItems(now, this.last)) {
        this.last = now;
        if (now.length) {
          this.api.clipboardContent(0, now);
          this.sent++;
        }
      }
    } catch (e) {
      this.refused = true;
      this.show(`Clipboard: the browser does not let this page read the clipboard (${(e as Error).name}); allow clipboard access for this site to copy into the VM`);
    } finally {
      this.reading = false;
    }
  }
}
