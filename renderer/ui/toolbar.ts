// The web host's face of the command table (preload/commands.ts): one menu
// button per group (File, View, Send key, Help) opening a list of command
// buttons with their accelerators — the same items the Electron menu shows
// (main/windows/menu.ts). Keyboard: Tab reaches each menu button, Enter/Space
// or ArrowDown opens it, arrows move, Escape closes and returns focus; every
// control has an accessible name and aria-keyshortcuts where bound.
import { COMMAND_GROUPS, commandItems, type Bindings, type CommandGroup, type CommandItem, type CommandState } from '../../preload/commands';

/** The toolbar's groups with their items, in table order (pure: the unit test compares it with the menu). */
export function toolbarGroups(state: CommandState, bindings: Bindings | undefined): { group: CommandGroup; items: CommandItem[] }[] {
  const items = commandItems(state, bindings);
  return COMMAND_GROUPS.map((group) => ({ group, items: items.filter((i) => i.group === group) })).filter((g) => g.items.length > 0);
}

/** Electron accelerator text → aria-keyshortcuts (WAI-ARIA key names). */
function ariaKeys(accelerator: string): string {
  return accelerator.replace(/\bCtrl\b/g, 'Control').replace(/\bSuper\b/g, 'Meta').replace(/\bEsc\b/g, 'Escape');
}

export class Toolbar {
  private shown = '';
  private open: HTMLElement | null = null;

  constructor(
    private readonly el: HTMLElement,
    private readonly run: (id: string) => void,
  ) {
    el.setAttribute('role', 'toolbar');
    el.setAttribute('aria-label', 'Commands');
    document.addEventListener('mousedown', (e) => {
      if (this.open && !this.el.contains(e.target as Node)) this.close(false);
    });
  }

  update(state: CommandState, bindings: Bindings | undefined): void {
    const groups = toolbarGroups(state, bindings);
    const key = JSON.stringify(groups);
    if (key === this.shown) return;
    this.shown = key;
    const openGroup = this.open?.dataset.group;
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.command;
    this.open = null;
    this.el.replaceChildren(...groups.map((g) => this.menu(g.group, g.items)));
    if (openGroup) {
      const menu = this.el.querySelector<HTMLElement>(`.menu[data-group="${openGroup}"]`);
      if (menu) this.show(menu, false);
    }
    if (focused) this.el.querySelector<HTMLButtonElement>(`[data-command="${focused}"]`)?.focus();
  }

  private menu(group: CommandGroup, items: CommandItem[]): HTMLElement {
    const wrap = document.createElement('div');
    wrap.className = 'menu';
    wrap.dataset.group = group;
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'menu-button';
    button.textContent = group;
    button.setAttribute('aria-haspopup', 'menu');
    button.setAttribute('aria-expanded', 'false');
    const list = document.createElement('div');
    list.className = 'menu-list';
    list.setAttribute('role', 'menu');
    list.setAttribute('aria-label', group);
    list.hidden = true;
    for (const item of items) {
      const b = document.createElement('button');
      b.type = 'button';
      b.setAttribute('role', item.checked === undefined ? 'menuitem' : 'menuitemcheckbox');
      if (item.checked !== undefined) b.setAttribute('aria-checked', String(item.checked));
      b.dataset.command = item.id;
      b.disabled = !item.enabled;
      b.tabIndex = -1;
      const label = document.createElement('span');
      label.textContent = item.label;
      b.append(label);
      if (item.accelerator) {
        const kbd = document.createElement('kbd');
        kbd.textContent = item.accelerator;
        kbd.setAttribute('aria-hidden', 'true');
        b.append(kbd);
        b.setAttribute('aria-keyshortcuts', ariaKeys(item.accelerator));
      }
      b.addEventListener('click', () => {
        // back to the menu button, so a keyboard user goes on from there
        this.close(true);
        this.run(item.id);
      });
      list.append(b);
    }
    button.addEventListener('click', () => (this.open === wrap ? this.close(true) : this.show(wrap, true)));
    button.addEventListener('keydown', (e) => {
      if (e.key === 'ArrowDown') {
        e.preventDefault();
        this.show(wrap, true);
      }
    });
    list.addEventListener('keydown', (e) => this.onMenuKey(e, wrap));
    wrap.append(button, list);
    return wrap;
  }

  /** The enabled items of a menu, toggles (menuitemcheckbox: Share clipboard, Display N) included. */
  private items(wrap: HTMLElement): HTMLButtonElement[] {
    return [...wrap.querySelectorAll<HTMLButtonElement>('[role="menuitem"], [role="menuitemcheckbox"]')].filter((b) => !b.disabled);
  }

  private show(wrap: HTMLElement, focusFirst: boolean): void {
    if (this.open && this.open !== wrap) this.close(false);
    this.open = wrap;
    wrap.querySelector('.menu-button')?.setAttribute('aria-expanded', 'true');
    (wrap.querySelector('.menu-list') as HTMLElement).hidden = false;
    if (focusFirst) this.items(wrap)[0]?.focus();
  }

  private close(refocus: boolean): void {
    const wrap = this.open;
    if (!wrap) return;
    this.open = null;
    wrap.querySelector('.menu-button')?.setAttribute('aria-expanded', 'false');
    (wrap.querySelector('.menu-list') as HTMLElement).hidden = true;
    if (refocus) wrap.querySelector<HTMLButtonElement>('.menu-button')?.focus();
  }

  private onMenuKey(e: KeyboardEvent, wrap: HTMLElement): void {
    const items = this.items(wrap);
    const i = items.indexOf(document.activeElement as HTMLButtonElement);
    const move = (to: number): void => {
      e.preventDefault();
      items[(to + items.length) % items.length]?.focus();
    };
    if (e.key === 'ArrowDown') move(i + 1);
    else if (e.key === 'ArrowUp') move(i - 1);
    else if (e.key === 'Home') move(0);
    else if (e.key === 'End') move(items.length - 1);
    else if (e.key === 'Escape') {
      e.preventDefault();
      this.close(true);
    } else if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
      // the neighbouring menu, as in a menu bar
      e.preventDefault();
      const menus = [...this.el.querySelectorAll<HTMLElement>('.menu')];
      const next = menus[(menus.indexOf(wrap) + (e.key === 'ArrowRight' ? 1 : -1) + menus.length) % menus.length];
      if (next) this.show(next, true);
    }
  }
}
