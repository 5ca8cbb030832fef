// The real ipcMain for bridge-ipc.ts (kept apart so bridge-ipc is testable without Electron).
import { ipcMain, type BrowserWindow } from 'electron';
import type { ViewerApi } from '../../preload/contract';
import { attachBridgeIpc } from './bridge-ipc';

export function attachViewerIpc(win: BrowserWindow, engine: ViewerApi): () => void {
  return attachBridgeIpc(ipcMain, win, engine);
}
