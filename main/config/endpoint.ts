// EffectiveConfig → the engine's Endpoint (+ password and disabled channels):
// TLS port and options (CA text, host-subject, ciphers), secure-channels as
// channel types, and the proxy as a URL for the transport. A CA given as a
// file (--spice-ca-file or the ~/.spicec/spice_truststore.pem fallback) is
// read here; a missing fallback file means "system CAs", as in spice-gtk.
import { readFile } from 'node:fs/promises';
import type { Endpoint, TlsOptions } from '../spice/transport';
import type { EffectiveConfig } from './effective';
import { ConfigError, quote } from './errors';
import { CHANNEL_NAMES, type ProxyTarget } from './vv';

export interface EndpointConfig {
  endpoint: Endpoint;
  password?: string;
  /** Channel types not to link (SessionOptions.disabledChannels). */
  disabledChannels: number[];
}

export interface EndpointOptions {
  /** Reads a CA file (default: fs). */
  readFile?: (path: string) => Promise<string>;
}

const enc = encodeURIComponent;

/** The proxy target as the URL the transport parses (credentials %-encoded, path kept). */
export function proxyUrl(p: ProxyTarget): string {
  const host = p.host.includes(':') ? `[${p.host}]` : p.host;
  const cred = p.username !== undefined ? `${enc(p.username)}${p.password !== undefined ? `:${enc(p.password)}` : ''}@` : '';
  return `${p.scheme}://${cred}${host}:${p.port}${p.path ?? ''}`;
}

export async function endpointFromConfig(cfg: EffectiveConfig, opts: EndpointOptions = {}): Promise<EndpointConfig> {
  const t = cfg.target;
  if (!t) throw new ConfigError('no connection target (URI or .vv file)');
  if (t.unixPath !== undefined) {
    const unix: Endpoint = { host: 'localhost', port: 0, unixPath: t.unixPath };
    return { endpoint: unix, disabledChannels: [...cfg.channels.disabledTypes], ...(t.password !== undefined ? { password: t.password } : {}) };
  }
  if (t.port === undefined && t.tlsPort === undefined) throw new ConfigError(`${t.host}: no port given`);
  const scheme = t.scheme === 'ws' || t.scheme === 'wss' ? t.scheme : 'tcp';
  const endpoint: Endpoint = { host: t.host, port: t.port ?? 0, scheme };
  if (t.tlsPort !== undefined) endpoint.tlsPort = t.tlsPort;

  const tls: TlsOptions = {};
  const ca = cfg.tls.ca;
  if (ca && 'pem' in ca) tls.ca = ca.pem;
  else if (ca) {
    const read = opts.readFile ?? ((p: string) => readFile(p, 'utf8'));
    try {
      tls.ca = await read(ca.file);
    } catch (e) {
      if (!ca.fallback) throw new ConfigError(`cannot read the CA file ${quote(ca.file)}: ${(e as Error).message}`);
    }
  }
  if (cfg.tls.hostSubject !== undefined) tls.hostSubject = cfg.tls.hostSubject;
  if (cfg.tls.ciphers !== undefined) tls.ciphers = cfg.tls.ciphers;
  if (t.tlsPort !== undefined || Object.keys(tls).length) endpoint.tls = tls;

  const names = cfg.tls.secureChannels;
  if (names.includes('all')) endpoint.secureChannels = 'all';
  else {
    const types = names.map((n) => CHANNEL_NAMES[n]).filter((n): n is number => n !== undefined);
    if (types.length) endpoint.secureChannels = types;
  }
  if (cfg.proxy) endpoint.proxy = { url: proxyUrl(cfg.proxy) };

  const out: EndpointConfig = { endpoint, disabledChannels: [...cfg.channels.disabledTypes] };
  if (t.password !== undefined) out.password = t.password;
  return out;
}
