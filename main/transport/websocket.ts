// WebSocket transport: spice-server detects a WebSocket upgrade on its normal
// port; each SPICE channel is its own WebSocket carrying the same bytes.
import WebSocket from 'ws';
import type { Endpoint, Transport } from '../spice/transport';
import { SpiceError } from '../spice/wire/errors';

export function connectWebSocket(ep: Endpoint): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const scheme = ep.scheme === 'wss' ? 'wss' : 'ws';
    const host = ep.host.includes(':') ? `[${ep.host}]` : ep.host;
    const url = `${scheme}://${host}:${ep.port}/`;
    // spice-server answers the "binary" subprotocol (the one websockify uses)
    const ws = new WebSocket(url, ['binary'], { handshakeTimeout: 10_000, perMessageDeflate: false });
    ws.binaryType = 'nodebuffer';
    let open = false;
    let lastErr: Error | undefined;
    const t: Transport = {
      description: `websocket ${url}`,
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
        reject(new SpiceError('TRANSPORT', `cannot open ${url}: ${lastErr?.message ?? 'closed'}`));
        return;
      }
      t.onClose?.(lastErr);
    });
  });
}
