// Electron shell: one sandboxed window showing the renderer from app://viewer,
// wired to the engine over IPC. `electron dist/main/electron.cjs spice://host:port`
// (or a .vv file) connects at start.
import { app, BrowserWindow, ipcMain, net, protocol } from 'electron';
import { readFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ViewerApi } from '../preload/contract';
import { createEngineBridge } from './engine-bridge';
import { attachBridgeIpc } from './ipc/bridge-ipc';
import { findLaunchTarget } from './ipc/launch-args';
import { APP_CSP, APP_SCHEME, createAppWindow } from './windows/app-window';

// dist/main/electron.cjs → dist/renderer, dist/preload
const distDir = resolve(__dirname, '..');
const rendererDir = join(distDir, 'renderer');
const preloadPath = join(distDir, 'preload', 'index.cjs');

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

if (!app.requestSingleInstanceLock()) app.quit();

function serveRenderer(): void {
  protocol.handle(APP_SCHEME, async (req) => {
    const url = new URL(req.url);
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = resolve(rendererDir, rel);
    if (url.host !== 'viewer' || !file.startsWith(rendererDir + sep)) return new Response('not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', APP_CSP);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(res.body, { status: res.status, headers });
  });
}

async function main(): Promise<void> {
  await app.whenReady();
  serveRenderer();
  const target = (() => {
    try {
      return findLaunchTarget(process.argv.slice(1), (p) => readFileSync(p, 'utf8'));
    } catch (e) {
      console.error(`launch argument: ${(e as Error).message}`);
      return undefined;
    }
  })();

  const win = createAppWindow({ BrowserWindow }, preloadPath);
  let engine: ViewerApi | null = null;
  try {
    engine = createEngineBridge();
  } catch (e) {
    console.error(`engine unavailable: ${(e as Error).message}`);
  }
  if (engine) {
    const detach = attachBridgeIpc(ipcMain, win, engine);
    const eng = engine;
    win.webContents.once('did-finish-load', () => {
      if (target) eng.connect(target.uri, target.password);
    });
    win.on('closed', () => {
      detach();
      eng.disconnect();
    });
  }
  app.on('window-all-closed', () => app.quit());
}

main().catch((e: unknown) => {
  console.error(e);
  app.exit(1);
});
