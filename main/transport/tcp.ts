// Plain TCP transport (node:net): the only place the engine opens sockets.
import { Socket } from 'node:net';
import type { Endpoint, Transport } from '../spice/transport';
import { SpiceError } from '../spice/wire/errors';

export const CONNECT_TIMEOUT_MS = 10_000;

export function connectTcp(ep: Endpoint): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const sock = new Socket();
    sock.setNoDelay(true);
    const description = ep.unixPath ? `unix ${ep.unixPath}` : `tcp ${ep.host}:${ep.port}`;
    let open = false;
    let closed = false;
    const t: Transport = {
      description,
      onData: null,
      onClose: null,
      write(bytes) {
        if (!closed) sock.write(bytes);
      },
      close() {
        if (!closed) sock.destroy();
      },
    };
    const timer = setTimeout(() => sock.destroy(new Error(`timed out after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    sock.on('connect', () => {
      clearTimeout(timer);
      open = true;
      resolve(t);
    });
    sock.on('data', (d: Buffer) => t.onData?.(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
    let lastErr: Error | undefined;
    sock.on('error', (e) => {
      lastErr = e;
    });
    sock.on('close', () => {
      clearTimeout(timer);
      closed = true;
      if (!open) {
        reject(new SpiceError('TRANSPORT', `cannot connect to ${ep.unixPath ?? `${ep.host}:${ep.port}`}: ${lastErr?.message ?? 'closed'}`));
        return;
      }
      t.onClose?.(lastErr);
    });
    if (ep.unixPath) sock.connect({ path: ep.unixPath });
    else sock.connect({ host: ep.host, port: ep.port });
  });
}
