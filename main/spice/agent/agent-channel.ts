// The guest agent as the main channel sees it: token flow both ways, the queue
// of our messages waiting for tokens, reassembly of the agent's messages,
// capability negotiation and the clipboard serials. Pure state, no I/O: the
// main channel gives it a link (AGENT_START / AGENT_TOKEN / AGENT_DATA out) and
// feeds it AGENT_* messages.
//
// Migration: this object belongs to the logical MainChannel, not to its
// Connection. A seamless switch swaps the connection under it and keeps it
// whole: token counts, the waiting queue and a half-received message carry on
// (the servers move their side in the main channel's MIGRATE_DATA). A chunk
// leaves the queue when it is handed to the channel, which sends or holds it
// across the swap in order, so nothing is sent twice and nothing is dropped.
// Only a server that lost our state (semi-seamless, reconnect) resets it.
//
// States: absent → starting (AGENT_START + our capabilities sent, waiting for
// the agent's) → ready; any → absent on AGENT_DISCONNECTED or reset.
//
// Listeners: the feature layers (clipboard, file transfer, resolution) and the
// main channel's logger each attach with listen(); every event goes to all.
import { SpiceError } from '../wire/errors';
import * as p from './protocol';
import { AgentCap, AgentMsg } from './protocol';
import { AgentReassembler, chunkAgentMessage, type AgentMessage, type PartialMessage } from './agent-stream';

export type AgentState = 'absent' | 'starting' | 'ready';

export interface AgentLink {
  /** SPICE_MSGC_MAIN_AGENT_START: tokens we grant the server for AGENT_DATA to us. */
  start(tokens: number): void;
  /** SPICE_MSGC_MAIN_AGENT_TOKEN: tokens given back as we consume its chunks. */
  token(tokens: number): void;
  /** SPICE_MSGC_MAIN_AGENT_DATA: one chunk (≤ VD_AGENT_MAX_DATA_SIZE). */
  data(chunk: Uint8Array): void;
}

export interface AgentEvents {
  onState?(state: AgentState): void;
  /** Every agent message after the protocol-level ones were handled (caps, serials). */
  onMessage?(msg: AgentMessage, agent: AgentChannel): void;
  /** A malformed or refused agent message: reported, the session and the agent live. */
  onError?(err: SpiceError): void;
}

/** Tokens we grant the server for agent data to us; we return them as we consume. */
export const AGENT_CLIENT_TOKENS = 64;
/** Default ceiling for one agent message to us (the clipboard limit adds to it). */
export const DEFAULT_MAX_AGENT_MESSAGE = 64 * 1024 * 1024;

/** What we announce: by-demand clipboard with selections and serials, monitors, display config, detailed file errors. */
export const CLIENT_AGENT_CAPS = p.capsOf(
  AgentCap.MONITORS_CONFIG,
  AgentCap.REPLY,
  AgentCap.DISPLAY_CONFIG,
  AgentCap.CLIPBOARD_BY_DEMAND,
  AgentCap.CLIPBOARD_SELECTION,
  AgentCap.MONITORS_CONFIG_POSITION,
  AgentCap.FILE_XFER_DETAILED_ERRORS,
  AgentCap.CLIPBOARD_NO_RELEASE_ON_REGRAB,
  AgentCap.CLIPBOARD_GRAB_SERIAL,
);

/** One message's chunks waiting for server tokens; `sent` runs when its last chunk leaves. */
interface QueuedChunk {
  chunk: Uint8Array;
  sent?: () => void;
}

/** The agent state a seamless switch must keep (tests and diagnostics read it). */
export interface AgentMigrationState {
  state: AgentState;
  /** Chunks we may still send (server → client tokens). */
  serverTokens: number;
  /** Chunks the server may still send us before it waits for AGENT_TOKEN. */
  clientTokens: number;
  /** Consumed chunks not yet given back. */
  tokensToReturn: number;
  queuedChunks: number;
  queuedBytes: number;
  partial: PartialMessage | null;
  serials: number[];
}

export class AgentChannel {
  state: AgentState = 'absent';
  /** Capabilities the agent announced ([] until then). */
  agentCaps: number[] = [];
  private serverTokens = 0;
  private clientTokens = 0;
  private toReturn = 0;
  private readonly queue: QueuedChunk[] = [];
  private queued = 0;
  private readonly listeners = new Set<AgentEvents>();
  private readonly reasm: AgentReassembler;
  /** CLIPBOARD_GRAB serial per selection, as spice-vdagentd counts it. */
  private readonly serials = [0, 0, 0];

  constructor(
    private readonly link: AgentLink,
    /** A first listener (more attach with listen()). */
    events?: AgentEvents,
    maxMessage = DEFAULT_MAX_AGENT_MESSAGE,
  ) {
    this.reasm = new AgentReassembler(maxMessage);
    if (events) this.listen(events);
  }

  /** Adds a listener; returns its removal. */
  listen(events: AgentEvents): () => void {
    this.listeners.add(events);
    return () => this.listeners.delete(events);
  }

  /** Bytes of our messages waiting for server tokens. */
  get queuedBytes(): number {
    return this.queued;
  }

  migrationState(): AgentMigrationState {
    return {
      state: this.state,
      serverTokens: this.serverTokens,
      clientTokens: this.clientTokens,
      tokensToReturn: this.toReturn,
      queuedChunks: this.queue.length,
      queuedBytes: this.queued,
      partial: this.reasm.partial,
      serials: [...this.serials],
    };
  }

  // ---- from the main channel

  /** MAIN_INIT agent_tokens / AGENT_CONNECTED_TOKENS. */
  setServerTokens(n: number): void {
    this.serverTokens = n;
    this.flush();
  }

  /** AGENT_TOKEN. */
  addServerTokens(n: number): void {
    this.serverTokens += n;
    this.flush();
  }

  /** The agent is there (MAIN_INIT agent_connected, AGENT_CONNECTED[_TOKENS]). */
  connected(): void {
    if (this.state !== 'absent') return;
    this.clientTokens = AGENT_CLIENT_TOKENS;
    this.toReturn = 0;
    this.link.start(AGENT_CLIENT_TOKENS);
    // request=1: the agent answers with its own set (and spice-vdagentd restarts its serials)
    this.serials.fill(0);
    this.setState('starting');
    this.enqueue(AgentMsg.ANNOUNCE_CAPABILITIES, [p.encodeAnnounceCapabilities({ request: true, caps: CLIENT_AGENT_CAPS })]);
  }

  /** AGENT_DISCONNECTED: what was queued or half-received is gone with it. */
  disconnected(): void {
    this.clear();
  }

  /** A server that knows nothing of our agent session (semi-seamless, reconnect). */
  reset(): void {
    this.serverTokens = 0;
    this.clear();
  }

  /** AGENT_DATA: one chunk of the agent's stream. */
  receive(body: Uint8Array): void {
    if (this.state === 'absent') {
      this.emitError(new SpiceError('PROTOCOL', `agent data (${body.length} bytes) while no agent is connected`));
      return;
    }
    if (--this.clientTokens < 0) this.emitError(new SpiceError('PROTOCOL', 'agent data beyond the tokens we granted'));
    // give tokens back in batches, before the server runs dry
    if (++this.toReturn >= AGENT_CLIENT_TOKENS / 2) {
      this.link.token(this.toReturn);
      this.clientTokens += this.toReturn;
      this.toReturn = 0;
    }
    for (const ev of this.reasm.push(body)) {
      if ('error' in ev) this.emitError(ev.error);
      else this.handle(ev.message);
    }
  }

  // ---- to the agent

  /**
   * Queues one agent message (parts are concatenated, header added) and sends
   * what tokens allow. `sent` runs once its last chunk has left the queue (handed
   * to the channel); never if the queue is dropped (the agent went away).
   */
  send(type: number, parts: readonly Uint8Array[], sent?: () => void): void {
    if (this.state !== 'ready') throw new SpiceError('PROTOCOL', `agent message ${type} while the agent is ${this.state}`);
    this.enqueue(type, parts, sent);
  }

  has(cap: number): boolean {
    return p.hasCap(this.agentCaps, cap) && p.hasCap(CLIENT_AGENT_CAPS, cap);
  }

  get clipboardLayout(): p.ClipboardLayout {
    return { selection: this.has(AgentCap.CLIPBOARD_SELECTION), serial: this.has(AgentCap.CLIPBOARD_GRAB_SERIAL) };
  }

  clipboardGrab(selection: number, types: number[]): void {
    const l = this.clipboardLayout;
    const serial = this.serials[selection]!;
    if (l.serial) this.serials[selection] = serial + 1;
    this.send(AgentMsg.CLIPBOARD_GRAB, [p.encodeClipboardGrab(l, { selection, serial, types })]);
  }

  clipboardRequest(selection: number, type: number): void {
    this.send(AgentMsg.CLIPBOARD_REQUEST, [p.encodeClipboardRequest(this.clipboardLayout, { selection, type })]);
  }

  clipboardData(selection: number, type: number, data: Uint8Array): void {
    this.send(AgentMsg.CLIPBOARD, [p.encodeClipboardPrefix(this.clipboardLayout, selection, type), data]);
  }

  clipboardRelease(selection: number): void {
    this.send(AgentMsg.CLIPBOARD_RELEASE, [p.encodeClipboardRelease(this.clipboardLayout, selection)]);
  }

  monitorsConfig(monitors: readonly p.MonConfig[]): void {
    this.send(AgentMsg.MONITORS_CONFIG, [p.encodeMonitorsConfig(monitors)]);
  }

  displayConfig(flags: number, depth = 0): void {
    this.send(AgentMsg.DISPLAY_CONFIG, [p.encodeDisplayConfig(flags, depth)]);
  }

  maxClipboard(max: number): void {
    this.send(AgentMsg.MAX_CLIPBOARD, [p.encodeMaxClipboard(max)]);
  }

  // ---- internals

  private setState(s: AgentState): void {
    if (s === this.state) return;
    this.state = s;
    for (const l of [...this.listeners]) l.onState?.(s);
  }

  private emitError(e: SpiceError): void {
    for (const l of [...this.listeners]) l.onError?.(e);
  }

  private clear(): void {
    this.queue.length = 0;
    this.queued = 0;
    this.reasm.reset();
    this.agentCaps = [];
    this.clientTokens = 0;
    this.toReturn = 0;
    this.setState('absent');
  }

  private enqueue(type: number, parts: readonly Uint8Array[], sent?: () => void): void {
    const chunks = chunkAgentMessage(type, parts);
    chunks.forEach((chunk, i) => {
      this.queue.push(i === chunks.length - 1 ? { chunk, sent } : { chunk });
      this.queued += chunk.length;
    });
    this.flush();
  }

  private flush(): void {
    const done: (() => void)[] = [];
    while (this.queue.length && this.serverTokens > 0) {
      const q = this.queue.shift()!;
      this.queued -= q.chunk.length;
      this.serverTokens--;
      this.link.data(q.chunk);
      if (q.sent) done.push(q.sent);
    }
    // after the loop: a callback that queues more must not run inside it
    for (const f of done) f();
  }

  private handle(msg: AgentMessage): void {
    try {
      if (msg.type === AgentMsg.ANNOUNCE_CAPABILITIES) {
        const a = p.decodeAnnounceCapabilities(msg.data);
        this.agentCaps = a.caps;
        if (a.request) this.enqueue(AgentMsg.ANNOUNCE_CAPABILITIES, [p.encodeAnnounceCapabilities({ request: false, caps: CLIENT_AGENT_CAPS })]);
        this.setState('ready');
      } else if (msg.type === AgentMsg.CLIPBOARD_GRAB) {
        const g = p.decodeClipboardGrab(this.clipboardLayout, msg.data);
        // the daemon counted this grab: our next one must carry its next serial
        if (g.serial !== undefined) this.serials[g.selection] = g.serial + 1;
      }
    } catch (e) {
      this.emitError(e instanceof SpiceError ? e : new SpiceError('BAD_MESSAGE', String(e)));
      return;
    }
    for (const l of [...this.listeners]) l.onMessage?.(msg, this);
  }
}
