// Send key: the bytes of a key sequence for one KEY_SCANCODE request (keys
// pressed in order, released in reverse, as spice_display_send_keys does),
// and the custom sequence a user types ("ctrl+alt+f5", "super l") read with
// the same key and modifier names as the hotkey parser (preload/hotkey-keys.ts).
import type { Command } from '../../preload/commands';
import { GDK_MODIFIER_CODES, KEY_NAMES, MODIFIER_NAMES } from '../../preload/hotkey-keys';
import { set1Scancode } from '../input/keyboard';

/** Most keys in a custom sequence (the request carries at most 256 bytes: 4 per E0 key). */
export const MAX_SEQUENCE_KEYS = 16;

export class KeySequenceError extends Error {
  readonly code = 'BAD_KEY_SEQUENCE';
}

/** Set-1 make (down) or break (up) bytes of one scancode (0x100 | sc: E0-prefixed). */
function scanBytes(scancode: number, down: boolean): number[] {
  const sc = (scancode & 0x7f) | (down ? 0 : 0x80);
  return scancode & 0x100 ? [0xe0, sc] : [sc];
}

/** KeyboardEvent.codes → make bytes in order, then break bytes in reverse. */
export function sequenceBytes(codes: readonly string[]): number[] {
  const scancodes = codes.map((c) => {
    const sc = set1Scancode(c);
    if (sc === undefined) throw new KeySequenceError(`no PC scancode for key ${c}`);
    return sc;
  });
  return [...scancodes.flatMap((sc) => scanBytes(sc, true)), ...[...scancodes].reverse().flatMap((sc) => scanBytes(sc, false))];
}

/** The bytes a send-key command sends (undefined: the command sends no keys). */
export function commandBytes(cmd: Command): number[] | undefined {
  if (cmd.scancodes) return [...cmd.scancodes];
  return cmd.keys ? sequenceBytes(cmd.keys) : undefined;
}

/**
 * A typed sequence → KeyboardEvent.codes: key names separated by '+', ',' or
 * spaces; modifier words (ctrl, alt, shift, super, rctrl, …), GDK key names
 * and their aliases (F5, Delete, del, Print, BackSpace, a, 1, KP_Add, …) or a
 * KeyboardEvent.code (ControlLeft). Throws KeySequenceError saying which name is unknown.
 */
export function parseKeySequence(text: string): string[] {
  const names = text.split(/[+,\s]+/).filter(Boolean);
  if (names.length === 0) throw new KeySequenceError('type a key sequence, such as ctrl+alt+f5');
  if (names.length > MAX_SEQUENCE_KEYS) throw new KeySequenceError(`at most ${MAX_SEQUENCE_KEYS} keys in a sequence`);
  return names.map((n) => {
    const mod = MODIFIER_NAMES[n.toLowerCase()];
    if (mod) return GDK_MODIFIER_CODES[mod.gdk];
    const key = KEY_NAMES.get(n.toLowerCase());
    if (key?.code !== undefined) return key.code;
    if (set1Scancode(n) !== undefined) return n;
    throw new KeySequenceError(`unknown key ${JSON.stringify(n.slice(0, 40))} (use names such as ctrl, alt, shift, super, F1, Delete, Print, a, 1)`);
  });
}
