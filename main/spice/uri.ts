// spice:// URI parsing (the minimal form; .vv files and the full URI grammar
// come with the connection-file work).
import { SpiceError } from './wire/errors';
import type { Endpoint } from './transport';

export interface ConnectTarget {
  endpoint: Endpoint;
  password?: string;
}

/** spice://host:port, spice://host?port=N&password=P, ws://host:port (WebSocket to spice-server). */
export function parseSpiceUri(uri: string): ConnectTarget {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw new SpiceError('CONFIG', `not a URI: ${uri}`);
  }
  const scheme = u.protocol.replace(/:$/, '');
  if (!['spice', 'ws', 'wss'].includes(scheme)) throw new SpiceError('CONFIG', `unsupported scheme "${scheme}" (use spice://, ws:// or wss://)`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (!host) throw new SpiceError('CONFIG', `no host in ${uri}`);
  const portText = u.port || u.searchParams.get('port') || '';
  const port = Number(portText);
  if (!portText || !Number.isInteger(port) || port < 1 || port > 65535) throw new SpiceError('CONFIG', `no valid port in ${uri}`);
  const password = u.searchParams.get('password') ?? undefined;
  return { endpoint: { host, port, scheme: scheme === 'spice' ? 'tcp' : (scheme as 'ws' | 'wss') }, password };
}
