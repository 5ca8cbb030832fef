// Inputs channel: keyboard scancodes, modifier/lock sync and the mouse, with
// the MOTION_ACK flow control: at most 2 bunches (SPICE_INPUT_MOTION_ACK_BUNCH
// = 4 messages each) of motion/position may be unacknowledged; beyond that,
// motion is coalesced (deltas summed, the latest position kept) and sent when
// an ACK frees room, so no movement is lost and nothing piles up.
import { ByteWriter } from '../wire/byte-writer';
import { Channel, type Logger } from './base-channel';
import { Channel as ChannelType, MsgcInputs, MsgInputs } from '../protocol/enums';

export const MOTION_ACK_BUNCH = 4;
export const MAX_UNACKED_MOTION = 2 * MOTION_ACK_BUNCH;

/** SPICE key code on the wire for a set-1 scancode (extended keys carry 0x100). */
export function keyCode(scancode: number, down: boolean): number {
  const ext = scancode & 0x100;
  const sc = (scancode & 0x7f) | (down ? 0 : 0x80);
  return ext ? 0xe0 | (sc << 8) : sc;
}

export class InputsChannel extends Channel {
  /** QEMU drops input while a VM is stopped: held across a seamless switch. */
  override readonly holdsOutputForSwitch = true;
  /** Lock state the server reported (SpiceKeyboardModifierFlags). */
  modifiers = 0;
  onModifiers: ((mods: number) => void) | null = null;
  /** Motion/position messages sent and not yet acknowledged. */
  unackedMotion = 0;
  private pendingMotion: { dx: number; dy: number; buttons: number } | null = null;
  private pendingPosition: { x: number; y: number; buttons: number; displayId: number } | null = null;

  constructor(id: number, log: Logger) {
    super(ChannelType.INPUTS, id, log);
    this.on(MsgInputs.INIT, (r) => this.setModifiers(r.u16('keyboard_modifiers')));
    this.on(MsgInputs.KEY_MODIFIERS, (r) => this.setModifiers(r.u16('modifiers')));
    this.on(MsgInputs.MOUSE_MOTION_ACK, () => {
      this.unackedMotion = Math.max(0, this.unackedMotion - MOTION_ACK_BUNCH);
      this.flushMotion();
    });
  }

  channelCaps(): number[] {
    return [];
  }

  protected onLinked(): void {}

  protected override resetForNewServer(): void {
    // a new server (not a seamless target) owes us no MOTION_ACKs
    this.unackedMotion = 0;
  }

  private setModifiers(m: number): void {
    this.modifiers = m;
    this.onModifiers?.(m);
  }

  keyDown(scancode: number): void {
    this.send(MsgcInputs.KEY_DOWN, new ByteWriter(4).u32(keyCode(scancode, true)).finish());
  }
  keyUp(scancode: number): void {
    this.send(MsgcInputs.KEY_UP, new ByteWriter(4).u32(keyCode(scancode, false)).finish());
  }
  /** Syncs Scroll/Num/Caps lock to the client's state. */
  setLocks(flags: number): void {
    this.send(MsgcInputs.KEY_MODIFIERS, new ByteWriter(2).u16(flags).finish());
  }

  mouseMotion(dx: number, dy: number, buttons: number): void {
    const p = this.pendingMotion;
    this.pendingMotion = p ? { dx: p.dx + dx, dy: p.dy + dy, buttons } : { dx, dy, buttons };
    this.flushMotion();
  }
  mousePosition(x: number, y: number, buttons: number, displayId: number): void {
    this.pendingPosition = { x, y, buttons, displayId };
    this.flushMotion();
  }

  private flushMotion(): void {
    if (this.unackedMotion >= MAX_UNACKED_MOTION) return;
    if (this.pendingMotion) {
      const m = this.pendingMotion;
      this.pendingMotion = null;
      this.unackedMotion++;
      this.send(MsgcInputs.MOUSE_MOTION, new ByteWriter(10).i32(m.dx).i32(m.dy).u16(m.buttons).finish());
    }
    if (this.pendingPosition && this.unackedMotion < MAX_UNACKED_MOTION) {
      const p = this.pendingPosition;
      this.pendingPosition = null;
      this.unackedMotion++;
      this.send(MsgcInputs.MOUSE_POSITION, new ByteWriter(11).u32(p.x).u32(p.y).u16(p.buttons).u8(p.displayId).finish());
    }
  }

  /** Button press/release; pending motion goes first so the click lands where the pointer is. */
  mouseButton(button: number, down: boolean, buttons: number): void {
    this.flushMotionForced();
    this.send(down ? MsgcInputs.MOUSE_PRESS : MsgcInputs.MOUSE_RELEASE, new ByteWriter(3).u8(button).u16(buttons).finish());
  }

  private flushMotionForced(): void {
    if (this.pendingMotion) {
      const m = this.pendingMotion;
      this.pendingMotion = null;
      this.unackedMotion++;
      this.send(MsgcInputs.MOUSE_MOTION, new ByteWriter(10).i32(m.dx).i32(m.dy).u16(m.buttons).finish());
    }
    if (this.pendingPosition) {
      const p = this.pendingPosition;
      this.pendingPosition = null;
      this.unackedMotion++;
      this.send(MsgcInputs.MOUSE_POSITION, new ByteWriter(11).u32(p.x).u32(p.y).u16(p.buttons).u8(p.displayId).finish());
    }
  }
}
