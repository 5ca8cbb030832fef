// Session: owns the channel set of one SPICE session, its connection id and
// its state machine (idle → connecting → connected → disconnected). One
// failure path (fail) ends the session with a coded SpiceError.
import { Connection } from './connection';
import { SpiceError } from './wire/errors';
import { dialFor, type Endpoint, type TransportFactory } from './transport';
import { LinkErr } from './protocol/enums';
import type { Channel, Logger } from './channels/base-channel';
import { MainChannel, type ChannelRef, type MainInit } from './channels/main-channel';
import { DisplayChannel } from './channels/display-channel';
import { InputsChannel } from './channels/inputs-channel';
import { CursorChannel } from './channels/cursor-channel';
import { PortChannel } from './channels/port-channel';
import { SpicevmcChannel } from './channels/spicevmc-channel';
import { CHANNEL_TABLE, FALLBACK_KIND, type ChannelContext, type ChannelTable } from './channels/channel-table';
import { Channel as ChannelType, MouseMode } from './protocol/enums';
import { MigrationController, type MigrationHost } from './migration';
import type { DeviceManager } from './devices';
import type { DstInfo } from './messages/main';
import type { RecordEvent } from './channels/record-channel';
import type { AudioEvent, CursorCommand, DisplayCommand, InputEvent, MigrationStatus, SessionState, SessionStatus } from '../../preload/contract';

export interface SessionOptions {
  endpoint: Endpoint;
  password?: string;
  transport: TransportFactory;
  log?: Logger;
  onDisplay?: (channelId: number, cmd: DisplayCommand) => void;
  /**
   * Set: display channels ACK the server only for messages reported painted
   * (Channel.ackDeferred / takeReceived / ackProcessed); called after each
   * display message that waits for that.
   */
  onDisplayReceived?: (ch: DisplayChannel) => void;
  onCursor?: (cmd: CursorCommand) => void;
  /** Playback channel stream (see AudioEvent) and record channel start/stop. */
  onAudio?: (channelId: number, ev: AudioEvent) => void;
  onRecord?: (channelId: number, ev: RecordEvent) => void;
  /** Announce Opus for playback (default true; false forces raw PCM). */
  playbackOpus?: boolean;
  onStatus?: (s: SessionStatus) => void;
  /** Channel types not to link (disable-channels). */
  disabledChannels?: number[];
  preferredCompression?: number;
  /** SpiceVideoCodecTypes the renderer decodes besides MJPEG, read when a display channel links. */
  videoCodecs?: () => readonly number[];
  /** Video codecs to ask the server for, preferred first (--spice-preferred-video-codec). */
  preferredVideoCodecs?: readonly number[];
  linkTimeoutMs?: number;
  onMigration?: (s: MigrationStatus) => void;
  /**
   * Maps the destination a migrating server announces to what this client can
   * reach (NAT, proxies, WebSocket front ends) — the analogue of spice-gtk's
   * SPICE_MIG_HOST. Default: the announced host and plain port, same transport scheme.
   */
  mapMigrationDestination?: (dst: DstInfo, current: Endpoint) => Endpoint;
  /** Channel type → class (default CHANNEL_TABLE). */
  channelTable?: ChannelTable;
  /** Device managers (main/devices) told about their spicevmc channels. */
  devices?: DeviceManager[];
}

export function defaultMigrationEndpoint(dst: DstInfo, current: Endpoint): Endpoint {
  if (!dst.port && !(dst.sport && current.tls)) {
    throw new SpiceError('CONFIG', `destination ${dst.host} offers only a TLS port (${dst.sport}); TLS is not configured`);
  }
  // same security settings; the destination's certificate is checked against its cert subject when given
  const tls = current.tls && dst.certSubject ? { ...current.tls, hostSubject: dst.certSubject } : current.tls;
  return {
    ...current,
    unixPath: undefined, // the destination is the host/port it announced, never our local socket
    host: dst.host,
    port: dst.port,
    ...(dst.sport ? { tlsPort: dst.sport } : { tlsPort: undefined }),
    ...(tls ? { tls } : {}),
  };
}

const TRANSITIONS: Record<SessionState, SessionState[]> = {
  idle: ['connecting'],
  connecting: ['connected', 'disconnected'],
  connected: ['disconnected'],
  disconnected: [],
};

export const quietLogger: Logger = { debug() {}, info() {}, warn() {} };

export class Session implements MigrationHost {
  state: SessionState = 'idle';
  connectionId = 0;
  error: SpiceError | null = null;
  readonly main: MainChannel;
  /** Every channel but main, by `${type}:${id}`, built through the channel table. */
  private readonly byKey = new Map<string, Channel>();
  /** Channels whose failure ends the session (ChannelKind.essential); main always. */
  private readonly essential = new Set<Channel>();
  /** Channels that did not link, or were lost later without ending the session, with why. */
  readonly linkFailures: { name: string; error: SpiceError }[] = [];
  private readonly table: ChannelTable;
  private readonly devices: DeviceManager[];
  /** spicevmc channels their device managers were told about. */
  private readonly devicesUp = new Set<SpicevmcChannel>();
  name: string | undefined;
  uuid: string | undefined;

  readonly migration: MigrationController;
  private readonly opts: SessionOptions;
  readonly log: Logger;
  private endpoint: Endpoint;
  private connectWaiters: { resolve: () => void; reject: (e: SpiceError) => void }[] = [];

  constructor(opts: SessionOptions) {
    this.opts = opts;
    this.endpoint = opts.endpoint;
    this.log = opts.log ?? quietLogger;
    this.table = opts.channelTable ?? CHANNEL_TABLE;
    this.devices = opts.devices ?? [];
    this.migration = new MigrationController(this);
    this.main = new MainChannel(this.log, {
      onMigrateBegin: (dst, seamless) => this.migration.begin(dst, seamless),
      onMigrateCancel: () => this.migration.cancel(),
      onMigrateEnd: () => this.migration.end(),
      onSwitchHost: (dst) => this.migration.switchHost(dst),
      onMultiMediaTime: () => this.migration.onVmStartHint(),
      onInit: (init) => this.onMainInit(init),
      onChannelsList: (list) => {
        this.linkChannels(list).catch((e: unknown) => this.fail(e));
      },
      onMouseMode: () => {
        this.migration.onVmStartHint();
        this.emitStatus();
      },
      onName: (n) => {
        this.name = n;
        this.emitStatus();
      },
      onUuid: (u) => {
        this.uuid = u;
      },
      onAgent: () => {},
    });
  }

  /** All linked channels, main first. */
  channels(): Channel[] {
    return this.allChannels().filter((c) => c.connection);
  }

  private ofClass<T extends Channel>(cls: abstract new (...args: never[]) => T): Map<number, T> {
    const out = new Map<number, T>();
    for (const ch of this.byKey.values()) if (ch instanceof cls) out.set(ch.id, ch);
    return out;
  }
  get displays(): Map<number, DisplayChannel> {
    return this.ofClass(DisplayChannel);
  }
  get cursors(): Map<number, CursorChannel> {
    return this.ofClass(CursorChannel);
  }
  /** Port channels (the webdav channel is a PortChannel too, not listed here). */
  get ports(): Map<number, PortChannel> {
    const out = this.ofClass(PortChannel);
    for (const [id, p] of out) if (p.type !== ChannelType.PORT) out.delete(id);
    return out;
  }
  get inputs(): InputsChannel | null {
    return this.ofClass(InputsChannel).values().next().value ?? null;
  }
  /** The channel of a type and id, if the server listed it. */
  channel(type: number, id: number): Channel | undefined {
    return type === ChannelType.MAIN ? this.main : this.byKey.get(`${type}:${id}`);
  }

  private setState(next: SessionState, message: string): void {
    if (!TRANSITIONS[this.state].includes(next)) return;
    this.state = next;
    this.emitStatus(message);
  }

  private statusMessage = '';
  private emitStatus(message?: string): void {
    if (message !== undefined) this.statusMessage = message;
    const mm = this.main.mouseMode.current;
    this.opts.onStatus?.({
      state: this.state,
      message: this.statusMessage,
      code: this.error?.code,
      name: this.name,
      uuid: this.uuid,
      mouseMode: mm === MouseMode.CLIENT ? 'client' : mm === MouseMode.SERVER ? 'server' : undefined,
      channels: this.channels().map((c) => c.name),
      secureChannels: this.channels().filter((c) => c.connection?.secure).map((c) => c.name),
    });
  }

  // ---- MigrationHost
  sessionId(): number {
    return this.connectionId;
  }
  linkTo(ep: Endpoint, ch: Channel, connectionId: number): Promise<Connection> {
    return this.dialAndLink(ep, ch, connectionId, `${ch.name} (destination)`);
  }
  mapDestination(dst: DstInfo): Endpoint {
    return (this.opts.mapMigrationDestination ?? defaultMigrationEndpoint)(dst, this.endpoint);
  }
  emit(status: MigrationStatus): void {
    this.opts.onMigration?.(status);
  }
  /** Switch-host: drop every connection and come back as a new session on ep. */
  switchHost(ep: Endpoint): void {
    for (const ch of this.devicesUp) this.deviceDown(ch, null);
    for (const ch of this.allChannels()) {
      const c = ch.connection;
      ch.connection = null;
      if (c) {
        c.onClose = null;
        c.onMessage = null;
        c.close();
      }
    }
    this.endpoint = ep;
    this.connectionId = 0;
    this.main.attachOnInit = true;
    this.linkChannel(this.main, 0).catch((e: unknown) => {
      const err = e instanceof SpiceError ? e : new SpiceError('TRANSPORT', String(e));
      this.migration.switchDone(err);
      this.fail(new SpiceError(err.code, `switch-host to ${ep.host}:${ep.port} failed: ${err.message}`, err.linkError));
    });
  }

  private allChannels(): Channel[] {
    return [this.main, ...this.byKey.values()];
  }

  /** Connects main, then every channel the server lists. Resolves when all are linked. */
  connect(): Promise<void> {
    if (this.state !== 'idle') return Promise.reject(new SpiceError('PROTOCOL', `session is ${this.state}`));
    const ep = this.endpoint;
    this.setState('connecting', `connecting to ${ep.host}:${ep.port}`);
    const done = new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    this.linkChannel(this.main, 0).then(
      () => this.log.info(`main linked (${this.main.connection?.miniHeader ? 'mini' : 'full'} header)`),
      (e) => this.fail(e),
    );
    return done;
  }

  /** Opens and links one connection for ch; a NEED_SECURED answer is retried once on the TLS port. */
  private async dialAndLink(ep: Endpoint, ch: Channel, connectionId: number, name: string): Promise<Connection> {
    const attempt = async (forceSecure: boolean): Promise<Connection> => {
      const dial = dialFor(ep, ch.type, forceSecure);
      if (!dial.port && !dial.unixPath) {
        throw new SpiceError('CONFIG', `${name}: needs TLS but ${ep.host} has no TLS port configured (tls-port)`, LinkErr.NEED_SECURED);
      }
      this.log.protocol?.(`${name}: dialling ${dial.unixPath ?? `${dial.host}:${dial.port}`}${dial.secure ? ' (TLS)' : ''}${dial.scheme && dial.scheme !== 'tcp' ? ` over ${dial.scheme}` : ''}; connection id ${connectionId >>> 0}, our caps ${JSON.stringify(ch.channelCaps())}`);
      const transport = await this.opts.transport(dial);
      if (this.state === 'disconnected') {
        transport.close();
        throw this.error ?? new SpiceError('CLOSED', 'session closed');
      }
      const conn = await Connection.link(transport, {
        connectionId,
        channelType: ch.type,
        channelId: ch.id,
        channelCaps: ch.channelCaps(),
        password: this.opts.password ?? '',
        name,
        timeoutMs: this.opts.linkTimeoutMs,
      });
      conn.secure = !!dial.secure || dial.scheme === 'wss';
      return conn;
    };
    try {
      return await attempt(false);
    } catch (e) {
      // the server wants this channel over TLS: re-link it there, like remote-viewer
      if (e instanceof SpiceError && e.linkError === LinkErr.NEED_SECURED && !dialFor(ep, ch.type).secure && ep.tlsPort) {
        this.log.info(`${name}: server requires TLS; re-linking on port ${ep.tlsPort}`);
        return attempt(true);
      }
      throw e;
    }
  }

  private async linkChannel(ch: Channel, connectionId: number): Promise<void> {
    const conn = await this.dialAndLink(this.endpoint, ch, connectionId, ch.name);
    this.log.protocol?.(`${ch.name}: linked (${conn.miniHeader ? 'mini' : 'full'} header), server common caps 0x${(conn.serverCommonCaps[0] ?? 0).toString(16)}, channel caps 0x${(conn.serverChannelCaps[0] ?? 0).toString(16)}`);
    if ((this.state as SessionState) === 'disconnected') {
      conn.close();
      throw this.error ?? new SpiceError('CLOSED', 'session closed');
    }
    ch.onFailure = (err) => this.channelFailed(ch, err);
    ch.onNotify = () => {};
    ch.onMigrate = (c) => this.migration.onChannelMigrate(c);
    ch.onSwapped = (c, old) => this.migration.onChannelSwapped(c, old);
    ch.onTargetLost = (c, err) => this.migration.onTargetLost(c, err);
    // a channel that served another server before (switch-host) starts over
    if (ch.linkedOnce) ch.adopt(conn);
    else ch.attach(conn);
    if (ch instanceof SpicevmcChannel && ch.connection && !this.devicesUp.has(ch)) {
      for (const d of this.devices) {
        if (!d.channelTypes.includes(ch.type)) continue;
        this.devicesUp.add(ch);
        d.channelUp(ch);
      }
    }
  }

  /** An essential channel's failure ends the session; any other channel is lost alone. */
  private channelFailed(ch: Channel, err: SpiceError): void {
    if (ch === this.main || this.essential.has(ch)) {
      this.fail(err);
      return;
    }
    this.log.warn(`${ch.name}: channel lost: ${err.code}: ${err.message}`);
    this.linkFailures.push({ name: ch.name, error: err });
    this.forget(ch);
    this.migration.channelGone(ch);
    if (ch instanceof SpicevmcChannel) this.deviceDown(ch, err);
    this.emitStatus();
  }

  private deviceDown(ch: SpicevmcChannel, err: SpiceError | null): void {
    if (!this.devicesUp.delete(ch)) return;
    for (const d of this.devices) if (d.channelTypes.includes(ch.type)) d.channelDown(ch, err);
  }

  private onMainInit(init: MainInit): void {
    if (this.migration.onMainInit()) return; // semi-seamless destination re-init
    this.connectionId = init.sessionId;
    this.log.info(`MAIN_INIT session ${init.sessionId}, mouse modes ${init.supportedMouseModes}/${init.currentMouseMode}`);
  }

  private async linkChannels(list: ChannelRef[]): Promise<void> {
    const disabled = new Set(this.opts.disabledChannels ?? []);
    const jobs: Promise<void>[] = [];
    for (const ref of list) {
      if (ref.type === ChannelType.MAIN || disabled.has(ref.type)) continue;
      const ch = this.existingChannel(ref) ?? this.createChannel(ref);
      jobs.push(
        this.linkChannel(ch, this.connectionId).catch((e: unknown) => {
          const err = e instanceof SpiceError ? e : new SpiceError('TRANSPORT', String(e));
          this.linkFailures.push({ name: ch.name, error: err });
          this.log.warn(`${ch.name}: not linked: ${err.message}`);
          this.forget(ch);
          // a wrong password fails every channel alike; anything else only loses that channel
          if (err.code === 'AUTH_FAILED') this.fail(err);
        }),
      );
    }
    await Promise.all(jobs);
    if (this.state === 'disconnected') return;
    // bytes that came with a link reply may have failed main already; never report a dead session connected
    if (!this.main.connection?.isOpen) {
      this.fail(new SpiceError('CLOSED', 'the main channel closed while the other channels were linking'));
      return;
    }
    if (this.migration.state === 'switching' && this.migration.mode === 'switch-host') this.migration.switchDone(null);
    if (this.state === 'connecting') {
      this.setState('connected', `connected${this.name ? ` to ${this.name}` : ''}`);
      for (const w of this.connectWaiters.splice(0)) w.resolve();
    }
  }

  private existingChannel(ref: ChannelRef): Channel | undefined {
    return this.byKey.get(`${ref.type}:${ref.id}`);
  }

  private createChannel(ref: ChannelRef): Channel {
    const kind = this.table.get(ref.type) ?? FALLBACK_KIND;
    const ctx: ChannelContext = {
      log: this.log,
      onDisplay: this.opts.onDisplay,
      onCursor: this.opts.onCursor,
      ...(this.opts.onDisplayReceived ? { onDisplayReceived: this.opts.onDisplayReceived } : {}),
      onAudio: this.opts.onAudio,
      onRecord: this.opts.onRecord,
      ...(this.opts.playbackOpus !== undefined ? { playbackOpus: this.opts.playbackOpus } : {}),
      ...(this.opts.preferredCompression !== undefined ? { preferredCompression: this.opts.preferredCompression } : {}),
      video: {
        ...(this.opts.videoCodecs ? { videoCodecs: this.opts.videoCodecs } : {}),
        ...(this.opts.preferredVideoCodecs ? { preferredVideoCodecs: this.opts.preferredVideoCodecs } : {}),
        mmTime: () => this.main.mmTimeNow(),
      },
    };
    const ch = kind.create(ref.type, ref.id, ctx);
    this.byKey.set(`${ref.type}:${ref.id}`, ch);
    if (kind.essential) this.essential.add(ch);
    return ch;
  }

  private forget(ch: Channel): void {
    this.byKey.delete(`${ch.type}:${ch.id}`);
    this.essential.delete(ch);
  }

  /** The port channel whose PORT_INIT named it `name`. */
  port(name: string): PortChannel | undefined {
    for (const p of this.ports.values()) if (p.portName === name) return p;
    return undefined;
  }

  input(ev: InputEvent): void {
    const inp = this.inputs;
    if (!inp || this.state !== 'connected') return;
    switch (ev.t) {
      case 'key':
        if (ev.down) inp.keyDown(ev.scancode);
        else inp.keyUp(ev.scancode);
        break;
      case 'modifiers':
        inp.setLocks(ev.flags);
        break;
      case 'mousePosition':
        inp.mousePosition(ev.x, ev.y, ev.buttons, ev.displayId);
        break;
      case 'mouseMotion':
        inp.mouseMotion(ev.dx, ev.dy, ev.buttons);
        break;
      case 'mouseButton':
        inp.mouseButton(ev.button, ev.down, ev.buttons);
        break;
      case 'releaseAllKeys':
        break;
    }
  }

  /** The single failure path: closes everything and reports the error once. */
  fail(e: unknown): void {
    if (this.state === 'disconnected') return;
    const err = e instanceof SpiceError ? e : new SpiceError('PROTOCOL', (e as Error)?.message ?? String(e));
    this.error = err;
    this.log.warn(`session failed: ${err.code}: ${err.message}`);
    this.migration.abort(err.message);
    this.closeChannels(err);
    this.setState('disconnected', err.message);
    for (const w of this.connectWaiters.splice(0)) w.reject(err);
  }

  disconnect(): void {
    if (this.state === 'disconnected') return;
    this.migration.abort('disconnected by user');
    this.closeChannels(null);
    if (this.state === 'idle') this.state = 'connecting';
    this.setState('disconnected', 'disconnected by user');
    for (const w of this.connectWaiters.splice(0)) w.reject(new SpiceError('CLOSED', 'disconnected by user'));
  }

  private closeChannels(err: SpiceError | null): void {
    for (const ch of this.allChannels()) ch.close();
    for (const ch of this.devicesUp) this.deviceDown(ch, err);
    for (const d of this.devices) d.close();
  }
}
