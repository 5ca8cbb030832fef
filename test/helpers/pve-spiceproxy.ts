// A stand-in for Proxmox VE's spiceproxy, on 127.0.0.1 only: it reads the
// connect string from the Host: header (not the request line) and accepts only
// what PVE's verify_spice_connect_url accepts,
//   ^pvespiceproxy:([a-z0-9]{8}):(\d+):(\S+)::([a-z0-9]{40}):(\d+)$
// answering "401 invalid ticket" otherwise. Where PVE checks the ticket's
// signature and age, this one accepts only tickets it issued and has not
// expired. An accepted CONNECT is tunnelled to 127.0.0.1:<port from the ticket>
// (PVE connects to that port on the node named in the ticket). Raw node:net,
// so the request reaches the check exactly as the client wrote it.
import crypto from 'node:crypto';
import net from 'node:net';

export const PVE_CONNECT_RE = /^pvespiceproxy:([a-z0-9]{8}):(\d+):(\S+)::([a-z0-9]{40}):(\d+)$/;

export interface PveLogEntry {
  requestLine: string;
  host: string | undefined;
  status: number;
}

export interface PveSpiceProxy {
  port: number;
  log: PveLogEntry[];
  /** A fresh ticket host for vmid on node, valid until expire() (PVE: about 40 s). */
  issue(vmid: number, node: string): string;
  /** The ticket stops being accepted (as PVE's do once they are too old). */
  expire(ticket: string): void;
  close(): Promise<void>;
}

export async function startPveSpiceProxy(): Promise<PveSpiceProxy> {
  const log: PveLogEntry[] = [];
  const valid = new Set<string>();
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  const server = net.createServer((client) => {
    track(client);
    let head = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 8192) client.destroy();
        return;
      }
      client.off('data', onData);
      client.pause();
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const rest = head.subarray(end + 4);
      const host = lines.slice(1).find((l) => /^host:/i.test(l))?.replace(/^host:\s*/i, '');
      const entry: PveLogEntry = { requestLine: lines[0], host, status: 0 };
      log.push(entry);
      const answer = (status: number, reason: string): void => {
        entry.status = status;
        client.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: 0\r\n\r\n`);
      };
      if (!/^CONNECT \S+ HTTP\/1\.[01]$/.test(lines[0])) return answer(501, 'method not implemented');
      const m = host === undefined ? null : PVE_CONNECT_RE.exec(host);
      if (!m) return answer(401, 'invalid ticket');
      const ticket = host!.slice(0, host!.length - m[5].length - 1);
      if (!valid.has(ticket)) return answer(401, 'invalid ticket');
      const upstream = net.connect({ host: '127.0.0.1', port: Number(m[5]) });
      track(upstream);
      upstream.on('close', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.on('error', () => {
        if (!entry.status) answer(502, 'bad gateway');
      });
      upstream.once('connect', () => {
        entry.status = 200;
        client.write('HTTP/1.1 200 OK\r\n\r\n');
        if (rest.length) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    log,
    issue(vmid, node) {
      const stamp = Math.floor(Date.now() / 1000).toString(16).padStart(8, '0');
      const ticket = `pvespiceproxy:${stamp}:${vmid}:${node}::${crypto.randomBytes(20).toString('hex')}`;
      valid.add(ticket);
      return ticket;
    },
    expire(ticket) {
      valid.delete(ticket);
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
