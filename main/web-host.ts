// Web host: serves the built renderer over node:http on loopback (node:https
// with a certificate, required off loopback) and carries BridgeFrames (binary
// codec) between one engine HostEngine per page and the page over a `ws`
// WebSocket at /bridge. Requests go through the request table
// (preload/requests.ts), like Electron's IPC. Both sockets need the per-run
// token in their query (the page keeps it in its tab's sessionStorage; no
// cookie, which every port of the host would get); Host/Origin are checked so
// other sites and DNS rebinding cannot reach the viewer.
// With a target the host dials it at start, before any page is opened (a
// broker's ticket ages from the moment it was issued): the first page takes
// over that session and gets what it missed. Display batches do not cross the
// page: its display worker opens its own WebSocket at /display (the token,
// plus the page id from the hello) and answers "painted" (preload/display-link.ts).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BridgeFrame, SessionStatus, HostEngine, ViewerEvents } from '../preload/contract';
import { DISPLAY_WS_PATH, PAGE_EVENT_NAMES } from '../preload/display-link';
import { BadRequestError, MAX_VV_FILE, dispatchRequest } from '../preload/requests';
import { decodeFrame, encodeFrame } from '../preload/codec';
import { createSessionController } from './app/session-controller';
import { defaultTransportFactory } from './transport/index';
import { displayLinkHost, type DisplayLinkHost } from './app/display-link';

export interface WebHostOptions {
  host?: string;
  port?: number;
  /** Allow a non-loopback host (needs `tls`: the token and passwords must not cross a network in clear). */
  allowRemote?: boolean;
  /** Serve https/wss with this certificate and key (PEM). */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * The target as shown to users (never with a password): dialled at start
   * with a fresh engine, which the first page then takes over; later pages
   * get their own engine and connect to it. The password, if any, is part of
   * the engine's configuration and never travels to the page.
   */
  uri?: string;
  /** One engine per page (default: a session controller without a launch target). */
  engine?: () => HostEngine;
  /** Every status of every engine (the CLI prints them on the terminal). */
  onStatus?: (s: SessionStatus) => void;
  /** What the host itself has to say (dropped sessions, failed requests): the CLI prints it. */
  log?: (line: string) => void;
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
/** Largest frame a page may send: the largest request is an opened .vv file, plus framing. */
const MAX_PAGE_FRAME = MAX_VV_FILE + (64 << 10);
const MAX_PAGES = 8;
/** Largest frame a display worker may send ("painted"). */
const MAX_WORKER_FRAME = 1024;
/** What the session dialled at start may send before a page takes it over; beyond it the page starts afresh. */
const MAX_EARLY_BYTES = 16 << 20;

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

export async function startWebHost(opts: WebHostOptions = {}): Promise<WebHost> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) {
    if (!opts.allowRemote) throw new Error(`refusing to listen on non-loopback address ${host} without allowRemote (--allow-remote)`);
    if (!opts.tls) {
      throw new Error(
        `refusing to serve on ${host} without TLS: the access token and the SPICE password would cross the network in clear; give --cert FILE --key FILE (PEM)`,
      );
    }
  }
  const secure = !!opts.tls;
  const scheme = secure ? 'https' : 'http';
  const root = resolve(opts.rootDir ?? defaultRoot());
  const token = randomBytes(24).toString('base64url');
  // default engine: a session controller without a launch target (the page shows its connect form)
  const makeEngine = opts.engine ?? (() => createSessionController({ transport: defaultTransportFactory, env: process.env }));
  let port = 0;

  const allowedHost = (h: string | undefined): boolean => {
    if (!h) return false;
    // Loopback names only (with this port): blocks DNS-rebinding pages from talking to us;
    // --allow-remote admits other names, never a loopback name with another port.
    const m = /^(.*):(\d+)$/.exec(h);
    if (m && isLoopbackHost(m[1])) return Number(m[2]) === port;
    return !!opts.allowRemote;
  };
  // Only the sockets need the token (in their query): the static files are no secret. No cookie:
  // browsers send cookies to every port of a host, so another local server would receive it.
  const hasToken = (url: URL): boolean => tokenOk(url.searchParams.get('token'), token);

  const csp = (hostHeader: string): string =>
    [
      "default-src 'self'",
      // 'wasm-unsafe-eval': the display worker's WebAssembly decoders (compilation only, not eval)
      "script-src 'self' 'wasm-unsafe-eval'",
      "worker-src 'self'",
      "style-src 'self'",
      "img-src 'self' data: blob:",
      // the Host header was checked (or --allow-remote): it names this server as the page reached it
      `connect-src 'self'${/^[A-Za-z0-9.:[\]-]+$/.test(hostHeader) ? ` ${secure ? 'wss' : 'ws'}://${hostHeader}` : ''}`,
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
        'content-security-policy': csp(req.headers.host ?? ''),
      };
      if (secure) headers['strict-transport-security'] = 'max-age=31536000';
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch {
      reject(404, 'not found\n');
    }
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    serve(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  };
  const server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, onRequest) : createServer(onRequest);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_PAGE_FRAME });
  const displayWss = new WebSocketServer({ noServer: true, maxPayload: MAX_WORKER_FRAME });
  /** Pages by the id their hello carries: where their display worker's socket attaches. */
  /** A page's display link, its worker's socket and its own bridge socket. */
  interface Page {
    link: DisplayLinkHost;
    worker: WebSocket | null;
    bridge: WebSocket;
  }
  const pages = new Map<string, Page>();

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const origin = req.headers.origin;
    // A browser always sends Origin: it must be this server as the page reached it (no other site).
    const originOk = origin === undefined || origin === `${scheme}://${req.headers.host}`;
    const forbidden = (): void => {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    };
    if (!allowedHost(req.headers.host) || !originOk || !hasToken(url)) return forbidden();
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

  function attachWorker(ws: WebSocket, page: Page): void {
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
      if (page.worker !== ws) return;
      page.worker = null;
      // the page would stay "connected" over a frozen screen (the flow waits for paints that
      // cannot come): end its bridge so it shows the loss and can connect again
      if (page.bridge.readyState === page.bridge.OPEN) page.bridge.close(1011, 'display link lost');
    });
  }

  /** An engine with the host's status listener. */
  function newEngine(): HostEngine {
    const engine = makeEngine();
    if (opts.onStatus) engine.on('status', opts.onStatus);
    return engine;
  }

  // The session dialled at start: its frames wait (encoded) for the first page,
  // its display batches in its display link (at most MAX_BATCHES_IN_FLIGHT: the
  // server then waits for them to be painted).
  let early: { engine: HostEngine; link: DisplayLinkHost; frames: Uint8Array[]; bytes: number; stop: () => void } | null = null;
  if (opts.uri) {
    const engine = newEngine();
    const frames: Uint8Array[] = [];
    const unsubs = PAGE_EVENT_NAMES.map((name) =>
      engine.on(name, (payload, batch) => {
        if (!early) return;
        const bytes = encodeFrame({ kind: 'event', name, payload, batch } as BridgeFrame);
        early.bytes += bytes.byteLength;
        early.frames.push(bytes);
        if (early.bytes > MAX_EARLY_BYTES) {
          // nobody came to look: drop it; the first page connects afresh
          const e = early;
          early = null;
          e.stop();
          opts.log?.(`web host: no page was opened while the session dialled at start sent ${MAX_EARLY_BYTES >> 20} MiB of updates: it is closed; opening the page connects again`);
          e.link.detach();
          e.engine.disconnect();
        }
      }),
    );
    early = { engine, link: displayLinkHost(engine), frames, bytes: 0, stop: () => unsubs.forEach((u) => u()) };
    engine.connect(opts.uri);
  }

  function attachPage(ws: WebSocket): void {
    const sendBytes = (bytes: Uint8Array): void => {
      if (ws.readyState === ws.OPEN) ws.send(bytes);
    };
    const sendFrame = (frame: BridgeFrame | { kind: 'hello'; uri?: string; autoConnect?: boolean; display?: string }): void => sendBytes(encodeFrame(frame));
    let engine: HostEngine;
    const taken = early;
    early = null;
    if (taken) {
      // the session dialled at start: what it said so far, then live
      taken.stop();
      engine = taken.engine;
      for (const b of taken.frames) sendBytes(b);
    } else {
      try {
        engine = newEngine();
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
    }
    const unsubs = PAGE_EVENT_NAMES.map((name) =>
      engine.on(name, (payload, batch) => sendFrame({ kind: 'event', name, payload, batch })),
    );
    const pageId = randomBytes(16).toString('base64url');
    const page: Page = { link: taken?.link ?? displayLinkHost(engine), worker: null, bridge: ws };
    pages.set(pageId, page);
    ws.on('message', (data, isBinary) => {
      let frame: BridgeFrame;
      try {
        if (!isBinary) throw new Error('text frame');
        const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
        frame = decodeFrame(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)) as BridgeFrame;
        if (frame?.kind !== 'request') throw new Error('not a request');
      } catch {
        ws.close(1008, 'bad frame');
        return;
      }
      try {
        dispatchRequest(engine, frame.name, frame.args);
      } catch (e) {
        if (e instanceof BadRequestError) return ws.close(1008, `bad ${String(frame.name).slice(0, 40)} request`);
        // a throw in a ws listener would end the process and every page with it: this page only
        opts.log?.(`web host: ${String(frame.name).slice(0, 40)} failed: ${e instanceof Error ? e.message : String(e)}`);
        ws.close(1011, 'request failed');
      }
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
    // the page shows the target; it dials it unless it took over the session dialled at start
    sendFrame({ kind: 'hello', uri: opts.uri, autoConnect: !taken, display: pageId });
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
  const url = `${scheme}://${urlHost}:${port}/?token=${token}`;

  return {
    url,
    token,
    close: () =>
      new Promise<void>((ok) => {
        if (early) {
          early.stop();
          early.link.detach();
          early.engine.disconnect();
          early = null;
        }
        for (const c of [...wss.clients, ...displayWss.clients]) c.terminate();
        wss.close();
        displayWss.close();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
