// Keyboard: KeyboardEvent.code → PC AT scan code set 1.
//
// InputEvent 'key' carries the set-1 scancode (0x100 | sc for E0 keys); the
// engine turns it into SPICE's KEY_DOWN / KEY_UP bytes (keyCode in
// main/spice/messages/inputs.ts, the only key encoder). test/unit/keyboard.test.ts
// checks both halves against a set-1 table of make/break bytes.
import type { InputEvent } from '../../preload/contract';

/** Set-1 make codes. 0x100 | sc marks an E0-prefixed key. */
const SET1: Readonly<Record<string, number>> = {
  Escape: 0x01,
  Digit1: 0x02, Digit2: 0x03, Digit3: 0x04, Digit4: 0x05, Digit5: 0x06,
  Digit6: 0x07, Digit7: 0x08, Digit8: 0x09, Digit9: 0x0a, Digit0: 0x0b,
  Minus: 0x0c, Equal: 0x0d, Backspace: 0x0e, Tab: 0x0f,
  KeyQ: 0x10, KeyW: 0x11, KeyE: 0x12, KeyR: 0x13, KeyT: 0x14, KeyY: 0x15,
  KeyU: 0x16, KeyI: 0x17, KeyO: 0x18, KeyP: 0x19,
  BracketLeft: 0x1a, BracketRight: 0x1b, Enter: 0x1c, ControlLeft: 0x1d,
  KeyA: 0x1e, KeyS: 0x1f, KeyD: 0x20, KeyF: 0x21, KeyG: 0x22, KeyH: 0x23,
  KeyJ: 0x24, KeyK: 0x25, KeyL: 0x26,
  Semicolon: 0x27, Quote: 0x28, Backquote: 0x29, ShiftLeft: 0x2a, Backslash: 0x2b,
  KeyZ: 0x2c, KeyX: 0x2d, KeyC: 0x2e, KeyV: 0x2f, KeyB: 0x30, KeyN: 0x31, KeyM: 0x32,
  Comma: 0x33, Period: 0x34, Slash: 0x35, ShiftRight: 0x36,
  NumpadMultiply: 0x37, AltLeft: 0x38, Space: 0x39, CapsLock: 0x3a,
  F1: 0x3b, F2: 0x3c, F3: 0x3d, F4: 0x3e, F5: 0x3f,
  F6: 0x40, F7: 0x41, F8: 0x42, F9: 0x43, F10: 0x44,
  NumLock: 0x45, ScrollLock: 0x46,
  Numpad7: 0x47, Numpad8: 0x48, Numpad9: 0x49, NumpadSubtract: 0x4a,
  Numpad4: 0x4b, Numpad5: 0x4c, Numpad6: 0x4d, NumpadAdd: 0x4e,
  Numpad1: 0x4f, Numpad2: 0x50, Numpad3: 0x51, Numpad0: 0x52, NumpadDecimal: 0x53,
  IntlBackslash: 0x56, F11: 0x57, F12: 0x58, NumpadEqual: 0x59,
  F13: 0x64, F14: 0x65, F15: 0x66, F16: 0x67, F17: 0x68, F18: 0x69,
  F19: 0x6a, F20: 0x6b, F21: 0x6c, F22: 0x6d, F23: 0x6e, F24: 0x76,
  KanaMode: 0x70, IntlRo: 0x73, Convert: 0x79, NonConvert: 0x7b, IntlYen: 0x7d, NumpadComma: 0x7e,
  // E0-prefixed
  MediaTrackPrevious: 0x110, MediaTrackNext: 0x119,
  NumpadEnter: 0x11c, ControlRight: 0x11d,
  AudioVolumeMute: 0x120, MediaPlayPause: 0x122, MediaStop: 0x124,
  AudioVolumeDown: 0x12e, AudioVolumeUp: 0x130, BrowserHome: 0x132,
  NumpadDivide: 0x135, PrintScreen: 0x137, AltRight: 0x138,
  Home: 0x147, ArrowUp: 0x148, PageUp: 0x149, ArrowLeft: 0x14b, ArrowRight: 0x14d,
  End: 0x14f, ArrowDown: 0x150, PageDown: 0x151, Insert: 0x152, Delete: 0x153,
  MetaLeft: 0x15b, MetaRight: 0x15c, ContextMenu: 0x15d, Power: 0x15e, Sleep: 0x15f, WakeUp: 0x163,
};

/** Older browsers' names for the same physical keys. */
const ALIASES: Readonly<Record<string, string>> = { OSLeft: 'MetaLeft', OSRight: 'MetaRight' };

/** Set-1 scancode (0x100 | sc for E0 keys) of a KeyboardEvent.code, or undefined. */
export function set1Scancode(code: string): number | undefined {
  const key = Object.hasOwn(ALIASES, code) ? ALIASES[code] : code;
  return Object.hasOwn(SET1, key) ? SET1[key] : undefined;
}

/** SPICE keyboard modifier (lock) flags: SCROLL_LOCK=1, NUM_LOCK=2, CAPS_LOCK=4. */
export function lockFlags(e: { getModifierState(k: string): boolean }): number {
  return (e.getModifierState('ScrollLock') ? 1 : 0) | (e.getModifierState('NumLock') ? 2 : 0) | (e.getModifierState('CapsLock') ? 4 : 0);
}

/**
 * Tracks pressed keys so they can be released on blur / ungrab, and turns
 * keydown/keyup into InputEvents (set-1 scancodes). Auto-repeat keydowns are
 * forwarded as repeated KEY_DOWNs, the way a PC keyboard's typematic repeat
 * looks. Pause is not sent: its E1 sequence has no set-1 scancode the
 * InputEvent 'key' can carry.
 */
export class KeyboardTracker {
  private readonly pressed = new Set<string>();

  keyDown(code: string): InputEvent[] {
    const sc = set1Scancode(code);
    if (sc === undefined) return [];
    this.pressed.add(code);
    return [{ t: 'key', scancode: sc, down: true }];
  }

  keyUp(code: string): InputEvent[] {
    const sc = set1Scancode(code);
    if (sc === undefined) return [];
    this.pressed.delete(code);
    return [{ t: 'key', scancode: sc, down: false }];
  }

  isDown(code: string): boolean {
    return this.pressed.has(code);
  }

  /** KEY_UPs for everything still held (plus the engine-side releaseAllKeys). */
  releaseAll(): InputEvent[] {
    const out: InputEvent[] = [];
    for (const code of this.pressed) {
      const sc = set1Scancode(code);
      if (sc !== undefined) out.push({ t: 'key', scancode: sc, down: false });
    }
    this.pressed.clear();
    out.push({ t: 'releaseAllKeys' });
    return out;
  }
}
