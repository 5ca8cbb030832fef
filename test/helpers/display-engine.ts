// An engine as the hosts see it for display only: emits display batches,
// records displayAck (the display link's tests and benchmark).
import type { DisplayCommand, HostEngine, ViewerEvents } from '../../preload/contract';
import { REQUEST_NAMES, type ViewerRequests } from '../../preload/requests';

export function displayEngine(onAck: (n: number) => void = () => {}) {
  const acks: number[] = [];
  const display = new Set<(p: DisplayCommand[], b: number) => void>();
  const api: HostEngine = {
    // every page request is a no-op here (the display link uses none of them)
    ...(Object.fromEntries(REQUEST_NAMES.map((n) => [n, () => {}])) as unknown as ViewerRequests),
    displayAck: (n) => {
      acks.push(n);
      onAck(n);
    },
    on<K extends keyof ViewerEvents>(event: K, cb: (p: ViewerEvents[K], b: number) => void) {
      if (event !== 'display') return () => {};
      const f = cb as unknown as (p: DisplayCommand[], b: number) => void;
      display.add(f);
      return () => display.delete(f);
    },
  };
  return {
    api,
    acks,
    emit: (n: number, cmds: DisplayCommand[] = [{ t: 'mark' }]) => display.forEach((cb) => cb(cmds, n)),
    listeners: () => display.size,
  };
}
