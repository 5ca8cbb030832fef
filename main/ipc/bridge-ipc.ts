// Electron IPC between the viewer window and the engine's ViewerApi: requests
// arrive through ipcMain.handle (sender-checked, then validated and dispatched
// by the request table, preload/requests.ts), events go out with
// webContents.send. The only file besides the preload that touches raw IPC
// (eslint.config.js enforces it).
import type { IpcMain, IpcMainInvokeEvent, BrowserWindow } from 'electron';
import type { ViewerApi } from '../../preload/contract';
import { PAGE_EVENT_NAMES } from '../../preload/display-link';
import { BadRequestError, dispatchRequest } from '../../preload/requests';
import { isTrustedSender } from '../windows/app-window';
import { IPC_EVENT, IPC_REQUEST } from './channels';

/** The part of ipcMain used here (tests pass their own). */
export type IpcMainLike = Pick<IpcMain, 'handle' | 'removeHandler'>;
/** The part of a BrowserWindow used here. */
export interface IpcWindow {
  webContents: { mainFrame: unknown; isDestroyed(): boolean; send(channel: string, ...args: unknown[]): void };
}

export function attachBridgeIpc(ipcMain: IpcMainLike, win: IpcWindow | BrowserWindow, engine: ViewerApi): () => void {
  const contents = win.webContents;
  ipcMain.handle(IPC_REQUEST, (event: IpcMainInvokeEvent, name: unknown, args: unknown) => {
    if (!isTrustedSender(event, win, contents)) throw new BadRequestError('request from a frame that is not the viewer page');
    dispatchRequest(engine, name, args);
  });
  // display batches take the display port (main/ipc/display-port.ts)
  const unsubs = PAGE_EVENT_NAMES.map((name) =>
    engine.on(name, (payload, batch) => {
      if (!contents.isDestroyed()) contents.send(IPC_EVENT, name, payload, batch);
    }),
  );
  return () => {
    ipcMain.removeHandler(IPC_REQUEST);
    for (const u of unsubs) u();
  };
}
