// The Electron application menu, built from the one command table
// (preload/commands.ts) — the web host's toolbar is built from the same
// commandItems(), so both faces list the same commands and accelerators.
// Accelerators are shown but not registered: the page's hotkey matcher owns
// the keys (a hotkey never reaches the guest, everything else does), so a
// menu accelerator cannot steal Ctrl+0 from the guest when unbound by a .vv.
// Only `import type` from electron here (pure: unit-tested without Electron).
import type { MenuItemConstructorOptions } from 'electron';
import { COMMAND_GROUPS, commandItems, type Bindings, type CommandState } from '../../preload/commands';

/** Top-level menus with their items; `run(id)` is called on a click. */
export function menuTemplate(state: CommandState, bindings: Bindings | undefined, run: (id: string) => void): MenuItemConstructorOptions[] {
  const items = commandItems(state, bindings);
  const out: MenuItemConstructorOptions[] = [];
  for (const group of COMMAND_GROUPS) {
    const submenu: MenuItemConstructorOptions[] = items
      .filter((i) => i.group === group)
      .map((i) => ({
        id: i.id,
        label: i.label,
        enabled: i.enabled,
        ...(i.checked !== undefined ? { type: 'checkbox' as const, checked: i.checked } : {}),
        ...(i.accelerator ? { accelerator: i.accelerator, registerAccelerator: false } : {}),
        click: () => run(i.id),
      }));
    if (submenu.length) out.push({ label: `&${group}`, submenu });
  }
  return out;
}
