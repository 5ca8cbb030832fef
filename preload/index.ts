// Electron preload (sandboxed, bundled to one CJS file): exposes exactly the
// ViewerApi (preload/api.ts: the request table's methods plus `on`) as
// window.spiceViewer. No other Electron or Node surface reaches the page.
import { contextBridge, ipcRenderer } from 'electron';
import { createPreloadApi } from './api';

contextBridge.exposeInMainWorld('spiceViewer', createPreloadApi(ipcRenderer));
