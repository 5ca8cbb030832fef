// The engine's end of the display link (preload/display-link.ts), shared by
// both hosts: display batches out to whatever link the host has (queued until
// one is attached; DisplayFlow bounds them), "painted" back in as displayAck.
import type { HostEngine } from '../../preload/contract';
import { isDisplayLinkPainted, type DisplayLinkBatch } from '../../preload/display-link';

export interface DisplayLinkHost {
  /** A new link to a display worker; batches sent to an earlier one are dropped as painted (that worker is gone). */
  attach(send: (b: DisplayLinkBatch) => void): void;
  /** A message from the worker; false when it is not a valid "painted". */
  received(msg: unknown): boolean;
  detach(): void;
}

/** What the display link needs of the engine: its display batches, and where "painted" goes. */
export type DisplayEngine = Pick<HostEngine, 'on' | 'displayAck'>;

export function displayLinkHost(engine: DisplayEngine): DisplayLinkHost {
  let send: ((b: DisplayLinkBatch) => void) | null = null;
  const queued: DisplayLinkBatch[] = [];
  let lastSent = 0;
  const unsub = engine.on('display', (commands, batch) => {
    const b: DisplayLinkBatch = { type: 'batch', batch, commands };
    if (send) {
      lastSent = batch;
      send(b);
    } else queued.push(b);
  });
  return {
    attach(next) {
      if (send && lastSent) engine.displayAck(lastSent);
      send = next;
      for (const b of queued.splice(0)) {
        lastSent = b.batch;
        next(b);
      }
    },
    received(msg) {
      if (!isDisplayLinkPainted(msg)) return false;
      engine.displayAck(msg.batch);
      return true;
    },
    detach() {
      send = null;
      unsub();
    },
  };
}
