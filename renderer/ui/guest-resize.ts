// Resolution follows the window (remote-viewer's auto-resize): the display
// area's size in device pixels, divided by the zoom, is asked of the guest
// (resizeGuest → MONITORS_CONFIG through the agent) once the window has
// stopped changing for a moment, so a drag of the window edge is one request.
import type { SessionStatus, ViewerApi } from '../../preload/contract';
import { MAX_GUEST_SIZE, MIN_GUEST_HEIGHT, MIN_GUEST_WIDTH } from '../../preload/requests';

export const RESIZE_SETTLE_MS = 300;

/** The guest size for a display area of cssW x cssH CSS pixels at this device pixel ratio and zoom (%). */
export function guestSizeFor(cssW: number, cssH: number, dpr: number, zoom: number): { width: number; height: number } {
  const clamp = (v: number, min: number) => Math.min(MAX_GUEST_SIZE, Math.max(min, v));
  // widths in multiples of 8: X (Xvfb, qxl) rounds other widths itself, and the window would not match
  const width = clamp(Math.floor((cssW * dpr * 100) / zoom / 8) * 8, MIN_GUEST_WIDTH);
  const height = clamp(Math.floor((cssH * dpr * 100) / zoom), MIN_GUEST_HEIGHT);
  return { width, height };
}

export class GuestResize {
  private on = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly observer: ResizeObserver;
  /** The last size asked for (tests). */
  last: { width: number; height: number } | null = null;

  /** `area` shows display `display`; it may live in another window (a display's own). */
  constructor(
    private readonly api: ViewerApi,
    private readonly area: HTMLElement,
    private readonly zoom: () => number,
    private readonly display = 0,
  ) {
    // an element of another window is observed by that window's ResizeObserver
    const Observer = (area.ownerDocument.defaultView as (Window & typeof globalThis) | null)?.ResizeObserver ?? ResizeObserver;
    this.observer = new Observer(() => this.schedule());
    this.observer.observe(area);
  }

  /** The area is gone (its window closed). */
  dispose(): void {
    this.on = false;
    this.observer.disconnect();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  update(s: SessionStatus): void {
    const on = s.state === 'connected' && s.app?.autoResize !== false && !!s.app?.agent;
    if (on && !this.on) this.last = null; // a new agent: ask again
    this.on = on;
    if (on) this.schedule();
  }

  /** The zoom changed: the guest size changes with it. */
  schedule(): void {
    if (!this.on) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.send(), RESIZE_SETTLE_MS);
  }

  private send(): void {
    this.timer = null;
    if (!this.on || !this.area.clientWidth || !this.area.clientHeight) return;
    const dpr = this.area.ownerDocument.defaultView?.devicePixelRatio || 1;
    const size = guestSizeFor(this.area.clientWidth, this.area.clientHeight, dpr, this.zoom());
    if (this.last && this.last.width === size.width && this.last.height === size.height) return;
    this.last = size;
    this.api.resizeGuest(size.width, size.height, this.display);
  }
}
