// Electron IPC between the viewer window and the engine's ViewerApi:
// requests in (sender-checked, shape-checked), events out.
import type { IpcMain, IpcMainEvent, BrowserWindow } from 'electron';
import type { InputEvent, ViewerApi } from '../../preload/contract';
import { PAGE_EVENT_NAMES } from '../../preload/display-link';
import { isTrustedSender } from '../windows/app-window';
import { IPC_EVENT, IPC_REQUEST } from './channels';

export function attachBridgeIpc(ipcMain: IpcMain, win: BrowserWindow, engine: ViewerApi): () => void {
  const contents = win.webContents;
  const onRequest = (event: IpcMainEvent, name: unknown, args: unknown): void => {
    if (!isTrustedSender(event, win, contents) || !Array.isArray(args)) return;
    switch (name) {
      case 'connect':
        if (typeof args[0] === 'string' && (args[1] === undefined || typeof args[1] === 'string')) engine.connect(args[0], args[1]);
        break;
      case 'disconnect':
        engine.disconnect();
        break;
      case 'input':
        if (Array.isArray(args[0])) engine.input(args[0] as InputEvent[]);
        break;
      case 'displayAck':
        if (typeof args[0] === 'number') engine.displayAck(args[0]);
        break;
      case 'proxyCredentials':
        if (typeof args[0] === 'string' && typeof args[1] === 'string' && args[0].length <= 1024 && args[1].length <= 1024) engine.setProxyCredentials?.(args[0], args[1]);
        break;
    }
  };
  ipcMain.on(IPC_REQUEST, onRequest);
  // display batches take the display port (main/ipc/display-port.ts)
  const unsubs = PAGE_EVENT_NAMES.map((name) =>
    engine.on(name, (payload, batch) => {
      if (!contents.isDestroyed()) contents.send(IPC_EVENT, name, payload, batch);
    }),
  );
  return () => {
    ipcMain.off(IPC_REQUEST, onRequest);
    for (const u of unsubs) u();
  };
}
