// Viewer page: wires the bridge (Electron preload or web host ws) to the
// display worker + painter, the guest cursor, keyboard/pointer capture and
// the status line; kiosk mode (no toolbar, no escape keys, reconnect overlay)
// and the connection doctor panel; remote-viewer hotkeys (input/hotkeys.ts).
import type { InputEvent, SessionStatus, ViewerApi } from '../preload/contract';
import { openBridge } from './bridge/index';
import { type PageToWorker, type Pixels, type WorkerReply } from './display/painter';
import { KeyboardTracker, lockFlags } from './input/keyboard';
import { HotkeyMatcher, ZOOM_NORMAL, fittedSize, zoomAfter, zoomedSize } from './input/hotkeys';
import { PointerTracker, type MouseMode, type ViewGeometry } from './input/pointer';
import { GuestCursor } from './ui/cursor';
import { StatusLine } from './ui/status';
import { MigrationBanner } from './ui/migration-banner';
import { KioskOverlay } from './ui/kiosk-overlay';
import { DoctorPanel } from './ui/doctor-panel';
import { GuestResize } from './ui/guest-resize';
import { WindowUi } from './ui/window-ui';
import { AudioPlayer } from './audio/player';
import type { MediaClockMessage } from './display/stream-schedule';
import { MuteToggle } from './ui/mute-toggle';
import { MicCapture } from './audio/mic';
import { DisplayWindows } from './ui/display-windows';
import { QualityIndicator } from './ui/quality';
import { KeyboardLock } from './input/keyboard-lock';
import { windowTitle } from '../preload/title';
import { commandForHotkey } from '../preload/commands';

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

function start(): void {
  const screen = byId<HTMLCanvasElement>('screen');
  const overlay = byId<HTMLCanvasElement>('cursor-overlay');
  const status = new StatusLine(byId('status'));
  const banner = new MigrationBanner(byId('migration-banner'));
  const kioskOverlay = new KioskOverlay(byId('kiosk-overlay'));
  const doctor = new DoctorPanel(byId('doctor'));
  const quality = new QualityIndicator(byId('quality-indicator'));
  const grabHint = byId('grab-hint');
  const form = byId<HTMLFormElement>('connect-form');
  const uriInput = byId<HTMLInputElement>('uri');
  const passwordInput = byId<HTMLInputElement>('password');
  const recentList = byId<HTMLDataListElement>('recent');
  const proxyForm = byId<HTMLFormElement>('proxy-auth');
  const proxyUser = byId<HTMLInputElement>('proxy-user');
  const proxyPassword = byId<HTMLInputElement>('proxy-password');

  const bridge = openBridge(window as unknown as Window & { spiceViewer?: ViewerApi });
  const api = bridge.api;
  /** The first display's surface size (its canvas is the worker's: the page cannot read it). */
  const primary = { width: 0, height: 0 };
  // a VM with several display devices: one more canvas per display channel, beside the first
  /** A further display: its canvas (painted by the worker) and the size of its last frame (0: no picture). */
  type Extra = { canvas: HTMLCanvasElement; width: number; height: number };
  const extras = new Map<number, Extra>();
  const extraDisplay = (id: number): Extra => {
    let d = extras.get(id);
    if (!d) {
      const canvas = document.createElement('canvas');
      canvas.className = 'screen-extra';
      canvas.dataset.display = String(id);
      canvas.width = 0;
      canvas.height = 0;
      canvas.setAttribute('aria-label', `Guest screen ${id + 1}`);
      canvas.tabIndex = 0; // typing goes to the guest from any display (and from its own window)
      placeExtra(id, canvas);
      d = { canvas, width: 0, height: 0 };
      extras.set(id, d);
      const off = canvas.transferControlToOffscreen();
      toWorker({ type: 'canvas', display: id, canvas: off }, [off]);
      const e = d;
      // client mouse mode: positions on this display; buttons as on the first (server mode moves relative, on the first)
      const g = (): ViewGeometry => {
        const r = canvas.getBoundingClientRect();
        return { left: r.left, top: r.top, width: r.width, height: r.height, surfaceWidth: e.width, surfaceHeight: e.height };
      };
      canvas.addEventListener('mousemove', (e) => mouseMode === 'client' && send(pointer.move('client', g(), e, id)));
      canvas.addEventListener('mousedown', (e) => {
        if (mouseMode !== 'client') return;
        e.preventDefault();
        send([...pointer.move('client', g(), e, id), ...pointer.button(e.button, true)]);
      });
      canvas.addEventListener('mouseup', (e) => mouseMode === 'client' && send(pointer.button(e.button, false)));
      canvas.addEventListener('contextmenu', (e) => e.preventDefault());
      canvas.addEventListener('keydown', onKeyDown);
      canvas.addEventListener('keyup', onKeyUp);
      canvas.addEventListener('blur', () => {
        send(keyboard.releaseAll());
        onKeyboardBlur();
      });
    }
    return d;
  };
  /** A further display's canvas in the page: after the canvases of lower ids. */
  const placeExtra = (id: number, canvas: HTMLCanvasElement): void => {
    const after = [...extras.entries()].filter(([i, e]) => i < id && e.canvas.ownerDocument === document).pop()?.[1].canvas ?? screen;
    after.after(canvas);
  };
  const windowResizes = new Map<number, GuestResize>();
  // Electron: one window per further display (remote-viewer's); the web host with ?windows=1
  const displayWindowsDefault = bridge.kind === 'electron' || new URLSearchParams(location.search).get('windows') === '1';
  const displayWindows = new DisplayWindows({
          open: (name, w, h) => window.open('', name, `popup,width=${w},height=${h}`),
          home: (id, canvas) => placeExtra(id, canvas),
          title: (id) => windowTitle(status.current, id),
          styleHref: new URL('style.css', location.href).href,
          // each display's window asks the guest for its own size (one monitor per window)
          placed: (id, win) => {
            const r = new GuestResize(api, win.document.body, () => ZOOM_NORMAL, id);
            windowResizes.set(id, r);
            r.update(status.current);
          },
          closed: (id) => {
            windowResizes.get(id)?.dispose();
            windowResizes.delete(id);
          },
        });
  displayWindows.enabled = displayWindowsDefault;
  window.addEventListener('pagehide', () => displayWindows.closeAll());
  /** The further displays the user hid (View → Display N). */
  let hiddenDisplays = new Set<number>();
  const showExtra = (id: number): void => {
    const d = extras.get(id);
    if (!d) return;
    const shown = d.width > 0 && !hiddenDisplays.has(id);
    d.canvas.hidden = !shown;
    if (!kiosk) displayWindows.update(id, d.canvas, shown ? d.width : 0, d.height);
  };
  const cursor = new GuestCursor(screen, overlay);
  const keyboard = new KeyboardTracker();
  const pointer = new PointerTracker();
  const hotkeys = new HotkeyMatcher();
  let zoom = ZOOM_NORMAL;
  /** View → Scale to window: the canvas follows the viewport's size (a zoom step turns it off). */
  let fit = false;
  const viewport = byId('viewport');
  let mouseMode: MouseMode = 'client';
  let grabbed = false;
  /** The video codecs told to the engine (test hook). */
  let shownCodecs: number[] | null = null;
  // Kiosk comes from main with the first status; until then nothing may escape either.
  let kiosk = false;
  let zoomFromMain = false;
  let recentShown = '';

  // commands (toolbar / Electron menu / hotkeys), connect dialog, send keys, screenshot: ui/window-ui.ts
  const doctorEl = byId('doctor');
  const guestResize = new GuestResize(api, viewport, () => zoom);
  const windowUi = new WindowUi({
    host: bridge.kind,
    api,
    pixels: () => readPixels(0),
    runHotkey: (a) => runHotkey(a),
    showDoctor: () => (doctorEl.hidden = !doctor.last),
    displayWindowsDefault,
  });

  const send = (events: InputEvent[]): void => {
    if (events.length && status.current.state === 'connected') api.input(events);
  };

  // ------------------------------------------------------------ display
  // Batches go from the engine straight to the worker (its display link), which
  // paints the canvases it was handed; this thread hears sizes and what is shown.
  const worker = new Worker('worker.js');
  const toWorker = (msg: PageToWorker, transfer: Transferable[] = []): void => worker.postMessage(msg, transfer);
  const offscreen = screen.transferControlToOffscreen();
  toWorker({ type: 'canvas', display: 0, canvas: offscreen }, [offscreen]);
  /** Pixel reads in flight (screenshot, test hook), by id. */
  const reads = new Map<number, (px: Pixels | null) => void>();
  let nextRead = 0;
  const readPixels = (display: number): Promise<Pixels | null> =>
    new Promise((ok) => {
      const id = ++nextRead;
      reads.set(id, ok);
      toWorker({ type: 'read', id, display });
    });
  // what the worker decodes with WebCodecs: told to the engine before the page's first connect
  // (display channels announce these codecs when they link); none if the worker stays silent
  let codecsKnown: (codecs: number[]) => void = () => {};
  const videoCodecs = new Promise<number[]>((resolve) => {
    codecsKnown = resolve;
    setTimeout(() => resolve([]), 3000);
  });
  worker.onmessage = (ev: MessageEvent<WorkerReply>) => {
    const reply = ev.data;
    if (reply.type === 'videoCodecs') {
      codecsKnown(reply.codecs);
      return;
    }
    if (reply.type === 'pixels') {
      reads.get(reply.id)?.(reply.pixels);
      reads.delete(reply.id);
      return;
    }
    if (reply.error !== undefined) console.error(`display worker: batch ${reply.batch}: ${reply.error}`);
    let resized = false;
    for (const f of reply.displays) {
      if (f.display === 0) {
        resized ||= f.width !== primary.width || f.height !== primary.height;
        [primary.width, primary.height] = [f.width, f.height];
        continue;
      }
      const d = extraDisplay(f.display);
      resized ||= f.width !== d.width || f.height !== d.height;
      [d.width, d.height] = [f.width, f.height];
      showExtra(f.display);
    }
    if (resized) applyZoom();
  };
  worker.onerror = (ev) => console.error('display worker failed', ev.message);
  bridge.onDisplayLink((link) => (link.kind === 'port' ? toWorker({ type: 'link', port: link.port }, [link.port]) : toWorker({ type: 'link', url: link.url })));

  // ------------------------------------------------------------ audio
  const audio = new AudioPlayer();
  const mute = new MuteToggle(byId<HTMLButtonElement>('audio-mute'), (m) => audio.setUserMute(m));
  audio.onState = (s) => mute.show(s.playing);
  let audioOut: { ctx: AudioContext; out: AudioNode } | null = null;
  audio.onOutput = (ctx, out) => (audioOut = { ctx, out });
  // lip sync: the display worker holds stream frames until the audio of their time plays
  audio.onClock = (mm, at) => worker.postMessage({ type: 'mediaClock', mm, at } satisfies MediaClockMessage);
  const micLive = byId('mic-live');
  const mic = new MicCapture(
    (pcm) => {
      if (status.current.state === 'connected') api.recordData(pcm);
    },
    (live) => (micLive.hidden = !live),
  );
  api.on('audio', (events) => {
    audio.apply(events);
    for (const e of events) {
      if (e.t === 'recordStart') void mic.start(e.channels, e.frequency);
      else if (e.t === 'recordStop') mic.stop();
    }
  });
  // a session that ends sends no STOP: nothing may keep playing or listening
  api.on('status', (s) => {
    if (s.state === 'connected') return;
    mic.stop();
    audio.apply([{ t: 'stop' }]);
  });
  bridge.onClose(() => mic.stop());

  // ------------------------------------------------------------ cursor + status
  api.on('cursor', (cmds) => cursor.apply(cmds));
  const onStatus = (s: SessionStatus): void => {
    status.set(s);
    showTitles();
    quality.update(s);
    const windowsWere = displayWindows.enabled;
    displayWindows.enabled = s.app?.preferences?.displayWindows ?? displayWindowsDefault;
    const hidden = new Set(s.app?.hiddenDisplays ?? []);
    // the worker tells of size changes only: a display already showing gets its window (or comes home) here
    if (displayWindows.enabled !== windowsWere || [...hidden].join() !== [...hiddenDisplays].join()) {
      hiddenDisplays = hidden;
      for (const id of extras.keys()) showExtra(id);
    }
    windowUi.update(s);
    guestResize.update(s);
    for (const r of windowResizes.values()) r.update(s);
    if (s.app?.kiosk && !kiosk) {
      kiosk = true;
      document.body.dataset.kiosk = '1';
    }
    hotkeys.setBindings(s.app?.hotkeys);
    hotkeys.setDisabled(kiosk);
    kioskOverlay.update(s);
    doctor.update(s);
    if (s.mouseMode) mouseMode = s.mouseMode;
    // -z/--zoom or the saved zoom: once, so the zoom hotkeys are not undone by later statuses
    if (!zoomFromMain && s.app?.zoom !== undefined) {
      zoomFromMain = true;
      zoom = s.app.zoom;
      applyZoom();
    }
    showRecent(s.app?.recent ?? []);
    showProxyAuth(s);
    cursor.setMode(mouseMode, document.pointerLockElement === screen);
    if (s.state !== 'connected') ungrab();
  };
  api.on('status', onStatus);
  api.on('migration', (m) => {
    banner.show(m);
    // the VM lives elsewhere now: the address field names where (what a reconnect would dial)
    if (m.phase === 'done' && m.uri) uriInput.value = m.uri;
  });
  bridge.onClose((reason) => onStatus({ state: 'disconnected', message: reason }));
  // told once, in both hosts; a connect of the hello waits for it (requests keep their order to the engine)
  const codecsTold = videoCodecs.then((codecs) => {
    api.videoCodecs(codecs);
    shownCodecs = codecs;
  });
  bridge.onHello((hello) => {
    void codecsTold.then(() => {
      if (hello.uri && hello.autoConnect !== false) api.connect(hello.uri);
    });
    if (hello.uri) {
      uriInput.value = hello.uri;
      // the host may already have dialled it for this page (it connects at start): then only later links see the codecs
    } else windowUi.connect.open(false); // started without a target: ask for one (remote-viewer's connect dialog)
  });

  function showRecent(uris: string[]): void {
    const key = uris.join('\n');
    if (key === recentShown) return;
    recentShown = key;
    recentList.replaceChildren(
      ...uris.map((u) => {
        const o = document.createElement('option');
        o.value = u;
        return o;
      }),
    );
  }
  function showProxyAuth(s: SessionStatus): void {
    const ask = s.app?.proxyAuth;
    if (!ask || !api.setProxyCredentials || s.state === 'connected') {
      proxyForm.hidden = true;
      return;
    }
    const text = `The proxy ${ask.proxy} ${ask.rejected ? 'rejected the user name or password' : 'wants a user name and password'}.`;
    const p = proxyForm.querySelector('.proxy-auth-text');
    if (p && p.textContent !== text) p.textContent = text;
    if (proxyForm.hidden) {
      proxyForm.hidden = false;
      proxyUser.focus();
    }
  }
  proxyForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const user = proxyUser.value;
    const pw = proxyPassword.value;
    proxyPassword.value = '';
    proxyForm.hidden = true;
    api.setProxyCredentials?.(user, pw);
  });

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const uri = uriInput.value.trim();
    if (!uri) return;
    const pw = passwordInput.value;
    passwordInput.value = '';
    api.connect(uri, pw || undefined);
  });
  byId('disconnect').addEventListener('click', () => api.disconnect());

  /** The window titles (remote-viewer's): the guest or --title, and how to release a grabbed pointer. */
  function showTitles(): void {
    const t = windowTitle(status.current, 0, grabbed ? 'Ctrl+Alt' : undefined);
    if (document.title !== t) document.title = t;
    for (const id of extras.keys()) {
      const w = displayWindows.windowOf(id);
      if (w) w.document.title = windowTitle(status.current, id);
    }
  }

  // ------------------------------------------------------------ grab
  // full screen + grabbed: the guest gets the keys the OS would take (Alt+Tab, Super)
  const keyLock = new KeyboardLock((navigator as Navigator & { keyboard?: ConstructorParameters<typeof KeyboardLock>[0] }).keyboard);
  const syncKeyLock = (): void => keyLock.set(grabbed && document.fullscreenElement !== null);
  document.addEventListener('fullscreenchange', syncKeyLock);
  function grab(): void {
    if (grabbed) return;
    grabbed = true;
    grabHint.textContent = 'Press Ctrl+Alt to release';
    screen.focus();
    syncKeyLock();
    showTitles();
    if (mouseMode === 'server' && document.pointerLockElement !== screen) {
      // Pointer Lock may be refused (no user gesture, headless): input still works.
      Promise.resolve(screen.requestPointerLock()).catch(() => {});
    }
  }
  function ungrab(): void {
    if (!grabbed) return;
    grabbed = false;
    grabHint.textContent = '';
    syncKeyLock();
    showTitles();
    send([...keyboard.releaseAll(), ...pointer.releaseAll()]);
    if (document.pointerLockElement === screen) document.exitPointerLock();
    if (document.activeElement === screen) screen.blur();
  }
  new ResizeObserver(() => fit && applyZoom()).observe(viewport);
  document.addEventListener('pointerlockchange', () => cursor.setMode(mouseMode, document.pointerLockElement === screen));
  screen.addEventListener('focus', () => {
    grabbed = true;
    grabHint.textContent = 'Press Ctrl+Alt to release';
    syncKeyLock();
    showTitles();
  });
  screen.addEventListener('blur', ungrab);
  window.addEventListener('blur', ungrab);

  // ------------------------------------------------------------ hotkeys
  // Zoom scales the canvas box in whole CSS pixels; pointer mapping reads that box (getBoundingClientRect).
  function applyZoom(): void {
    const natural = !fit && zoom === ZOOM_NORMAL;
    const box = fit ? fittedSize(primary.width, primary.height, viewport.clientWidth, viewport.clientHeight) : zoomedSize(primary.width, primary.height, zoom);
    const w = natural ? '' : `${box.width}px`;
    const h = natural ? '' : `${box.height}px`;
    if (screen.style.width !== w) screen.style.width = w;
    if (screen.style.height !== h) screen.style.height = h;
    // the other displays at the same zoom (scale to window fits the first)
    for (const { canvas, width, height } of extras.values()) {
      const b = zoomedSize(width, height, zoom);
      canvas.style.width = zoom === ZOOM_NORMAL ? '' : `${b.width}px`;
      canvas.style.height = zoom === ZOOM_NORMAL ? '' : `${b.height}px`;
    }
  }
  function runHotkey(action: string): void {
    switch (action) {
      case 'toggle-fullscreen':
        if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
        else document.documentElement.requestFullscreen().catch(() => {});
        break;
      case 'release-cursor':
        ungrab();
        break;
      case 'zoom-in':
      case 'zoom-out':
      case 'zoom-reset':
        zoom = zoomAfter(zoom, action);
        fit = false;
        applyZoom();
        guestResize.schedule();
        api.setPreferences({ zoom }); // saved: the next start opens at this zoom
        break;
      case 'scale-to-window':
        fit = !fit;
        applyZoom();
        break;
      default: {
        // the rest are commands of the table (Ctrl+Alt+Del, smartcard insert/remove): run as the menu does
        const cmd = commandForHotkey(action);
        if (cmd) windowUi.run(cmd.id);
        else console.debug(`hotkey ${action}: not supported here`);
      }
    }
  }

  // ------------------------------------------------------------ keyboard
  let locksSent = false;
  function onKeyDown(e: KeyboardEvent): void {
    e.preventDefault();
    e.stopPropagation();
    if (!locksSent) {
      // Sync Caps/Num/Scroll lock once per grab, like spice-gtk on focus-in.
      send([{ t: 'modifiers', flags: lockFlags(e) }]);
      locksSent = true;
    }
    // hotkeys first: a matched key never reaches the guest (kiosk mode has none)
    const v = hotkeys.keyDown(e);
    if (v.send) send(keyboard.keyDown(e.code));
    if (v.action) runHotkey(v.action);
  }
  function onKeyUp(e: KeyboardEvent): void {
    e.preventDefault();
    e.stopPropagation();
    const v = hotkeys.keyUp(e);
    if (v.send) send(keyboard.keyUp(e.code));
    if (v.action) runHotkey(v.action); // the release sequence fires on release
  }
  function onKeyboardBlur(): void {
    locksSent = false;
    hotkeys.reset();
  }
  screen.addEventListener('keydown', onKeyDown);
  screen.addEventListener('keyup', onKeyUp);
  screen.addEventListener('blur', onKeyboardBlur);

  // ------------------------------------------------------------ pointer
  const geometry = (): ViewGeometry => {
    const r = screen.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height, surfaceWidth: primary.width, surfaceHeight: primary.height };
  };
  const locked = (): boolean => document.pointerLockElement === screen;
  screen.addEventListener('mousemove', (e) => {
    if (mouseMode === 'server' && !locked()) return;
    if (mouseMode === 'client' || grabbed) send(pointer.move(mouseMode, geometry(), e));
  });
  screen.addEventListener('mousedown', (e) => {
    e.preventDefault();
    if (!grabbed) {
      grab();
      if (mouseMode === 'server') return; // the grabbing click is not the guest's
    }
    if (mouseMode === 'client') send(pointer.move('client', geometry(), e));
    send(pointer.button(e.button, true));
  });
  screen.addEventListener('mouseup', (e) => {
    e.preventDefault();
    send(pointer.button(e.button, false));
  });
  screen.addEventListener('contextmenu', (e) => e.preventDefault());
  screen.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      send(pointer.wheel(e.deltaY, e.deltaMode));
    },
    { passive: false },
  );

  // ------------------------------------------------------------ test hook
  if (new URLSearchParams(location.search).get('test') === '1') {
    (window as unknown as { __spiceTest: unknown }).__spiceTest = {
      primaryPixels: () => readPixels(0),
      displayWindow: (id: number) => !!displayWindows.windowOf(id),
      displayPixels: (id: number) => readPixels(id),
      status: () => status.current,
      migration: () => banner.last,
      kiosk: () => kiosk,
      overlay: () => kioskOverlay.view,
      diagnosis: () => doctor.last,
      zoom: () => zoom,
      fit: () => fit,
      recent: () => [...recentList.options].map((o) => o.value),
      proxyAuthShown: () => !proxyForm.hidden,
      ui: () => ({ recent: windowUi.connect.recent, connectOpen: windowUi.connect.isOpen, error: windowUi.lastError }),
      audioStats: () => ({ ...audio.stats }),
      audioOutput: () => audioOut,
      clipboard: () => ({ sent: windowUi.clipboard.sent, text: windowUi.clipboard.text }),
      guestResize: () => guestResize.last,
      keyboardLock: () => ({ locked: keyLock.locked, error: keyLock.error }),
      windowResize: (id: number) => windowResizes.get(id)?.last ?? null,
      fileXfer: () => [...windowUi.files.rows.values()],
      videoCodecs: () => shownCodecs,
      connect: (uri: string) => api.connect(uri),
    };
  }
}

start();
