// Key and modifier names of remote-viewer hotkeys, shared by the config
// parser (main/config/hotkeys.ts: .vv / --hotkeys specs) and the page's
// matcher (renderer/input/hotkeys.ts): GDK key names with their aliases and
// KeyboardEvent.code, modifier synonyms, and the GDK modifier keys of a
// release sequence. Pure data, no imports: main and the page both load it.

export type Mod = 'ctrl' | 'alt' | 'shift' | 'super';

/** Modifier word (lower case; ctrl_key_to_gtk_key / spice_key_to_gdk_key synonyms) → modifier and its GDK key (left/right kept for sequences). */
export const MODIFIER_NAMES: Readonly<Record<string, { mod: Mod; gdk: string }>> = {};
const MODIFIERS = MODIFIER_NAMES as Record<string, { mod: Mod; gdk: string }>;
const addMods = (mod: Mod, left: string, right: string, names: string[], rightNames: string[]): void => {
  for (const n of names) MODIFIERS[n] = { mod, gdk: left };
  for (const n of rightNames) MODIFIERS[n] = { mod, gdk: right };
};
addMods('alt', 'Alt_L', 'Alt_R', ['alt', 'lalt', 'leftalt', 'left-alt', 'alt_l', 'meta', 'meta_l'], ['ralt', 'rightalt', 'right-alt', 'alt_r', 'meta_r']);
addMods('ctrl', 'Control_L', 'Control_R', ['ctrl', 'ctl', 'control', 'lctrl', 'leftctrl', 'left-ctrl', 'control_l', 'cmd', 'lcmd', 'leftcmd', 'left-cmd', 'primary'], ['rctrl', 'rightctrl', 'right-ctrl', 'control_r', 'rcmd', 'rightcmd', 'right-cmd']);
addMods('shift', 'Shift_L', 'Shift_R', ['shift', 'shft', 'lshift', 'leftshift', 'left-shift', 'shift_l'], ['rshift', 'rightshift', 'right-shift', 'shift_r']);
addMods('super', 'Super_L', 'Super_R', ['win', 'lwin', 'leftwin', 'left-win', 'super', 'super_l', 'hyper', 'hyper_l'], ['rwin', 'rightwin', 'right-win', 'super_r', 'hyper_r']);

/** GDK modifier keyvals of a release sequence → KeyboardEvent.code. */
export const GDK_MODIFIER_CODES: Readonly<Record<string, string>> = {
  Control_L: 'ControlLeft', Control_R: 'ControlRight', Alt_L: 'AltLeft', Alt_R: 'AltRight',
  Shift_L: 'ShiftLeft', Shift_R: 'ShiftRight', Super_L: 'MetaLeft', Super_R: 'MetaRight',
  Meta_L: 'AltLeft', Meta_R: 'AltRight', Hyper_L: 'MetaLeft', Hyper_R: 'MetaRight',
};

export interface KeyName {
  /** GDK key name. */
  gdk: string;
  /** KeyboardEvent.code where the key has a fixed position. */
  code?: string;
  /** The character to match instead where it has none ('plus'). */
  char?: string;
}

/** Key name or alias (lower case) → the key. */
export const KEY_NAMES: ReadonlyMap<string, KeyName> = new Map();
const KEYS = KEY_NAMES as Map<string, KeyName>;
const addKey = (gdk: string, code: string | undefined, ...aliases: string[]): void => {
  for (const a of [gdk, ...aliases]) KEYS.set(a.toLowerCase(), { gdk, ...(code !== undefined ? { code } : {}) });
};
for (let i = 1; i <= 24; i++) addKey(`F${i}`, `F${i}`);
for (let i = 0; i < 26; i++) {
  const l = String.fromCharCode(97 + i);
  addKey(l, `Key${l.toUpperCase()}`);
}
for (let i = 0; i <= 9; i++) {
  addKey(String(i), `Digit${i}`);
  addKey(`KP_${i}`, `Numpad${i}`);
}
addKey('Escape', 'Escape', 'esc');
addKey('Insert', 'Insert', 'ins');
addKey('Delete', 'Delete', 'del');
addKey('Home', 'Home');
addKey('End', 'End');
addKey('Page_Up', 'PageUp', 'pgup', 'pageup', 'prior');
addKey('Page_Down', 'PageDown', 'pgdn', 'pagedown', 'next');
addKey('Return', 'Enter', 'enter');
addKey('Tab', 'Tab');
addKey('space', 'Space');
addKey('BackSpace', 'Backspace');
addKey('Pause', 'Pause', 'break');
addKey('Print', 'PrintScreen', 'printscreen', 'prtsc', 'sysrq');
addKey('Scroll_Lock', 'ScrollLock');
addKey('Menu', 'ContextMenu');
addKey('Up', 'ArrowUp');
addKey('Down', 'ArrowDown');
addKey('Left', 'ArrowLeft');
addKey('Right', 'ArrowRight');
// a shifted character on most layouts: matched by the character, not position
KEYS.set('plus', { gdk: 'plus', char: '+' });
addKey('minus', 'Minus');
addKey('equal', 'Equal');
addKey('comma', 'Comma');
addKey('period', 'Period');
addKey('slash', 'Slash');
addKey('backslash', 'Backslash');
addKey('semicolon', 'Semicolon');
addKey('apostrophe', 'Quote');
addKey('grave', 'Backquote');
addKey('bracketleft', 'BracketLeft');
addKey('bracketright', 'BracketRight');
addKey('KP_Add', 'NumpadAdd');
addKey('KP_Subtract', 'NumpadSubtract');
addKey('KP_Multiply', 'NumpadMultiply');
addKey('KP_Divide', 'NumpadDivide');
addKey('KP_Enter', 'NumpadEnter');
addKey('KP_Decimal', 'NumpadDecimal');
