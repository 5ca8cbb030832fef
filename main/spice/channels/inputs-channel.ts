// Inputs channel: keyboard scancodes, modifier/lock sync and the mouse, with
// the MOTION_ACK flow control: at most 2 bunches (SPICE_INPUT_MOTION_ACK_BUNCH
// = 4 messages each) of motion/position may be unacknowledged; beyond that,
// motion is coalesced (deltas summed, the latest position kept) and sent when
// an ACK frees room, so no movement is lost and nothing piles up.
// The same ACKs time the connection: spice-server answers every 4th motion
// message at once, so send → ACK is the round trip the user's input sees (its
// PINGs cannot: it sends them in pairs and keeps the answer to itself).
import * as m from '../messages/inputs';
import { Channel, type Logger } from './base-channel';
import { Channel as ChannelType, MsgcInputs, MsgInputs } from '../protocol/enums';

export const MOTION_ACK_BUNCH = 4;
export const MAX_UNACKED_MOTION = 2 * MOTION_ACK_BUNCH;
/** Round trips kept for the median. */
const RTT_SAMPLES = 8;

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
  /** Motion/position messages sent and MOTION_ACKs received since link (the server counts the same). */
  private motionSent = 0;
  private motionAcks = 0;
  /** now() at which the message completing a bunch went out (by its count); none when it waited in a queue. */
  private readonly bunchSentAt = new Map<number, number>();
  private readonly rtts: number[] = [];
  /** A new round trip was measured (ms). */
  onRoundTrip: ((ms: number) => void) | null = null;

  constructor(id: number, log: Logger) {
    super(ChannelType.INPUTS, id, log);
    this.on(MsgInputs.INIT, (_r, msg) => this.setModifiers(m.decodeKeyModifiers(msg.body)));
    this.on(MsgInputs.KEY_MODIFIERS, (_r, msg) => this.setModifiers(m.decodeKeyModifiers(msg.body)));
    this.on(MsgInputs.MOUSE_MOTION_ACK, () => {
      this.unackedMotion = Math.max(0, this.unackedMotion - MOTION_ACK_BUNCH);
      this.timeAck();
      this.flushMotion();
    });
  }

  channelCaps(): number[] {
    return [];
  }

  protected onLinked(): void {}

  protected override resetForNewServer(): void {
    // a new server (not a seamless target) owes us no MOTION_ACKs, and counts from 0
    this.unackedMotion = 0;
    this.motionSent = 0;
    this.motionAcks = 0;
    this.bunchSentAt.clear();
  }

  /** Median of the last round trips (ms), undefined before the first. */
  get roundTripMs(): number | undefined {
    if (!this.rtts.length) return undefined;
    const s = [...this.rtts].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)];
  }

  private sendMotion(type: number, body: Uint8Array): void {
    this.unackedMotion++;
    this.motionSent++;
    this.send(type, body);
    // timed only when it left at once: a held or queued message would time the hold
    if (this.motionSent % MOTION_ACK_BUNCH === 0 && this.queueStats.messages === 0) this.bunchSentAt.set(this.motionSent, this.now());
  }

  private timeAck(): void {
    this.motionAcks++;
    const n = this.motionAcks * MOTION_ACK_BUNCH;
    const at = this.bunchSentAt.get(n);
    for (const k of this.bunchSentAt.keys()) if (k <= n) this.bunchSentAt.delete(k);
    if (at === undefined) return;
    const ms = this.now() - at;
    this.rtts.push(ms);
    if (this.rtts.length > RTT_SAMPLES) this.rtts.shift();
    this.onRoundTrip?.(ms);
  }

  private setModifiers(m: number): void {
    this.modifiers = m;
    this.onModifiers?.(m);
  }

  keyDown(scancode: number): void {
    this.send(MsgcInputs.KEY_DOWN, m.encodeKey(scancode, true));
  }
  keyUp(scancode: number): void {
    this.send(MsgcInputs.KEY_UP, m.encodeKey(scancode, false));
  }
  /**
   * Raw set-1 bytes in one KEY_SCANCODE message (spice-server hands them to
   * the guest keyboard one by one): sequences that are no make/break pair,
   * such as Pause's E1 1D 45 E1 9D C5.
   */
  keyScancodes(bytes: ArrayLike<number>): void {
    this.send(MsgcInputs.KEY_SCANCODE, m.encodeKeyScancode(bytes));
  }
  /** Syncs Scroll/Num/Caps lock to the client's state. */
  setLocks(flags: number): void {
    this.send(MsgcInputs.KEY_MODIFIERS, m.encodeKeyModifiers(flags));
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

  /** Sends pending motion/position while the MOTION_ACK window has room (or regardless, when forced). */
  private flushMotion(force = false): void {
    const room = () => force || this.unackedMotion < MAX_UNACKED_MOTION;
    if (this.pendingMotion && room()) {
      const motion = this.pendingMotion;
      this.pendingMotion = null;
      this.sendMotion(MsgcInputs.MOUSE_MOTION, m.encodeMouseMotion(motion));
    }
    if (this.pendingPosition && room()) {
      const p = this.pendingPosition;
      this.pendingPosition = null;
      this.sendMotion(MsgcInputs.MOUSE_POSITION, m.encodeMousePosition(p));
    }
  }

  /** Button press/release; pending motion goes first so the click lands where the pointer is. */
  mouseButton(button: number, down: boolean, buttons: number): void {
    this.flushMotion(true);
    this.send(down ? MsgcInputs.MOUSE_PRESS : MsgcInputs.MOUSE_RELEASE, m.encodeMouseButton(button, buttons));
  }
}
