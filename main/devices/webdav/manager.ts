// The shared folder (--spice-shared-dir) on the webdav channel: the guest's
// spice-webdavd multiplexes its local clients' TCP connections over the channel
// (mux.ts); each client becomes one HTTP connection of our in-process WebDAV
// server (folder-server.ts) and its replies go back as frames.
//
// Flow control: replies are written through the channel's write() and a false
// return (or onPause) holds every client's stream callback until onResume, so
// the response streams (a file being read) stop rather than grow the queue;
// spice-server queues at most 128 messages per device. Each frame fills at most
// one SPICEVMC_DATA message (MUX_SEND_DATA).
//
// A hostile stream costs the guest its clients, never the session: a client id
// outside spice-webdavd's range fails the channel alone (the framing has no
// marker to resync on); too many clients, a client whose unread data passes
// maxClientBuffer, or a close for an unknown client are coded errors for that
// client only.
//
// The folder can change while the channel stays up (setFolder, following the
// run's SharedFolder: File → Preferences): the guest's next request is answered
// from the new folder, over the same channel and the same guest connections;
// spice-webdavd only carries bytes and caches nothing. Stopping sharing closes
// the guest's open requests and answers every later one 503 (remote-viewer
// disconnects the webdav channel instead; we keep it, so sharing again needs no
// new channel). Without a folder the share lists nothing in the panel and
// answers 503 too.
import { Duplex } from 'node:stream';
import type { DeviceEntry } from '../../../preload/contract';
import type { EffectiveConfig } from '../../config/effective';
import type { DeviceManager } from '../../spice/devices';
import type { Logger } from '../../spice/channels/base-channel';
import type { SpicevmcChannel } from '../../spice/channels/spicevmc-channel';
import { Channel as ChannelType } from '../../spice/protocol/enums';
import { SpiceError } from '../../spice/wire/errors';
import type { DevicePanelSource } from '../panel';
import type { SharedFolder } from './shared-folder';
import { FolderServer } from './folder-server';
import { encodeMuxFrame, MUX_SEND_DATA, MuxParser, type MuxFrame } from './mux';

/** spice-webdavd's ids are GPOINTER_TO_INT of a connection: a C int. */
const ID_MIN = -(2n ** 31n);
const ID_MAX = 2n ** 31n - 1n;

export interface WebdavShareOptions {
  /** Absent: no folder yet (setFolder gives one). */
  dir?: string;
  readOnly: boolean;
  /** Sharing at start (default true). */
  shared?: boolean;
  log?: Logger;
  onChange?: () => void;
  /** Clients open at once (spice-webdavd opens one per guest connection). */
  maxClients?: number;
  /** Guest bytes a client may have waiting for the server (a request body it does not read yet). */
  maxClientBuffer?: number;
  /** Every coded error (tests, the panel's last error). */
  onError?: (err: SpiceError) => void;
  /** The panel's tick box: the run's SharedFolder decides (and calls applyShared); absent: this share alone. */
  onSetShared?: (shared: boolean) => Promise<void>;
  /** The share was closed (its session ended). */
  onClose?: () => void;
}

export interface WebdavStats {
  clients: number;
  clientsSeen: number;
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  /** Times a client's stream was held for the channel's flow control. */
  held: number;
  refused: number;
  errors: number;
}

interface Client {
  id: bigint;
  stream: Duplex;
  /** We sent its zero-size frame. */
  closedOut: boolean;
}

export class WebdavShare implements DeviceManager, DevicePanelSource {
  readonly channelTypes = [ChannelType.WEBDAV] as const;
  readonly panelKind = 'folder' as const;
  readonly maxClients: number;
  readonly maxClientBuffer: number;
  private channel: SpicevmcChannel | null = null;
  private parser = new MuxParser();
  private readonly clients = new Map<bigint, Client>();
  /** Stream callbacks held while the channel is paused. */
  private held: (() => void)[] = [];
  private server: FolderServer | null = null;
  private readonly ready: Promise<FolderServer | null>;
  private lastError: SpiceError | null = null;
  private shared: boolean;
  private dir: string | undefined;
  private readOnly: boolean;
  private closed = false;
  readonly stats: WebdavStats = { clients: 0, clientsSeen: 0, framesIn: 0, framesOut: 0, bytesIn: 0, bytesOut: 0, held: 0, refused: 0, errors: 0 };

  constructor(private readonly o: WebdavShareOptions) {
    this.maxClients = o.maxClients ?? 64;
    this.maxClientBuffer = o.maxClientBuffer ?? 8 * 1024 * 1024;
    this.shared = o.shared ?? true;
    this.dir = o.dir;
    this.readOnly = o.readOnly;
    this.ready = FolderServer.open({
      dir: o.dir ?? null,
      readOnly: o.readOnly,
      onRefused: (r) => {
        this.stats.refused++;
        o.log?.debug(`webdav: ${r.method} ${r.url} refused ${r.status}: ${r.why}`);
      },
    }).then(
      (s) => {
        if (this.closed) s.close();
        else this.server = s;
        s.stopped = !this.shared;
        this.o.onChange?.();
        return this.closed ? null : s;
      },
      (e: unknown) => {
        this.error(e as SpiceError);
        return null;
      },
    );
  }

  /** The folder server is open (or failed: see entries()). */
  whenReady(): Promise<boolean> {
    return this.ready.then((s) => s !== null);
  }

  get folder(): string {
    return this.server?.root ?? this.dir ?? '';
  }

  /**
   * Serve another folder (undefined: none) and read-only or not, from the guest's next request
   * on; the channel and the guest's connections stay. Rejects (CONFIG) when the folder is no
   * directory, keeping the one served.
   */
  async setFolder(dir: string | undefined, readOnly: boolean): Promise<void> {
    const server = await this.ready;
    if (!server || this.closed) return;
    if (dir === this.dir && readOnly === this.readOnly) return;
    await server.retarget(dir ?? null, readOnly);
    const moved = dir !== this.dir;
    this.dir = dir;
    this.readOnly = readOnly;
    if (moved) this.o.log?.info(`webdav: sharing ${dir ?? 'no folder'}${readOnly ? ' (read-only)' : ''}`);
    this.o.onChange?.();
  }

  entries(): DeviceEntry[] {
    if (this.dir === undefined) return [];
    const state = !this.shared ? 'stopped' : this.channel ? 'shared' : 'waiting';
    const detail = [
      this.readOnly ? 'read-only' : 'read-write',
      state === 'waiting' ? 'waiting for the VM\'s webdav channel (spice-webdavd in the guest, a spiceport org.spice-space.webdav.0 in QEMU)' : '',
      this.stats.clients ? `${this.stats.clients} guest connection${this.stats.clients > 1 ? 's' : ''}` : '',
    ].filter(Boolean).join(' · ');
    return [{
      kind: 'folder',
      id: 'shared-dir',
      label: this.folder,
      detail,
      state,
      shared: this.shared,
      ...(this.lastError ? { error: `${this.lastError.code}: ${this.lastError.message}` } : {}),
    }];
  }

  /** Stop sharing (the guest's open requests closed, later ones answered 503) or share again. */
  async setShared(_id: string, shared: boolean): Promise<void> {
    if (this.o.onSetShared) return this.o.onSetShared(shared);
    this.applyShared(shared);
  }

  /** What setShared does on this share alone (the run's SharedFolder calls it on every session's). */
  applyShared(shared: boolean): void {
    if (this.shared === shared) return;
    this.shared = shared;
    if (this.server) this.server.stopped = !shared;
    if (!shared) for (const c of [...this.clients.values()]) this.closeClient(c, true);
    this.o.onChange?.();
  }

  channelUp(ch: SpicevmcChannel): void {
    if (this.closed) return;
    if (this.channel) {
      this.o.log?.warn(`${ch.name}: a second webdav channel is not used`);
      return;
    }
    this.channel = ch;
    this.parser = new MuxParser();
    // a throw here (a header no spice-webdavd writes) fails this channel alone
    ch.onData = (bytes) => this.onData(bytes);
    ch.onResume = () => this.release();
    this.o.log?.info(`webdav: ${this.dir === undefined ? 'no folder shared yet' : `sharing ${this.folder}${this.readOnly ? ' (read-only)' : ''}`}`);
    this.o.onChange?.();
  }

  channelDown(ch: SpicevmcChannel, err: SpiceError | null): void {
    if (ch !== this.channel) return;
    if (err) {
      this.error(err);
      this.o.log?.warn(`${ch.name}: shared folder lost: ${err.code}: ${err.message}`);
    }
    ch.onData = null;
    ch.onResume = null;
    this.channel = null;
    for (const c of [...this.clients.values()]) this.closeClient(c, false);
    this.release();
    this.o.onChange?.();
  }

  close(): void {
    if (this.channel) this.channelDown(this.channel, null);
    if (!this.closed) this.o.onClose?.();
    this.closed = true;
    this.server?.close();
    this.server = null;
  }

  private error(e: SpiceError): void {
    const err = e instanceof SpiceError ? e : new SpiceError('IO', String(e));
    this.lastError = err;
    this.stats.errors++;
    this.o.onError?.(err);
    this.o.onChange?.();
  }

  private onData(bytes: Uint8Array): void {
    for (const f of this.parser.push(bytes)) {
      if (f.client < ID_MIN || f.client > ID_MAX) {
        throw new SpiceError('BAD_MESSAGE', `webdav: client id ${f.client} is no spice-webdavd id (stream out of step?)`);
      }
      this.frame(f);
    }
  }

  private frame(f: MuxFrame): void {
    this.stats.framesIn++;
    this.stats.bytesIn += f.data.length;
    let c = this.clients.get(f.client);
    if (!f.data.length) {
      // the guest program closed its connection
      if (c) c.stream.push(null);
      else this.o.log?.debug(`webdav: close for unknown client ${f.client} ignored`);
      return;
    }
    if (!c) {
      // not open yet (the folder check runs): nothing to answer with
      if (!this.server) {
        this.send(f.client, new Uint8Array(0));
        return;
      }
      if (this.clients.size >= this.maxClients) {
        this.error(new SpiceError('LIMIT', `webdav: client ${f.client} refused: ${this.clients.size} clients open (at most ${this.maxClients})`));
        this.send(f.client, new Uint8Array(0));
        return;
      }
      c = this.openClient(f.client);
    }
    c.stream.push(f.data);
    if (c.stream.readableLength > this.maxClientBuffer) {
      this.error(new SpiceError('LIMIT', `webdav: client ${f.client} sent ${c.stream.readableLength} bytes the server has not read (at most ${this.maxClientBuffer})`));
      this.closeClient(c, true);
    }
  }

  private openClient(id: bigint): Client {
    const c: Client = { id, closedOut: false, stream: null as unknown as Duplex };
    c.stream = new Duplex({
      read: () => {},
      write: (chunk: Buffer, _enc, cb) => this.reply(c, chunk, cb),
      final: (cb) => {
        this.closeOut(c);
        cb();
      },
      destroy: (err, cb) => {
        this.closeOut(c);
        this.forget(c);
        cb(err);
      },
    });
    // what http.Server calls on a net.Socket; the channel has no timers or Nagle to set
    Object.assign(c.stream, { setTimeout: () => c.stream, setNoDelay: () => c.stream, setKeepAlive: () => c.stream });
    this.clients.set(id, c);
    this.stats.clients = this.clients.size;
    this.stats.clientsSeen++;
    this.server!.accept(c.stream);
    this.o.onChange?.();
    return c;
  }

  private reply(c: Client, chunk: Uint8Array, cb: (err?: Error | null) => void): void {
    if (c.closedOut || !this.channel) return cb();
    let ok = true;
    for (let off = 0; off < chunk.length; off += MUX_SEND_DATA) {
      ok = this.send(c.id, chunk.subarray(off, off + MUX_SEND_DATA));
    }
    if (ok) return cb();
    // the channel's queue is at its high-water mark: this stream waits for onResume
    this.stats.held++;
    this.held.push(() => cb());
  }

  private send(id: bigint, data: Uint8Array): boolean {
    const ch = this.channel;
    if (!ch) return true;
    this.stats.framesOut++;
    this.stats.bytesOut += data.length;
    return ch.write(encodeMuxFrame(id, data));
  }

  private release(): void {
    const held = this.held;
    this.held = [];
    for (const cb of held) cb();
  }

  private closeOut(c: Client): void {
    if (c.closedOut) return;
    c.closedOut = true;
    this.send(c.id, new Uint8Array(0));
  }

  /** tellGuest: send our zero-size frame (a channel going down cannot carry it). */
  private closeClient(c: Client, tellGuest: boolean): void {
    if (!tellGuest) c.closedOut = true;
    this.forget(c);
    c.stream.destroy();
  }

  private forget(c: Client): void {
    if (this.clients.get(c.id) !== c) return;
    this.clients.delete(c.id);
    this.stats.clients = this.clients.size;
    this.o.onChange?.();
  }
}

/**
 * The session's shared-folder manager. With the run's SharedFolder (both hosts) there is one
 * whenever the webdav channel is allowed, following its choice (a folder chosen later is served
 * on the channel already up); without, one only when the configuration names a folder.
 */
export function webdavSharesFor(
  cfg: Pick<EffectiveConfig, 'sharedDir' | 'sharedDirReadOnly' | 'channels'>,
  o: { log?: Logger; onChange?: () => void; folder?: SharedFolder } = {},
): WebdavShare[] {
  if (cfg.channels.disabledTypes.includes(ChannelType.WEBDAV)) return [];
  const { folder, ...rest } = o;
  if (!folder) return cfg.sharedDir ? [new WebdavShare({ dir: cfg.sharedDir, readOnly: cfg.sharedDirReadOnly, ...rest })] : [];
  const st = folder.state();
  let off = (): void => {};
  const share = new WebdavShare({
    ...(st.dir !== undefined ? { dir: st.dir } : {}),
    readOnly: st.readOnly,
    shared: st.shared,
    ...rest,
    onSetShared: (shared) => folder.set({ shared }),
    onClose: () => off(),
  });
  // one change after another: a slow folder check never lands after a later choice
  let chain: Promise<void> = Promise.resolve();
  const follow = (): void => {
    const now = folder.state();
    chain = chain
      .then(() => share.setFolder(now.dir, now.readOnly))
      .then(() => share.applyShared(now.shared))
      .catch((e: unknown) => o.log?.warn(`webdav: ${(e as Error).message}`));
  };
  off = folder.onChange(follow);
  return [share];
}
