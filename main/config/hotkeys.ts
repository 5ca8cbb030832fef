// remote-viewer hotkeys and key remapping: the default accelerators
// (virt-viewer-app.c hotkey_defaults), the `shift+f11` spec syntax of .vv files
// and --hotkeys (also GTK's own `<Ctrl><Alt>End`), and remote-viewer's override
// rule: any --hotkeys list, and any .vv file, first clears every binding and
// then binds only what it names. --keymap (`src=dst+dst,...`) lives here too.
import { ConfigError, quote } from './errors';
import { KEY_NAMES, MODIFIER_NAMES, type Mod as SharedMod } from '../../preload/hotkey-keys';

export const HOTKEY_ACTIONS = [
  'toggle-fullscreen',
  'zoom-in',
  'zoom-out',
  'zoom-reset',
  'release-cursor',
  'smartcard-insert',
  'smartcard-remove',
  'secure-attention',
  'usb-device-reset',
] as const;
export type HotkeyAction = (typeof HOTKEY_ACTIONS)[number];

export function isHotkeyAction(name: string): name is HotkeyAction {
  return (HOTKEY_ACTIONS as readonly string[]).includes(name);
}

export interface Hotkey {
  /** The text it was parsed from. */
  spec: string;
  ctrl: boolean;
  alt: boolean;
  shift: boolean;
  super: boolean;
  /** GDK key name ('F11', 'r', 'End', 'KP_Add'); null for a modifier-only release sequence. */
  key: string | null;
  /** KeyboardEvent.code of `key` where the key has a fixed position on the keyboard. */
  code?: string;
  /** Modifier-only release-cursor sequence as GDK names, e.g. ['Control_L', 'Alt_L']. */
  sequence?: string[];
  /** GTK accelerator form, e.g. '<Ctrl><Alt>End'. */
  accelerator: string;
}

export interface HotkeyBindings {
  /** Accelerators per action; an empty list means the action has no hotkey. */
  actions: Record<HotkeyAction, Hotkey[]>;
  /** Pointer/keyboard grab release sequence (GDK names); Ctrl_L+Alt_L unless release-cursor is modifier-only. */
  releaseSequence: string[];
  /** Which layer the bindings come from. */
  source: 'default' | 'cli' | 'vv';
}

// key and modifier names: one table with the page (preload/hotkey-keys.ts)
type Mod = SharedMod;
const MODIFIERS = MODIFIER_NAMES;

const GTK_MOD_TAGS: Record<string, Mod> = { ctrl: 'ctrl', control: 'ctrl', primary: 'ctrl', ctl: 'ctrl', alt: 'alt', mod1: 'alt', meta: 'alt', shift: 'shift', shft: 'shift', super: 'super', hyper: 'super' };

function accelerator(h: Omit<Hotkey, 'accelerator' | 'spec'>): string {
  if (h.key === null) return (h.sequence ?? []).join('+');
  return (h.ctrl ? '<Ctrl>' : '') + (h.shift ? '<Shift>' : '') + (h.alt ? '<Alt>' : '') + (h.super ? '<Super>' : '') + h.key;
}

/**
 * Parses one hotkey: `ctrl+alt+end`, `Shift+F11`, `<Ctrl><Alt>End`, or (for
 * release-cursor only) a modifier-only sequence such as `ctrl+alt`.
 * Throws ConfigError when it names no usable key.
 */
export function parseHotkey(spec: string, allowModifierOnly = false): Hotkey {
  const h = { ctrl: false, alt: false, shift: false, super: false, key: null as string | null, code: undefined as string | undefined, sequence: [] as string[] };
  const text = spec.trim();
  const setKey = (name: string): void => {
    const k = KEY_NAMES.get(name.toLowerCase());
    if (!k) throw new ConfigError(`invalid hotkey ${quote(spec)}: unknown key ${quote(name)}`);
    if (h.key !== null) throw new ConfigError(`invalid hotkey ${quote(spec)}: more than one key`);
    h.key = k.gdk;
    h.code = k.code;
  };
  if (text.startsWith('<')) {
    // GTK accelerator syntax (remote-viewer's fallback)
    const re = /<([^<>]+)>/y;
    let m: RegExpExecArray | null;
    let end = 0;
    while ((m = re.exec(text))) {
      const mod = GTK_MOD_TAGS[m[1].toLowerCase()];
      if (!mod) throw new ConfigError(`invalid hotkey ${quote(spec)}: unknown modifier ${quote(m[1])}`);
      h[mod] = true;
      end = re.lastIndex;
    }
    setKey(text.slice(end));
  } else {
    const parts = text.split('+');
    if (text === '' || parts.some((p) => p.trim() === '')) throw new ConfigError(`invalid hotkey ${quote(spec)}: empty key name`);
    for (const raw of parts) {
      const p = raw.trim();
      const mod = MODIFIERS[p.replace(/^<(.*)>$/, '$1').toLowerCase()];
      if (mod) {
        h[mod.mod] = true;
        h.sequence.push(mod.gdk);
      } else setKey(p);
    }
  }
  if (h.key === null && !(allowModifierOnly && h.sequence.length > 0)) {
    throw new ConfigError(`invalid hotkey ${quote(spec)}: no key besides modifiers`);
  }
  const out: Hotkey = { spec, ctrl: h.ctrl, alt: h.alt, shift: h.shift, super: h.super, key: h.key, accelerator: '' };
  if (h.code !== undefined) out.code = h.code;
  if (h.key === null) out.sequence = h.sequence;
  out.accelerator = accelerator(out);
  return out;
}

const DEFAULT_SPECS: Record<HotkeyAction, string[]> = {
  'toggle-fullscreen': ['F11'],
  'zoom-in': ['<Ctrl>plus', '<Ctrl>KP_Add'],
  'zoom-out': ['<Ctrl>minus', '<Ctrl>KP_Subtract'],
  'zoom-reset': ['<Ctrl>0', '<Ctrl>KP_0'],
  'release-cursor': ['<Shift>F12'],
  'smartcard-insert': ['<Shift>F8'],
  'smartcard-remove': ['<Shift>F9'],
  'secure-attention': ['<Ctrl><Alt>End'],
  'usb-device-reset': ['<Ctrl><Shift>r'],
};

export const DEFAULT_RELEASE_SEQUENCE: readonly string[] = ['Control_L', 'Alt_L'];

function emptyActions(): Record<HotkeyAction, Hotkey[]> {
  return Object.fromEntries(HOTKEY_ACTIONS.map((a) => [a, []])) as unknown as Record<HotkeyAction, Hotkey[]>;
}

/** remote-viewer 11's built-in hotkeys. */
export function defaultHotkeys(): HotkeyBindings {
  const actions = emptyActions();
  for (const a of HOTKEY_ACTIONS) actions[a] = DEFAULT_SPECS[a].map((s) => parseHotkey(s));
  return { actions, releaseSequence: [...DEFAULT_RELEASE_SEQUENCE], source: 'default' };
}

/** One `name=spec` pair as written in --hotkeys or a .vv file. */
export interface HotkeyOverride {
  name: string;
  spec: string;
}

/**
 * remote-viewer's override rule (virt_viewer_app_clear_hotkeys + set_hotkey):
 * every binding is cleared, the release sequence falls back to Ctrl_L+Alt_L,
 * then each named action is bound. Unknown names and unusable specs are
 * skipped with a line in `debug`, as remote-viewer only warns about them.
 */
export function overrideHotkeys(overrides: HotkeyOverride[], source: 'cli' | 'vv', debug: string[]): HotkeyBindings {
  const actions = emptyActions();
  let releaseSequence = [...DEFAULT_RELEASE_SEQUENCE];
  for (const { name, spec } of overrides) {
    if (!isHotkeyAction(name)) {
      debug.push(`unknown hotkey name ${quote(name)} ignored`);
      continue;
    }
    let hk: Hotkey;
    try {
      hk = parseHotkey(spec, name === 'release-cursor');
    } catch (e) {
      debug.push(`${name}: ${(e as Error).message}; left unbound`);
      continue;
    }
    if (hk.key === null) releaseSequence = hk.sequence!;
    else actions[name] = [hk];
  }
  return { actions, releaseSequence, source };
}

/**
 * The bindings remote-viewer ends up with: defaults, replaced by a non-empty
 * --hotkeys list, replaced again by a .vv file (a .vv always replaces them,
 * even when it names no hotkey at all).
 */
export function mergeHotkeys(cli: HotkeyOverride[] | undefined, vv: HotkeyOverride[] | undefined, debug: string[] = []): HotkeyBindings {
  if (vv) return overrideHotkeys(vv, 'vv', debug);
  if (cli && cli.length > 0) return overrideHotkeys(cli, 'cli', debug);
  return defaultHotkeys();
}

/** --hotkeys text: `action=spec,action=spec`; an item without a value is skipped with a warning. */
export function parseHotkeysOption(text: string, warnings: string[]): HotkeyOverride[] {
  const out: HotkeyOverride[] = [];
  if (text === '') return out;
  for (const item of text.split(',')) {
    const eq = item.indexOf('=');
    const name = eq < 0 ? item : item.slice(0, eq);
    const spec = eq < 0 ? '' : item.slice(eq + 1);
    if (spec === '') {
      warnings.push(`Missing value for hotkey '${name}'`);
      continue;
    }
    out.push({ name, spec });
  }
  return out;
}

export interface KeymapEntry {
  /** GDK key name of the key pressed on the client. */
  source: string;
  /** GDK key names sent instead, in order; empty = the key is blocked. */
  targets: string[];
}

/** --keymap text: `src=dst+dst,...`; `src=` blocks the key. Items without `=` are skipped with a warning. */
export function parseKeymapOption(text: string, warnings: string[]): KeymapEntry[] {
  const out: KeymapEntry[] = [];
  if (text === '') return out;
  for (const item of text.split(',')) {
    const eq = item.indexOf('=');
    if (eq < 0) {
      warnings.push(`Missing mapping value for key '${item}'`);
      continue;
    }
    const source = item.slice(0, eq);
    if (source === '') {
      warnings.push(`Unable to lookup '' key`);
      continue;
    }
    const value = item.slice(eq + 1);
    out.push({ source, targets: value === '' ? [] : value.split('+') });
  }
  return out;
}
