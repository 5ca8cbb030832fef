// Electron preload (sandboxed, bundled to one CJS file): exposes exactly the
// ViewerApi methods as window.spiceViewer. No other Electron or Node surface
// reaches the page. The display port main sends (main/ipc/display-port.ts) is
// handed on to the page with window.postMessage; the page gives it to its worker.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ViewerApi, ViewerEvents } from './contract';
import { VIEWER_EVENT_NAMES } from './contract';
import { IPC_EVENT, IPC_REQUEST } from '../main/ipc/channels';
import { APP_ORIGIN } from '../main/windows/app-window';
import { DISPLAY_PORT_IPC, DISPLAY_PORT_MESSAGE } from './display-link';

const EVENTS: ReadonlySet<string> = new Set<keyof ViewerEvents>(VIEWER_EVENT_NAMES);

const api: ViewerApi = {
  connect: (uri, password) => ipcRenderer.send(IPC_REQUEST, 'connect', [String(uri), password === undefined ? undefined : String(password)]),
  disconnect: () => ipcRenderer.send(IPC_REQUEST, 'disconnect', []),
  input: (events) => ipcRenderer.send(IPC_REQUEST, 'input', [events]),
  displayAck: (batch) => ipcRenderer.send(IPC_REQUEST, 'displayAck', [Number(batch)]),
  setProxyCredentials: (user, password) => ipcRenderer.send(IPC_REQUEST, 'proxyCredentials', [String(user), String(password)]),
  on(event, cb) {
    if (!EVENTS.has(event)) throw new Error(`unknown viewer event ${String(event)}`);
    // The page never sees the IpcRendererEvent (it would expose ipcRenderer).
    const listener = (_e: IpcRendererEvent, name: string, payload: unknown, batch: number): void => {
      if (name === event) (cb as (p: unknown, b: number) => void)(payload, batch);
    };
    ipcRenderer.on(IPC_EVENT, listener);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, listener);
    };
  },
};

contextBridge.exposeInMainWorld('spiceViewer', api);
ipcRenderer.on(DISPLAY_PORT_IPC, (e) => window.postMessage(DISPLAY_PORT_MESSAGE, APP_ORIGIN, e.ports));
