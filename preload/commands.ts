// THE command table: every user command of the viewer window, once — id,
// label, group (File / View / Send key / Help), the remote-viewer hotkey
// action that triggers it (so `.vv` / --hotkeys rebind it), and when it is
// enabled or shown. Both faces are built from it: the Electron menu
// (main/windows/menu.ts) and the web host's toolbar (renderer/ui/toolbar.ts);
// the page runs every command (renderer/main.ts), a menu click reaches it as
// the 'command' event. Pure data + functions, no imports but types.
import type { AppState, SessionStatus } from './contract';

export type CommandGroup = 'File' | 'View' | 'Send key' | 'Help';
export const COMMAND_GROUPS: readonly CommandGroup[] = ['File', 'View', 'Send key', 'Help'];

/** What the enabled/visible predicates look at. */
export interface CommandState {
  host: 'electron' | 'web';
  connected: boolean;
  kiosk: boolean;
  /** The clipboard is shared (any direction): Share clipboard is ticked. */
  clipboard?: boolean;
  /** Display channels the session has (View → Display N for each further one). */
  displays?: number;
  /** Further displays the user hid (View → Display N unticked). */
  hiddenDisplays?: readonly number[];
}

/** What both faces show for a status (the Electron menu in main, the toolbar in the page). */
export function commandState(host: CommandState['host'], s: SessionStatus): CommandState {
  return {
    host,
    connected: s.state === 'connected',
    kiosk: !!s.app?.kiosk,
    clipboard: s.app?.clipboard?.policy !== 'off',
    displays: Math.max(1, (s.channels ?? []).filter((c) => /^display \d+$/.test(c)).length),
    hiddenDisplays: s.app?.hiddenDisplays ?? [],
  };
}

export interface Command {
  id: string;
  label: string;
  group: CommandGroup;
  /** remote-viewer hotkey action bound to this command (its accelerator comes from the effective bindings). */
  hotkey?: string;
  /** Keys pressed in order then released in reverse (KeyboardEvent.code names). */
  keys?: readonly string[];
  /** Raw set-1 bytes sent as they are (Pause has no break code: E1 1D 45 E1 9D C5). */
  scancodes?: readonly number[];
  enabled?: (s: CommandState) => boolean;
  visible?: (s: CommandState) => boolean;
  /** A toggle: ticked or not. */
  checked?: (s: CommandState) => boolean;
}

const connected = (s: CommandState): boolean => s.connected;
const electronOnly = (s: CommandState): boolean => s.host === 'electron';

/** View → Display 2…4: show or hide each further display (its canvas, or its window). */
const displayToggles = [1, 2, 3].map(
  (id): Command => ({
    id: `display-${id}`,
    label: `Display ${id + 1}`,
    group: 'View',
    visible: (s) => (s.displays ?? 1) > id,
    checked: (s) => !s.hiddenDisplays?.includes(id),
  }),
);

const ctrlAltF = Array.from({ length: 12 }, (_, i): Command => ({
  id: `send-ctrl-alt-f${i + 1}`,
  label: `Ctrl+Alt+F${i + 1}`,
  group: 'Send key',
  keys: ['ControlLeft', 'AltLeft', `F${i + 1}`],
  enabled: connected,
}));

export const COMMANDS: readonly Command[] = [
  { id: 'connect', label: 'Connect…', group: 'File' },
  { id: 'screenshot', label: 'Screenshot…', group: 'File', enabled: connected },
  { id: 'devices', label: 'USB devices and smartcards…', group: 'File' },
  { id: 'share-clipboard', label: 'Share clipboard', group: 'File', checked: (s) => s.clipboard !== false },
  { id: 'preferences', label: 'Preferences…', group: 'File' },
  { id: 'smartcard-insert', label: 'Insert smartcard', group: 'File', hotkey: 'smartcard-insert', enabled: connected },
  { id: 'smartcard-remove', label: 'Remove smartcard', group: 'File', hotkey: 'smartcard-remove', enabled: connected },
  { id: 'disconnect', label: 'Disconnect', group: 'File', enabled: connected },
  { id: 'quit', label: 'Quit', group: 'File', visible: electronOnly },
  { id: 'fullscreen', label: 'Full screen', group: 'View', hotkey: 'toggle-fullscreen' },
  { id: 'zoom-in', label: 'Zoom in', group: 'View', hotkey: 'zoom-in' },
  { id: 'zoom-out', label: 'Zoom out', group: 'View', hotkey: 'zoom-out' },
  { id: 'zoom-reset', label: 'Normal size', group: 'View', hotkey: 'zoom-reset' },
  { id: 'scale-to-window', label: 'Scale to window', group: 'View' },
  ...displayToggles,
  { id: 'send-ctrl-alt-del', label: 'Ctrl+Alt+Del', group: 'Send key', hotkey: 'secure-attention', keys: ['ControlLeft', 'AltLeft', 'Delete'], enabled: connected },
  { id: 'send-ctrl-alt-backspace', label: 'Ctrl+Alt+Backspace', group: 'Send key', keys: ['ControlLeft', 'AltLeft', 'Backspace'], enabled: connected },
  ...ctrlAltF,
  { id: 'send-print', label: 'PrintScreen', group: 'Send key', keys: ['PrintScreen'], enabled: connected },
  { id: 'send-pause', label: 'Pause', group: 'Send key', scancodes: [0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5], enabled: connected },
  { id: 'send-custom', label: 'Custom sequence…', group: 'Send key', enabled: connected },
  { id: 'guest-details', label: 'Guest details', group: 'Help' },
  { id: 'doctor', label: 'Connection doctor', group: 'Help' },
  { id: 'about', label: 'About', group: 'Help' },
];

export type Bindings = NonNullable<AppState['hotkeys']>;

const COMMAND_BY_ID: ReadonlyMap<string, Command> = new Map(COMMANDS.map((c) => [c.id, c]));

export function findCommand(id: string): Command | undefined {
  return COMMAND_BY_ID.get(id);
}

/** The command a remote-viewer hotkey action runs (undefined: the action is no command, e.g. release-cursor). */
export function commandForHotkey(action: string): Command | undefined {
  return COMMANDS.find((c) => c.hotkey === action);
}

// GDK key names whose accelerator spelling differs (Electron's Accelerator syntax, also shown in the toolbar)
const KEY_LABEL: Readonly<Record<string, string>> = {
  plus: 'Plus', minus: '-', equal: '=', comma: ',', period: '.', slash: '/', backslash: '\\', semicolon: ';',
  apostrophe: "'", grave: '`', bracketleft: '[', bracketright: ']', space: 'Space', Return: 'Enter', BackSpace: 'Backspace',
  Page_Up: 'PageUp', Page_Down: 'PageDown', Print: 'PrintScreen', Scroll_Lock: 'Scrolllock', Escape: 'Esc',
  KP_Add: 'numadd', KP_Subtract: 'numsub', KP_Multiply: 'nummult', KP_Divide: 'numdiv', KP_Decimal: 'numdec', KP_Enter: 'Enter',
};
const MOD_LABEL: Readonly<Record<string, string>> = { ctrl: 'Ctrl', alt: 'Alt', shift: 'Shift', super: 'Super' };

/** One binding (['ctrl', 'alt', 'End']) in Electron accelerator syntax ('Ctrl+Alt+End'). */
export function acceleratorText(keys: readonly string[]): string {
  return keys
    .map((k) => MOD_LABEL[k] ?? KEY_LABEL[k] ?? (/^KP_\d$/.test(k) ? `num${k.slice(3)}` : k.length === 1 ? k.toUpperCase() : k))
    .join('+');
}

/** The accelerator of a command under the effective bindings: its hotkey action's first binding, if any. */
export function commandAccelerator(cmd: Command, bindings: Bindings | undefined): string | undefined {
  if (!cmd.hotkey) return undefined;
  const b = bindings?.find((h) => h.action === cmd.hotkey && h.keys.length > 0);
  return b ? acceleratorText(b.keys) : undefined;
}

/** One entry of either face. */
export interface CommandItem {
  id: string;
  label: string;
  group: CommandGroup;
  accelerator?: string;
  enabled: boolean;
  /** Toggles only. */
  checked?: boolean;
}

/**
 * What a face shows for a state: the visible commands by group, each with its
 * accelerator and enabled flag. Kiosk shows nothing (remote-viewer has no menu there).
 */
export function commandItems(state: CommandState, bindings: Bindings | undefined): CommandItem[] {
  if (state.kiosk) return [];
  const out: CommandItem[] = [];
  for (const c of COMMANDS) {
    if (c.visible && !c.visible(state)) continue;
    const accelerator = commandAccelerator(c, bindings);
    out.push({ id: c.id, label: c.label, group: c.group, ...(accelerator ? { accelerator } : {}), enabled: c.enabled ? c.enabled(state) : true, ...(c.checked ? { checked: c.checked(state) } : {}) });
  }
  return out;
}
