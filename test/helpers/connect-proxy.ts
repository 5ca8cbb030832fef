// A small HTTP CONNECT proxy for tests, on 127.0.0.1 only: optional Basic
// auth, optional TLS to the proxy itself (https://), a log of every request,
// and targets restricted to loopback. `coalesce` holds the 200 answer until
// the target's first bytes and sends both in one write (tests that bytes after
// the answer header reach the client).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export interface ProxyLogEntry {
  method: string;
  /** request target as sent ("127.0.0.1:5930") */
  target: string;
  /** decoded Basic credentials "user:pass", if a Proxy-Authorization header came */
  credentials?: string;
  headers: http.IncomingHttpHeaders;
  status: number;
}

export interface ConnectProxyOptions {
  auth?: { user: string; pass: string };
  /** serve https:// with this certificate */
  tls?: { cert: string; key: string };
  /** answer every CONNECT with this status (e.g. 403) instead of tunnelling */
  refuse?: number;
  coalesce?: boolean;
}

export interface ConnectProxy {
  port: number;
  log: ProxyLogEntry[];
  /** proxy URL, with credentials and a path/query when given */
  url(creds?: string, suffix?: string): string;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.0\.0\.1|localhost|\[::1\]):\d+$/;

export async function startConnectProxy(opts: ConnectProxyOptions = {}): Promise<ConnectProxy> {
  const log: ProxyLogEntry[] = [];
  const sockets = new Set<net.Socket>();
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }) : http.createServer();
  server.on('request', (_req, res) => {
    res.writeHead(405, { 'Content-Type': 'text/plain' }).end('CONNECT only\n');
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    const entry: ProxyLogEntry = { method: req.method ?? '', target: req.url ?? '', headers: req.headers, status: 0 };
    log.push(entry);
    const answer = (status: number, reason: string, extra = ''): void => {
      entry.status = status;
      client.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}Content-Length: 0\r\n\r\n`);
    };
    const auth = req.headers['proxy-authorization'];
    if (auth) {
      const m = /^Basic\s+(\S+)$/i.exec(auth);
      entry.credentials = m ? Buffer.from(m[1], 'base64').toString('utf8') : `(not Basic: ${auth})`;
    }
    if (opts.auth && entry.credentials !== `${opts.auth.user}:${opts.auth.pass}`) {
      return answer(407, 'Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="spice-test"\r\n');
    }
    if (opts.refuse) return answer(opts.refuse, 'Refused by test proxy');
    if (!LOOPBACK.test(entry.target)) return answer(403, 'Forbidden');
    const colon = entry.target.lastIndexOf(':');
    const host = entry.target.slice(0, colon).replace(/^\[|\]$/g, '');
    const upstream = net.connect({ host, port: Number(entry.target.slice(colon + 1)) });
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.on('close', () => upstream.destroy());
    upstream.on('error', () => {
      if (!entry.status) answer(502, 'Bad Gateway');
    });
    upstream.once('connect', () => {
      entry.status = 200;
      const ok = 'HTTP/1.1 200 Connection established\r\n\r\n';
      if (head.length) upstream.write(head);
      if (opts.coalesce) {
        upstream.once('data', (first: Buffer) => {
          client.write(Buffer.concat([Buffer.from(ok, 'latin1'), first]));
          upstream.pipe(client);
        });
      } else {
        client.write(ok);
        upstream.pipe(client);
      }
      client.pipe(upstream);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    log,
    url(creds?: string, suffix = '') {
      return `${opts.tls ? 'https' : 'http'}://${creds ? `${creds}@` : ''}127.0.0.1:${port}${suffix}`;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
