// The monitors a MONITORS_CONFIG asks the guest for, from the sizes the
// windows ask (resizeGuest: one size per display channel). One display: its
// window's size. Several: one monitor per display, side by side in id order,
// sent only once every display has a window speaking for it — one monitor in
// the config turns the others off in the guest, and displays shown together
// in one page have no size of their own.
import type { MonConfig } from '../spice/agent/protocol';

export function monitorsLayout(sizes: ReadonlyMap<number, { width: number; height: number }>, displays: number): MonConfig[] | null {
  const n = Math.max(1, displays);
  const out: MonConfig[] = [];
  let x = 0;
  for (let id = 0; id < n; id++) {
    const s = sizes.get(id);
    if (!s) return null;
    out.push({ width: s.width, height: s.height, depth: 32, x, y: 0 });
    x += s.width;
  }
  return out;
}
