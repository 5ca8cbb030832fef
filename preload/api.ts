// The preload's window.spiceViewer, built over an ipcRenderer-like object so
// it is testable without Electron: one method per request-table entry
// (ipcRenderer.invoke → ipcMain.handle in main/ipc/bridge-ipc.ts) plus `on`
// for the main → page events. Only preload/index.ts hands it the real ipcRenderer.
import type { ViewerApi, ViewerEvents } from './contract';
import { VIEWER_EVENT_NAMES } from './contract';
import { requestClient } from './requests';
import { IPC_EVENT, IPC_REQUEST } from '../main/ipc/channels';

/** The part of Electron's ipcRenderer the preload uses. */
export interface PreloadIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: any[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: any[]) => void): unknown;
}

const EVENTS: ReadonlySet<string> = new Set<keyof ViewerEvents>(VIEWER_EVENT_NAMES);

export function createPreloadApi(ipc: PreloadIpc, report: (m: string) => void = (m) => console.error(m)): ViewerApi {
  return {
    ...requestClient((name, args) => {
      ipc.invoke(IPC_REQUEST, name, args).catch((e: unknown) => report(`spice-viewer: ${name} refused: ${(e as Error)?.message ?? e}`));
    }),
    on(event, cb) {
      if (!EVENTS.has(event)) throw new Error(`unknown viewer event ${String(event)}`);
      // The page never sees the IpcRendererEvent (it would expose ipcRenderer).
      const listener = (_e: unknown, name: string, payload: unknown, batch: number): void => {
        if (name === event) (cb as (p: unknown, b: number) => void)(payload, batch);
      };
      ipc.on(IPC_EVENT, listener);
      return () => {
        ipc.removeListener(IPC_EVENT, listener);
      };
    },
  };
}
