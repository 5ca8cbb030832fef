// Picks and composes the transport for one dial: an HTTP CONNECT proxy hop
// (when the endpoint has one) under plain TCP or TLS; WebSocket endpoints go
// straight to ws/wss (their own TLS; a configured proxy is not used for them).
import type { Dial, Transport, TransportFactory } from '../spice/transport';
import { connectTcp } from './tcp';
import { connectWebSocket } from './websocket';
import { connectTls } from './tls';
import { connectTcpViaProxy, type ProxyHopOptions } from './proxy';

export { ProxyAuthRequired, isProxyAuthRequired } from './proxy';

/** opts: the https:// proxy's CA and the proxy/TLS timeouts. */
export function createTransportFactory(opts: ProxyHopOptions = {}): TransportFactory {
  return (dial: Dial): Promise<Transport> => {
    if (dial.unixPath) return connectTcp(dial); // local socket: no TLS, no proxy
    if (dial.scheme === 'ws' || dial.scheme === 'wss') return connectWebSocket(dial);
    if (dial.secure) return connectTls(dial, opts);
    if (dial.proxy) return connectTcpViaProxy({ ...dial, proxy: dial.proxy }, opts);
    return connectTcp(dial);
  };
}

export const defaultTransportFactory: TransportFactory = createTransportFactory();
