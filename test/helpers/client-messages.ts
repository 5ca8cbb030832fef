// The messages a client wrote on a FakeTransport after the link (mini headers):
// type and body size, in order. Parsed here with plain arithmetic, apart from
// the engine's framer.
import type { FakeTransport } from './fake-transport';

export function clientMessages(t: FakeTransport): { type: number; size: number }[] {
  const all = t.allWritten();
  const out: { type: number; size: number }[] = [];
  for (let i = 0; i + 6 <= all.length; ) {
    const size = (all[i + 2] | (all[i + 3] << 8) | (all[i + 4] << 16) | (all[i + 5] << 24)) >>> 0;
    out.push({ type: all[i] | (all[i + 1] << 8), size });
    i += 6 + size;
  }
  return out;
}

/** Just the types. */
export const clientTypes = (t: FakeTransport): number[] => clientMessages(t).map((m) => m.type);
