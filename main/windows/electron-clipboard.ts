// The system clipboard in the Electron app, for ClipboardSync: Electron's
// clipboard module in main (the rule: the page never touches it).
// Electron has no change event, so the clipboard is polled, and only while a
// guest agent is there to share it with (watch). A poll reads the text and the
// offered formats; an image is compared by a digest of its raw pixels (no PNG
// encode per poll; PNG only when the guest pastes). Our own writes are
// remembered so they do not come back as a change. PRIMARY exists on Linux
// only ('selection').
import type { ClipKind } from '../../preload/contract';
import type { HostClipboardSource } from '../app/host-clipboard';
import { Selection } from '../spice/agent/protocol';

/** The part of Electron's clipboard + nativeImage this adapter uses (a test passes its own). */
export interface ElectronClipboardApi {
  availableFormats(type?: 'clipboard' | 'selection'): string[];
  readText(type?: 'clipboard' | 'selection'): string;
  writeText(text: string, type?: 'clipboard' | 'selection'): void;
  /** PNG bytes of the clipboard image, empty when there is none (clipboard.readImage().toPNG()). */
  readPng(type?: 'clipboard' | 'selection'): Uint8Array;
  /** A digest of the clipboard image ('' when there is none): size + hash of readImage().toBitmap(). */
  imageKey(type?: 'clipboard' | 'selection'): string;
  /** clipboard.writeImage(nativeImage.createFromBuffer(png)). */
  writePng(png: Uint8Array, type?: 'clipboard' | 'selection'): void;
}

export const CLIPBOARD_POLL_MS = 500;

const TYPE = (selection: number) => (selection === Selection.PRIMARY ? 'selection' : 'clipboard');
const enc = new TextEncoder();
const dec = new TextDecoder();

export class ElectronClipboard implements HostClipboardSource {
  readonly selections: readonly number[];
  private readonly listeners = new Set<(selection: number, kinds: ClipKind[]) => void>();
  /** What each selection held at the last look, as a comparable key. */
  private readonly seen = new Map<number, { key: string; kinds: ClipKind[] }>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly api: ElectronClipboardApi,
    platform: string = process.platform,
    private readonly pollMs = CLIPBOARD_POLL_MS,
  ) {
    this.selections = platform === 'linux' ? [Selection.CLIPBOARD, Selection.PRIMARY] : [Selection.CLIPBOARD];
  }

  /** Polls while an agent is there (the session controller says when); what is there now is known at once. */
  watch(on: boolean): void {
    if (!on) return this.close();
    if (this.timer) return;
    for (const s of this.selections) this.seen.set(s, this.look(s));
    this.timer = setInterval(() => this.poll(), this.pollMs);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get watching(): boolean {
    return this.timer !== null;
  }

  onChange(cb: (selection: number, kinds: ClipKind[]) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  kinds(selection: number): ClipKind[] {
    // not polled: look now (a new agent is offered what is there)
    if (!this.timer) this.seen.set(selection, this.look(selection));
    return this.seen.get(selection)?.kinds ?? [];
  }

  /** One look at every selection: a change that is not ours is reported. */
  poll(): void {
    for (const s of this.selections) {
      const now = this.look(s);
      if (now.key === this.seen.get(s)?.key) continue;
      this.seen.set(s, now);
      for (const l of this.listeners) l(s, now.kinds);
    }
  }

  async write(selection: number, kind: ClipKind, data: Uint8Array): Promise<void> {
    if (kind === 'text') this.api.writeText(dec.decode(data), TYPE(selection));
    else this.api.writePng(data, TYPE(selection));
    this.seen.set(selection, this.look(selection));
  }

  async read(selection: number, kind: ClipKind): Promise<Uint8Array | null> {
    if (kind === 'text') {
      const t = this.api.readText(TYPE(selection));
      return t ? enc.encode(t) : null;
    }
    const png = this.api.readPng(TYPE(selection));
    return png.length ? png : null;
  }

  private look(selection: number): { key: string; kinds: ClipKind[] } {
    const formats = this.api.availableFormats(TYPE(selection));
    const text = this.api.readText(TYPE(selection));
    const image = formats.some((f) => f.startsWith('image/')) ? this.api.imageKey(TYPE(selection)) : '';
    const kinds: ClipKind[] = [...(text ? (['text'] as const) : []), ...(image ? (['png'] as const) : [])];
    return { key: `${text.length}:${text}\u0000${image}`, kinds };
  }
}
