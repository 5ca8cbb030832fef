// Electron preload (sandboxed, bundled to one CJS file): exposes exactly the
// ViewerApi (preload/api.ts: the request table's methods plus `on`) as
// window.spiceViewer. No other Electron or Node surface reaches the page.
// The display port main sends (main/ipc/display-port.ts) is handed on to the
// page with window.postMessage; the page gives it to its display worker.
import { contextBridge, ipcRenderer } from 'electron';
import { createPreloadApi } from './api';
import { APP_ORIGIN } from '../main/windows/app-window';
import { DISPLAY_PORT_IPC, DISPLAY_PORT_MESSAGE } from './display-link';

contextBridge.exposeInMainWorld('spiceViewer', createPreloadApi(ipcRenderer));
ipcRenderer.on(DISPLAY_PORT_IPC, (e) => window.postMessage(DISPLAY_PORT_MESSAGE, APP_ORIGIN, e.ports));
