// The WebDAV server behind the shared folder: webdav-server v2 (PhysicalFileSystem)
// on a Node http.Server that never listens. Each guest client is a Duplex
// handed to it as a 'connection', so the share is reachable only through the
// SPICE channel, never through a port on this machine.
//
// In front of the library (it follows symlinks and would serve whatever they
// point at): only known methods, writes refused with 403 when read-only, every
// path segment decoded once and refused if it is '.', '..' or holds a slash,
// backslash or NUL, and no path (nor MOVE/COPY Destination) through a symlink;
// listings leave symlinks out.
//
// The folder and read-only can change while guest clients stay connected
// (retarget, as spice-gtk's spice_session_set_shared_dir moves phodav's root):
// each request is answered by the folder of the moment it arrives; a request
// already running finishes against the folder it started in. Without a folder,
// or while sharing is stopped, every request is answered 503 with why in words.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { v2 as webdav } from 'webdav-server';
import { SpiceError } from '../../spice/wire/errors';

export const READ_METHODS = ['GET', 'HEAD', 'OPTIONS', 'PROPFIND'] as const;
export const WRITE_METHODS = ['PUT', 'DELETE', 'MKCOL', 'MOVE', 'COPY', 'PROPPATCH', 'LOCK', 'UNLOCK'] as const;
const READ = new Set<string>(READ_METHODS);
const WRITE = new Set<string>(WRITE_METHODS);

export interface FolderServerOptions {
  /** null: no folder yet (every request 503 until retarget). */
  dir: string | null;
  readOnly: boolean;
  /** Told each refused request (method, path, status, why): the manager counts and logs them. */
  onRefused?: (r: { method: string; url: string; status: number; why: string }) => void;
}

/**
 * Segments of a request path or Destination URL as sent (not normalised: the
 * library sees the raw path), each decoded once; null when not acceptable.
 */
export function safeSegments(url: string): string[] | null {
  let p = url;
  const origin = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(p);
  if (origin) p = p.slice(origin[0].length) || '/';
  if (!p.startsWith('/')) return null;
  p = p.replace(/[?#][\s\S]*$/, '');
  const out: string[] = [];
  for (const raw of p.split('/')) {
    if (!raw) continue;
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (s === '.' || s === '..' || /[/\\\0]/.test(s)) return null;
    out.push(s);
  }
  return out;
}

/** True when a component of root/segments (as far as it exists) is a symlink. */
async function throughSymlink(root: string, segments: string[]): Promise<boolean> {
  let p = root;
  for (const s of segments) {
    p = path.join(p, s);
    try {
      if ((await fs.promises.lstat(p)).isSymbolicLink()) return true;
    } catch {
      return false; // the rest does not exist (yet): nothing to follow
    }
  }
  return false;
}

/** PhysicalFileSystem whose listings leave symlinks out (requests through them are refused before). */
class NoSymlinkFileSystem extends webdav.PhysicalFileSystem {
  protected override _readDir(p: webdav.Path, ctx: webdav.ReadDirInfo, callback: webdav.ReturnCallback<string[] | webdav.Path[]>): void {
    const { realPath } = this.getRealPath(p);
    fs.readdir(realPath, { withFileTypes: true }, (e, entries) => {
      if (e) return callback(webdav.Errors.ResourceNotFound);
      callback(undefined, entries.filter((d) => !d.isSymbolicLink()).map((d) => d.name));
    });
  }
}

/** The real path of a folder to serve; CONFIG (with why in words) when it is none. */
async function realFolder(dir: string): Promise<string> {
  try {
    const root = await fs.promises.realpath(dir);
    if (!(await fs.promises.stat(root)).isDirectory()) throw new Error('not a directory');
    return root;
  } catch (e) {
    throw new SpiceError('CONFIG', `shared folder ${dir}: ${(e as Error).message}`);
  }
}

export class FolderServer {
  private rootPath: string | null;
  private ro: boolean;
  private dav: webdav.WebDAVServer | null;
  /** Sharing stopped: every request answered 503. */
  stopped = false;
  private readonly http: http.Server;
  private readonly sockets = new Set<Duplex>();

  private constructor(root: string | null, private readonly o: FolderServerOptions) {
    this.rootPath = root;
    this.ro = o.readOnly;
    this.dav = root === null ? null : FolderServer.davFor(root);
    this.http = http.createServer((req, res) => void this.handle(req, res));
    // a guest client that never finishes a request must not hold its parser forever
    this.http.headersTimeout = 60_000;
    this.http.requestTimeout = 0;
  }

  private static davFor(root: string): webdav.WebDAVServer {
    return new webdav.WebDAVServer({ rootFileSystem: new NoSymlinkFileSystem(root) });
  }

  /** The folder must exist and be a directory (CONFIG otherwise); it is served by its real path. */
  static async open(o: FolderServerOptions): Promise<FolderServer> {
    return new FolderServer(o.dir === null ? null : await realFolder(o.dir), o);
  }

  /** The folder served (its real path), null when none. */
  get root(): string | null {
    return this.rootPath;
  }

  get readOnly(): boolean {
    return this.ro;
  }

  /**
   * Serve another folder (or none) from the next request on; connections stay.
   * CONFIG when the folder is no directory: the old one is kept.
   */
  async retarget(dir: string | null, readOnly: boolean): Promise<void> {
    // the folder already served (a read-only change) is not looked up on disk again
    const root = dir === null ? null : dir === this.rootPath ? dir : await realFolder(dir);
    if (root !== this.rootPath) {
      this.rootPath = root;
      this.dav = root === null ? null : FolderServer.davFor(root);
    }
    this.ro = readOnly;
  }

  /** One HTTP connection over `socket` (a guest client). */
  accept(socket: Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    this.http.emit('connection', socket);
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    this.http.close();
  }

  private refuse(req: http.IncomingMessage, res: http.ServerResponse, status: number, why: string): void {
    this.o.onRefused?.({ method: req.method ?? '', url: req.url ?? '', status, why });
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(why) + 1 });
    res.end(`${why}\n`);
    // the request body (a PUT's data) is not read: drop it with the connection
    if (!req.complete) res.once('finish', () => req.socket.destroy());
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = (req.method ?? '').toUpperCase();
    const dav = this.dav;
    const root = this.rootPath;
    if (!dav || root === null) return this.refuse(req, res, 503, 'no folder is shared (choose one in the viewer\'s Preferences)');
    if (this.stopped) return this.refuse(req, res, 503, 'the folder is no longer shared (stopped in the viewer)');
    if (!READ.has(method) && !WRITE.has(method)) return this.refuse(req, res, 405, `method ${method} not supported`);
    if (this.ro && WRITE.has(method)) return this.refuse(req, res, 403, 'the shared folder is read-only');
    const seg = safeSegments(req.url ?? '/');
    if (!seg) return this.refuse(req, res, 403, 'path not allowed');
    const dest = req.headers.destination;
    let destSeg: string[] | null = null;
    if (method === 'MOVE' || method === 'COPY') {
      if (typeof dest !== 'string' || !(destSeg = safeSegments(dest))) return this.refuse(req, res, 403, 'destination not allowed');
    }
    try {
      if ((await throughSymlink(root, seg)) || (destSeg && (await throughSymlink(root, destSeg)))) {
        return this.refuse(req, res, 403, 'path through a symbolic link');
      }
    } catch {
      return this.refuse(req, res, 500, 'cannot check the path');
    }
    // the folder of the moment the request came: a retarget meanwhile does not split it
    dav.executeRequest(req, res);
  }
}
