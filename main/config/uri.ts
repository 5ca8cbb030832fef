// Connection URIs, with spice-gtk's grammar (spice-session.c spice_parse_uri):
// spice://[user@]host[:port][/][?port=N&tls-port=M&password=P] (`&` or `;`),
// spice+tls://host:port (the port is the TLS port), spice+unix:///path, IPv6 in
// brackets; plus ours: ws:// and wss:// (SPICE over WebSocket). Where spice-gtk
// only logs and fails later (bad port), this fails now with the reason.
import type { Endpoint } from '../spice/transport';
import { ConfigError, quote } from './errors';

export type ConnectScheme = 'spice' | 'spice+tls' | 'spice+unix' | 'ws' | 'wss';

export interface ConnectTarget {
  scheme: ConnectScheme;
  /** Host name or address; IPv6 without brackets. Empty for spice+unix. */
  host: string;
  port?: number;
  tlsPort?: number;
  unixPath?: string;
  username?: string;
  password?: string;
  /** ws/wss: request path and query (default '/'). */
  path?: string;
  /** Things spice-gtk only warns about (ignored path, password in the URI...). */
  warnings: string[];
}

export const MAX_URI_LENGTH = 8192;

function decode(text: string, what: string, uri: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ConfigError(`bad %-escape in ${what} of ${quote(uri)}`);
  }
}

/** A port number 1..65535, written in decimal. */
export function parsePort(text: string, what: string, uri: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new ConfigError(`invalid ${what} ${quote(text)} in ${quote(uri)} (expected 1-65535)`);
  }
  return Number(text);
}

/** Splits `host[:port]` / `[v6][:port]`; the port text is returned unparsed. */
function splitHostPort(authority: string, uri: string): { host: string; port?: string } {
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) throw new ConfigError(`missing closing ']' in ${quote(uri)}`);
    const host = authority.slice(1, close);
    const rest = authority.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw new ConfigError(`unexpected ${quote(rest)} after ']' in ${quote(uri)}`);
    return rest === '' ? { host } : { host, port: rest.slice(1) };
  }
  const colon = authority.indexOf(':');
  if (colon < 0) return { host: decode(authority, 'host', uri) };
  return { host: decode(authority.slice(0, colon), 'host', uri), port: authority.slice(colon + 1) };
}

/** The URI as an error may show it: every password= value (and a user:password@) replaced by ***. */
export function redactUri(uri: string): string {
  return uri.replace(/([?&;]password=)[^&;#]*/gi, '$1***').replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#@]*@/, '$1:***@');
}

/** Parses a connection URI. Throws ConfigError with the reason (the URI in it with its password redacted). */
export function parseConnectUri(input: string): ConnectTarget {
  if (input.length > MAX_URI_LENGTH) throw new ConfigError(`URI is too long (${input.length} characters; the limit is ${MAX_URI_LENGTH})`);
  const uri = redactUri(input); // for messages only
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(input);
  if (!m) throw new ConfigError(`not a URI: ${quote(uri)} (expected spice://host:port)`);
  const scheme = m[1].toLowerCase();
  const rest = m[2];
  const warnings: string[] = [];

  if (scheme === 'spice+unix') {
    if (rest === '') throw new ConfigError(`no socket path in ${quote(uri)}`);
    return { scheme, host: '', unixPath: decode(rest, 'path', uri), warnings };
  }
  if (scheme === 'ws' || scheme === 'wss') return parseWebSocketUri(scheme, rest, uri, warnings);
  if (scheme === 'vnc') throw new ConfigError(`unsupported: vnc:// (this viewer speaks SPICE only)`);
  if (scheme === 'ovirt') throw new ConfigError(`unsupported: ovirt:// (oVirt REST sessions are not supported; open the console .vv file instead)`);
  if (scheme !== 'spice' && scheme !== 'spice+tls') {
    throw new ConfigError(`unsupported scheme "${scheme}" in ${quote(uri)} (use spice://, spice+tls://, spice+unix://, ws:// or wss://)`);
  }
  const tls = scheme === 'spice+tls';

  let authority = rest;
  let username: string | undefined;
  const at = authority.indexOf('@');
  if (at >= 0) {
    username = decode(authority.slice(0, at), 'user name', uri);
    authority = authority.slice(at + 1);
  }
  let path: string | null = null;
  const slash = authority.indexOf('/');
  if (slash >= 0) {
    path = authority.slice(slash + 1);
    authority = authority.slice(0, slash);
  }
  let query = '';
  const target = path ?? authority;
  const q = target.indexOf('?');
  if (q >= 0) {
    query = target.slice(q + 1);
    if (path !== null) path = path.slice(0, q);
    else authority = authority.slice(0, q);
  }
  if (path !== null && path !== '' && path !== '/') warnings.push(`unexpected path ${quote(path)} ignored`);

  const hp = splitHostPort(authority, uri);
  if (hp.host === '') throw new ConfigError(`no host in ${quote(uri)}`);
  let portText = hp.port;
  let tlsPortText: string | undefined;
  let password: string | undefined;

  if (query !== '') {
    for (const item of query.split(/[&;]/)) {
      if (item === '') continue;
      const eq = item.indexOf('=');
      const key = eq < 0 ? item : item.slice(0, eq);
      if (!/^[-a-zA-Z0-9]{1,31}$/.test(key)) throw new ConfigError(`cannot parse query key ${quote(key)} in ${quote(uri)}`);
      if (eq < 0) throw new ConfigError(`query key ${quote(key)} has no value in ${quote(uri)}`);
      const raw = item.slice(eq + 1);
      if (raw === '') continue; // spice-gtk skips `key=` with no value
      if (tls && (key === 'port' || key === 'tls-port')) {
        warnings.push(`spice+tls:// ignores '${key}' in the query`);
        continue;
      }
      const value = decode(raw, key, uri);
      if (key === 'port') {
        if (portText !== undefined) throw new ConfigError(`port given twice in ${quote(uri)}`);
        portText = value;
      } else if (key === 'tls-port') {
        if (tlsPortText !== undefined) throw new ConfigError(`tls-port given twice in ${quote(uri)}`);
        tlsPortText = value;
      } else if (key === 'password') {
        if (password !== undefined) throw new ConfigError(`password given twice in ${quote(uri)}`);
        password = value;
        warnings.push('password may be visible in process listings');
      } else throw new ConfigError(`unknown key ${quote(key)} in ${quote(uri)} (known: port, tls-port, password)`);
    }
  }

  const out: ConnectTarget = { scheme, host: hp.host, warnings };
  if (tls) {
    if (portText === undefined) throw new ConfigError(`missing port in ${quote(uri)} (spice+tls://host:port)`);
    out.tlsPort = parsePort(portText, 'port', uri);
  } else {
    if (portText === undefined && tlsPortText === undefined) throw new ConfigError(`missing port or tls-port in ${quote(uri)}`);
    if (portText !== undefined) out.port = parsePort(portText, 'port', uri);
    if (tlsPortText !== undefined) out.tlsPort = parsePort(tlsPortText, 'tls-port', uri);
  }
  if (username !== undefined) out.username = username;
  if (password !== undefined) out.password = password;
  return out;
}

function parseWebSocketUri(scheme: 'ws' | 'wss', rest: string, uri: string, warnings: string[]): ConnectTarget {
  const cut = rest.search(/[/?#]/);
  const authority = cut < 0 ? rest : rest.slice(0, cut);
  let path = cut < 0 ? '/' : rest.slice(cut).replace(/#.*$/s, '');
  if (path.startsWith('?')) path = '/' + path;
  if (authority.includes('@')) throw new ConfigError(`user info is not supported in ${quote(uri)}`);
  const hp = splitHostPort(authority, uri);
  if (hp.host === '') throw new ConfigError(`no host in ${quote(uri)}`);
  // the old parser took password and port from the query too; keep that working,
  // and keep them out of the request (the rest of the query, e.g. a proxy's token, is sent)
  const q = path.indexOf('?');
  const kept: string[] = [];
  let password: string | undefined;
  let queryPort: string | undefined;
  for (const item of q < 0 ? [] : path.slice(q + 1).split('&')) {
    const eq = item.indexOf('=');
    const key = eq < 0 ? item : item.slice(0, eq);
    if (key === 'password') password = decode(item.slice(eq + 1), 'password', uri);
    else if (key === 'port') queryPort = decode(item.slice(eq + 1), 'port', uri);
    else if (item !== '') kept.push(item);
  }
  if (q >= 0) path = path.slice(0, q) + (kept.length ? `?${kept.join('&')}` : '');
  const portText = hp.port !== undefined && hp.port !== '' ? hp.port : queryPort;
  const port = portText === undefined ? (scheme === 'ws' ? 80 : 443) : parsePort(portText, 'port', uri);
  const out: ConnectTarget = { scheme, host: hp.host, port, path, warnings };
  if (password !== undefined) {
    out.password = password;
    warnings.push('password may be visible in process listings');
  }
  return out;
}

/**
 * The engine's Endpoint for a target (a parsed URI or a configuration's
 * target). TLS-only targets get port 0 and the TLS port (the session links
 * every channel over TLS then); ws/wss keep their path and query; a UNIX
 * socket gets its path.
 */
export function connectTargetToEndpoint(t: Omit<ConnectTarget, 'warnings'>): { endpoint: Endpoint; password?: string } {
  const out: { endpoint: Endpoint; password?: string } = { endpoint: { host: 'localhost', port: 0 } };
  if (t.password !== undefined) out.password = t.password;
  if (t.unixPath !== undefined) {
    out.endpoint.unixPath = t.unixPath;
    return out;
  }
  if (t.port === undefined && t.tlsPort === undefined) throw new ConfigError(`${t.host}: no port given`);
  const ws = t.scheme === 'ws' || t.scheme === 'wss' ? t.scheme : undefined;
  const endpoint: Endpoint = { host: t.host, port: t.port ?? 0, scheme: ws ?? 'tcp' };
  if (ws && t.path !== undefined && t.path !== '/') endpoint.path = t.path;
  if (t.tlsPort !== undefined) {
    endpoint.tlsPort = t.tlsPort;
    endpoint.tls = {};
  }
  out.endpoint = endpoint;
  return out;
}

/** How to show a target in titles and errors (never includes the password). */
export function describeTarget(t: ConnectTarget): string {
  if (t.unixPath !== undefined) return `spice+unix://${t.unixPath}`;
  // brackets for an IPv6 literal only (a Proxmox ticket host has colons too)
  const host = /^[0-9a-f.]*:[0-9a-f:.]*(%\S+)?$/i.test(t.host) ? `[${t.host}]` : t.host;
  if (t.scheme === 'ws' || t.scheme === 'wss') return `${t.scheme}://${host}:${t.port}${t.path && t.path !== '/' ? t.path.replace(/\?.*$/s, '') : ''}`;
  if (t.port !== undefined && t.tlsPort !== undefined) return `spice://${host}?port=${t.port}&tls-port=${t.tlsPort}`;
  if (t.port !== undefined) return `spice://${host}:${t.port}`;
  return `spice+tls://${host}:${t.tlsPort}`;
}
