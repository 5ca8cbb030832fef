// HTTP CONNECT proxy hop (remote-viewer's proxy= / SPICE_PROXY): opens a tunnel
// to host:port through an http:// proxy or an https:// one (TLS to the proxy
// itself), like GLib's GHttpProxy/GHttpsProxy that spice-gtk uses. The proxy
// arrives parsed (Endpoint.proxy); a path or query in the configured URL has
// nowhere to go (CONNECT's target is authority-form, RFC 9110 §9.3.6) and is
// dropped by the config layer.
//
// The target goes verbatim into the request line and Host:, brackets only
// around an IPv6 literal: Proxmox's spiceproxy reads its ticket
// (pvespiceproxy:<8 hex>:<vmid>:<node>::<40 hex>) from Host: and refuses
// anything else with "401 invalid ticket", as remote-viewer's GLib proxy does.
import net from 'node:net';
import tls from 'node:tls';
import type { Dial, ProxyOptions, Transport } from '../spice/transport';
import { SpiceError } from '../spice/wire/errors';
import { hostPort, socketTransport } from './tcp';

const PROXY_TIMEOUT_MS = 10_000;
/** Largest CONNECT answer header we read before giving up. */
const MAX_PROXY_HEADER = 16 * 1024;

export interface ProxyHopOptions {
  /** PEM CA(s) for an https:// proxy's certificate; system CAs when absent. */
  proxyCa?: string;
  timeoutMs?: number;
}

/**
 * The proxy asked for credentials (407): code PROXY_AUTH, not AUTH_FAILED (a
 * wrong SPICE password). The UI prompts for proxy credentials on this class.
 */
export class ProxyAuthRequired extends SpiceError {
  /** host:port of the proxy. */
  readonly proxy: string;
  /** true when user:pass was sent and rejected. */
  readonly credentialsSent: boolean;
  /** realm of the Proxy-Authenticate: Basic challenge, if any. */
  readonly realm?: string;
  constructor(proxy: string, credentialsSent: boolean, user: string | undefined, realm: string | undefined) {
    super('PROXY_AUTH', `proxy ${proxy}: authentication required (407)${credentialsSent ? `: the credentials for '${user ?? ''}' were rejected` : ''}`);
    this.name = 'ProxyAuthRequired';
    this.proxy = proxy;
    this.credentialsSent = credentialsSent;
    if (realm !== undefined) this.realm = realm;
  }
}

export function isProxyAuthRequired(e: unknown): e is ProxyAuthRequired {
  return e instanceof ProxyAuthRequired;
}

/** The CONNECT request sent to the proxy (exported for tests). */
export function connectRequest(p: ProxyOptions, host: string, port: number): string {
  // the host is written verbatim (Proxmox tickets): never a byte that could end the line
  if (/[^\x21-\x7e]/.test(host)) throw new SpiceError('CONFIG', `proxy CONNECT: host ${JSON.stringify(host.slice(0, 80))} has a space or control character`);
  const target = hostPort(host, port);
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`, 'User-Agent: spice-viewer'];
  if (p.username !== undefined) {
    lines.push(`Proxy-Authorization: Basic ${Buffer.from(`${p.username}:${p.password ?? ''}`, 'utf8').toString('base64')}`);
  }
  return lines.join('\r\n') + '\r\n\r\n';
}

/** The error for a CONNECT answered with a non-2xx status other than 407. */
function refusal(proxy: string, target: string, status: number, statusLine: string): SpiceError {
  if (status === 401) {
    // Proxmox's spiceproxy: the host is a ticket it checks (format, signature, age)
    return new SpiceError(
      'TRANSPORT',
      `proxy ${proxy}: the ticket in the connection's host was refused (${statusLine}): ${JSON.stringify(target.slice(0, 120))} has expired ` +
        '(Proxmox tickets live about 40 s: download a fresh .vv file and open it at once) or was changed on the way',
    );
  }
  return new SpiceError('TRANSPORT', `proxy ${proxy}: CONNECT ${target} refused: ${statusLine}`);
}

/** Opens a socket to the proxy (TLS for https://) and tunnels to host:port; resolves with the paused socket. */
export function openProxyTunnel(p: ProxyOptions, host: string, port: number, opts: ProxyHopOptions = {}): Promise<net.Socket> {
  const proxy = hostPort(p.host, p.port);
  const target = hostPort(host, port);
  const timeoutMs = opts.timeoutMs ?? PROXY_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    // built before any socket opens: a bad host rejects here, not inside a socket callback
    const request = connectRequest(p, host, port);
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
      if (status < 200 || status > 299) return fail(refusal(proxy, target, status, lines[0]));
      // whatever followed the header is the tunnelled server's
      if (rest.length) sock.unshift(rest);
      settled = true;
      clearTimeout(timer);
      // the error listener stays until socketTransport adds its own
      sock.off('close', onClose);
      resolve(sock);
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
      sock.write(request);
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

/** Plain TCP to dial.host:dial.port through dial.proxy. */
export async function connectTcpViaProxy(dial: Dial & { proxy: ProxyOptions }, opts: ProxyHopOptions = {}): Promise<Transport> {
  const sock = await openProxyTunnel(dial.proxy, dial.host, dial.port, opts); // NODELAY set by the tunnel
  return socketTransport(sock, `tcp ${hostPort(dial.host, dial.port)} via proxy ${hostPort(dial.proxy.host, dial.proxy.port)}`);
}
