// Session controller: the app-level owner of "the" SPICE session. It builds
// SessionOptions from an EffectiveConfig (TLS, secure channels, proxy,
// disabled channels, preferred compression — what a .vv or the command line
// asks for), drives main/spice/session.ts, batches display/cursor events for
// the renderer like engine-bridge, and adds what remote-viewer leaves to the
// app: kiosk reconnect with back-off and a reason, the connection doctor's
// diagnosis, and the kiosk-quit policy. The Endpoint comes from
// main/config/endpoint.ts (CA files read there). It is a HostEngine (the page's ViewerApi + the display link's acks), so both hosts
// carry it unchanged.
import { readFile } from 'node:fs/promises';
import { RecordChannel } from '../spice/channels/record-channel';
import type { SharedFolder } from '../devices/webdav/shared-folder';
import type { AppState, AudioEvent, ClipboardPolicy, ClipKind, CursorCommand, DeviceEntry, InputEvent, HostEngine, SessionStatus, ViewerEvents } from '../../preload/contract';
import { Session, quietLogger } from '../spice/session';
import { dialFor, type Endpoint, type TransportFactory } from '../spice/transport';
import type { Logger } from '../spice/channels/base-channel';
import { Channel as ChannelType } from '../spice/protocol/enums';
import { SpiceError } from '../spice/wire/errors';
import { ConfigError } from '../config/errors';
import { isHelp, isVersion, parseCommandLine } from '../config/cli';
import { resolveConfig, type EffectiveConfig } from '../config/effective';
import { HOTKEY_ACTIONS, type HotkeyBindings } from '../config/hotkeys';
import { endpointFromConfig } from '../config/endpoint';
import { migrationMapper } from './migration-map';
import { isProxyAuthRequired } from '../transport/proxy';
import { DROP_TEXT, classifyDrop, diagnose, redact } from './doctor';
import { DEFAULT_BACKOFF, ReconnectScheduler, realClock, type BackoffOptions, type Clock, type DropReason } from './reconnect';
import { APP_NAME, checkRemoteViewerVersion, targetLabel } from './launch';
import { parseVvBytes } from '../config/vv';
import { DisplayFlow, type DisplayFlowStats } from './display-flow';
import type { DeviceManager } from '../devices';
import { isPanelSource } from '../devices/panel';
import { ClipboardSync } from '../spice/agent/clipboard';
import type { FileTransfer } from '../spice/agent/file-xfer';
import { AgentCap, DisplayConfigFlag } from '../spice/agent/protocol';
import { monitorsLayout } from './guest-monitors';
import type { DisplayEffect } from '../config/vv';
import { PageClipboard, type HostClipboardSource } from './host-clipboard';
import { VideoCodecType } from '../../preload/spice-enums';

/**
 * A configuration for a URI typed into the page: the launch settings with
 * another target. Only an address is accepted there: options (`--version`),
 * file names and other text get a ConfigError saying what to type.
 */
export function configForUri(uri: string, base: EffectiveConfig | undefined, env: Record<string, string | undefined> = {}): EffectiveConfig {
  const notAddress = (): never => {
    throw new ConfigError(`not a SPICE address: ${JSON.stringify(redact(uri.length > 80 ? `${uri.slice(0, 80)}…` : uri))}; type spice://HOST:PORT, spice+tls://HOST:PORT or spice+unix:///PATH`);
  };
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(uri)) notAddress();
  const r = parseCommandLine([uri]);
  if (isHelp(r) || isVersion(r) || r.target?.kind !== 'uri') return notAddress();
  const fresh = resolveConfig(r, { env });
  if (!base) return fresh;
  return { ...base, source: 'uri', ...(fresh.target ? { target: fresh.target } : {}) };
}

/**
 * A configuration for a .vv file opened in the page: parsed as a .vv on the
 * command line would be (version gate included), without the launch's own
 * options. Throws ConfigError.
 */
export function configForVv(bytes: Uint8Array, appVersion: string, env: Record<string, string | undefined> = {}): EffectiveConfig {
  const vv = parseVvBytes(bytes, { checkVersion: false });
  checkRemoteViewerVersion(vv, APP_NAME, appVersion);
  const r = parseCommandLine([]);
  if (isHelp(r) || isVersion(r)) throw new ConfigError('unexpected command line');
  return resolveConfig(r, { vv, env });
}

/** The bindings as the page matches them (AppState.hotkeys): accelerators, then the release sequence. */
export function hotkeysForPage(b: HotkeyBindings): NonNullable<AppState['hotkeys']> {
  const out: NonNullable<AppState['hotkeys']> = [];
  for (const action of HOTKEY_ACTIONS) {
    for (const h of b.actions[action]) {
      if (h.key === null) continue;
      const mods = (['ctrl', 'alt', 'shift', 'super'] as const).filter((m) => h[m]);
      out.push({ action, keys: [...mods, h.key], ...(h.code !== undefined ? { code: h.code } : {}) });
    }
  }
  out.push({ action: 'release-cursor', keys: [...b.releaseSequence] });
  return out;
}

/** The app state every session of a configuration starts with. */
/** The directions both policies allow. */
export function narrowest(a: ClipboardPolicy, b: ClipboardPolicy): ClipboardPolicy {
  const ways = (p: ClipboardPolicy) => ({ toGuest: p === 'both' || p === 'to-guest', toClient: p === 'both' || p === 'to-client' });
  const x = ways(a);
  const y = ways(b);
  const toGuest = x.toGuest && y.toGuest;
  const toClient = x.toClient && y.toClient;
  return toGuest && toClient ? 'both' : toGuest ? 'to-guest' : toClient ? 'to-client' : 'off';
}

/** A dropped file's block the page has not sent within this long ends its transfer. */
export const XFER_READ_TIMEOUT_MS = 60_000;

/** What Help → About lists the client as speaking (one line per area). */
export const ABOUT_FEATURES = [
  'Channels: main, display (several), inputs, cursor, playback, record, usbredir, smartcard, port',
  'Images: QUIC, LZ, GLZ, LZ4, JPEG, JPEG alpha, ZLIB-GLZ, bitmaps; video: MJPEG streams',
  'Sound: raw PCM and Opus, both ways',
  'Agent: clipboard (text, PNG), file transfer, monitors config, display config',
  'Devices: USB (usbredir, shared CD images), smartcards (VSCard over PC/SC)',
  'Seamless and semi-seamless migration; TLS, HTTP proxy, WebSocket, Unix socket',
];

/** --spice-disable-effects / disable-effects= as DISPLAY_CONFIG flags (0: nothing to send). */
/** SpiceVideoCodecType names (Guest details). */
const VIDEO_CODEC_NAMES: Readonly<Record<number, string>> = {
  [VideoCodecType.MJPEG]: 'MJPEG',
  [VideoCodecType.VP8]: 'VP8',
  [VideoCodecType.H264]: 'H.264',
  [VideoCodecType.VP9]: 'VP9',
  [VideoCodecType.H265]: 'H.265',
};

/** The connection's round trip goes to the page at most this often. */
export const LATENCY_EVERY_MS = 1000;

export function displayConfigFlags(effects: readonly DisplayEffect[]): number {
  const all = DisplayConfigFlag.DISABLE_WALLPAPER | DisplayConfigFlag.DISABLE_FONT_SMOOTH | DisplayConfigFlag.DISABLE_ANIMATION;
  const bit: Record<DisplayEffect, number> = { wallpaper: DisplayConfigFlag.DISABLE_WALLPAPER, 'font-smooth': DisplayConfigFlag.DISABLE_FONT_SMOOTH, animation: DisplayConfigFlag.DISABLE_ANIMATION, all };
  return effects.reduce((f, e) => f | bit[e], 0);
}

function baseApp(kiosk: boolean, label: string, cfg: EffectiveConfig | undefined, extra: Pick<AppState, 'zoom' | 'recent'>): AppState {
  return {
    ...(kiosk ? { kiosk } : {}),
    ...(label ? { target: label } : {}),
    ...(cfg ? { hotkeys: hotkeysForPage(cfg.ui.hotkeys) } : {}),
    ...(cfg?.ui.title !== undefined ? { title: cfg.ui.title } : {}),
    ...extra,
  };
}

/** The proxy's 407, which the page answers with a credentials prompt. */
export function proxyAuthOf(err: SpiceError): AppState['proxyAuth'] | undefined {
  return isProxyAuthRequired(err) ? { proxy: err.proxy, rejected: err.credentialsSent } : undefined;
}

export interface EndedInfo {
  /** The session had been connected before it ended. */
  everConnected: boolean;
  error?: SpiceError;
}

export interface ControllerOptions {
  /** The launch configuration (command line / .vv); may have no target. */
  config?: EffectiveConfig;
  transport: TransportFactory;
  log?: Logger;
  clock?: Clock;
  random?: () => number;
  backoff?: BackoffOptions;
  appVersion?: string;
  env?: Record<string, string | undefined>;
  /** Reads --spice-ca-file / the truststore fallback (default: the file system); rejects when missing. */
  readCaFile?: (path: string) => Promise<string>;
  /** Kiosk with --kiosk-quit=on-disconnect: the session ended (called once). */
  onEnded?: (info: EndedInfo) => void;
  /** A connect the user asked for came up, once (not each kiosk retry): recent connections. */
  onConnected?: (label: string, cfg: EffectiveConfig) => void;
  /** Probe the port after the server closed us (taken over vs VM stopped). Default true. */
  probeAfterClose?: boolean;
  probeTimeoutMs?: number;
  /** Saved zoom % (settings), used when -z/--zoom leaves the default. */
  savedZoom?: number;
  /** Saved preferences (File → Preferences). */
  preferences?: { autoResize: boolean; displayWindows?: boolean };
  /** The page changed preferences or the zoom: the host saves them. */
  onPreferences?: (p: { autoResize?: boolean; displayWindows?: boolean; zoom?: number }) => void;
  /** Recent connections for the page's URI field (settings; no passwords). */
  recent?: () => string[];
  /** Device managers (main/devices) for each new session; default none. `changed`: their panel entries changed. */
  devices?: (cfg: EffectiveConfig, changed: () => void) => DeviceManager[];
  /** Electron: saves a screenshot PNG the page made (a save dialog); absent in the web host, whose page downloads it. */
  saveScreenshot?: (png: Uint8Array) => void;
  /** Announce Opus on the playback channel (default true; false: the server sends raw PCM). */
  playbackOpus?: boolean;
  /** The page said which video codecs it decodes (its videoCodecs request): Electron connects after it. */
  onVideoCodecs?: (codecs: number[]) => void;
  /** Electron: the system clipboard; absent in the web host, where the page is the clipboard. */
  hostClipboard?: HostClipboardSource;
  /** The saved "Share clipboard" (settings) when --clipboard is not given; default true. */
  shareClipboard?: boolean;
  /** The user changed the clipboard policy in the page: save it (settings). */
  onClipboardPolicy?: (policy: ClipboardPolicy) => void;
  /** The run's shared folder (File → Preferences; each session's webdav share follows it); absent: none offered. */
  sharedFolder?: Pick<SharedFolder, 'state' | 'set' | 'choose' | 'onChange'>;
}

export interface SessionController extends HostEngine {
  session(): Session | null;
  unackedBatches(): number;
  /** Display batches in flight, messages waiting for their ACK (stats). */
  displayStats(): DisplayFlowStats;
  /** Connects with a whole configuration (launch, second instance, open-file). */
  connectConfig(cfg: EffectiveConfig): void;
  /** Stops reconnecting and closes the session. */
  close(): void;
  /** The launch target as shown to users ('' when none). */
  label(): string;
  /** The pending reconnect, if any (tests). */
  pendingReconnect(): { at: number; attempt: number; reason: DropReason } | null;
  /** A command chosen outside the page (the Electron menu): the page runs it. */
  runCommand(id: string): void;
}

type Listener<K extends keyof ViewerEvents> = (payload: ViewerEvents[K], batch: number) => void;

export function createSessionController(opts: ControllerOptions): SessionController {
  const log = opts.log ?? quietLogger;
  const clock = opts.clock ?? realClock;
  const scheduler = new ReconnectScheduler(clock, opts.backoff ?? DEFAULT_BACKOFF, opts.random ?? Math.random);
  const listeners: { [K in keyof ViewerEvents]: Set<Listener<K>> } = { status: new Set(), migration: new Set(), display: new Set(), cursor: new Set(), command: new Set(), audio: new Set(), devices: new Set(), clipboard: new Set(), fileXfer: new Set() };
  /** The current session's device managers and the Devices panel's last list. */
  let managers: DeviceManager[] = [];
  let deviceEntries: DeviceEntry[] = [];
  let devicesPending = false;
  // managers report bursts (a hotplug, a redirect's steps): one list per turn
  const devicesChanged = (): void => {
    if (devicesPending) return;
    devicesPending = true;
    queueMicrotask(() => {
      devicesPending = false;
      deviceEntries = managers.filter(isPanelSource).flatMap((m) => m.entries());
      emit('devices', deviceEntries, display.batch);
    });
  };
  // the clipboard: the system's (Electron) or the page's (web host), shared through each session's agent
  const pageClipboard = opts.hostClipboard ? null : new PageClipboard((ev) => emit('clipboard', ev, display.batch));
  const hostClipboard: HostClipboardSource = opts.hostClipboard ?? pageClipboard!;
  let prefs = { autoResize: opts.preferences?.autoResize ?? true, ...(opts.preferences?.displayWindows !== undefined ? { displayWindows: opts.preferences.displayWindows } : {}) };
  /** --auto-resize=never is a ceiling the preference cannot lift. */
  const autoResizeOn = (): boolean => (current ?? launch)?.ui.autoResize !== false && prefs.autoResize;
  const prefsState = (): Pick<AppState, 'autoResize' | 'preferences'> => {
    const cfg = current ?? launch;
    const fixed: ('autoResize' | 'clipboard')[] = [...(cfg?.ui.autoResize === false ? (['autoResize'] as const) : []), ...(cfg?.ui.clipboard ? (['clipboard'] as const) : [])];
    return { autoResize: autoResizeOn(), preferences: { ...prefs, fixed } };
  };
  const folderState = (): Pick<AppState, 'sharedFolder'> => (opts.sharedFolder ? { sharedFolder: opts.sharedFolder.state() } : {});
  let clipboardPolicy: ClipboardPolicy = opts.config?.ui.clipboard ?? (opts.shareClipboard === false ? 'off' : 'both');
  let clipboard: ClipboardSync | null = null;
  let agentReady = false;
  const agentState = (): Pick<AppState, 'agent' | 'clipboard'> => ({ agent: agentReady, clipboard: { policy: clipboardPolicy, page: pageClipboard !== null } });
  /** Files the page is sending (its id → the transfer and the reads waiting for its bytes). */
  const pageXfers = new Map<number, { xfer: FileTransfer; reads: Map<number, { ok: (b: Uint8Array) => void; fail: (e: Error) => void }> }>();
  /** The size the page last asked the guest to take (sent again when an agent comes). */
  /** The size each display's window asks for (display channel id → size). */
  const guestSizes = new Map<number, { width: number; height: number }>();
  let sentSize = '';
  const sendGuestSize = (): void => {
    const agent = session?.main.agent;
    if (!agent || agent.state !== 'ready' || !agent.has(AgentCap.MONITORS_CONFIG)) return;
    const monitors = monitorsLayout(guestSizes, session?.displays.size ?? 1);
    if (!monitors) return;
    const key = monitors.map((m) => `${m.width}x${m.height}+${m.x}`).join(',');
    if (key === sentSize) return;
    sentSize = key;
    agent.monitorsConfig(monitors);
  };
  hostClipboard.onChange((selection) => clipboard?.hostChanged(selection));
  const mapDestination = migrationMapper(opts.env?.SPICE_MIG_HOST);
  const launch = opts.config;
  const kiosk = launch?.ui.kiosk ?? false;
  const launchLabel = targetLabel(launch?.target);
  const readCaFile = opts.readCaFile ?? ((p: string) => readFile(p, 'utf8'));

  let current: EffectiveConfig | undefined;
  /**
   * Video codecs the page's display worker decodes besides MJPEG (its videoCodecs request); read
   * when a display channel links. Null until a page said: a session dialled before (the web host's
   * at start) announces only what --spice-preferred-video-codec asked for, the user's choice.
   */
  let pageVideoCodecs: number[] | null = null;
  let session: Session | null = null;
  let sessionConnected = false;
  /** The current session is the user's connect, not a kiosk retry (onConnected fires once per connect). */
  let startedByUser = false;
  let startedAt = 0;
  let everConnected = false;
  let userStopped = false;
  let ended = false;
  let generation = 0;
  let displayed = false;
  /** The display channel the commands in the stream belong to (the worker starts at 0, and again after serverChanged). */
  let displayShown = 0;
  let cursor: CursorCommand[] = [];
  let audio: AudioEvent[] = [];
  let scheduled = false;
  // display batches; their SPICE messages are ACKed once painted (displayAck)
  const display = new DisplayFlow((cmds, n) => emit('display', cmds, n));
  const displayChannels = () => session?.displays.values() ?? [];
  // proxy credentials typed into the page: memory only, never in settings
  let proxyCreds: { user: string; password: string } | undefined;
  const extra = (cfg: EffectiveConfig | undefined): Pick<AppState, 'zoom' | 'recent'> => {
    const z = cfg && cfg.ui.zoom !== 100 ? cfg.ui.zoom : (opts.savedZoom ?? cfg?.ui.zoom);
    const recent = opts.recent?.();
    return { ...(z !== undefined ? { zoom: z } : {}), ...(recent?.length ? { recent } : {}) };
  };
  /** The configuration with the page's proxy credentials put into the proxy URL. */
  const withCreds = (cfg: EffectiveConfig): EffectiveConfig =>
    cfg.proxy && proxyCreds ? { ...cfg, proxy: { ...cfg.proxy, username: proxyCreds.user, password: proxyCreds.password } } : cfg;
  const about: AppState['about'] = {
    version: opts.appVersion ?? '0.0.0',
    runtime: [`Node ${process.versions.node}`, ...(process.versions.electron ? [`Electron ${process.versions.electron}`, `Chromium ${process.versions.chrome}`] : [])].join(', '),
    protocol: 'SPICE 2.2 (spice-protocol 0.14)',
    features: ABOUT_FEATURES,
  };
  let app: AppState = { ...baseApp(kiosk, launchLabel, launch, extra(launch)), ...agentState(), ...prefsState(), ...folderState(), about };
  let lastStatus: SessionStatus = { state: 'idle', message: 'not connected', app };

  const emit = <K extends keyof ViewerEvents>(name: K, payload: ViewerEvents[K], n: number): void => {
    for (const cb of listeners[name]) (cb as Listener<K>)(payload, n);
  };
  const flush = (): void => {
    scheduled = false;
    display.flush(displayChannels());
    if (cursor.length) {
      const c = cursor;
      cursor = [];
      emit('cursor', c, display.batch);
    }
    if (audio.length) {
      // not a display batch: audio never waits for the page to paint
      const a = audio;
      audio = [];
      emit('audio', a, display.batch);
    }
  };
  const schedule = (): void => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const status = (s: SessionStatus): void => {
    lastStatus = { ...s, app };
    flush(); // commands before the status that follows them
    emit('status', lastStatus, display.batch);
  };
  const setApp = (next: AppState): void => {
    app = next;
    status(lastStatus);
  };
  opts.sharedFolder?.onChange(() => setApp({ ...app, ...folderState() }));

  function secrets(cfg: EffectiveConfig | undefined): string[] {
    const out: string[] = [];
    if (cfg?.target?.password) out.push(cfg.target.password);
    if (cfg?.proxy?.password) out.push(cfg.proxy.password);
    return out;
  }

  function start(cfg: EffectiveConfig, userInitiated: boolean): void {
    const gen = ++generation;
    if (userInitiated) {
      scheduler.reset();
      userStopped = false;
    }
    scheduler.cancel();
    const old = session;
    session = null;
    old?.disconnect();
    current = cfg;
    sessionConnected = false;
    startedByUser = userInitiated;
    startedAt = clock.now();
    const label = targetLabel(cfg.target);
    // a kiosk retry keeps the countdown and the proxy prompt up (the page's form stays put)
    const keep = userInitiated ? {} : { ...(app.reconnect ? { reconnect: app.reconnect } : {}), ...(app.proxyAuth ? { proxyAuth: app.proxyAuth } : {}) };
    if (cfg.ui.clipboard) clipboardPolicy = cfg.ui.clipboard;
    agentReady = false;
    sentSize = '';
    app = { ...baseApp(kiosk, label, cfg, extra(launch ?? cfg)), ...agentState(), ...prefsState(), ...folderState(), about, ...keep };
    endpointFromConfig(withCreds(cfg), { readFile: readCaFile })
      .then(({ endpoint, password, disabledChannels }) => {
        if (gen !== generation) return;
        // a new server knows nothing of what the renderer cached from the old one
        if (displayed) {
          display.push({ t: 'serverChanged', all: true });
          displayShown = 0;
          schedule();
        }
        // `s` is read only when a device list changes, after it is assigned
        managers =
          opts.devices?.(cfg, () => {
            if (session === s) devicesChanged();
          }) ?? [];
        const s = new Session({
          endpoint,
          password,
          transport: opts.transport,
          log,
          disabledChannels,
          ...(cfg.preferredCompression !== undefined ? { preferredCompression: cfg.preferredCompression } : {}),
          videoCodecs: () => pageVideoCodecs ?? cfg.preferredVideoCodecs ?? [],
          ...(cfg.preferredVideoCodecs !== undefined ? { preferredVideoCodecs: cfg.preferredVideoCodecs } : {}),
          mapMigrationDestination: mapDestination,
          devices: managers,
          ...(opts.playbackOpus !== undefined ? { playbackOpus: opts.playbackOpus } : {}),
          onDisplay: (id, cmd) => {
            displayed = true;
            // one stream for every display channel: a marker where the channel changes
            if (id !== displayShown) {
              display.push({ t: 'selectDisplay', id });
              displayShown = id;
            }
            display.push(cmd);
            if (cmd.t === 'streamCreate') codecInUse('video', VIDEO_CODEC_NAMES[cmd.stream.codec] ?? `codec ${cmd.stream.codec}`);
            schedule();
          },
          // every display message is ACKed to the server only once its batch is painted
          onDisplayReceived: () => schedule(),
          onCursor: (cmd) => {
            cursor.push(cmd);
            schedule();
          },
          onAudio: (_id, ev) => {
            if (ev.t === 'start') codecInUse('audio', ev.mode === 'opus' ? 'Opus' : 'raw PCM');
            audio.push(ev);
            schedule();
          },
          onRecord: (_id, ev) => {
            if (ev.t !== 'start' && ev.t !== 'stop') return;
            audio.push(ev.t === 'start' ? { t: 'recordStart', channels: ev.channels, frequency: ev.frequency } : { t: 'recordStop' });
            schedule();
          },
          onStatus: (st) => {
            if (session === s) onSessionStatus(s, st, endpoint, gen);
          },
          onMigration: (m) => {
            if (session !== s) return;
            flush();
            emit('migration', m, display.batch);
            // the VM lives at the destination now: the address the page and Guest details show
            if (m.phase === 'done' && m.uri && m.uri !== app.target) setApp({ ...app, target: m.uri });
          },
        });
        session = s;
        attachClipboard(s);
        s.connect().catch(() => {
          /* reported through onStatus */
        });
      })
      .catch((e: unknown) => {
        if (gen !== generation) return;
        const err = e instanceof SpiceError ? e : new ConfigError(String((e as Error)?.message ?? e));
        failed(err, undefined, gen);
      });
  }

  /** Shares the host clipboard through this session's agent (its AgentChannel outlives seamless switches). */
  function attachClipboard(s: Session): void {
    const sync = new ClipboardSync(s.main.agent, hostClipboard, {
      policy: clipboardPolicy,
      onTransfer: (t) => {
        if (session === s) emit('clipboard', { t: 'transfer', direction: t.direction, kind: t.kind, bytes: t.bytes, ...(t.blocked ? { blocked: t.blocked } : {}) }, display.batch);
      },
      onError: (m) => log.warn(`clipboard: ${m}`),
    });
    clipboard = sync;
    s.main.agent.listen({
      onState: (st) => {
        // the host clipboard is watched while this session's agent is there (not after it ended)
        if (session === s || session === null) hostClipboard.watch?.(st === 'ready' && session === s);
        sync.agentState(st);
        if (session !== s) return;
        if (st !== 'ready') sentSize = '';
        else {
          if (autoResizeOn()) sendGuestSize();
          // the effects the configuration turns off, as spice-gtk sends them when the agent comes (Windows agents act on it)
          const flags = displayConfigFlags(current?.disableEffects ?? []);
          if (flags && s.main.agent.has(AgentCap.DISPLAY_CONFIG)) s.main.agent.displayConfig(flags);
        }
        if (agentReady === (st === 'ready')) return;
        agentReady = st === 'ready';
        setApp({ ...app, ...agentState() });
      },
      onMessage: (m) => {
        // a malformed clipboard message from the agent: reported, the session and the agent live
        try {
          sync.agentMessage(m);
        } catch (e) {
          log.warn(`agent: ${(e as SpiceError).code ?? 'ERROR'}: ${(e as Error).message}`);
        }
      },
    });
  }

  /** What the server chose (Guest details); a status only when it changes. */
  function codecInUse(kind: 'video' | 'audio', name: string): void {
    if (app.codecs?.[kind] === name) return;
    setApp({ ...app, codecs: { ...app.codecs, [kind]: name } });
  }

  /** Connection quality from the inputs channel's round trips: the status carries it, at most once a second. */
  let latencyAt = -Infinity;
  function watchLatency(s: Session): void {
    const inputs = s.inputs;
    if (!inputs || inputs.onRoundTrip) return;
    inputs.onRoundTrip = () => {
      const raw = inputs.roundTripMs;
      if (session !== s || raw === undefined) return;
      // tenths below 10 ms (loopback answers in 0.2 ms)
      const ms = raw < 10 ? Math.round(raw * 10) / 10 : Math.round(raw);
      if (ms === app.latencyMs || clock.now() - latencyAt < LATENCY_EVERY_MS) return;
      latencyAt = clock.now();
      setApp({ ...app, latencyMs: ms });
    };
  }

  function onSessionStatus(s: Session, raw: SessionStatus, endpoint: Endpoint, gen: number): void {
    // a unix socket's Endpoint has a placeholder host:port: show the socket path instead
    const st = endpoint.unixPath ? { ...raw, message: raw.message.split(`${endpoint.host}:${endpoint.port}`).join(endpoint.unixPath) } : raw;
    if (st.state === 'disconnected' && managers.length) {
      // the session released its devices: the panel empties
      managers = [];
      devicesChanged();
    }
    if (st.state === 'connected') {
      watchLatency(s);
      const first = !sessionConnected;
      sessionConnected = true;
      everConnected = true;
      scheduler.connected();
      const { reconnect: _r, diagnosis: _d, proxyAuth: _p, ...rest } = app;
      app = rest;
      status(st);
      if (first && startedByUser && current) {
        opts.onConnected?.(targetLabel(current.target), current);
        // the page's recent list shows the connect it just made
        const recent = opts.recent?.();
        if (recent?.length && recent.join('\n') !== app.recent?.join('\n')) setApp({ ...app, recent });
      }
      return;
    }
    if (st.state !== 'disconnected') {
      status(st);
      return;
    }
    if (userStopped) {
      const { reconnect: _r, ...rest } = app;
      app = rest;
      status(st);
      return;
    }
    const err = s.error ?? new SpiceError('CLOSED', st.message || 'session closed');
    failed(err, { s, st, endpoint }, gen);
  }

  function failed(err: SpiceError, ctx: { s: Session; st: SessionStatus; endpoint: Endpoint } | undefined, gen: number): void {
    const wasConnected = sessionConnected;
    const cfg = current;
    const diagnosis = diagnose(err, {
      target: targetLabel(cfg?.target) || '(none)',
      appVersion: opts.appVersion ?? '0.0.0',
      startedAt,
      failedAt: clock.now(),
      channels: ctx?.st.channels ?? [],
      linkFailures: ctx?.s.linkFailures.map((f) => ({ name: f.name, message: f.error.message })) ?? [],
      secrets: secrets(cfg && withCreds(cfg)),
      wasConnected,
      ...(cfg?.proxy ? { extra: [`Proxy: ${cfg.proxy.scheme}://${cfg.proxy.host}:${cfg.proxy.port} (${cfg.proxy.from})`] } : {}),
    });
    const base: SessionStatus = ctx?.st ?? { state: 'disconnected', message: err.message, code: err.code };
    const proxyAuth = proxyAuthOf(err);
    app = { ...app, diagnosis, ...(proxyAuth ? { proxyAuth } : {}) };
    if (!kiosk || !launch) {
      status(base);
      return;
    }
    if (launch.ui.quitOnDisconnect) {
      status(base);
      if (!ended) {
        ended = true;
        opts.onEnded?.({ everConnected, error: err });
      }
      return;
    }
    const plan = (reachable?: boolean): void => {
      if (gen !== generation || userStopped) return;
      const reason = classifyDrop(err, { wasConnected, ...(reachable !== undefined ? { serverReachable: reachable } : {}) });
      const next = scheduler.schedule(reason, () => {
        if (current && !userStopped) start(current, false);
      });
      app = {
        ...app,
        reconnect: { reason, text: DROP_TEXT[reason], detail: `${err.code}: ${err.message}`, attempt: next.attempt, delayMs: next.delayMs, at: next.at },
      };
      log.info(`kiosk: ${reason}; reconnect attempt ${next.attempt} in ${next.delayMs} ms`);
      status(base);
    };
    if (err.code === 'CLOSED' && wasConnected && ctx && opts.probeAfterClose !== false) {
      status(base);
      probe(ctx.endpoint).then(plan, () => plan(false));
    } else plan();
  }

  /** What the user asked to connect to is no configuration: the doctor says why, nothing is dialled. */
  function notStarted(err: SpiceError): void {
    current = undefined;
    sessionConnected = false;
    startedAt = clock.now();
    failed(err, undefined, ++generation);
  }

  /** Opens (and at once closes) a plain connection to the main channel's port, without linking. */
  async function probe(ep: Endpoint): Promise<boolean> {
    const timeout = opts.probeTimeoutMs ?? 2000;
    let timer: unknown = null;
    try {
      const t = await Promise.race([
        opts.transport(dialFor(ep, ChannelType.MAIN)),
        new Promise<never>((_ok, fail) => (timer = clock.setTimeout(() => fail(new Error('probe timeout')), timeout))),
      ]);
      t.close();
      return true;
    } catch {
      return false;
    } finally {
      if (timer !== null) clock.clearTimeout(timer);
    }
  }

  return {
    connect(uri: string, password?: string) {
      let cfg: EffectiveConfig;
      if (launch?.target && uri === launchLabel) cfg = launch;
      else {
        try {
          cfg = configForUri(uri, launch, opts.env);
        } catch (e) {
          // the status line and the report show what failed, never the password= the address carried
          const hide = password !== undefined ? [password] : [];
          notStarted(e instanceof SpiceError ? new SpiceError(e.code, redact(e.message, hide)) : new ConfigError(redact(String(e), hide)));
          return;
        }
      }
      if (password !== undefined && cfg.target) cfg = { ...cfg, target: { ...cfg.target, password } };
      start(cfg, true);
    },
    videoCodecs(codecs: number[]) {
      pageVideoCodecs = [...codecs];
      opts.onVideoCodecs?.(pageVideoCodecs);
    },
    openVv(bytes: Uint8Array) {
      if (kiosk) return; // a kiosk shows its one VM
      let cfg: EffectiveConfig;
      try {
        cfg = configForVv(bytes, opts.appVersion ?? '0.0.0', opts.env);
      } catch (e) {
        notStarted(e instanceof SpiceError ? e : new ConfigError(`the .vv file: ${(e as Error).message}`));
        return;
      }
      start(cfg, true);
    },
    setProxyCredentials(user: string, password: string) {
      proxyCreds = { user, password };
      if (current) start(current, true);
    },
    connectConfig(cfg: EffectiveConfig) {
      start(cfg, true);
    },
    disconnect() {
      userStopped = true;
      scheduler.cancel();
      session?.disconnect();
      if (app.reconnect) {
        const { reconnect: _r, ...rest } = app;
        setApp(rest);
      }
    },
    close() {
      userStopped = true;
      generation++;
      scheduler.cancel();
      session?.disconnect();
    },
    input(events: InputEvent[]) {
      for (const ev of events) session?.input(ev);
    },
    sendScancodes(bytes: number[]) {
      const inputs = session?.inputs;
      if (inputs && sessionConnected) inputs.keyScancodes(bytes);
    },
    saveScreenshot(png: Uint8Array) {
      if (opts.saveScreenshot) opts.saveScreenshot(png);
      else log.warn('screenshot: this host saves none (the web page downloads it)');
    },
    runCommand(id: string) {
      emit('command', id, display.batch);
    },
    displayAck(n: number) {
      if (display.paintedUpTo(n)) schedule();
    },
    setDeviceShared(kind: DeviceEntry['kind'], id: string, shared: boolean) {
      const m = managers.filter(isPanelSource).find((x) => x.panelKind === kind);
      if (!m || session === null) return;
      // a refusal (no free channel, a busy device) is on the device's line; say it here too
      m.setShared(id, shared).catch((e: unknown) => log.warn(`${kind} ${id}: ${(e as Error).message}`)).finally(devicesChanged);
    },
    setPreferences(p: { autoResize?: boolean; displayWindows?: boolean; zoom?: number }) {
      const { zoom, ...rest } = p;
      opts.onPreferences?.(p);
      // the zoom is the page's own already: saved, no status for it
      if (zoom !== undefined) app = { ...app, zoom };
      if (!Object.keys(rest).length) return;
      prefs = { ...prefs, ...rest };
      const was = app.autoResize;
      setApp({ ...app, ...prefsState() });
      // turned on: ask for the windows' sizes again
      if (!was && app.autoResize) {
        sentSize = '';
        sendGuestSize();
      }
    },
    setSharedFolder(change: { dir?: string; readOnly?: boolean; shared?: boolean }) {
      // a refusal is AppState.sharedFolder.error, in words, for the page
      if (opts.sharedFolder) void opts.sharedFolder.set(change);
      else log.warn('shared folder: this host offers none (the webdav channel is disabled)');
    },
    chooseSharedFolder() {
      if (opts.sharedFolder) void opts.sharedFolder.choose();
      else log.warn('shared folder: this host offers none (the webdav channel is disabled)');
    },
    setDisplayShown(display: number, shown: boolean) {
      const hidden = new Set(app.hiddenDisplays ?? []);
      if (shown) hidden.delete(display);
      else hidden.add(display);
      const { hiddenDisplays: _h, ...rest } = app;
      setApp({ ...rest, ...(hidden.size ? { hiddenDisplays: [...hidden].sort((a, b) => a - b) } : {}) });
    },
    setSmartcardInserted(inserted: boolean) {
      for (const m of managers.filter(isPanelSource)) m.setCardsPresented?.(inserted);
      devicesChanged();
    },
    clipboardContent(selection: number, items: { kind: ClipKind; data: Uint8Array }[]) {
      if (pageClipboard) pageClipboard.setContent(selection, items);
      else log.warn('clipboard: this host uses the system clipboard, not the page\'s');
    },
    fileXferStart(id: number, name: string, size: number) {
      const done = (ok: boolean, code?: string, error?: string) => emit('fileXfer', { t: 'done', id, ok, ...(code ? { code } : {}), ...(error ? { error } : {}) }, display.batch);
      if (pageXfers.has(id)) {
        // another page's transfer has this id: answering would end that one on its page
        log.warn(`file transfer ${id}: that id is already running; ignored`);
        return;
      }
      if (!session) {
        done(false, 'CLOSED', 'not connected');
        return;
      }
      const reads = new Map<number, { ok: (b: Uint8Array) => void; fail: (e: Error) => void }>();
      const xfer = session.main.files.start({
        name,
        size,
        // the page holds the file: ask it for this block, resolved by fileXferData
        // a page that went away never answers: the transfer fails instead of waiting forever
        read: (offset, max) =>
          new Promise<Uint8Array>((ok, fail) => {
            const timer = setTimeout(() => {
              reads.delete(offset);
              fail(new Error('the page stopped sending the file'));
            }, XFER_READ_TIMEOUT_MS);
            reads.set(offset, {
              ok: (b) => (clearTimeout(timer), ok(b)),
              fail: (e) => (clearTimeout(timer), fail(e)),
            });
            emit('fileXfer', { t: 'read', id, offset, max }, display.batch);
          }),
        onProgress: (p) => emit('fileXfer', { t: 'progress', id, sent: p.sent, size: p.size, percent: p.percent }, display.batch),
      });
      pageXfers.set(id, { xfer, reads });
      void xfer.result.then((r) => {
        pageXfers.delete(id);
        for (const w of reads.values()) w.fail(new Error('transfer ended'));
        if (r.ok) done(true);
        else done(false, r.error.code, r.error.message);
      });
    },
    fileXferData(id: number, offset: number, data: Uint8Array) {
      const w = pageXfers.get(id)?.reads;
      const waiting = w?.get(offset);
      if (!w || !waiting) return; // ended meanwhile, or not asked for
      w.delete(offset);
      if (data.length) waiting.ok(data);
      else waiting.fail(new Error('the page could not read the file'));
    },
    fileXferCancel(id: number) {
      pageXfers.get(id)?.xfer.cancel();
    },
    resizeGuest(width: number, height: number, display: number) {
      if (!autoResizeOn()) return;
      guestSizes.set(display, { width, height });
      sendGuestSize();
    },
    setClipboardPolicy(policy: ClipboardPolicy) {
      // --clipboard on the command line is a ceiling the page cannot widen (an admin's policy), nor is it saved over
      const ceiling = current?.ui.clipboard ?? launch?.ui.clipboard;
      clipboardPolicy = ceiling ? narrowest(policy, ceiling) : policy;
      clipboard?.setPolicy(clipboardPolicy);
      if (!ceiling) opts.onClipboardPolicy?.(clipboardPolicy);
      setApp({ ...app, ...agentState() });
    },
    recordData(pcm: Uint8Array) {
      const rec = session?.channels().find((c): c is RecordChannel => c instanceof RecordChannel);
      try {
        rec?.sendData(pcm);
      } catch (e) {
        log.warn(`microphone data not sent: ${(e as Error).message}`);
      }
    },
    on(event, cb) {
      const set = listeners[event] as Set<typeof cb>;
      set.add(cb);
      if (event === 'status') (cb as Listener<'status'>)(lastStatus, display.batch);
      if (event === 'devices') (cb as Listener<'devices'>)(deviceEntries, display.batch);
      return () => set.delete(cb);
    },
    session: () => session,
    unackedBatches: () => display.batch - display.painted,
    displayStats: () => display.stats(displayChannels()),
    label: () => launchLabel,
    pendingReconnect: () => (scheduler.pending ? { at: scheduler.pending.at, attempt: scheduler.pending.attempt, reason: scheduler.pending.reason } : null),
  };
}
