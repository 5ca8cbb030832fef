// THE typed contract between the main process (protocol engine) and the
// renderer. Electron's preload and the web host's WebSocket bridge both carry
// exactly these messages. Types plus constant lists; type-only imports (the
// request table, preload/requests.ts), so any environment can use it.
//
// Display traffic is parsed in main into DisplayCommands that still carry
// their compressed image payloads; the renderer decodes and paints them, so
// raw RGBA never crosses the process boundary.

import type { RequestName, ViewerRequests } from './requests';

// ---------------------------------------------------------------- geometry
export interface Point {
  x: number;
  y: number;
}
/** spice.proto Rect: edges, right/bottom exclusive. */
export interface Rect {
  top: number;
  left: number;
  bottom: number;
  right: number;
}
/** Clip: null = none, else the union of rects. */
export type Clip = Rect[] | null;

// ---------------------------------------------------------------- images
export interface Palette {
  /** u64 unique id (for PAL_CACHE_ME / PAL_FROM_CACHE). */
  unique: bigint;
  /** 0xAARRGGBB-style entries as on the wire (xRGB). */
  ents: Uint32Array;
}

/** Palette of an indexed image: inline, or a reference to the palette cache. */
export type PaletteRef = { palette: Palette; cacheMe: boolean } | { fromCache: bigint } | null;

export interface ImageDescriptor {
  /** u64 image id, key of the image cache (and GLZ window for GLZ_RGB). */
  id: bigint;
  /** SPICE image_type (ImageType in main/spice/protocol/enums.ts). */
  type: number;
  /** image_flags: CACHE_ME=1, HIGH_BITS_SET=2, CACHE_REPLACE_ME=4. */
  flags: number;
  width: number;
  height: number;
}

export type ImageData_ =
  | { kind: 'bitmap'; format: number; flags: number; x: number; y: number; stride: number; palette: PaletteRef; data: Uint8Array }
  | { kind: 'quic'; data: Uint8Array }
  | { kind: 'lz_rgb'; data: Uint8Array }
  | { kind: 'glz_rgb'; data: Uint8Array }
  | { kind: 'lz_plt'; flags: number; palette: PaletteRef; data: Uint8Array }
  | { kind: 'lz4'; data: Uint8Array }
  | { kind: 'jpeg'; data: Uint8Array }
  | { kind: 'jpeg_alpha'; flags: number; jpegSize: number; data: Uint8Array }
  | { kind: 'zlib_glz_rgb'; glzDataSize: number; data: Uint8Array }
  | { kind: 'from_cache'; lossless: boolean }
  | { kind: 'surface'; surfaceId: number };

export interface SpiceImage {
  descriptor: ImageDescriptor;
  data: ImageData_;
}

export type Brush = { type: 'none' } | { type: 'solid'; color: number } | { type: 'pattern'; pattern: SpiceImage; pos: Point };

export interface QMask {
  /** mask_flags: INVERS=1. */
  flags: number;
  pos: Point;
  bitmap: SpiceImage | null;
}

export interface DisplayBase {
  surfaceId: number;
  box: Rect;
  clip: Clip;
}

export interface PathSegment {
  /** path_flags: BEGIN=1, END=2, CLOSE=8, BEZIER=16 (bit values). */
  flags: number;
  /** fixed 28.4 points. */
  points: Point[];
}
export interface LineAttr {
  flags: number;
  /** fixed 28.4 dash lengths, when STYLED. */
  style: number[];
}

// ---------------------------------------------------------------- display commands
export type DrawCommand =
  | { op: 'fill'; base: DisplayBase; brush: Brush; ropd: number; mask: QMask }
  | { op: 'opaque'; base: DisplayBase; src: SpiceImage | null; srcArea: Rect; brush: Brush; ropd: number; scaleMode: number; mask: QMask }
  | { op: 'copy'; base: DisplayBase; src: SpiceImage | null; srcArea: Rect; ropd: number; scaleMode: number; mask: QMask }
  | { op: 'blend'; base: DisplayBase; src: SpiceImage | null; srcArea: Rect; ropd: number; scaleMode: number; mask: QMask }
  | { op: 'blackness' | 'whiteness' | 'invers'; base: DisplayBase; mask: QMask }
  | { op: 'rop3'; base: DisplayBase; src: SpiceImage | null; srcArea: Rect; brush: Brush; rop3: number; scaleMode: number; mask: QMask }
  | { op: 'stroke'; base: DisplayBase; path: PathSegment[]; attr: LineAttr; brush: Brush; foreMode: number; backMode: number }
  | { op: 'transparent'; base: DisplayBase; src: SpiceImage | null; srcArea: Rect; srcColor: number; trueColor: number }
  | { op: 'alphaBlend'; base: DisplayBase; alphaFlags: number; alpha: number; src: SpiceImage | null; srcArea: Rect }
  | { op: 'copyBits'; base: DisplayBase; srcPos: Point }
  | {
      op: 'composite';
      base: DisplayBase;
      flags: number;
      src: SpiceImage | null;
      mask: SpiceImage | null;
      srcTransform: number[] | null;
      maskTransform: number[] | null;
      srcOrigin: Point;
      maskOrigin: Point;
    };

export interface StreamCreate {
  surfaceId: number;
  id: number;
  flags: number;
  codec: number;
  streamWidth: number;
  streamHeight: number;
  srcWidth: number;
  srcHeight: number;
  dest: Rect;
  clip: Clip;
}

export interface MonitorHead {
  id: number;
  surfaceId: number;
  width: number;
  height: number;
  x: number;
  y: number;
  flags: number;
}

/** Everything the display channel tells the renderer, in wire order. */
export type DisplayCommand =
  | { t: 'draw'; cmd: DrawCommand }
  | { t: 'surfaceCreate'; surfaceId: number; width: number; height: number; format: number; flags: number }
  | { t: 'surfaceDestroy'; surfaceId: number }
  | { t: 'mark' }
  | { t: 'reset' }
  | { t: 'invalList'; resources: { type: number; id: bigint }[] }
  | { t: 'invalAllPixmaps' }
  | { t: 'invalPalette'; id: bigint }
  | { t: 'invalAllPalettes' }
  | { t: 'streamCreate'; stream: StreamCreate }
  | { t: 'streamData'; id: number; mmTime: number; width?: number; height?: number; dest?: Rect; data: Uint8Array }
  | { t: 'streamClip'; id: number; clip: Clip }
  | { t: 'streamDestroy'; id: number }
  | { t: 'streamDestroyAll' }
  | { t: 'monitorsConfig'; maxAllowed: number; heads: MonitorHead[] }
  /** The commands that follow are display channel `id`'s (a VM with several display devices); 0 until said. */
  | { t: 'selectDisplay'; id: number }
  /**
   * The display now talks to a server that does not share our caches (semi-seamless
   * migration, switch-host, reconnect): drop image/palette caches, the GLZ window and
   * surfaces; keep painting the last picture until the new server draws. From a display
   * channel (its own reset): that display only. `all` (the controller, a new session): every
   * display; the first keeps its picture, the others go until the new server shows them.
   */
  | { t: 'serverChanged'; all?: boolean };

// ---------------------------------------------------------------- cursor
export interface CursorShape {
  /** u64 unique (cache key). */
  unique: bigint;
  /** cursor_type: ALPHA=0, MONO=1, COLOR4/8/16/24/32. */
  type: number;
  width: number;
  height: number;
  hotX: number;
  hotY: number;
  data: Uint8Array;
}
export type CursorCommand =
  | { t: 'set'; pos: Point; visible: boolean; shape: CursorShape | null }
  | { t: 'move'; pos: Point }
  | { t: 'hide' }
  | { t: 'trail'; length: number; frequency: number }
  | { t: 'reset' }
  | { t: 'invalAll' }
  | { t: 'invalOne'; id: bigint };

// ---------------------------------------------------------------- session
export type SessionState = 'idle' | 'connecting' | 'connected' | 'disconnected';

export interface SessionStatus {
  state: SessionState;
  /** Human text for the status line. */
  message: string;
  /** SpiceError code when disconnected by an error. */
  code?: string;
  /** VM name / uuid from the main channel when known. */
  name?: string;
  uuid?: string;
  mouseMode?: 'server' | 'client';
  channels?: string[];
  /** The channels encrypted to the server (TLS or wss://). */
  secureChannels?: string[];
  /** Kiosk / reconnect / connection-doctor state (main/app/session-controller.ts). */
  app?: AppState;
}

// ---------------------------------------------------------------- migration
export type MigrationMode = 'seamless' | 'semi-seamless' | 'switch-host';
export type MigrationPhase = 'connecting' | 'migrating' | 'switching' | 'done' | 'failed' | 'cancelled';

export interface MigrationChannelStatus {
  name: string;
  /** SPICE_MSG_MIGRATE flags (1 flush, 2 data) or -1 before MIGRATE. */
  flags: number;
  queuedBytes: number;
  forwardedBytes: number;
  droppedBytes: number;
  /** MIGRATE received → swapped, ms. */
  swapMs?: number;
}

export interface MigrationStatus {
  mode: MigrationMode;
  phase: MigrationPhase;
  /** host:port the client moves to (after the host-mapping hook). */
  destination: string;
  /** Human words for the banner. */
  message: string;
  /** Epoch ms when the server announced the migration. */
  startedAt: number;
  /** Seamless: first MIGRATE received → last channel swapped, ms. Others: announce → done. */
  durationMs?: number;
  /** Done: the address of the VM now (the viewer's address field shows it), without secrets. */
  uri?: string;
  channels: MigrationChannelStatus[];
}

// ---------------------------------------------------------------- audio (main → renderer)
/**
 * The playback channel's stream, as the server sent it: 'start' says the mode
 * ('raw': interleaved S16 LE; 'opus': one Opus packet per 'data'), channel
 * count and rate; times are the server's multimedia time in ms. Volume is per
 * channel, 0..65535, as the guest set it.
 */
export type AudioEvent =
  | { t: 'start'; mode: 'raw' | 'opus'; channels: number; frequency: number; time: number }
  | { t: 'data'; time: number; data: Uint8Array }
  | { t: 'stop' }
  | { t: 'volume'; volume: number[] }
  | { t: 'mute'; mute: boolean }
  | { t: 'latency'; ms: number }
  /** The guest records (record channel START): the page captures the microphone, if the user allows it. */
  | { t: 'recordStart'; channels: number; frequency: number }
  | { t: 'recordStop' };

// ---------------------------------------------------------------- input (renderer → main)
export type InputEvent =
  | { t: 'key'; scancode: number; down: boolean }
  | { t: 'modifiers'; flags: number }
  | { t: 'mousePosition'; x: number; y: number; buttons: number; displayId: number }
  | { t: 'mouseMotion'; dx: number; dy: number; buttons: number }
  | { t: 'mouseButton'; button: number; down: boolean; buttons: number }
  | { t: 'releaseAllKeys' };

// ---------------------------------------------------------------- the bridge
/** main → renderer events. */
// ---------------------------------------------------------------- devices (main → renderer)
/**
 * One line of the Devices panel (File → USB devices and smartcards): a USB device of the client
 * machine or a shared CD image (kind 'usb', id from the USB manager), or a PC/SC reader (kind
 * 'smartcard', id = the reader's name). `shared` is the toggle: redirected / offered to the guest,
 * or on its way there.
 */
export interface DeviceEntry {
  kind: 'usb' | 'smartcard' | 'folder';
  id: string;
  label: string;
  /** usb: VID:PID (and "CD image"); smartcard: the card's state. */
  detail: string;
  /** usb: free | connecting | redirected | error; smartcard: adding | shared | rejected | waiting | stopped; folder: shared | waiting | stopped. */
  state: string;
  shared: boolean;
  /** Smartcard: the guest has used the card (a card connection is open). */
  inUse?: boolean;
  /** What went wrong, in words that name what to do. */
  error?: string;
}

// ---------------------------------------------------------------- clipboard (main → renderer)
/** Which ways the clipboard is shared. */
export type ClipboardPolicy = 'both' | 'to-guest' | 'to-client' | 'off';
export type ClipKind = 'text' | 'png';
/**
 * 'write': the guest copied something; the page puts it on the browser's clipboard (web host only:
 * Electron's main process writes the system clipboard itself). 'transfer': what moved (or was
 * blocked, and why), for the indicator.
 */
export type ClipboardEvent =
  | { t: 'write'; selection: number; kind: ClipKind; data: Uint8Array }
  | { t: 'transfer'; direction: 'to-guest' | 'to-client'; kind: ClipKind; bytes: number; blocked?: string };

// ---------------------------------------------------------------- file transfer (main ↔ renderer)
/**
 * Files dropped on the display go to the guest through its agent. The page holds the files and
 * gives main their bytes when asked ('read' → fileXferData); main reports progress (bytes that
 * left for the guest; 100 % only when the agent confirmed) and the end, with the agent's error
 * in words.
 */
export type FileXferEvent =
  | { t: 'read'; id: number; offset: number; max: number }
  | { t: 'progress'; id: number; sent: number; size: number; percent: number }
  | { t: 'done'; id: number; ok: boolean; code?: string; error?: string };

export interface ViewerEvents {
  status: SessionStatus;
  migration: MigrationStatus;
  display: DisplayCommand[];
  cursor: CursorCommand[];
  /** A command (preload/commands.ts id) chosen outside the page: the Electron menu. */
  command: string;
  audio: AudioEvent[];
  /** The Devices panel's list, whenever a device, a reader or a state changes (empty without a session). */
  devices: DeviceEntry[];
  clipboard: ClipboardEvent;
  fileXfer: FileXferEvent;
}

/** Every event name, once: the bridges iterate it (a new event cannot be forgotten by one of them). */
export const VIEWER_EVENT_NAMES = ['status', 'migration', 'display', 'cursor', 'command', 'audio', 'devices', 'clipboard', 'fileXfer'] as const satisfies readonly (keyof ViewerEvents)[];

/** renderer → main requests: declared once, with their validators, in preload/requests.ts. */
export type { ViewerRequests, RequestName } from './requests';

/** The API the preload (Electron) or the web bridge exposes as window.spiceViewer: the requests plus event subscription. */
export interface ViewerApi extends ViewerRequests {
  on<K extends keyof ViewerEvents>(event: K, cb: (payload: ViewerEvents[K], batch: number) => void): () => void;
}

/** What a host holds per page: the page's API, plus "painted" from the display worker's link (not a page request). */
export interface HostEngine extends ViewerApi {
  displayAck(batch: number): void;
}

/** One frame on the bridge (postMessage in Electron, binary codec over ws in the web host). */
export type BridgeFrame =
  | { kind: 'event'; name: keyof ViewerEvents; payload: ViewerEvents[keyof ViewerEvents]; batch: number }
  | { kind: 'request'; name: RequestName; args: unknown[] };

// ---------------------------------------------------------------- app state (optional, main/app/*)
/** Why a kiosk session dropped, in words a user can act on. */
export interface ReconnectInfo {
  /** network | server-closed | vm-stopped | taken-over | auth | config | protocol */
  reason: string;
  /** One plain sentence: what happened. */
  text: string;
  /** The engine's error (code: message), for the curious. */
  detail: string;
  /** 1-based number of the next attempt. */
  attempt: number;
  delayMs: number;
  /** Epoch ms of the next attempt (the page counts down to it). */
  at: number;
}

/** The connection doctor's verdict on a failed connect. */
/** The connection doctor's steps, in the order a connection goes through them, with short labels. */
export const DOCTOR_STEPS = [
  { step: 'parse', label: 'Address' },
  { step: 'dns', label: 'DNS' },
  { step: 'proxy', label: 'Proxy' },
  { step: 'tcp', label: 'TCP' },
  { step: 'tls', label: 'TLS' },
  { step: 'auth', label: 'Password' },
  { step: 'channel', label: 'Channels' },
  { step: 'session', label: 'Session' },
] as const;
export type DoctorStep = (typeof DOCTOR_STEPS)[number]['step'];

export interface Diagnosis {
  step: DoctorStep;
  /** The step in words ("TCP connection"). */
  stepText: string;
  /** What failed, in plain words. */
  summary: string;
  /** What to check next. */
  hint: string;
  /** Plain-text report for "Copy report" (never contains the password). */
  report: string;
}

/**
 * The shared folder (File → Preferences, the Devices panel): the folder (its real path), read-only,
 * shared or stopped, what the command line fixed (shown, not changeable), whether the host has a
 * native folder picker (Electron: Choose…; the web page types a path instead) and the last
 * refusal in words (a bad path, a fixed setting).
 */
export interface SharedFolderState {
  dir?: string;
  readOnly: boolean;
  shared: boolean;
  fixed: ('dir' | 'readOnly')[];
  picker: boolean;
  error?: string;
}

/** Application state that travels with a status (absent from engines without it). */
export interface AppState {
  kiosk?: boolean;
  /** The target as shown to users (no password). */
  target?: string;
  /** --title / the .vv's title (the window title; %d: the display number). */
  title?: string;
  reconnect?: ReconnectInfo;
  diagnosis?: Diagnosis;
  /**
   * Effective remote-viewer hotkeys (defaults → -H → .vv). keys: modifiers
   * ('ctrl' | 'alt' | 'shift' | 'super') then the GDK key name, e.g.
   * ['ctrl', 'alt', 'End']; code: its KeyboardEvent.code where the key has a
   * fixed position (absent for 'plus': matched by character). A modifier-only
   * 'release-cursor' entry is the grab-release sequence in GDK names
   * (['Control_L', 'Alt_L']). Absent: only Ctrl+Alt releases the grab.
   */
  hotkeys?: { action: string; keys: string[]; code?: string }[];
  /** Initial zoom in percent (-z/--zoom, else the saved zoom); the page applies it once. */
  zoom?: number;
  /** Recent connection URIs, newest first, never with a password. */
  recent?: string[];
  /** The guest agent is there: clipboard, file transfer and resolution following the window need it. */
  agent?: boolean;
  /** Further displays the user hid (View → Display N); not saved. */
  hiddenDisplays?: number[];
  /** Codecs the server chose so far (Guest details): the last video stream's, the guest audio's. */
  codecs?: { video?: string; audio?: string };
  /** Connection quality: the round trip of input to the server and back, ms (median of the last MOTION_ACKs). */
  latencyMs?: number;
  /**
   * Clipboard sharing: the policy, and whether the page is the host clipboard (web host: it reads
   * and writes the browser's clipboard; Electron's main process uses the system clipboard itself).
   */
  clipboard?: { policy: ClipboardPolicy; page: boolean };
  /** Help → About: the viewer's version, what it runs on and what it speaks. */
  about?: { version: string; runtime: string; protocol: string; features: string[] };
  /** --auto-resize (default always) and the preference: the guest's resolution follows the window (needs the agent). */
  autoResize?: boolean;
  /**
   * File → Preferences as saved: resize the guest with the window, each further display in its own
   * window (unset: the host's default). `fixed` names those the command line decided (shown, not changeable).
   */
  preferences?: { autoResize: boolean; displayWindows?: boolean; fixed: ('autoResize' | 'clipboard')[] };
  /** The shared folder as chosen (absent: the host offers none, e.g. the webdav channel is disabled). */
  sharedFolder?: SharedFolderState;
  /** The HTTP proxy asked for credentials (407): the page offers a user/password form. */
  proxyAuth?: { proxy: string; rejected: boolean };
}
