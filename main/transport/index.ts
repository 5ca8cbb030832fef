// Picks the transport for an endpoint.
import type { Endpoint, Transport, TransportFactory } from '../spice/transport';
import { connectTcp } from './tcp';
import { connectWebSocket } from './websocket';

export const defaultTransportFactory: TransportFactory = (ep: Endpoint): Promise<Transport> =>
  ep.scheme === 'ws' || ep.scheme === 'wss' ? connectWebSocket(ep) : connectTcp(ep);
