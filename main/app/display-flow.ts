// Display flow control between the engine and the renderer: commands gather
// into batches, at most MAX_BATCHES_IN_FLIGHT of them unpainted; the SPICE
// messages of a batch count toward the server's ACK window only once the
// renderer reports the batch painted (Channel.ackDeferred). A slow renderer
// thus slows the server (it stops after two windows unacked) instead of
// growing queues — noVNC's render queue, with SPICE's ACK as the brake.
import type { DisplayCommand } from '../../preload/contract';

/**
 * Display batches sent and not yet painted, at most; beyond it commands gather
 * into the next batch. One: the worker answers a lone update at once and
 * otherwise once per display frame (renderer/display/worker.ts, PaintedAnswers),
 * so what the server sends within a frame becomes one batch. (With 4, bursts
 * went out as ~118 batches/s for ~37 visible updates/s: npm run bench:e2e.)
 */
export const MAX_BATCHES_IN_FLIGHT = 1;

/** Messages taken from a channel's deferred-ACK count (Channel.takeReceived). */
export interface Taken {
  epoch: number;
  n: number;
}

/** A display channel with deferred ACK (main/spice/channels/base-channel.ts). */
export interface AckSource {
  takeReceived(): Taken;
  ackProcessed(t: Taken): void;
  readonly receivedUntaken: number;
}

/** What the display pipeline holds right now (stats). */
export interface DisplayFlowStats {
  /** Batches sent to the renderer and not yet reported painted (frames in flight). */
  batchesInFlight: number;
  maxBatchesInFlight: number;
  /** SPICE display messages received and not yet counted toward an ACK (not painted yet). */
  messagesUnpainted: number;
  /** Commands gathered for the next batch. */
  commandsWaiting: number;
  /** Last batch sent and last reported painted. */
  batch: number;
  painted: number;
}

interface Received {
  src: AckSource;
  taken: Taken;
}

export class DisplayFlow {
  /** Number of the last batch sent. */
  batch = 0;
  painted = 0;
  private commands: DisplayCommand[] = [];
  /** Batches in flight, oldest first, with the messages each carries. */
  private readonly inflight: { batch: number; received: Received[] }[] = [];
  /** Messages received that are not in a sent batch yet. */
  private received: Received[] = [];

  constructor(
    private readonly send: (commands: DisplayCommand[], batch: number) => void,
    readonly maxInFlight = MAX_BATCHES_IN_FLIGHT,
  ) {}

  push(cmd: DisplayCommand): void {
    this.commands.push(cmd);
  }

  /** True while something waits for a flush. */
  get pending(): boolean {
    return this.commands.length > 0 || this.received.length > 0;
  }

  /** Sends the gathered commands as one batch unless the window of batches in flight is full. */
  flush(sources: Iterable<AckSource>): void {
    for (const src of sources) {
      const taken = src.takeReceived();
      if (taken.n) this.received.push({ src, taken });
    }
    if (this.commands.length) {
      if (this.inflight.length >= this.maxInFlight) return; // painted() flushes again
      const cmds = this.commands;
      this.commands = [];
      this.inflight.push({ batch: ++this.batch, received: this.received });
      this.received = [];
      this.send(cmds, this.batch);
    } else if (this.received.length) {
      // messages that draw nothing are done once what came before them is painted
      const last = this.inflight.at(-1);
      if (last) last.received.push(...this.received);
      else ack(this.received);
      this.received = [];
    }
  }

  /** The renderer painted every batch up to n: ACK their messages. Returns true when a flush is due. */
  paintedUpTo(n: number): boolean {
    if (!(n > this.painted && n <= this.batch)) return false;
    this.painted = n;
    while (this.inflight.length && this.inflight[0].batch <= n) ack(this.inflight.shift()!.received);
    return this.pending;
  }

  stats(sources: Iterable<AckSource>): DisplayFlowStats {
    let unpainted = 0;
    for (const r of [...this.inflight.flatMap((b) => b.received), ...this.received]) unpainted += r.taken.n;
    for (const src of sources) unpainted += src.receivedUntaken;
    return {
      batchesInFlight: this.inflight.length,
      maxBatchesInFlight: this.maxInFlight,
      messagesUnpainted: unpainted,
      commandsWaiting: this.commands.length,
      batch: this.batch,
      painted: this.painted,
    };
  }
}

function ack(rs: Received[]): void {
  for (const r of rs) r.src.ackProcessed(r.taken);
}
