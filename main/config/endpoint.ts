// EffectiveConfig → the engine's Endpoint (+ password and disabled channels):
// TLS port and options (CA text, host-subject, ciphers), secure-channels as
// channel types, and the proxy parsed once for the transport. A CA given as a
// file (--spice-ca-file or the ~/.spicec/spice_truststore.pem fallback) is
// read here; a missing fallback file means "system CAs", as in spice-gtk.
import { readFile } from 'node:fs/promises';
import type { Endpoint, TlsOptions } from '../spice/transport';
import type { EffectiveConfig } from './effective';
import { ConfigError, quote } from './errors';
import { CHANNEL_NAMES } from './vv';
import { connectTargetToEndpoint } from './uri';

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

export async function endpointFromConfig(cfg: EffectiveConfig, opts: EndpointOptions = {}): Promise<EndpointConfig> {
  const t = cfg.target;
  if (!t) throw new ConfigError('no connection target (URI or .vv file)');
  const { endpoint, password } = connectTargetToEndpoint(t);
  const out: EndpointConfig = { endpoint, disabledChannels: [...cfg.channels.disabledTypes], ...(password !== undefined ? { password } : {}) };
  if (t.unixPath !== undefined) return out; // a local socket: no TLS, no proxy

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
  if (cfg.proxy) {
    // parsed once here; the path/query of the URL has no place in CONNECT and is dropped
    const { scheme, host, port, username, password: proxyPassword } = cfg.proxy;
    endpoint.proxy = { scheme, host, port, ...(username !== undefined ? { username } : {}), ...(proxyPassword !== undefined ? { password: proxyPassword } : {}) };
  }
  return out;
}
