// Picks the bridge to the engine: Electron's preload (window.spiceViewer)
// when present, otherwise the web host's WebSocket.
import type { ViewerApi } from '../../preload/contract';
import { DISPLAY_PORT_MESSAGE } from '../../preload/display-link';
import { openWsBridge, type DisplayLink, type HostHello } from './ws-bridge';

export interface Bridge {
  kind: 'electron' | 'web';
  api: ViewerApi;
  onHello(cb: (hello: HostHello) => void): void;
  onClose(cb: (reason: string) => void): void;
  /** The display worker's link to the engine (a new one replaces the last). */
  onDisplayLink(cb: (link: DisplayLink) => void): void;
}

export function openBridge(win: {
  spiceViewer?: ViewerApi;
  location: { protocol: string; host: string; search: string; pathname: string; hash: string };
  history?: { replaceState(data: unknown, unused: string, url: string): void };
  sessionStorage?: Pick<Storage, 'getItem' | 'setItem'>;
  addEventListener(type: 'message', cb: (ev: MessageEvent) => void): void;
}): Bridge {
  if (win.spiceViewer) {
    // Electron: main auto-connects from its command line; nothing to hand over.
    // The preload posts the display port main made (MessageChannelMain) to this window.
    const onDisplayLink = (cb: (link: DisplayLink) => void): void =>
      win.addEventListener('message', (ev) => {
        if (ev.source === win && ev.data === DISPLAY_PORT_MESSAGE && ev.ports[0]) cb({ kind: 'port', port: ev.ports[0] });
      });
    return { kind: 'electron', api: win.spiceViewer, onHello: () => {}, onClose: () => {}, onDisplayLink };
  }
  return { kind: 'web', ...openWsBridge(win.location, win.history, win.sessionStorage) };
}
