// Plain TCP / UNIX socket transport (node:net), and the socket → Transport
// wrapper every socket-based transport (TCP, proxy tunnel, TLS) shares.
import net from 'node:net';
import type { Endpoint, Transport } from '../spice/transport';
import { SpiceError } from '../spice/wire/errors';

const CONNECT_TIMEOUT_MS = 10_000;

/** "host:port", brackets only around a real IPv6 literal (a Proxmox ticket host has colons and stays verbatim). */
export function hostPort(host: string, port: number): string {
  return `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/**
 * A Transport over a connected socket. Data stays queued in the (paused)
 * socket until onData is set, so bytes that arrive before the caller attaches
 * (e.g. right after a proxy's CONNECT answer) are not lost.
 */
export function socketTransport(sock: net.Socket, description: string): Transport {
  let closed = false;
  let handler: ((chunk: Uint8Array) => void) | null = null;
  const t: Transport = {
    description,
    get onData() {
      return handler;
    },
    set onData(fn) {
      handler = fn;
      if (fn && !closed) sock.resume();
    },
    onClose: null,
    onDrain: null,
    write(bytes) {
      if (!closed) sock.write(bytes);
    },
    unsentBytes: () => sock.writableLength,
    close() {
      if (!closed) sock.destroy();
    },
  };
  sock.pause();
  sock.on('drain', () => t.onDrain?.());
  sock.on('data', (d: Buffer) => {
    if (handler) handler(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    else {
      sock.pause();
      sock.unshift(d);
    }
  });
  let lastErr: Error | undefined;
  sock.on('error', (e) => {
    lastErr = e;
  });
  sock.on('close', () => {
    closed = true;
    t.onClose?.(lastErr);
  });
  return t;
}

/** TCP to ep.host:ep.port, or the UNIX socket ep.unixPath. */
export function connectTcp(ep: Endpoint): Promise<Transport> {
  const where = ep.unixPath ?? hostPort(ep.host, ep.port);
  return new Promise((resolve, reject) => {
    const sock = ep.unixPath ? net.connect({ path: ep.unixPath }) : net.connect({ host: ep.host, port: ep.port });
    sock.setNoDelay(true);
    const timer = setTimeout(() => sock.destroy(new Error(`timed out after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    let lastErr: Error | undefined;
    const onError = (e: Error): void => {
      lastErr = e;
    };
    const onClose = (): void => {
      clearTimeout(timer);
      reject(new SpiceError('TRANSPORT', `cannot connect to ${where}: ${lastErr?.message ?? 'closed'}`));
    };
    sock.on('error', onError);
    sock.once('close', onClose);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.off('close', onClose);
      const t = socketTransport(sock, ep.unixPath ? `unix ${ep.unixPath}` : `tcp ${where}`);
      sock.off('error', onError);
      resolve(t);
    });
  });
}
