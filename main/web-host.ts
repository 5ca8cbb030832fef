// Web host: serves the built renderer over node:http on loopback (node:https
// with a certificate, required off loopback) and carries BridgeFrames (binary
// codec) between one engine ViewerApi per page and the page over a `ws`
// WebSocket at /bridge. Requests go through the request table
// (preload/requests.ts), like Electron's IPC. Every request needs the per-run
// token (query, or the port's cookie set with the page); Host/Origin are
// checked so other sites and DNS rebinding cannot reach the viewer.
// With a target the host dials it at start, before any page is opened (a
// broker's ticket ages from the moment it was issued): the first page takes
// over that session and gets what it missed.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket } from 'ws';
import type { BridgeFrame, SessionStatus, ViewerApi, ViewerEvents } from '../preload/contract';
import { VIEWER_EVENT_NAMES } from '../preload/contract';
import { BadRequestError, dispatchRequest } from '../preload/requests';
import { decodeFrame, encodeFrame } from '../preload/codec';
import { createSessionController } from './app/session-controller';
import { defaultTransportFactory } from './transport/index';

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
  engine?: () => ViewerApi;
  /** Every status of every engine (the CLI prints them on the terminal). */
  onStatus?: (s: SessionStatus) => void;
  /** Directory with index.html, main.js, worker.js (default: the built dist/renderer). */
  rootDir?: string;
}

export interface WebHost {
  url: string;
  token: string;
  /** The token cookie's name (per port: cookies ignore ports). */
  cookieName: string;
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
/** Largest frame a page may send (input batches are small). */
const MAX_PAGE_FRAME = 1 << 20;
const MAX_PAGES = 8;
/** What the session dialled at start may send before a page takes it over; beyond it the page starts afresh. */
const MAX_EARLY_BYTES = 256 << 20;

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

function cookieToken(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === name) return v;
  }
  return undefined;
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
  let cookieName = '';

  const allowedHost = (h: string | undefined): boolean => {
    if (!h) return false;
    if (opts.allowRemote) return true;
    // Loopback names only: blocks DNS-rebinding pages from talking to us.
    const m = /^(.*):(\d+)$/.exec(h);
    return !!m && Number(m[2]) === port && isLoopbackHost(m[1]);
  };
  const hasToken = (req: IncomingMessage, url: URL): boolean => tokenOk(url.searchParams.get('token'), token) || tokenOk(cookieToken(req, cookieName), token);

  const csp = (hostHeader: string): string =>
    [
      "default-src 'self'",
      "script-src 'self'",
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
    if (!hasToken(req, url)) return reject(403, 'forbidden: missing or wrong token\n');
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
      // Subresources (main.js, worker.js, style.css), the bridge and reloads (the page drops the
      // token from its address) carry the token as a cookie named for this port.
      if (rel === 'index.html') headers['set-cookie'] = `${cookieName}=${token}; Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
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

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const origin = req.headers.origin;
    // A browser always sends Origin: it must be this server as the page reached it (no other site).
    const originOk = origin === undefined || origin === `${scheme}://${req.headers.host}`;
    if (url.pathname !== '/bridge' || !allowedHost(req.headers.host) || !originOk || !hasToken(req, url) || wss.clients.size >= MAX_PAGES) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => attachPage(ws));
  });

  /** An engine with the host's status listener. */
  function newEngine(): ViewerApi {
    const engine = makeEngine();
    if (opts.onStatus) engine.on('status', opts.onStatus);
    return engine;
  }

  // The session dialled at start: its frames wait (encoded) for the first page.
  let early: { engine: ViewerApi; frames: Uint8Array[]; bytes: number; stop: () => void } | null = null;
  if (opts.uri) {
    const engine = newEngine();
    const frames: Uint8Array[] = [];
    const unsubs = VIEWER_EVENT_NAMES.map((name) =>
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
          e.engine.disconnect();
        }
      }),
    );
    early = { engine, frames, bytes: 0, stop: () => unsubs.forEach((u) => u()) };
    engine.connect(opts.uri);
  }

  function attachPage(ws: WebSocket): void {
    const sendBytes = (bytes: Uint8Array): void => {
      if (ws.readyState === ws.OPEN) ws.send(bytes);
    };
    const sendFrame = (frame: BridgeFrame | { kind: 'hello'; uri?: string; autoConnect?: boolean }): void => sendBytes(encodeFrame(frame));
    let engine: ViewerApi;
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
    const unsubs = VIEWER_EVENT_NAMES.map((name) =>
      engine.on(name, (payload, batch) => sendFrame({ kind: 'event', name, payload, batch })),
    );
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
        if (!(e instanceof BadRequestError)) throw e;
        ws.close(1008, `bad ${String(frame.name).slice(0, 40)} request`);
      }
    });
    ws.on('close', () => {
      for (const u of unsubs) u();
      try {
        engine.disconnect();
      } catch {
        /* already down */
      }
    });
    // the page shows the target; it dials it unless it took over the session dialled at start
    sendFrame({ kind: 'hello', uri: opts.uri, autoConnect: !taken });
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
  cookieName = `spice_viewer_token_${port}`;
  const urlHost = addr.family === 'IPv6' || host.includes(':') ? `[${host.replace(/^\[|\]$/g, '')}]` : host;
  const url = `${scheme}://${urlHost}:${port}/?token=${token}`;

  return {
    url,
    token,
    cookieName,
    close: () =>
      new Promise<void>((ok) => {
        if (early) {
          early.stop();
          early.engine.disconnect();
          early = null;
        }
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
