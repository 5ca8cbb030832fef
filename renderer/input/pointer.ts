// Pointer: DOM mouse/wheel events → SPICE inputs-channel events.
// Client mouse mode sends absolute positions on the primary surface of the
// display under the pointer (displayId); server mode sends relative motion, which needs Pointer Lock.
// Button numbers and masks are SPICE's (enums.h SpiceMouseButton / Mask).
import type { InputEvent } from '../../preload/contract';

export const MouseButton = { LEFT: 1, MIDDLE: 2, RIGHT: 3, UP: 4, DOWN: 5, SIDE: 6, EXTRA: 7 } as const;
export const ButtonMask = { LEFT: 1, MIDDLE: 2, RIGHT: 4, UP: 8, DOWN: 16, SIDE: 32, EXTRA: 64 } as const;

/** DOM MouseEvent.button → SPICE button. */
const DOM_TO_SPICE: readonly number[] = [MouseButton.LEFT, MouseButton.MIDDLE, MouseButton.RIGHT, MouseButton.SIDE, MouseButton.EXTRA];
/** SPICE button → its mask bit. */
const SPICE_MASK: Readonly<Record<number, number>> = {
  [MouseButton.LEFT]: ButtonMask.LEFT,
  [MouseButton.MIDDLE]: ButtonMask.MIDDLE,
  [MouseButton.RIGHT]: ButtonMask.RIGHT,
  [MouseButton.UP]: ButtonMask.UP,
  [MouseButton.DOWN]: ButtonMask.DOWN,
  [MouseButton.SIDE]: ButtonMask.SIDE,
  [MouseButton.EXTRA]: ButtonMask.EXTRA,
};

/** Pixels of smooth (touchpad) scrolling that make one wheel click. */
const PIXELS_PER_STEP = 50;

export interface ViewGeometry {
  /** Canvas box on the page (getBoundingClientRect). */
  left: number;
  top: number;
  width: number;
  height: number;
  /** Guest surface size (canvas.width/height). */
  surfaceWidth: number;
  surfaceHeight: number;
}

export type MouseMode = 'client' | 'server';

export class PointerTracker {
  private buttons = 0;
  private wheelAcc = 0;

  get buttonMask(): number {
    return this.buttons;
  }

  /** Client mode: page coordinates → clamped surface coordinates. */
  static toSurface(g: ViewGeometry, clientX: number, clientY: number): { x: number; y: number } {
    const sx = g.width > 0 ? g.surfaceWidth / g.width : 1;
    const sy = g.height > 0 ? g.surfaceHeight / g.height : 1;
    const x = Math.floor((clientX - g.left) * sx);
    const y = Math.floor((clientY - g.top) * sy);
    return { x: Math.min(Math.max(x, 0), Math.max(g.surfaceWidth - 1, 0)), y: Math.min(Math.max(y, 0), Math.max(g.surfaceHeight - 1, 0)) };
  }

  /** displayId: the display channel whose canvas the pointer is on (client mode positions are per display). */
  move(mode: MouseMode, g: ViewGeometry, e: { clientX: number; clientY: number; movementX: number; movementY: number }, displayId = 0): InputEvent[] {
    if (mode === 'client') {
      const p = PointerTracker.toSurface(g, e.clientX, e.clientY);
      return [{ t: 'mousePosition', x: p.x, y: p.y, buttons: this.buttons, displayId }];
    }
    const dx = Math.round(e.movementX);
    const dy = Math.round(e.movementY);
    if (dx === 0 && dy === 0) return [];
    return [{ t: 'mouseMotion', dx, dy, buttons: this.buttons }];
  }

  button(domButton: number, down: boolean): InputEvent[] {
    const b = DOM_TO_SPICE[domButton];
    if (b === undefined) return [];
    const mask = SPICE_MASK[b];
    if (down === ((this.buttons & mask) !== 0)) return []; // no duplicate press/release
    this.buttons = down ? this.buttons | mask : this.buttons & ~mask;
    // buttons_state carries the state after this change, as spice-gtk does.
    return [{ t: 'mouseButton', button: b, down, buttons: this.buttons }];
  }

  /** deltaMode: 0 pixels, 1 lines, 2 pages. One wheel click = UP/DOWN press + release. */
  wheel(deltaY: number, deltaMode: number): InputEvent[] {
    let steps = 0;
    if (deltaMode !== 0 || Math.abs(deltaY) >= PIXELS_PER_STEP) {
      // A mouse wheel notch: exactly one click per event.
      steps = Math.sign(deltaY);
      this.wheelAcc = 0;
    } else {
      this.wheelAcc += deltaY;
      if (Math.abs(this.wheelAcc) >= PIXELS_PER_STEP) {
        steps = Math.sign(this.wheelAcc);
        this.wheelAcc = 0;
      }
    }
    if (steps === 0) return [];
    const b = steps < 0 ? MouseButton.UP : MouseButton.DOWN;
    return [
      { t: 'mouseButton', button: b, down: true, buttons: this.buttons | SPICE_MASK[b] },
      { t: 'mouseButton', button: b, down: false, buttons: this.buttons },
    ];
  }

  /** Releases every held button (focus loss, ungrab). */
  releaseAll(): InputEvent[] {
    const out: InputEvent[] = [];
    for (const b of [MouseButton.LEFT, MouseButton.MIDDLE, MouseButton.RIGHT, MouseButton.SIDE, MouseButton.EXTRA]) {
      if (this.buttons & SPICE_MASK[b]) {
        this.buttons &= ~SPICE_MASK[b];
        out.push({ t: 'mouseButton', button: b, down: false, buttons: this.buttons });
      }
    }
    return out;
  }
}
