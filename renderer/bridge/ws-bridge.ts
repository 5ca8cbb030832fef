// WebSocket bridge: the web host's side of ViewerApi in a plain browser.
// Frames are BridgeFrames in the binary codec; the host additionally sends
// one 'hello' frame telling the page which URI to auto-connect to.
import type { BridgeFrame, ViewerApi, ViewerEvents, ViewerRequests } from '../../preload/contract';
import { decodeFrame, encodeFrame } from '../../preload/codec';
import { DISPLAY_WS_PATH } from '../../preload/display-link';

/** Sent by the web host right after the socket opens. */
export interface HostHello {
  kind: 'hello';
  /** URI the host was started with: the page connects to it. */
  uri?: string;
  /** This page's id for its display worker's socket (preload/display-link.ts). */
  display?: string;
}

export interface WsBridge {
  api: ViewerApi;
  /** Called once with the host's hello (auto-connect URI). */
  onHello(cb: (hello: HostHello) => void): void;
  /** Called when the socket to the host closes. */
  onClose(cb: (reason: string) => void): void;
  /** Called with the URL of the display worker's own socket to the host. */
  onDisplayLink(cb: (link: DisplayLink) => void): void;
}

/** Where the display worker gets its batches (preload/display-link.ts). */
export type DisplayLink = { kind: 'port'; port: MessagePort } | { kind: 'ws'; url: string };

type Listener = (payload: never, batch: number) => void;

export function openWsBridge(loc: { protocol: string; host: string; search: string }): WsBridge {
  const token = new URLSearchParams(loc.search).get('token') ?? '';
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const socketUrl = (path: string, query = ''): string => `${scheme}//${loc.host}${path}?token=${encodeURIComponent(token)}${query}`;
  const ws = new WebSocket(socketUrl('/bridge'));
  ws.binaryType = 'arraybuffer';
  const listeners = new Map<keyof ViewerEvents, Set<Listener>>();
  const pending: Uint8Array<ArrayBuffer>[] = [];
  let helloCb: ((h: HostHello) => void) | null = null;
  let hello: HostHello | null = null;
  let closeCb: ((reason: string) => void) | null = null;
  let displayCb: ((link: DisplayLink) => void) | null = null;
  const displayLink = (): DisplayLink | null => (hello?.display ? { kind: 'ws', url: socketUrl(DISPLAY_WS_PATH, `&page=${encodeURIComponent(hello.display)}`) } : null);

  const send = (name: keyof ViewerRequests, args: unknown[]): void => {
    const frame: BridgeFrame = { kind: 'request', name, args };
    const bytes = encodeFrame(frame);
    if (ws.readyState === WebSocket.OPEN) ws.send(bytes);
    else if (ws.readyState === WebSocket.CONNECTING) pending.push(bytes);
  };

  ws.onopen = () => {
    for (const b of pending.splice(0)) ws.send(b);
  };
  ws.onclose = (ev) => closeCb?.(ev.reason || `bridge closed (${ev.code})`);
  ws.onmessage = (ev) => {
    if (!(ev.data instanceof ArrayBuffer)) return;
    let frame: BridgeFrame | HostHello;
    try {
      frame = decodeFrame(new Uint8Array(ev.data)) as BridgeFrame | HostHello;
    } catch (e) {
      console.error(e);
      ws.close(1003, 'bad frame');
      return;
    }
    if (frame.kind === 'hello') {
      hello = frame;
      const link = displayLink();
      if (link) displayCb?.(link);
      helloCb?.(frame);
      return;
    }
    if (frame.kind !== 'event') return;
    const set = listeners.get(frame.name);
    if (set) for (const cb of set) (cb as (p: unknown, b: number) => void)(frame.payload, frame.batch);
  };

  const api: ViewerApi = {
    connect: (uri, password) => send('connect', password === undefined ? [uri] : [uri, password]),
    disconnect: () => send('disconnect', []),
    input: (events) => send('input', [events]),
    displayAck: (batch) => send('displayAck', [batch]),
    setProxyCredentials: (user, password) => send('proxyCredentials', [user, password]),
    on(event, cb) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(cb as Listener);
      return () => set.delete(cb as Listener);
    },
  };
  return {
    api,
    onHello(cb) {
      helloCb = cb;
      if (hello) cb(hello);
    },
    onClose(cb) {
      closeCb = cb;
    },
    onDisplayLink(cb) {
      displayCb = cb;
      const link = displayLink();
      if (link) cb(link);
    },
  };
}
