// The one viewer window: its options (a pure function, unit-tested without
// Electron) and the factory that creates it and locks navigation down.
// Only `import type` from electron here; the runtime module is passed in.
import type { BrowserWindow as BrowserWindowT, BrowserWindowConstructorOptions, WebContents } from 'electron';

/** Custom scheme the renderer is served from (see main/electron.ts). */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://viewer`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

/**
 * Content-Security-Policy for every renderer response. No 'unsafe-eval', no inline script.
 * 'wasm-unsafe-eval' lets the display worker compile its WebAssembly decoders
 * (embedded in worker.js; it allows WebAssembly compilation only, not eval).
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface WindowUi {
  title?: string;
  /** Full screen, no chrome, no way out (remote-viewer --kiosk). */
  kiosk?: boolean;
  fullscreen?: boolean;
}

const WEB_PREFERENCES = {
  sandbox: true,
  contextIsolation: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webviewTag: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  navigateOnDragDrop: false,
  spellcheck: false,
} as const;

export function appWindowOptions(preloadPath: string, ui: WindowUi = {}): BrowserWindowConstructorOptions {
  if (!/^(\/|[A-Za-z]:[\\/])/.test(preloadPath)) throw new Error(`preload path must be absolute: ${preloadPath}`);
  const kiosk = !!ui.kiosk;
  return {
    width: 1100,
    height: 860,
    title: ui.title ?? 'SPICE viewer',
    ...(kiosk ? { kiosk: true, fullscreen: true, frame: false, closable: false, minimizable: false } : ui.fullscreen ? { fullscreen: true } : {}),
    backgroundColor: '#202124',
    show: false,
    autoHideMenuBar: true,
    webPreferences: { preload: preloadPath, ...WEB_PREFERENCES, devTools: !kiosk },
  };
}

export type WindowOpenAnswer = { action: 'deny' } | { action: 'allow'; overrideBrowserWindowOptions: BrowserWindowConstructorOptions };

/**
 * window.open from the viewer page: only a display's own window
 * (renderer/ui/display-windows.ts: an empty same-origin document named
 * spice-display-N that the page fills with that display's canvas), never in
 * kiosk mode; size from the page's features, our hardened preferences.
 */
export function windowOpenAnswer(details: { url: string; frameName: string }, kiosk: boolean): WindowOpenAnswer {
  if (kiosk || details.url !== 'about:blank' || !/^spice-display-\d{1,2}$/.test(details.frameName)) return { action: 'deny' };
  return {
    action: 'allow',
    overrideBrowserWindowOptions: { backgroundColor: '#000000', autoHideMenuBar: true, webPreferences: { ...WEB_PREFERENCES, devTools: false } },
  };
}

/** Navigation is allowed only within the app's own origin. */
export function isAppUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === `${APP_SCHEME}:` && u.host === 'viewer';
  } catch {
    return false;
  }
}

/** An IPC event may act only if it comes from this window's main frame showing our page. */
export function isTrustedSender(
  event: { sender: unknown; senderFrame: { url: string } | null | undefined },
  win: { webContents: { mainFrame: unknown } } | null,
  contents: unknown,
): boolean {
  if (!win || event.sender !== contents) return false;
  const frame = event.senderFrame;
  return !!frame && frame === win.webContents.mainFrame && isAppUrl(frame.url);
}

/** The permissions the viewer page may have, for the app origin only: pointer lock (server mouse mode), full screen, keyboard lock (the grab in full screen). */
const PAGE_PERMISSIONS = new Set(['pointerLock', 'fullscreen', 'keyboardLock']);
export function permissionAllowed(permission: string, origin: string | undefined): boolean {
  return PAGE_PERMISSIONS.has(permission) && origin !== undefined && isAppUrl(origin);
}

export interface WindowDeps {
  BrowserWindow: typeof BrowserWindowT;
}

export function createAppWindow(deps: WindowDeps, preloadPath: string, ui: WindowUi = {}): BrowserWindowT {
  const win = new deps.BrowserWindow(appWindowOptions(preloadPath, ui));
  hardenContents(win.webContents, !!ui.kiosk);
  // a display's window: as locked down as ours, and gone with ours
  const displays = new Set<BrowserWindowT>();
  win.webContents.on('did-create-window', (child) => {
    hardenContents(child.webContents, true);
    displays.add(child);
    child.once('closed', () => displays.delete(child));
  });
  win.once('closed', () => {
    for (const d of displays) if (!d.isDestroyed()) d.destroy();
  });
  if (ui.kiosk) lockKiosk(win);
  win.once('ready-to-show', () => win.show());
  void win.loadURL(APP_URL);
  return win;
}

function hardenContents(wc: WebContents, kiosk: boolean): void {
  wc.setWindowOpenHandler((details) => windowOpenAnswer(details, kiosk));
  wc.on('will-navigate', (e, url) => {
    if (!isAppUrl(url)) e.preventDefault();
  });
  wc.on('will-redirect', (e, url) => {
    if (!isAppUrl(url)) e.preventDefault();
  });
  wc.on('will-attach-webview', (e) => e.preventDefault());
  // No permission prompts beyond pointer lock (server mouse mode) and fullscreen, and only for our page;
  // the check handler answers the synchronous queries (navigator.permissions, feature checks) the same way.
  wc.session.setPermissionRequestHandler((_wc, permission, cb, details) => cb(permissionAllowed(permission, details?.requestingUrl)));
  wc.session.setPermissionCheckHandler((_wc, permission, origin) => permissionAllowed(permission, origin));
}

/**
 * Kiosk: no menu (so no accelerators: Ctrl+W/Q/R, F11 do nothing and reach the
 * guest instead), dev tools off (webPreferences), close refused by the shell,
 * and full screen re-entered if the window manager takes it away.
 */
function lockKiosk(win: BrowserWindowT): void {
  win.setMenu(null);
  win.on('leave-full-screen', () => win.setFullScreen(true));
}
