// HTTP CONNECT proxy hop (remote-viewer's proxy= / SPICE_PROXY): opens a tunnel
// to host:port through http://[user:pass@]proxy[:port] or https:// (TLS to the
// proxy itself), like GLib's GHttpProxy/GHttpsProxy that spice-gtk uses. Also
// the socket → Transport wrapper shared with tls.ts.
//
// Path and query of the proxy URL: spice-gtk's URI parser refuses them (the
// proxy is then not used); CONNECT's request target is authority-form
// (RFC 9110 §9.3.6), so there is nowhere to send them. We accept such URLs
// (OpenNebula writes `?token=…`) and send only host:port; the path is dropped.
import net from 'node:net';
import tls from 'node:tls';
import type { Dial, Transport } from '../spice/transport';
import { SpiceError } from '../spice/wire/errors';
import { parseProxyUri } from '../config/vv';
import type { ProxyTarget } from '../config/vv';

export const PROXY_TIMEOUT_MS = 10_000;
/** Largest CONNECT answer header we read before giving up. */
export const MAX_PROXY_HEADER = 16 * 1024;

export interface ProxyHopOptions {
  /** PEM CA(s) for an https:// proxy's certificate; system CAs when absent. */
  proxyCa?: string;
  timeoutMs?: number;
}

/**
 * The proxy asked for credentials (407). code is AUTH_FAILED (linkError
 * undefined) so the Session fails as for a wrong password; the UI tells the
 * two apart with isProxyAuthRequired() and prompts for proxy credentials.
 */
export class ProxyAuthRequired extends SpiceError {
  /** host:port of the proxy. */
  readonly proxy: string;
  /** true when user:pass was sent and rejected. */
  readonly credentialsSent: boolean;
  /** realm of the Proxy-Authenticate: Basic challenge, if any. */
  readonly realm?: string;
  constructor(proxy: string, credentialsSent: boolean, user: string | undefined, realm: string | undefined) {
    super('AUTH_FAILED', `proxy ${proxy}: authentication required (407)${credentialsSent ? `: the credentials for '${user ?? ''}' were rejected` : ''}`);
    this.name = 'ProxyAuthRequired';
    this.proxy = proxy;
    this.credentialsSent = credentialsSent;
    if (realm !== undefined) this.realm = realm;
  }
}

export function isProxyAuthRequired(e: unknown): e is ProxyAuthRequired {
  return e instanceof ProxyAuthRequired;
}

export interface ProxyTunnel {
  /** Connected to the target through the proxy; paused, bytes after the answer header unshifted into it. */
  socket: net.Socket;
  /** host:port of the proxy, for descriptions. */
  proxy: string;
}

const bracket = (h: string): string => (h.includes(':') ? `[${h}]` : h);

/** Parses the proxy URL (same grammar as .vv proxy= / SPICE_PROXY). */
export function parseProxyUrl(url: string): ProxyTarget {
  return parseProxyUri(url);
}

/** The CONNECT request sent to the proxy (exported for tests). */
export function connectRequest(p: ProxyTarget, host: string, port: number): string {
  const target = `${bracket(host)}:${port}`;
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`, 'User-Agent: spice-viewer'];
  if (p.username !== undefined) {
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(`${p.username}:${p.password ?? ''}`, 'utf8').toString('base64')}`);
  }
  return lines.join('\r\n') + '\r\n\r\n';
}

/** Opens a socket to the proxy (TLS for https://) and tunnels to host:port. */
export function openProxyTunnel(proxyUrl: string, host: string, port: number, opts: ProxyHopOptions = {}): Promise<ProxyTunnel> {
  let p: ProxyTarget;
  try {
    p = parseProxyUrl(proxyUrl);
  } catch (e) {
    return Promise.reject(e);
  }
  const proxy = `${bracket(p.host)}:${p.port}`;
  const timeoutMs = opts.timeoutMs ?? PROXY_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    let settled = false;
    let sock: net.Socket;
    const fail = (err: SpiceError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock?.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new SpiceError('TIMEOUT', `proxy ${proxy}: no CONNECT answer within ${timeoutMs} ms`)), timeoutMs);
    let header: Buffer = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      header = header.length ? Buffer.concat([header, d]) : d;
      const end = header.indexOf('\r\n\r\n');
      if (end < 0) {
        if (header.length > MAX_PROXY_HEADER) fail(new SpiceError('LIMIT', `proxy ${proxy}: CONNECT answer header longer than ${MAX_PROXY_HEADER} bytes`));
        return;
      }
      sock.off('data', onData);
      sock.pause();
      const lines = header.subarray(0, end).toString('latin1').split('\r\n');
      const rest = header.subarray(end + 4);
      const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
      if (!m) return fail(new SpiceError('TRANSPORT', `proxy ${proxy}: not an HTTP answer to CONNECT: ${JSON.stringify(lines[0].slice(0, 80))}`));
      const status = Number(m[1]);
      if (status === 407) {
        const challenge = lines.find((l) => /^proxy-authenticate:/i.test(l));
        const realm = challenge ? /realm="([^"]*)"/i.exec(challenge)?.[1] : undefined;
        return fail(new ProxyAuthRequired(proxy, p.username !== undefined, p.username, realm));
      }
      if (status < 200 || status > 299) {
        return fail(new SpiceError('TRANSPORT', `proxy ${proxy}: CONNECT ${bracket(host)}:${port} refused: ${lines[0]}`));
      }
      // whatever followed the header is the tunnelled server's
      if (rest.length) sock.unshift(rest);
      settled = true;
      clearTimeout(timer);
      // the error listener stays until socketTransport adds its own
      sock.off('close', onClose);
      resolve({ socket: sock, proxy });
    };
    let lastErr: Error | undefined;
    const onError = (e: Error): void => {
      lastErr = e;
    };
    const onClose = (): void => {
      const why = lastErr ? tlsReason(lastErr) : 'connection closed before the CONNECT answer';
      fail(new SpiceError('TRANSPORT', `proxy ${proxy}: ${why}`));
    };
    const start = (): void => {
      sock.setNoDelay(true);
      sock.write(connectRequest(p, host, port));
    };
    if (p.scheme === 'https') {
      const servername = net.isIP(p.host) ? undefined : p.host;
      sock = tls.connect({ host: p.host, port: p.port, ...(servername ? { servername } : {}), ...(opts.proxyCa ? { ca: opts.proxyCa } : {}) }, start);
    } else {
      sock = net.connect({ host: p.host, port: p.port }, start);
    }
    sock.on('data', onData);
    sock.on('error', onError);
    sock.on('close', onClose);
  });
}

function tlsReason(e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code && code !== 'ECONNREFUSED' && code !== 'ECONNRESET' && /CERT|SIGNATURE|ISSUER|TLS|SSL/.test(code)
    ? `TLS to the proxy failed: ${e.message}`
    : `cannot connect: ${e.message}`;
}

/**
 * A Transport over a connected socket. Data stays queued in the (paused)
 * socket until onData is set, so bytes that arrive before the caller attaches
 * (e.g. right after a proxy's CONNECT answer) are not lost.
 */
export function socketTransport(sock: net.Socket, description: string): Transport {
  let closed = false;
  let handler: ((chunk: Uint8Array) => void) | null = null;
  const t: Transport = {
    description,
    get onData() {
      return handler;
    },
    set onData(fn) {
      handler = fn;
      if (fn && !closed) sock.resume();
    },
    onClose: null,
    write(bytes) {
      if (!closed) sock.write(bytes);
    },
    close() {
      if (!closed) sock.destroy();
    },
  };
  sock.pause();
  sock.on('data', (d: Buffer) => {
    if (handler) handler(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    else {
      sock.pause();
      sock.unshift(d);
    }
  });
  let lastErr: Error | undefined;
  sock.on('error', (e) => {
    lastErr = e;
  });
  sock.on('close', () => {
    closed = true;
    t.onClose?.(lastErr);
  });
  return t;
}

/** Plain TCP to dial.host:dial.port through dial.proxy. */
export async function connectTcpViaProxy(dial: Dial, opts: ProxyHopOptions = {}): Promise<Transport> {
  if (!dial.proxy) throw new SpiceError('CONFIG', 'connectTcpViaProxy: no proxy');
  const tunnel = await openProxyTunnel(dial.proxy.url, dial.host, dial.port, opts); // NODELAY set by the tunnel
  return socketTransport(tunnel.socket, `tcp ${bracket(dial.host)}:${dial.port} via proxy ${tunnel.proxy}`);
}
