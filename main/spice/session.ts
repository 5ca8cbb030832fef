// Session: owns the channel set of one SPICE session, its connection id and
// its state machine (idle → connecting → connected → disconnected). One
// failure path (fail) ends the session with a coded SpiceError.
import { Connection } from './connection';
import { SpiceError } from './wire/errors';
import type { Endpoint, TransportFactory } from './transport';
import type { Channel, Logger } from './channels/base-channel';
import { CHANNEL_NAMES } from './channels/base-channel';
import { MainChannel, type ChannelRef, type MainInit } from './channels/main-channel';
import { DisplayChannel } from './channels/display-channel';
import { InputsChannel } from './channels/inputs-channel';
import { CursorChannel } from './channels/cursor-channel';
import { GenericChannel } from './channels/generic-channel';
import { Channel as ChannelType, MouseMode } from './protocol/enums';
import type { CursorCommand, DisplayCommand, InputEvent, SessionState, SessionStatus } from '../../preload/contract';

export interface SessionOptions {
  endpoint: Endpoint;
  password?: string;
  transport: TransportFactory;
  log?: Logger;
  onDisplay?: (channelId: number, cmd: DisplayCommand) => void;
  onCursor?: (cmd: CursorCommand) => void;
  onStatus?: (s: SessionStatus) => void;
  /** Channel types not to link (disable-channels). */
  disabledChannels?: number[];
  preferredCompression?: number;
  linkTimeoutMs?: number;
}

const TRANSITIONS: Record<SessionState, SessionState[]> = {
  idle: ['connecting'],
  connecting: ['connected', 'disconnected'],
  connected: ['disconnected'],
  disconnected: [],
};

export const quietLogger: Logger = { debug() {}, info() {}, warn() {} };

export class Session {
  state: SessionState = 'idle';
  connectionId = 0;
  error: SpiceError | null = null;
  readonly main: MainChannel;
  readonly displays = new Map<number, DisplayChannel>();
  readonly cursors = new Map<number, CursorChannel>();
  inputs: InputsChannel | null = null;
  readonly others = new Map<string, GenericChannel>();
  /** Channels the server offered that did not link, with why. */
  readonly linkFailures: { name: string; error: SpiceError }[] = [];
  name: string | undefined;
  uuid: string | undefined;

  private readonly opts: SessionOptions;
  private readonly log: Logger;
  private connectWaiters: { resolve: () => void; reject: (e: SpiceError) => void }[] = [];

  constructor(opts: SessionOptions) {
    this.opts = opts;
    this.log = opts.log ?? quietLogger;
    this.main = new MainChannel(this.log, {
      onInit: (init) => this.onMainInit(init),
      onChannelsList: (list) => void this.linkChannels(list),
      onMouseMode: () => this.emitStatus(),
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

  /** All linked channels. */
  channels(): Channel[] {
    const list: Channel[] = [this.main, ...this.displays.values(), ...this.cursors.values(), ...this.others.values()];
    if (this.inputs) list.push(this.inputs);
    return list.filter((c) => c.connection);
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
    });
  }

  /** Connects main, then every channel the server lists. Resolves when all are linked. */
  connect(): Promise<void> {
    if (this.state !== 'idle') return Promise.reject(new SpiceError('PROTOCOL', `session is ${this.state}`));
    const ep = this.opts.endpoint;
    this.setState('connecting', `connecting to ${ep.host}:${ep.port}`);
    const done = new Promise<void>((resolve, reject) => this.connectWaiters.push({ resolve, reject }));
    this.linkChannel(this.main, 0).then(
      () => this.log.info(`main linked (${this.main.connection?.miniHeader ? 'mini' : 'full'} header)`),
      (e) => this.fail(e),
    );
    return done;
  }

  private async linkChannel(ch: Channel, connectionId: number): Promise<void> {
    const transport = await this.opts.transport(this.opts.endpoint);
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
      name: ch.name,
      timeoutMs: this.opts.linkTimeoutMs,
    });
    if ((this.state as SessionState) === 'disconnected') {
      conn.close();
      throw this.error ?? new SpiceError('CLOSED', 'session closed');
    }
    ch.onFailure = (err) => this.fail(err);
    ch.onNotify = () => {};
    ch.attach(conn);
  }

  private onMainInit(init: MainInit): void {
    this.connectionId = init.sessionId;
    this.log.info(`MAIN_INIT session ${init.sessionId}, mouse modes ${init.supportedMouseModes}/${init.currentMouseMode}`);
  }

  private async linkChannels(list: ChannelRef[]): Promise<void> {
    const disabled = new Set(this.opts.disabledChannels ?? []);
    const jobs: Promise<void>[] = [];
    for (const ref of list) {
      if (ref.type === ChannelType.MAIN || disabled.has(ref.type)) continue;
      const ch = this.createChannel(ref);
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
    if (this.state === 'connecting') {
      this.setState('connected', `connected${this.name ? ` to ${this.name}` : ''}`);
      for (const w of this.connectWaiters.splice(0)) w.resolve();
    }
  }

  private createChannel(ref: ChannelRef): Channel {
    switch (ref.type) {
      case ChannelType.DISPLAY: {
        const ch = new DisplayChannel(ref.id, this.log, (cmd) => this.opts.onDisplay?.(ref.id, cmd));
        if (this.opts.preferredCompression !== undefined) ch.preferredCompression = this.opts.preferredCompression;
        this.displays.set(ref.id, ch);
        return ch;
      }
      case ChannelType.CURSOR: {
        const ch = new CursorChannel(ref.id, this.log, (cmd) => this.opts.onCursor?.(cmd));
        this.cursors.set(ref.id, ch);
        return ch;
      }
      case ChannelType.INPUTS: {
        const ch = new InputsChannel(ref.id, this.log);
        this.inputs = ch;
        return ch;
      }
      default: {
        const ch = new GenericChannel(ref.type, ref.id, this.log);
        this.others.set(`${CHANNEL_NAMES[ref.type] ?? ref.type}:${ref.id}`, ch);
        return ch;
      }
    }
  }

  private forget(ch: Channel): void {
    if (ch instanceof DisplayChannel) this.displays.delete(ch.id);
    else if (ch instanceof CursorChannel) this.cursors.delete(ch.id);
    else if (ch === this.inputs) this.inputs = null;
    else for (const [k, v] of this.others) if (v === ch) this.others.delete(k);
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
    this.closeChannels();
    this.setState('disconnected', err.message);
    for (const w of this.connectWaiters.splice(0)) w.reject(err);
  }

  disconnect(): void {
    if (this.state === 'disconnected') return;
    this.closeChannels();
    if (this.state === 'idle') this.state = 'connecting';
    this.setState('disconnected', 'disconnected by user');
    for (const w of this.connectWaiters.splice(0)) w.reject(new SpiceError('CLOSED', 'disconnected by user'));
  }

  private closeChannels(): void {
    for (const ch of [this.main, ...this.displays.values(), ...this.cursors.values(), ...this.others.values(), ...(this.inputs ? [this.inputs] : [])]) {
      ch.close();
    }
  }
}
