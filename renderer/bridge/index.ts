// Picks the bridge to the engine: Electron's preload (window.spiceViewer)
// when present, otherwise the web host's WebSocket.
import type { ViewerApi } from '../../preload/contract';
import { openWsBridge, type HostHello } from './ws-bridge';

export interface Bridge {
  kind: 'electron' | 'web';
  api: ViewerApi;
  onHello(cb: (hello: HostHello) => void): void;
  onClose(cb: (reason: string) => void): void;
}

export function openBridge(win: {
  spiceViewer?: ViewerApi;
  location: { protocol: string; host: string; search: string; pathname: string; hash: string };
  history?: { replaceState(data: unknown, unused: string, url: string): void };
}): Bridge {
  if (win.spiceViewer) {
    // Electron: main auto-connects from its command line; nothing to hand over.
    return { kind: 'electron', api: win.spiceViewer, onHello: () => {}, onClose: () => {} };
  }
  return { kind: 'web', ...openWsBridge(win.location, win.history) };
}
