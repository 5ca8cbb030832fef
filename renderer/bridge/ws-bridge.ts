// WebSocket bridge: the web host's side of ViewerApi in a plain browser.
// Frames are BridgeFrames in the binary codec; the host additionally sends
// one 'hello' frame telling the page its target and whether to dial it.
// The access token is taken out of the page's address once read (history,
// bookmarks, screen shares); the tab's sessionStorage keeps it for reloads (a
// cookie would go to every port of this host, other local servers included).
import type { BridgeFrame, RequestName, ViewerApi, ViewerEvents } from '../../preload/contract';
import { requestClient } from '../../preload/requests';
import { decodeFrame, encodeFrame } from '../../preload/codec';
import { DISPLAY_WS_PATH } from '../../preload/display-link';

/** Sent by the web host right after the socket opens. */
export interface HostHello {
  kind: 'hello';
  /** Target the host was started with (no password): shown in the address field. */
  uri?: string;
  /** This page's id for its display worker's socket (preload/display-link.ts). */
  display?: string;
  /** false: the host already dialled `uri` for this page (it must not dial again). */
  autoConnect?: boolean;
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

/** The page's address without its token (null: there was none). */
export function addressWithoutToken(loc: { pathname: string; search: string; hash: string }): string | null {
  const params = new URLSearchParams(loc.search);
  if (!params.has('token')) return null;
  params.delete('token');
  const q = params.toString();
  return `${loc.pathname}${q ? `?${q}` : ''}${loc.hash}`;
}

/** Where the token is kept for this tab's reloads, per host:port (sessionStorage). */
const tokenKey = (host: string): string => `spice-viewer-token@${host}`;

export function openWsBridge(
  loc: { protocol: string; host: string; search: string; pathname?: string; hash?: string },
  history?: { replaceState(data: unknown, unused: string, url: string): void },
  storage?: Pick<Storage, 'getItem' | 'setItem'>,
): WsBridge {
  // from the address on first load; after it was dropped from there (a reload), from this tab's storage
  const given = new URLSearchParams(loc.search).get('token');
  if (given) storage?.setItem(tokenKey(loc.host), given);
  const token = given ?? storage?.getItem(tokenKey(loc.host)) ?? null;
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  const socketUrl = (path: string, query: Record<string, string> = {}): string => {
    const q = new URLSearchParams({ ...(token ? { token } : {}), ...query }).toString();
    return `${scheme}//${loc.host}${path}${q ? `?${q}` : ''}`;
  };
  const ws = new WebSocket(socketUrl('/bridge'));
  const clean = addressWithoutToken({ pathname: loc.pathname ?? '/', search: loc.search, hash: loc.hash ?? '' });
  if (clean !== null) history?.replaceState(null, '', clean);
  ws.binaryType = 'arraybuffer';
  const listeners = new Map<keyof ViewerEvents, Set<Listener>>();
  const pending: Uint8Array<ArrayBuffer>[] = [];
  let helloCb: ((h: HostHello) => void) | null = null;
  let hello: HostHello | null = null;
  let closeCb: ((reason: string) => void) | null = null;
  let displayCb: ((link: DisplayLink) => void) | null = null;
  const displayLink = (): DisplayLink | null => (hello?.display ? { kind: 'ws', url: socketUrl(DISPLAY_WS_PATH, { page: hello.display }) } : null);

  const send = (name: RequestName, args: unknown[]): void => {
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
    ...requestClient(send),
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
