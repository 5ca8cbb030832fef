// Page hotkeys: matches KeyboardEvent state against the effective
// remote-viewer bindings main sends in AppState.hotkeys (defaults → -H → .vv),
// before keys reach the guest; a matched key (its keydown, repeats and keyup)
// is never sent. Also owns the grab-release sequence (modifier-only
// release-cursor, Ctrl_L+Alt_L by default), the secure-attention key sequence
// and the zoom steps. Kiosk mode disables all of it, as remote-viewer does.
import type { AppState, InputEvent } from '../../preload/contract';
import { GDK_MODIFIER_CODES, KEY_NAMES, MODIFIER_NAMES } from '../../preload/hotkey-keys';

export type HotkeyBinding = NonNullable<AppState['hotkeys']>[number];

/** The subset of KeyboardEvent the matcher reads. */
export interface KeyState {
  code: string;
  key: string;
  ctrlKey: boolean;
  altKey: boolean;
  shiftKey: boolean;
  metaKey: boolean;
  repeat?: boolean;
}

export interface Accelerator {
  action: string;
  ctrl: boolean;
  alt: boolean;
  shift: boolean;
  super: boolean;
  /** KeyboardEvent.code to match (position); else `key` (character). */
  code?: string;
  key?: string;
}

/** The code (or, for 'plus', the character) of a key name as the config parser knows it. */
function keyMatch(name: string): { code?: string; key?: string } {
  const k = KEY_NAMES.get(name.toLowerCase());
  return k?.code !== undefined ? { code: k.code } : { key: k?.char ?? name };
}

/**
 * An accelerator from a binding (`{keys: ['ctrl','alt','End'], code: 'End'}`)
 * or a text such as "ctrl+alt+f" / "shift+f11"; null for a modifier-only
 * sequence (see releaseSequenceCodes) or a binding without a key.
 */
export function parseAccelerator(action: string, binding: string | { keys: string[]; code?: string }): Accelerator | null {
  const keys = typeof binding === 'string' ? binding.split('+').map((k) => k.trim()) : binding.keys;
  const acc: Accelerator = { action, ctrl: false, alt: false, shift: false, super: false };
  let keyName: string | undefined;
  for (const k of keys) {
    const mod = MODIFIER_NAMES[k.toLowerCase()]?.mod;
    if (mod) acc[mod] = true;
    else if (k !== '' && keyName === undefined) keyName = k;
    else return null; // two keys, or an empty name: nothing a single key event can match
  }
  if (keyName === undefined) return null;
  const code = typeof binding === 'string' ? undefined : binding.code;
  const m = code !== undefined ? { code } : keyMatch(keyName);
  if (m.code !== undefined) acc.code = m.code;
  if (m.key !== undefined) acc.key = m.key;
  return acc;
}

/** KeyboardEvent.codes of a modifier-only release sequence, or null when it is not one. */
export function releaseSequenceCodes(keys: string[]): string[] | null {
  if (keys.length === 0) return null;
  const codes = keys.map((k) => GDK_MODIFIER_CODES[k]);
  return codes.every((c) => c !== undefined) ? codes : null;
}

/**
 * GTK accelerator semantics: the modifiers held must equal the accelerator's
 * (Ctrl, Alt, Shift, Super; lock keys ignored). A key matched by character
 * ('plus') ignores Shift unless the accelerator names it: Shift is what
 * produces '+' on most layouts (GTK treats it as consumed).
 */
export function matches(acc: Accelerator, e: KeyState): boolean {
  if (acc.code !== undefined ? e.code !== acc.code : e.key.toLowerCase() !== (acc.key ?? '').toLowerCase()) return false;
  if (e.ctrlKey !== acc.ctrl || e.altKey !== acc.alt || e.metaKey !== acc.super) return false;
  return acc.code === undefined && !acc.shift ? true : e.shiftKey === acc.shift;
}

/** The first accelerator an event matches. */
export function findHotkey(accs: readonly Accelerator[], e: KeyState): Accelerator | undefined {
  return accs.find((a) => matches(a, e));
}

// Ctrl+Alt+Del as set-1 scancodes (0x100 | sc = E0 key): LCtrl 1D, LAlt 38, Delete E0 53.
const SAS_SCANCODES = [0x1d, 0x38, 0x153] as const;

/** secure-attention: Ctrl, Alt, Del pressed in order, then released in reverse (spice_display_send_keys). */
export function secureAttentionEvents(): InputEvent[] {
  const down = SAS_SCANCODES.map((scancode): InputEvent => ({ t: 'key', scancode, down: true }));
  const up = [...SAS_SCANCODES].reverse().map((scancode): InputEvent => ({ t: 'key', scancode, down: false }));
  return [...down, ...up];
}

// virt-viewer-window.c: zoom in percent, 10 % steps between 10 % and 400 %.
export const ZOOM_NORMAL = 100;
export const ZOOM_MIN = 10;
export const ZOOM_MAX = 400;
export const ZOOM_STEP = 10;

/** The zoom level (percent) after a zoom action; other actions leave it. */
export function zoomAfter(level: number, action: string): number {
  if (action === 'zoom-reset') return ZOOM_NORMAL;
  const step = action === 'zoom-in' ? ZOOM_STEP : action === 'zoom-out' ? -ZOOM_STEP : 0;
  return Math.min(ZOOM_MAX, Math.max(ZOOM_MIN, level + step));
}

/** CSS box of the screen canvas at a zoom level (whole pixels, so the box maps back to the surface exactly). */
export function zoomedSize(surfaceWidth: number, surfaceHeight: number, level: number): { width: number; height: number } {
  return { width: Math.round((surfaceWidth * level) / 100), height: Math.round((surfaceHeight * level) / 100) };
}

/** Scale to window: the largest whole-pixel box of the surface's aspect inside the viewport (View → Scale to window). */
export function fittedSize(surfaceWidth: number, surfaceHeight: number, viewWidth: number, viewHeight: number): { width: number; height: number } {
  if (surfaceWidth <= 0 || surfaceHeight <= 0 || viewWidth <= 0 || viewHeight <= 0) return { width: surfaceWidth, height: surfaceHeight };
  const scale = Math.min(viewWidth / surfaceWidth, viewHeight / surfaceHeight);
  return { width: Math.max(1, Math.floor(surfaceWidth * scale)), height: Math.max(1, Math.floor(surfaceHeight * scale)) };
}

export type KeyVerdict = { send: boolean; action?: string };

/**
 * Per-page hotkey state: accelerators, the release sequence (armed when all
 * its keys are down, fired when one of them is released with no other key
 * pressed in between — spice-gtk's keyboard grab release, so Ctrl+Alt+End can
 * still reach its accelerator), and the keys swallowed until their keyup.
 */
export class HotkeyMatcher {
  private accs: Accelerator[] = [];
  private sequence: string[] = ['ControlLeft', 'AltLeft'];
  private readonly down = new Set<string>();
  private readonly swallowed = new Set<string>();
  private armed = false;
  private disabled = false;

  /** New bindings (undefined: the engine sends none — only the default release sequence applies). */
  setBindings(bindings: readonly HotkeyBinding[] | undefined): void {
    this.accs = [];
    this.sequence = ['ControlLeft', 'AltLeft'];
    for (const b of bindings ?? []) {
      const seq = b.action === 'release-cursor' ? releaseSequenceCodes(b.keys) : null;
      if (seq) this.sequence = seq;
      else {
        const acc = parseAccelerator(b.action, b);
        if (acc) this.accs.push(acc);
      }
    }
  }

  /** Kiosk mode: no hotkeys and no release sequence. */
  setDisabled(disabled: boolean): void {
    this.disabled = disabled;
  }

  /** A keydown: send it to the guest or not, and the action it triggers (not on auto-repeat). */
  keyDown(e: KeyState): KeyVerdict {
    this.down.add(e.code);
    if (this.disabled) return { send: true };
    if (this.swallowed.has(e.code)) return { send: false };
    const acc = findHotkey(this.accs, e);
    if (acc) {
      this.swallowed.add(e.code);
      this.armed = false;
      return e.repeat ? { send: false } : { send: false, action: acc.action };
    }
    if (this.sequence.includes(e.code)) {
      if (this.sequence.every((c) => this.down.has(c))) this.armed = true;
    } else this.armed = false;
    return { send: true };
  }

  /** A keyup: send it or not (a swallowed key's keyup is not), and 'release-cursor' when the sequence fires. */
  keyUp(e: KeyState): KeyVerdict {
    this.down.delete(e.code);
    if (this.swallowed.delete(e.code)) return { send: false };
    if (this.armed && !this.disabled && this.sequence.includes(e.code)) {
      this.armed = false;
      return { send: true, action: 'release-cursor' };
    }
    return { send: true };
  }

  /** Focus lost: nothing is held any more. */
  reset(): void {
    this.down.clear();
    this.swallowed.clear();
    this.armed = false;
  }
}
