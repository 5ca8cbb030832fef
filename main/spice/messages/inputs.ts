// Inputs channel message codecs (spice.proto InputsChannel). Pure functions.
// The one place that turns a key into the bytes SPICE carries.
import { ByteReader } from '../wire/byte-reader';
import { ByteWriter } from '../wire/byte-writer';

// ---- server → client (MOUSE_MOTION_ACK is empty)

/** SPICE_MSG_INPUTS_INIT and SPICE_MSG_INPUTS_KEY_MODIFIERS: u16 keyboard_modifier_flags. */
export function decodeKeyModifiers(body: Uint8Array): number {
  return new ByteReader(body).u16('keyboard_modifiers');
}

// ---- client → server

/**
 * The u32 of KEY_DOWN / KEY_UP for a PC AT set-1 scancode (0x100 | sc marks an
 * E0-prefixed key). spice-server hands the u32's bytes to the guest keyboard
 * LSB first and stops at a zero byte, so E0 keys are 0xE0 | sc << 8 and a
 * break code has bit 7 set (spice-gtk's spice_make_scancode).
 */
export function keyCode(scancode: number, down: boolean): number {
  const sc = (scancode & 0x7f) | (down ? 0 : 0x80);
  return scancode & 0x100 ? 0xe0 | (sc << 8) : sc;
}

/** SPICE_MSGC_INPUTS_KEY_DOWN / KEY_UP: u32 code. */
export function encodeKey(scancode: number, down: boolean): Uint8Array {
  return new ByteWriter(4).u32(keyCode(scancode, down)).finish();
}

/** SPICE_MSGC_INPUTS_KEY_SCANCODE (INPUTS_CAP_KEY_SCANCODE): the raw scancode bytes, e.g. Pause's E1 1D 45. */
export function encodeKeyScancode(bytes: ArrayLike<number>): Uint8Array {
  return Uint8Array.from(bytes);
}

/** SPICE_MSGC_INPUTS_KEY_MODIFIERS: u16 keyboard_modifier_flags (the client's lock state). */
export function encodeKeyModifiers(flags: number): Uint8Array {
  return new ByteWriter(2).u16(flags).finish();
}

/** SPICE_MSGC_INPUTS_MOUSE_MOTION (server mouse mode): i32 dx, i32 dy, u16 buttons_state. */
export function encodeMouseMotion(m: { dx: number; dy: number; buttons: number }): Uint8Array {
  return new ByteWriter(10).i32(m.dx).i32(m.dy).u16(m.buttons).finish();
}

/** SPICE_MSGC_INPUTS_MOUSE_POSITION (client mouse mode): u32 x, u32 y, u16 buttons_state, u8 display_id. */
export function encodeMousePosition(p: { x: number; y: number; buttons: number; displayId: number }): Uint8Array {
  return new ByteWriter(11).u32(p.x).u32(p.y).u16(p.buttons).u8(p.displayId).finish();
}

/** SPICE_MSGC_INPUTS_MOUSE_PRESS / MOUSE_RELEASE: u8 button, u16 buttons_state (after the change). */
export function encodeMouseButton(button: number, buttons: number): Uint8Array {
  return new ByteWriter(3).u8(button).u16(buttons).finish();
}
