// Clipboard sharing over the guest agent: the host's clipboard (Electron's
// clipboard module, or the page's async Clipboard API in the web host) on one
// side, the agent's by-demand clipboard on the other. Pure state, no I/O: the
// host adapter reads and writes the real clipboard, the AgentChannel carries
// the messages.
//
// Guest → client: the agent GRABs a selection with the types it offers; we
// REQUEST the best one we can hold (UTF-8 text, else PNG) at once, because a
// host clipboard (Electron's, the browser's) cannot be filled lazily, and write
// the answer to the host. Client → guest: the host adapter reports a change; we
// GRAB with its types; the agent REQUESTs when the guest pastes and we answer
// with the host's current data. A direction the policy blocks, or data over the
// size limit, is answered with NONE (the agent's paste gets nothing, never
// waits) and reported, so the window can say why a paste did not arrive.
import type { AgentChannel, AgentState } from './agent-channel';
import type { AgentMessage } from './agent-stream';
import { AgentCap, AgentMsg, ClipboardType, Selection, decodeClipboard, decodeClipboardGrab, decodeClipboardRelease, decodeClipboardRequest, hasCap } from './protocol';

import type { ClipboardPolicy, ClipKind } from '../../../preload/contract';

/** Which ways the clipboard is shared (--clipboard; the Share clipboard menu toggles both/off); what a host clipboard holds. */
export type { ClipboardPolicy, ClipKind };

/** The host's clipboard, as the Electron main process or the page holds it. */
export interface HostClipboard {
  /** Selections the host has: CLIPBOARD always, PRIMARY on Linux desktops. */
  readonly selections: readonly number[];
  /** Puts what the guest copied on the host's clipboard. */
  write(selection: number, kind: ClipKind, data: Uint8Array): Promise<void>;
  /** The host's current content of that kind (null: none). */
  read(selection: number, kind: ClipKind): Promise<Uint8Array | null>;
  /** Kinds the selection holds now ([]: empty or unknown). */
  kinds(selection: number): ClipKind[];
}

/** One clipboard transfer (or a blocked one), for the window's indicator. */
export interface ClipboardTransfer {
  direction: 'to-guest' | 'to-client';
  selection: number;
  kind: ClipKind;
  bytes: number;
  /** Why it did not happen: the policy, the size limit, or the host refusing. */
  blocked?: string;
}

/** Default limit of one clipboard item, each way (spice-gtk has none; a runaway copy should not move 1 GB). */
export const DEFAULT_MAX_CLIPBOARD = 64 << 20;

const TYPE_OF: Record<ClipKind, number> = { text: ClipboardType.UTF8_TEXT, png: ClipboardType.IMAGE_PNG };
const KIND_OF = new Map<number, ClipKind>([
  [ClipboardType.UTF8_TEXT, 'text'],
  [ClipboardType.IMAGE_PNG, 'png'],
]);

const allows = (p: ClipboardPolicy, d: ClipboardTransfer['direction']) => p === 'both' || p === d;

export interface ClipboardSyncOptions {
  policy?: ClipboardPolicy;
  maxBytes?: number;
  onTransfer?(t: ClipboardTransfer): void;
  /** A host read/write that failed (permission, no display): reported, the session lives. */
  onError?(message: string): void;
}

export class ClipboardSync {
  private policy: ClipboardPolicy;
  private readonly maxBytes: number;
  /** The type we requested per selection after a guest grab (its answer goes to the host). */
  private readonly requested = new Map<number, number>();

  constructor(
    private readonly agent: AgentChannel,
    private readonly host: HostClipboard,
    private readonly opts: ClipboardSyncOptions = {},
  ) {
    this.policy = opts.policy ?? 'both';
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_CLIPBOARD;
  }

  get currentPolicy(): ClipboardPolicy {
    return this.policy;
  }

  setPolicy(p: ClipboardPolicy): void {
    const grabNow = !allows(this.policy, 'to-guest') && allows(p, 'to-guest');
    this.policy = p;
    if (grabNow) for (const s of this.host.selections) this.grab(s);
  }

  // ---- from the host adapter

  /** The host clipboard changed (not by our own write): the guest is offered what it holds now. */
  hostChanged(selection: number): void {
    if (!this.host.selections.includes(selection)) return;
    this.grab(selection);
  }

  // ---- from the agent

  agentState(state: AgentState): void {
    if (state !== 'ready') {
      this.requested.clear();
      return;
    }
    // an agent that takes a limit gets ours: it does not send what we would refuse
    if (hasCap(this.agent.agentCaps, AgentCap.MAX_CLIPBOARD)) this.agent.maxClipboard(this.maxBytes);
    // what the host holds already is offered to the new agent
    for (const s of this.host.selections) this.grab(s);
  }

  agentMessage(msg: AgentMessage): void {
    const l = this.agent.clipboardLayout;
    switch (msg.type) {
      case AgentMsg.CLIPBOARD_GRAB: {
        const g = decodeClipboardGrab(l, msg.data);
        this.requested.delete(g.selection);
        if (!this.host.selections.includes(g.selection)) return;
        const type = g.types.includes(ClipboardType.UTF8_TEXT) ? ClipboardType.UTF8_TEXT : g.types.includes(ClipboardType.IMAGE_PNG) ? ClipboardType.IMAGE_PNG : null;
        if (type === null) return; // nothing a host clipboard here holds (BMP, files)
        if (!allows(this.policy, 'to-client')) {
          this.opts.onTransfer?.({ direction: 'to-client', selection: g.selection, kind: KIND_OF.get(type)!, bytes: 0, blocked: 'clipboard sharing from the guest is off' });
          return;
        }
        this.requested.set(g.selection, type);
        this.agent.clipboardRequest(g.selection, type);
        return;
      }
      case AgentMsg.CLIPBOARD: {
        const c = decodeClipboard(l, msg.data);
        if (this.requested.get(c.selection) !== c.type) return; // not what we asked for (or superseded)
        this.requested.delete(c.selection);
        const kind = KIND_OF.get(c.type)!;
        if (!allows(this.policy, 'to-client')) return;
        if (c.data.length > this.maxBytes) {
          this.opts.onTransfer?.({ direction: 'to-client', selection: c.selection, kind, bytes: c.data.length, blocked: `larger than the ${this.maxBytes}-byte clipboard limit` });
          return;
        }
        // the reassembled message is ours: the host may keep the view
        this.host.write(c.selection, kind, c.data).then(
          () => this.opts.onTransfer?.({ direction: 'to-client', selection: c.selection, kind, bytes: c.data.length }),
          (e: unknown) => this.hostFailed('to-client', c.selection, kind, c.data.length, e),
        );
        return;
      }
      case AgentMsg.CLIPBOARD_REQUEST: {
        const q = decodeClipboardRequest(l, msg.data);
        void this.answer(q.selection, q.type);
        return;
      }
      case AgentMsg.CLIPBOARD_RELEASE:
        this.requested.delete(decodeClipboardRelease(l, msg.data).selection);
        return;
      default:
        return;
    }
  }

  // ---- internals

  private grab(selection: number): void {
    const kinds = this.host.kinds(selection);
    if (!kinds.length || this.agent.state !== 'ready' || !allows(this.policy, 'to-guest')) return;
    if (selection !== Selection.CLIPBOARD && !this.agent.clipboardLayout.selection) return;
    this.agent.clipboardGrab(
      selection,
      kinds.map((k) => TYPE_OF[k]),
    );
  }

  /** The guest pastes: the host's data, or NONE (never silence: the agent's paste would wait). */
  private async answer(selection: number, type: number): Promise<void> {
    const kind = KIND_OF.get(type);
    let data: Uint8Array | null = null;
    if (kind && allows(this.policy, 'to-guest')) {
      try {
        data = await this.host.read(selection, kind);
      } catch (e) {
        this.hostFailed('to-guest', selection, kind, 0, e);
      }
      if (data && data.length > this.maxBytes) {
        this.opts.onTransfer?.({ direction: 'to-guest', selection, kind, bytes: data.length, blocked: `larger than the ${this.maxBytes}-byte clipboard limit` });
        data = null;
      }
    } else if (kind) {
      this.opts.onTransfer?.({ direction: 'to-guest', selection, kind, bytes: 0, blocked: 'clipboard sharing to the guest is off' });
    }
    if (this.agent.state !== 'ready') return;
    this.agent.clipboardData(selection, data ? type : ClipboardType.NONE, data ?? new Uint8Array(0));
    if (data && kind) this.opts.onTransfer?.({ direction: 'to-guest', selection, kind, bytes: data.length });
  }

  private hostFailed(direction: ClipboardTransfer['direction'], selection: number, kind: ClipKind, bytes: number, e: unknown): void {
    const why = e instanceof Error ? e.message : String(e);
    this.opts.onError?.(why);
    this.opts.onTransfer?.({ direction, selection, kind, bytes, blocked: why });
  }
}
