// Web host: serves the built renderer over node:http on loopback and carries
// BridgeFrames (binary codec) between one engine ViewerApi per page and the
// page over a `ws` WebSocket at /bridge. Every request needs the per-run
// token (query or the cookie set with the page); Host/Origin are checked so
// other sites and DNS rebinding cannot reach the viewer. Display batches do
// not cross the page: its display worker opens its own WebSocket at /display
// (same token, plus the page id from the hello) and answers "painted".
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BridgeFrame, InputEvent, ViewerApi, ViewerEvents } from '../preload/contract';
import { DISPLAY_WS_PATH, PAGE_EVENT_NAMES } from '../preload/display-link';
import { decodeFrame, encodeFrame } from '../preload/codec';
import { configForUri, createSessionController } from './app/session-controller';
import { defaultTransportFactory } from './transport/index';
import { displayLinkHost, type DisplayLinkHost } from './app/display-link';

export interface WebHostOptions {
  host?: string;
  port?: number;
  allowRemote?: boolean;
  uri?: string;
  password?: string;
  engine?: () => ViewerApi;
  /** Directory with index.html, main.js, worker.js (default: the built dist/renderer). */
  rootDir?: string;
}

export interface WebHost {
  url: string;
  token: string;
  close(): Promise<void>;
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};
const COOKIE = 'spice_viewer_token';
/** Largest frame a page may send (input batches are small). */
const MAX_PAGE_FRAME = 1 << 20;
const MAX_INPUT_EVENTS = 4096;
const MAX_PAGES = 8;
/** Largest frame a display worker may send ("painted"). */
const MAX_WORKER_FRAME = 1024;

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function defaultRoot(): string {
  const here = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url));
  // Bundled: dist/main/web.js → dist/renderer. From source: main/ → dist/renderer.
  for (const c of [resolve(here, '../renderer'), resolve(here, '../dist/renderer')]) {
    if (existsSync(join(c, 'main.js'))) return c;
  }
  return resolve(here, '../dist/renderer');
}

function tokenOk(given: string | null | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === COOKIE) return v;
  }
  return undefined;
}

function isInputEvent(e: unknown): e is InputEvent {
  if (typeof e !== 'object' || e === null) return false;
  const o = e as Record<string, unknown>;
  const n = (k: string): boolean => typeof o[k] === 'number' && Number.isFinite(o[k]);
  switch (o.t) {
    case 'key':
      return n('scancode') && typeof o.down === 'boolean';
    case 'modifiers':
      return n('flags');
    case 'mousePosition':
      return n('x') && n('y') && n('buttons') && n('displayId');
    case 'mouseMotion':
      return n('dx') && n('dy') && n('buttons');
    case 'mouseButton':
      return n('button') && n('buttons') && typeof o.down === 'boolean';
    case 'releaseAllKeys':
      return true;
    default:
      return false;
  }
}

export async function startWebHost(opts: WebHostOptions = {}): Promise<WebHost> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !opts.allowRemote) {
    throw new Error(`refusing to listen on non-loopback address ${host} without allowRemote (--allow-remote)`);
  }
  const root = resolve(opts.rootDir ?? defaultRoot());
  const token = randomBytes(24).toString('base64url');
  // default engine: a session controller with remote-viewer's defaults (tests and bare `web` use)
  const makeEngine = opts.engine ?? (() => createSessionController({ config: configForUri('spice://127.0.0.1:5900', undefined, process.env), transport: defaultTransportFactory, env: process.env }));
  let port = 0;
  let hostHeader = '';

  const allowedHost = (h: string | undefined): boolean => {
    if (!h) return false;
    if (opts.allowRemote) return true;
    // Loopback names only: blocks DNS-rebinding pages from talking to us.
    const m = /^(.*):(\d+)$/.exec(h);
    return !!m && Number(m[2]) === port && isLoopbackHost(m[1]);
  };

  const csp = (): string =>
    [
      "default-src 'self'",
      "script-src 'self'",
      "worker-src 'self'",
      "style-src 'self'",
      "img-src 'self' data: blob:",
      `connect-src 'self' ws://${hostHeader}`,
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; ');

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const reject = (code: number, text: string): void => {
      res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
      res.end(text);
    };
    if (!allowedHost(req.headers.host)) return reject(403, 'forbidden host\n');
    if (!tokenOk(url.searchParams.get('token'), token) && !tokenOk(cookieToken(req), token)) return reject(403, 'forbidden: missing or wrong token\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return reject(405, 'method not allowed\n');
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = resolve(root, rel);
    if (!file.startsWith(root + sep) || !(extname(file) in MIME)) return reject(404, 'not found\n');
    try {
      const st = await stat(file);
      if (!st.isFile()) return reject(404, 'not found\n');
      const body = await readFile(file);
      const headers: Record<string, string | string[]> = {
        'content-type': MIME[extname(file)],
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
        'content-security-policy': csp(),
      };
      // Subresources (main.js, worker.js, style.css) carry the token as a cookie.
      if (rel === 'index.html') headers['set-cookie'] = `${COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`;
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      reject(404, 'not found\n');
    }
  }

  const server = createServer((req, res) => {
    serve(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAGE_FRAME });
  const displayWss = new WebSocketServer({ noServer: true, maxPayload: MAX_WORKER_FRAME });
  /** Pages by the id their hello carries: where their display worker's socket attaches. */
  const pages = new Map<string, { link: DisplayLinkHost; worker: WebSocket | null }>();

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const origin = req.headers.origin;
    const originOk = origin === undefined || opts.allowRemote || origin === `http://${req.headers.host}`;
    const forbidden = (): void => {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    };
    if (!allowedHost(req.headers.host) || !originOk || !tokenOk(url.searchParams.get('token'), token)) return forbidden();
    if (url.pathname === DISPLAY_WS_PATH) {
      // one display socket at a time per page, from that page's worker
      const page = pages.get(url.searchParams.get('page') ?? '');
      if (!page || page.worker) return forbidden();
      displayWss.handleUpgrade(req, socket, head, (ws) => attachWorker(ws, page));
      return;
    }
    if (url.pathname !== '/bridge' || wss.clients.size >= MAX_PAGES) return forbidden();
    wss.handleUpgrade(req, socket, head, (ws) => attachPage(ws));
  });

  function attachWorker(ws: WebSocket, page: { link: DisplayLinkHost; worker: WebSocket | null }): void {
    page.worker = ws;
    page.link.attach((b) => {
      if (ws.readyState === ws.OPEN) ws.send(encodeFrame(b));
    });
    ws.on('message', (data, isBinary) => {
      try {
        if (!isBinary) throw new Error('text frame');
        const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
        if (page.link.received(decodeFrame(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)))) return;
      } catch {
        /* closed below */
      }
      ws.close(1008, 'bad display frame');
    });
    ws.on('close', () => {
      if (page.worker === ws) page.worker = null;
    });
  }

  function attachPage(ws: WebSocket): void {
    const sendFrame = (frame: BridgeFrame | { kind: 'hello'; uri?: string; display?: string }): void => {
      if (ws.readyState === ws.OPEN) ws.send(encodeFrame(frame));
    };
    let engine: ViewerApi;
    try {
      engine = makeEngine();
    } catch (e) {
      const status: ViewerEvents['status'] = {
        state: 'disconnected',
        message: `engine unavailable: ${e instanceof Error ? e.message : String(e)}`,
        code: 'ENGINE',
      };
      sendFrame({ kind: 'event', name: 'status', payload: status, batch: 0 });
      ws.on('message', () => {});
      return;
    }
    const unsubs = PAGE_EVENT_NAMES.map((name) =>
      engine.on(name, (payload, batch) => sendFrame({ kind: 'event', name, payload, batch })),
    );
    const pageId = randomBytes(16).toString('base64url');
    const page = { link: displayLinkHost(engine), worker: null as WebSocket | null };
    pages.set(pageId, page);
    ws.on('message', (data, isBinary) => {
      let frame: BridgeFrame;
      try {
        if (!isBinary) throw new Error('text frame');
        const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
        frame = decodeFrame(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)) as BridgeFrame;
        if (frame?.kind !== 'request' || !Array.isArray(frame.args)) throw new Error('not a request');
      } catch {
        ws.close(1008, 'bad frame');
        return;
      }
      const a = frame.args;
      switch (frame.name) {
        case 'connect': {
          if (typeof a[0] !== 'string' || a[0].length > 4096 || (a[1] !== undefined && typeof a[1] !== 'string')) break;
          // The password given on the command line never travels to the page.
          const pw = a[1] === undefined && a[0] === opts.uri ? opts.password : (a[1] as string | undefined);
          engine.connect(a[0], pw);
          return;
        }
        case 'disconnect':
          engine.disconnect();
          return;
        case 'input':
          if (Array.isArray(a[0]) && a[0].length <= MAX_INPUT_EVENTS && a[0].every(isInputEvent)) {
            engine.input(a[0]);
            return;
          }
          break;
        case 'displayAck':
          if (typeof a[0] === 'number' && Number.isFinite(a[0])) {
            engine.displayAck(a[0]);
            return;
          }
          break;
        case 'proxyCredentials':
          if (typeof a[0] === 'string' && typeof a[1] === 'string' && a[0].length <= 1024 && a[1].length <= 1024) {
            engine.setProxyCredentials?.(a[0], a[1]);
            return;
          }
          break;
      }
      ws.close(1008, `bad ${String(frame.name)} request`);
    });
    ws.on('close', () => {
      for (const u of unsubs) u();
      pages.delete(pageId);
      page.link.detach();
      page.worker?.close(1001, 'page closed');
      try {
        engine.disconnect();
      } catch {
        /* already down */
      }
    });
    sendFrame({ kind: 'hello', uri: opts.uri, display: pageId });
  }

  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('web host: no listening address');
  port = addr.port;
  const urlHost = addr.family === 'IPv6' || host.includes(':') ? `[${host.replace(/^\[|\]$/g, '')}]` : host;
  hostHeader = `${urlHost}:${port}`;
  const url = `http://${hostHeader}/?token=${token}`;

  return {
    url,
    token,
    close: () =>
      new Promise<void>((ok) => {
        for (const c of [...wss.clients, ...displayWss.clients]) c.terminate();
        wss.close();
        displayWss.close();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
