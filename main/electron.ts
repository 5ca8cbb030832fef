// Electron shell: one sandboxed window showing the renderer from app://viewer,
// wired over IPC to a session controller (main/app/session-controller.ts).
// Command line as remote-viewer (`spice-viewer [OPTIONS] URI|file.vv|-`),
// kiosk mode (full screen, close refused, reconnect or quit on disconnect),
// one instance: a second launch, an opened .vv file or a spice:// link goes
// to the running window. Settings (recent connections, zoom, clipboard flag —
// never a password) live in userData/settings.json.
import { app, BrowserWindow, clipboard, dialog, Menu, MessageChannelMain, nativeImage, net, protocol } from 'electron';
import { ElectronClipboard } from './windows/electron-clipboard';
import { writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { attachViewerIpc } from './ipc/electron-ipc';
import { attachDisplayPort } from './ipc/display-port';
import { appArgs } from './ipc/launch-args';
import { APP_CSP, APP_SCHEME, createAppWindow } from './windows/app-window';
import { chromiumSwitches } from './windows/chromium-switches';
import { APP_NAME, planLaunch, targetLabel, type LaunchPlan } from './app/launch';
import { createSessionController, hotkeysForPage, type SessionController } from './app/session-controller';
import { menuTemplate } from './windows/menu';
import { commandState } from '../preload/commands';
import { openSettingsStore } from './app/settings';
import { hostControllerOptions } from './app/host-options';
import { announcePlan, endedText, printExitPlan, statusPrinter, surviveUnobservedRejections } from './app/terminal';

// dist/main/electron.cjs → dist/renderer, dist/preload
const distDir = resolve(__dirname, '..');
const rendererDir = join(distDir, 'renderer');
const preloadPath = join(distDir, 'preload', 'index.cjs');
const env = process.env as Record<string, string | undefined>;

// before ready: Chromium reads its switches when it starts its processes
for (const [name, value] of chromiumSwitches(process.platform)) app.commandLine.appendSwitch(name, value);

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

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

/** A relative .vv path from a second instance is relative to that instance's directory. */
function absolutise(args: string[], cwd: string): string[] {
  return args.map((a) => (/\.vv$/i.test(a) && !isAbsolute(a) && !a.startsWith('-') ? resolve(cwd, a) : a));
}

function printAndExit(plan: Extract<LaunchPlan, { kind: 'exit' }>): void {
  printExitPlan(plan);
  app.exit(plan.code);
}

async function main(): Promise<void> {
  const version = app.getVersion();
  const plan = await planLaunch(appArgs(process.argv, !!process.defaultApp), { prog: APP_NAME, appVersion: version, env });
  if (plan.kind === 'exit') return printAndExit(plan);
  if (!app.requestSingleInstanceLock({ args: process.argv })) {
    app.quit(); // the running instance got our arguments through 'second-instance'
    return;
  }
  const { config } = plan;
  const log = announcePlan(plan);
  const kiosk = config.ui.kiosk;

  // files and links the OS hands over (macOS open-file/open-url): queued until the page is loaded
  const early: string[] = [];
  let loaded = false;
  const handOver = (target: string): void => {
    if (loaded) void openTarget([target]);
    else early.push(target);
  };
  app.on('open-file', (e, path) => {
    e.preventDefault();
    handOver(path);
  });
  app.on('open-url', (e, url) => {
    e.preventDefault();
    handOver(url);
  });

  await app.whenReady();
  serveRenderer();
  const settings = await openSettingsStore(env.SPICE_VIEWER_CONFIG_DIR || app.getPath('userData'), (e) => log.warn(`settings: ${e.message}`));
  let allowQuit = !kiosk;

  const label = targetLabel(config.target);
  const win = createAppWindow({ BrowserWindow }, preloadPath, { kiosk, fullscreen: config.ui.fullscreen, title: config.ui.title ?? (label ? `${label} - SPICE viewer` : 'SPICE viewer') });
  if (kiosk) {
    // remote-viewer: "quit is refused" in kiosk mode
    win.on('close', (e) => {
      if (!allowQuit) e.preventDefault();
    });
  }
  const quit = (code: number): void => {
    allowQuit = true;
    app.exit(code);
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => quit(0));

  // the system clipboard, shared with the guest's agent (the page never touches it)
  const systemClipboard = new ElectronClipboard({
    availableFormats: (t) => clipboard.availableFormats(t),
    readText: (t) => clipboard.readText(t),
    writeText: (text, t) => clipboard.writeText(text, t),
    readPng: (t) => clipboard.readImage(t).toPNG(),
    writePng: (png, t) => clipboard.writeImage(nativeImage.createFromBuffer(Buffer.from(png)), t),
    imageKey: (t) => {
      const img = clipboard.readImage(t);
      if (img.isEmpty()) return '';
      const { width, height } = img.getSize();
      return `${width}x${height}:${createHash('sha1').update(img.toBitmap()).digest('hex')}`;
    },
  });
  // the page's display worker says which video codecs it decodes before the first connect:
  // display channels announce them when they link (2 s at most: then MJPEG only)
  let codecsSeen: () => void = () => {};
  const codecsKnown = new Promise<void>((ok) => {
    codecsSeen = ok;
    setTimeout(ok, 2000);
  });
  const engine: SessionController = createSessionController({
    onVideoCodecs: () => codecsSeen(),
    ...hostControllerOptions({
      config,
      log,
      appVersion: version,
      env,
      settings,
      // File → Preferences → Choose…: the folder to share, picked in the native dialog
      pickFolder: () =>
        dialog
          .showOpenDialog(win, { title: 'Choose the folder to share with the guest', properties: ['openDirectory'] })
          .then((r) => (r.canceled || !r.filePaths[0] ? null : r.filePaths[0])),
    }),
    hostClipboard: systemClipboard,
    onEnded: (info) => {
      process.stderr.write(endedText(info));
      quit(info.everConnected ? 0 : 1);
    },
    saveScreenshot: (png) => {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
      dialog
        .showSaveDialog(win, { defaultPath: join(app.getPath('pictures'), `screenshot-${stamp}.png`), filters: [{ name: 'PNG image', extensions: ['png'] }] })
        .then((r) => (r.canceled || !r.filePath ? undefined : writeFile(r.filePath, png)))
        .catch((e: unknown) => log.warn(`screenshot: ${(e as Error).message}`));
    },
    onConnected: (shown, cfg) => {
      if (!shown) return;
      // the URI form of the target only: passwords, CAs and proxies of a .vv are not kept
      settings.addRecent(shown, cfg.ui.title);
    },
  });
  engine.on('status', statusPrinter());
  // the menu bar: the command table (preload/commands.ts), rebuilt when what enables its items changes;
  // a click reaches the page as the 'command' event (the page runs every command but Quit)
  // (the hotkeys of the session's configuration: a .vv opened later brings its own)
  let menuShown = '';
  const runMenu = (id: string): void => (id === 'quit' ? app.quit() : engine.runCommand(id));
  engine.on('status', (s) => {
    const state = commandState('electron', s);
    const bindings = s.app?.hotkeys ?? hotkeysForPage(config.ui.hotkeys);
    const key = JSON.stringify([state, bindings]);
    if (key === menuShown) return;
    menuShown = key;
    Menu.setApplicationMenu(kiosk ? null : Menu.buildFromTemplate(menuTemplate({ ...state, kiosk }, bindings, runMenu)));
  });
  const detach = attachViewerIpc(win, engine);
  // before the connect on did-finish-load below: the port is on its way when the first batch is
  const detachDisplay = attachDisplayPort({ MessageChannelMain }, win.webContents, engine, log);

  /** Another launch's arguments, an opened .vv or a spice:// link: connect the running window to it. */
  const openTarget = async (args: string[]): Promise<void> => {
    if (kiosk) return; // a kiosk shows its one VM
    const p = await planLaunch(args, { prog: APP_NAME, appVersion: version, env });
    if (p.kind === 'exit') {
      if (p.stderr) console.error(p.stderr.trim());
      return;
    }
    if (!p.config.target) return;
    if (win.isMinimized()) win.restore();
    win.focus();
    engine.connectConfig(p.config);
  };
  app.on('second-instance', (_e, argv, cwd) => void openTarget(absolutise(appArgs(argv, !!process.defaultApp), cwd)));

  win.webContents.once('did-finish-load', () => {
    void codecsKnown.then(() => {
      if (config.target) engine.connectConfig(config);
      else engine.runCommand('connect'); // no target: the connect dialog, as remote-viewer
      loaded = true;
      for (const t of early.splice(0)) void openTarget([t]);
    });
  });
  win.on('closed', () => {
    detach();
    detachDisplay();
    engine.close();
  });
  app.on('window-all-closed', () => app.quit());
}

surviveUnobservedRejections();
main().catch((e: unknown) => {
  console.error(e);
  app.exit(1);
});
