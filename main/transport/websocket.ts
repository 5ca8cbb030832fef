// WebSocket transport: spice-server detects a WebSocket upgrade on its normal
// port, and WebSocket proxies (websockify, oVirt's) sit in front of SPICE with
// a path and a token in the query; each SPICE channel is its own WebSocket
// carrying the same bytes. wss checks the peer as TLS does (CA, host-subject
// or hostname).
import WebSocket from 'ws';
import type { Endpoint, Transport } from '../spice/transport';
import { SpiceError } from '../spice/wire/errors';
import { hostPort } from './tcp';
import { peerCheckOptions, tlsError } from './tls';

const HANDSHAKE_TIMEOUT_MS = 10_000;
const TLS_CODE = /CERT|SSL|TLS|ISSUER|SIGNATURE/;

export function connectWebSocket(ep: Endpoint): Promise<Transport> {
  const scheme = ep.scheme === 'wss' ? 'wss' : 'ws';
  const where = hostPort(ep.host, ep.port);
  const path = ep.path && ep.path.startsWith('/') ? ep.path : `/${ep.path ?? ''}`;
  const url = `${scheme}://${where}${path}`;
  // the query may carry a token: keep it out of descriptions and errors
  const shown = `${scheme}://${where}${path.replace(/\?.*$/s, '')}`;
  const failure = (e: Error | undefined): SpiceError => {
    const code = (e as NodeJS.ErrnoException | undefined)?.code ?? '';
    if (scheme === 'wss' && e && (e instanceof SpiceError || TLS_CODE.test(code))) return tlsError(e, shown, true);
    return new SpiceError('TRANSPORT', `cannot open ${shown}: ${e?.message ?? 'closed'}`);
  };
  return new Promise((resolve, reject) => {
    let ws: WebSocket;
    try {
      // spice-server answers the "binary" subprotocol (the one websockify uses)
      ws = new WebSocket(url, ['binary'], {
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        perMessageDeflate: false,
        ...(scheme === 'wss' ? peerCheckOptions(ep.host, ep.tls) : {}),
      });
    } catch (e) {
      reject(e instanceof SpiceError ? e : new SpiceError('CONFIG', `cannot open ${shown}: ${(e as Error).message}`));
      return;
    }
    ws.binaryType = 'nodebuffer';
    let open = false;
    let lastErr: Error | undefined;
    const t: Transport = {
      description: `websocket ${shown}`,
      onData: null,
      onClose: null,
      write(bytes) {
        if (ws.readyState === WebSocket.OPEN) ws.send(bytes);
      },
      close() {
        ws.terminate();
      },
    };
    ws.on('open', () => {
      open = true;
      resolve(t);
    });
    ws.on('message', (d: Buffer) => t.onData?.(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
    ws.on('error', (e) => {
      lastErr = e;
    });
    ws.on('close', () => {
      if (!open) {
        reject(failure(lastErr));
        return;
      }
      t.onClose?.(lastErr);
    });
  });
}
