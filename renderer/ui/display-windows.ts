// One window per further display (remote-viewer opens a window per monitor):
// the Electron app always, the web host with ?windows=1. The page opens a
// same-origin window and moves that display's canvas into it. The canvas keeps
// its painter and its pointer and keyboard listeners, because both windows run
// in this page's one JS realm, so the new window needs no bridge, worker or
// session of its own. Closing that window brings the canvas back into the page
// (nothing is lost); the display stays in the page until the page reloads.

/** Window name of display `id` (main/windows/app-window.ts allows exactly these). */
export function displayWindowName(id: number): string {
  return `spice-display-${id}`;
}

export interface DisplayWindowsDeps {
  /** Opens a named window (window.open); null when the host refuses it. */
  open(name: string, width: number, height: number): Window | null;
  /** Puts a canvas back into the page after its window closed. */
  home(id: number, canvas: HTMLCanvasElement): void;
  /** Title of the window for display `id`. */
  title(id: number): string;
  /** The stylesheet the window links (the page's own). */
  styleHref: string;
  /** A display's window opened (its body shows the display) / closed. */
  placed?(id: number, win: Window): void;
  closed?(id: number): void;
}

interface Placed {
  win: Window;
  canvas: HTMLCanvasElement;
}

export class DisplayWindows {
  private readonly placed = new Map<number, Placed>();
  /** Displays whose window the user closed: they stay in the page. */
  private readonly dismissed = new Set<number>();
  /** Displays a window could not be opened for (refused): not asked again. */
  private readonly refused = new Set<number>();

  private on = false;

  constructor(private readonly deps: DisplayWindowsDeps) {}

  /** Windows are used (Preferences); turned off, every display comes back into the page. */
  get enabled(): boolean {
    return this.on;
  }
  set enabled(on: boolean) {
    if (on === this.on) return;
    this.on = on;
    if (!on) this.closeAll();
    this.dismissed.clear();
  }

  /** The display's window, if it has one (tests, focus). */
  windowOf(id: number): Window | undefined {
    return this.placed.get(id)?.win;
  }

  /**
   * After each frame of a further display: a display with a picture gets its
   * window (once); one that went away (width 0) closes it, and the canvas
   * returns to the page.
   */
  update(id: number, canvas: HTMLCanvasElement, width: number, height: number): void {
    const p = this.placed.get(id);
    if (width === 0) {
      if (p) this.close(id, false);
      return;
    }
    if (p || !this.on || this.dismissed.has(id) || this.refused.has(id)) return;
    const win = this.deps.open(displayWindowName(id), width, height);
    if (!win) {
      this.refused.add(id);
      console.warn(`display ${id + 1}: its window was refused; it stays in this page`);
      return;
    }
    const doc = win.document;
    doc.title = this.deps.title(id);
    const link = doc.createElement('link');
    link.rel = 'stylesheet';
    link.href = this.deps.styleHref;
    doc.head.append(link);
    doc.body.className = 'display-window';
    doc.body.append(doc.adoptNode(canvas));
    canvas.hidden = false;
    this.placed.set(id, { win, canvas });
    this.deps.placed?.(id, win);
    // the user closed the window (or it navigated away): the canvas comes home
    win.addEventListener('pagehide', () => {
      if (this.placed.get(id)?.win === win) this.close(id, true);
    });
  }

  /** Closes every window (the page is going away); their canvases come home. */
  closeAll(): void {
    for (const id of [...this.placed.keys()]) this.close(id, false);
  }

  private close(id: number, byUser: boolean): void {
    const p = this.placed.get(id);
    if (!p) return;
    this.placed.delete(id);
    if (byUser) this.dismissed.add(id);
    this.deps.closed?.(id);
    this.deps.home(id, document.adoptNode(p.canvas));
    if (!p.win.closed) p.win.close();
  }
}
