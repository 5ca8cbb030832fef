// The byte-stream seam between the protocol core and sockets. The core only
// sees this interface; TCP, TLS, WebSocket and proxies live in main/transport
// and are injected, which keeps node:net out of the core.
export interface Transport {
  write(bytes: Uint8Array): void;
  close(): void;
  onData: ((chunk: Uint8Array) => void) | null;
  /** Called once, with an error when the close was not clean. */
  onClose: ((err?: Error) => void) | null;
  /** Human description ("tcp 127.0.0.1:5900") for logs and errors. */
  readonly description: string;
  /** Bytes written that the OS has not taken yet (a peer that stops reading makes them grow); absent: unknown. */
  unsentBytes?(): number;
  /** Called when those bytes are all taken (net's 'drain'). */
  onDrain?: (() => void) | null;
}

export interface TlsOptions {
  /** PEM CA bundle (inline, or read from --spice-ca-file by the caller); system CAs when absent. */
  ca?: string;
  /** Expected certificate subject, "C=XX,L=city,O=org,CN=name" (remote-viewer host-subject); else the hostname is checked. */
  hostSubject?: string;
  /** OpenSSL cipher list. */
  ciphers?: string;
}

/** An HTTP CONNECT proxy, parsed once by the caller (config) and used as is on every dial. */
export interface ProxyOptions {
  /** https: TLS to the proxy itself. */
  scheme: 'http' | 'https';
  /** Name or address; IPv6 without brackets. */
  host: string;
  port: number;
  /** Basic credentials, sent when username is set. */
  username?: string;
  password?: string;
}

export interface Endpoint {
  host: string;
  /** Plain port; 0 when the server offers only TLS. */
  port: number;
  /** 'tcp' (default) or 'ws'/'wss' (spice-server accepts a WebSocket upgrade on its plain port). */
  scheme?: 'tcp' | 'ws' | 'wss';
  /** ws/wss: request path and query ('/' when absent), e.g. a proxy's '/websockify?token=…'. */
  path?: string;
  /** TLS port and options (spice tls-port). */
  tlsPort?: number;
  tls?: TlsOptions;
  /** Channel types that must use TLS ('all' = every channel), remote-viewer secure-channels. */
  secureChannels?: number[] | 'all';
  proxy?: ProxyOptions;
  /** spice+unix: a local UNIX socket path instead of host/port (QEMU -spice unix=on,addr=PATH). */
  unixPath?: string;
}

/**
 * The address a user would type to reach this endpoint (the viewer's address field after a
 * migration): spice:// with tls-port, spice+tls:// when only TLS is offered, ws(s):// with its
 * path but never its query (a proxy's token is a secret), spice+unix:// for a socket.
 */
export function endpointUri(ep: Endpoint): string {
  if (ep.unixPath) return `spice+unix://${ep.unixPath}`;
  const host = ep.host.includes(':') && !ep.host.startsWith('[') ? `[${ep.host}]` : ep.host;
  if (ep.scheme === 'ws' || ep.scheme === 'wss') return `${ep.scheme}://${host}:${ep.port}${(ep.path ?? '/').split('?')[0]}`;
  if (!ep.port && ep.tlsPort) return `spice+tls://${host}:${ep.tlsPort}`;
  return `spice://${host}:${ep.port}${ep.tlsPort ? `?tls-port=${ep.tlsPort}` : ''}`;
}

/** One socket to open: the endpoint plus which port/security this channel uses. */
export interface Dial extends Endpoint {
  /** True: connect to tlsPort with TLS (port then equals tlsPort). */
  secure?: boolean;
}

export type TransportFactory = (dial: Dial) => Promise<Transport>;

/** Whether a channel of this type must be linked over TLS on this endpoint. */
export function mustBeSecure(ep: Endpoint, channelType: number): boolean {
  if (ep.unixPath) return false; // a local socket has no TLS port
  if (!ep.port) return true;
  const s = ep.secureChannels;
  return s === 'all' || (Array.isArray(s) && s.includes(channelType));
}

/** The dial for a channel: plain port unless TLS is required (or asked for by NEED_SECURED). */
export function dialFor(ep: Endpoint, channelType: number, forceSecure = false): Dial {
  const secure = forceSecure || mustBeSecure(ep, channelType);
  if (!secure) return { ...ep, secure: false };
  if (!ep.tlsPort) return { ...ep, secure: true, port: 0 };
  return { ...ep, secure: true, port: ep.tlsPort };
}
