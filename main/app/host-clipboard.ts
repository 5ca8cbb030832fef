// The host clipboard the session controller shares with the guest agent
// (ClipboardSync): Electron's system clipboard (main/windows/electron-clipboard.ts)
// or, in the web host, the page's — the browser's async Clipboard API, which
// only the page can call: the page reports what the browser's clipboard holds
// (clipboardContent) and writes what the guest copied ('clipboard' 'write').
import type { ClipboardEvent, ClipKind } from '../../preload/contract';
import type { HostClipboard } from '../spice/agent/clipboard';
import { Selection } from '../spice/agent/protocol';

/** A host clipboard that also says when it changed (not by our own write) and what it holds. */
export interface HostClipboardSource extends HostClipboard {
  onChange(cb: (selection: number, kinds: ClipKind[]) => void): () => void;
  /** A guest agent is there (true) or gone: a polled clipboard polls only while one is. */
  watch?(on: boolean): void;
}

type Items = { kind: ClipKind; data: Uint8Array }[];

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

/** The web host's clipboard: whatever the page last reported, and writes handed to the page. */
export class PageClipboard implements HostClipboardSource {
  readonly selections: readonly number[] = [Selection.CLIPBOARD];
  private readonly content = new Map<number, Items>();
  private readonly listeners = new Set<(selection: number, kinds: ClipKind[]) => void>();

  constructor(private readonly toPage: (ev: ClipboardEvent) => void) {}

  onChange(cb: (selection: number, kinds: ClipKind[]) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  kinds(selection: number): ClipKind[] {
    return (this.content.get(selection) ?? []).map((i) => i.kind);
  }

  /** The page read the browser's clipboard: new content is offered to the guest, an echo of our own write is not. */
  setContent(selection: number, items: Items): void {
    if (!this.selections.includes(selection)) return;
    const old = this.content.get(selection) ?? [];
    if (old.length === items.length && items.every((i) => old.some((o) => o.kind === i.kind && same(o.data, i.data)))) return;
    this.content.set(selection, items);
    for (const l of this.listeners) l(selection, items.map((i) => i.kind));
  }

  async write(selection: number, kind: ClipKind, data: Uint8Array): Promise<void> {
    // what the browser will hold: the page's next report of it is no change
    this.content.set(selection, [{ kind, data }]);
    this.toPage({ t: 'write', selection, kind, data });
  }

  async read(selection: number, kind: ClipKind): Promise<Uint8Array | null> {
    return this.content.get(selection)?.find((i) => i.kind === kind)?.data ?? null;
  }
}
