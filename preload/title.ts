// Window titles as remote-viewer builds them, for both hosts (the page sets
// document.title; Electron's window follows it). --title / .vv title: the
// first %d is the display number, else " (N)" for a further display; without
// one, the guest's name (or the address) and the app's name. While the pointer
// is grabbed the title says how to release it. No imports.
import type { SessionStatus } from './contract';

export const APP_TITLE = 'SPICE viewer';

/**
 * Per-window title as remote-viewer builds it: the first `%d` in the title is
 * replaced by the 1-based display number, otherwise ` (N)` is appended.
 */
export function windowSubtitle(title: string, displayIndex: number): string {
  const n = String(displayIndex + 1);
  const d = title.indexOf('%d');
  return d >= 0 ? title.slice(0, d) + n + title.slice(d + 2) : `${title} (${n})`;
}

/** The title of display `display`'s window; `releaseKeys` (e.g. "Ctrl+Alt") while the pointer is grabbed. */
export function windowTitle(s: SessionStatus, display: number, releaseKeys?: string): string {
  const own = s.app?.title;
  let base: string;
  if (own !== undefined) base = display === 0 && !own.includes('%d') ? own : windowSubtitle(own, display);
  else {
    const who = s.name ?? s.app?.target;
    base = who ? `${who}${display > 0 ? ` (${display + 1})` : ''} - ${APP_TITLE}` : display > 0 ? `${APP_TITLE} (${display + 1})` : APP_TITLE;
  }
  return releaseKeys ? `(Press ${releaseKeys} to release pointer) ${base}` : base;
}
