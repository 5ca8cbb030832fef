// The byte-stream seam between the protocol core and sockets. The core only
// sees this interface; TCP, WebSocket (and later TLS, proxies) live in
// main/transport and are injected, which keeps node:net out of the core.
export interface Transport {
  write(bytes: Uint8Array): void;
  close(): void;
  onData: ((chunk: Uint8Array) => void) | null;
  /** Called once, with an error when the close was not clean. */
  onClose: ((err?: Error) => void) | null;
  /** Human description ("tcp 127.0.0.1:5900") for logs and errors. */
  readonly description: string;
}

export interface Endpoint {
  host: string;
  port: number;
  /** 'tcp' (default) or 'ws' (spice-server accepts a WebSocket upgrade on its plain port). */
  scheme?: 'tcp' | 'ws' | 'wss';
  /** TLS seam: filled by the .vv/TLS work. */
  tls?: { port: number; ca?: string; hostSubject?: string };
}

export type TransportFactory = (ep: Endpoint) => Promise<Transport>;
