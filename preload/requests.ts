// THE request table: every renderer → main request, once, with the validator
// that turns untrusted arguments into typed ones. Both hosts dispatch through
// dispatchRequest (Electron's ipcMain.handle in main/ipc/bridge-ipc.ts, the web
// host's WebSocket in main/web-host.ts) and both page-side bridges build their
// methods with requestClient (preload/index.ts, renderer/bridge/ws-bridge.ts).
// Adding a request touches this table and its handler (the engine) only.
// Pure code: no imports but types, so main, preload and the page can all use it.
import type { InputEvent } from './contract';

/** A request with a bad name or bad arguments (the page is not trusted). */
export class BadRequestError extends Error {
  readonly code = 'BAD_REQUEST';
}

/** Longest URI / password / proxy credential a page may send. */
export const MAX_URI = 4096;
export const MAX_SECRET = 1024;
/** Largest microphone chunk (S16 stereo 48 kHz: 1 s is 192000 bytes; a page sends ~85 ms). */
export const MAX_RECORD_BYTES = 256 * 1024;
/** Longest device id (a USB manager id or a PC/SC reader name). */
export const MAX_DEVICE_ID = 512;
/** Most input events in one request (a page sends a handful per frame). */
export const MAX_INPUT_EVENTS = 4096;
/** Most raw scancode bytes in one send-key request (a custom sequence of a few keys). */
export const MAX_SCANCODES = 256;
/** Largest screenshot PNG the page may hand to main (a 4096x2160 RGBA screen uncompressed is ~35 MB). */
export const MAX_SCREENSHOT = 64 << 20;
/** Largest clipboard item the page may hand to main (the engine's own limit, DEFAULT_MAX_CLIPBOARD). */
export const MAX_CLIPBOARD_ITEM = 64 << 20;
/** Largest block of a dropped file the page hands to main at once (main asks for 64 KiB). */
export const MAX_XFER_BLOCK = 1 << 20;
/** Longest file name the page may give (spice-vdagent takes a name, not a path). */
export const MAX_XFER_NAME = 1024;
/** Guest resolutions the page may ask for (a window shrunk to nothing asks for the minimum). */
export const MIN_GUEST_WIDTH = 320;
export const MIN_GUEST_HEIGHT = 200;
export const MAX_GUEST_SIZE = 16384;
/** Display channels a page may name (spice-gtk's MAX_DISPLAY). */
export const MAX_GUEST_DISPLAYS = 16;
/** Most video codecs a page may list (SpiceVideoCodecType has five). */
export const MAX_VIDEO_CODECS = 8;
/** Largest SpiceVideoCodecType value (H265). */
const MAX_VIDEO_CODEC_TYPE = 5;
/** Largest .vv file the page may hand to main (the key-file parser's own limit). */
export const MAX_VV_FILE = 1 << 20;
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const bad = (why: string): never => {
  throw new BadRequestError(why);
};
const str = (v: unknown, max: number, what: string): string =>
  typeof v === 'string' && v.length <= max ? v : bad(`${what}: expected a string of at most ${max} characters`);
const optStr = (v: unknown, max: number, what: string): string | undefined => (v === undefined || v === null ? undefined : str(v, max, what));
/** An integer in [min, max]: what the SPICE field it ends up in can carry. */
const int = (v: unknown, min: number, max: number, what: string): number =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : bad(`${what}: expected an integer in [${min}, ${max}]`);
const bytes = (v: unknown, max: number, what: string): Uint8Array =>
  v instanceof Uint8Array && v.length <= max ? v : bad(`${what}: expected bytes, at most ${max}`);
const bool = (v: unknown, what: string): boolean => (typeof v === 'boolean' ? v : bad(`${what}: expected a boolean`));

const U8 = 0xff;
const U16 = 0xffff;
const U32 = 0xffffffff;
const I32 = 0x7fffffff;

/**
 * One input event, rebuilt field by field (extra properties are dropped) and
 * bounded by the wire fields it fills (spice.proto inputs channel): scancodes
 * are set-1 codes with 0x100 marking E0 keys, buttons are u16 masks, positions
 * u32, motion i32, display ids u8.
 */
export function validInputEvent(e: unknown): InputEvent {
  if (typeof e !== 'object' || e === null) return bad('input: event is not an object');
  const o = e as Record<string, unknown>;
  switch (o.t) {
    case 'key':
      return { t: 'key', scancode: int(o.scancode, 0, 0x1ff, 'key.scancode'), down: bool(o.down, 'key.down') };
    case 'modifiers':
      return { t: 'modifiers', flags: int(o.flags, 0, U16, 'modifiers.flags') };
    case 'mousePosition':
      return {
        t: 'mousePosition',
        x: int(o.x, 0, U32, 'mousePosition.x'),
        y: int(o.y, 0, U32, 'mousePosition.y'),
        buttons: int(o.buttons, 0, U16, 'mousePosition.buttons'),
        displayId: int(o.displayId, 0, U8, 'mousePosition.displayId'),
      };
    case 'mouseMotion':
      return { t: 'mouseMotion', dx: int(o.dx, -I32 - 1, I32, 'mouseMotion.dx'), dy: int(o.dy, -I32 - 1, I32, 'mouseMotion.dy'), buttons: int(o.buttons, 0, U16, 'mouseMotion.buttons') };
    case 'mouseButton':
      return { t: 'mouseButton', button: int(o.button, 0, U8, 'mouseButton.button'), down: bool(o.down, 'mouseButton.down'), buttons: int(o.buttons, 0, U16, 'mouseButton.buttons') };
    case 'releaseAllKeys':
      return { t: 'releaseAllKeys' };
    default:
      return bad(`input: unknown event type ${JSON.stringify(String(o.t)).slice(0, 40)}`);
  }
}

function inputEvents(v: unknown): InputEvent[] {
  if (!Array.isArray(v) || v.length > MAX_INPUT_EVENTS) return bad(`input: expected an array of at most ${MAX_INPUT_EVENTS} events`);
  return v.map(validInputEvent);
}

function scancodes(v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_SCANCODES) return bad(`sendScancodes: expected 1 to ${MAX_SCANCODES} bytes`);
  return v.map((b) => int(b, 0, U8, 'sendScancodes.byte'));
}

function png(v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length > MAX_SCREENSHOT || v.length < PNG_SIGNATURE.length) return bad(`saveScreenshot: expected a PNG of at most ${MAX_SCREENSHOT} bytes`);
  return PNG_SIGNATURE.every((b, i) => v[i] === b) ? v : bad('saveScreenshot: not a PNG');
}

const CLIPBOARD_POLICY_NAMES = ['both', 'to-guest', 'to-client', 'off'] as const;

/** The page's clipboard content: at most one text and one PNG item. */
function clipItems(v: unknown): { kind: 'text' | 'png'; data: Uint8Array }[] {
  if (!Array.isArray(v) || v.length > 2) return bad('clipboardContent.items: expected at most 2 items');
  const items = v.map((i: unknown) => {
    const o = (typeof i === 'object' && i !== null ? i : {}) as Record<string, unknown>;
    const kind: 'text' | 'png' = o.kind === 'text' || o.kind === 'png' ? o.kind : bad('clipboardContent.kind: expected "text" or "png"');
    return { kind, data: bytes(o.data, MAX_CLIPBOARD_ITEM, 'clipboardContent.data') };
  });
  if (items.length === 2 && items[0].kind === items[1].kind) bad('clipboardContent.items: one item per kind');
  return items;
}

/** name → validator of the argument list (returns the typed arguments or throws BadRequestError). */
function preferences(v: unknown): { autoResize?: boolean; displayWindows?: boolean; zoom?: number } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('setPreferences: expected an object');
  const o = v as Record<string, unknown>;
  const known = ['autoResize', 'displayWindows', 'zoom'];
  const extra = Object.keys(o).find((k) => !known.includes(k));
  if (extra) bad(`setPreferences: unknown preference ${extra}`);
  return {
    ...(o.autoResize !== undefined ? { autoResize: bool(o.autoResize, 'setPreferences.autoResize') } : {}),
    ...(o.displayWindows !== undefined ? { displayWindows: bool(o.displayWindows, 'setPreferences.displayWindows') } : {}),
    ...(o.zoom !== undefined ? { zoom: int(o.zoom, 10, 400, 'setPreferences.zoom') } : {}),
  };
}

/** Longest shared-folder path the page may send (PATH_MAX on Linux). */
export const MAX_FOLDER_PATH = 4096;

/** File → Preferences' shared folder: only the keys given change (main checks the folder). */
function sharedFolderChange(v: unknown): { dir?: string; readOnly?: boolean; shared?: boolean } {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('setSharedFolder: expected an object');
  const o = v as Record<string, unknown>;
  const extra = Object.keys(o).find((k) => !['dir', 'readOnly', 'shared'].includes(k));
  if (extra) bad(`setSharedFolder: unknown key ${extra}`);
  return {
    ...(o.dir !== undefined ? { dir: str(o.dir, MAX_FOLDER_PATH, 'setSharedFolder.dir') } : {}),
    ...(o.readOnly !== undefined ? { readOnly: bool(o.readOnly, 'setSharedFolder.readOnly') } : {}),
    ...(o.shared !== undefined ? { shared: bool(o.shared, 'setSharedFolder.shared') } : {}),
  };
}

export const VIEWER_REQUESTS = {
  connect: (a: readonly unknown[]): [uri: string, password?: string] => {
    const uri = str(a[0], MAX_URI, 'connect.uri');
    const password = optStr(a[1], MAX_SECRET, 'connect.password');
    return password === undefined ? [uri] : [uri, password];
  },
  disconnect: (): [] => [],
  input: (a: readonly unknown[]): [events: InputEvent[]] => [inputEvents(a[0])],
  /** Microphone samples for the record channel: interleaved S16 LE as its START asked (sent only while it records). */
  recordData: (a: readonly unknown[]): [pcm: Uint8Array] => [bytes(a[0], MAX_RECORD_BYTES, 'recordData.pcm')],
  /** Proxy user/password for the next connects (memory only); reconnects at once. */
  setProxyCredentials: (a: readonly unknown[]): [user: string, password: string] => [str(a[0], MAX_SECRET, 'setProxyCredentials.user'), str(a[1], MAX_SECRET, 'setProxyCredentials.password')],
  /** Raw PC AT set-1 bytes for the guest keyboard, sent as one KEY_SCANCODE (send-key commands; Pause has no make/break pair). */
  sendScancodes: (a: readonly unknown[]): [bytes: number[]] => [scancodes(a[0])],
  /** Electron: the guest screen as PNG, saved where the user picks in a save dialog (the web page downloads it itself). */
  saveScreenshot: (a: readonly unknown[]): [png: Uint8Array] => [png(a[0])],
  /** Devices panel toggle: redirect / give back a USB device or CD image, offer / stop offering a smartcard reader. */
  setDeviceShared: (a: readonly unknown[]): [kind: 'usb' | 'smartcard' | 'folder', id: string, shared: boolean] => [
    a[0] === 'usb' || a[0] === 'smartcard' || a[0] === 'folder' ? a[0] : bad('setDeviceShared.kind: expected "usb", "smartcard" or "folder"'),
    str(a[1], MAX_DEVICE_ID, 'setDeviceShared.id'),
    bool(a[2], 'setDeviceShared.shared'),
  ],
  /** Web host: what the browser's clipboard holds now (read by the page when it changed), offered to the guest. */
  clipboardContent: (a: readonly unknown[]): [selection: number, items: { kind: 'text' | 'png'; data: Uint8Array }[]] => [int(a[0], 0, 1, 'clipboardContent.selection'), clipItems(a[1])],
  /** Which ways the clipboard is shared (the Share clipboard toggle); for this session and saved. */
  setClipboardPolicy: (a: readonly unknown[]): [policy: 'both' | 'to-guest' | 'to-client' | 'off'] => [
    (CLIPBOARD_POLICY_NAMES as readonly unknown[]).includes(a[0]) ? (a[0] as (typeof CLIPBOARD_POLICY_NAMES)[number]) : bad('setClipboardPolicy: expected both, to-guest, to-client or off'),
  ],
  /** File → Preferences (and the zoom the View menu sets): saved; only the keys given change. */
  setPreferences: (a: readonly unknown[]): [p: { autoResize?: boolean; displayWindows?: boolean; zoom?: number }] => [preferences(a[0])],
  /**
   * File → Preferences, shared folder: share another folder (a path typed in the web page; main checks it
   * exists, is a folder and readable, and says why not in AppState.sharedFolder.error), read-only, stop or
   * share again. Saved unless the command line fixed it; every session's share follows at once.
   */
  setSharedFolder: (a: readonly unknown[]): [change: { dir?: string; readOnly?: boolean; shared?: boolean }] => [sharedFolderChange(a[0])],
  /** Electron: Choose… opens the native folder picker in main; the folder picked is shared (the web host has none). */
  chooseSharedFolder: (): [] => [],
  /** View → Display N: show or hide a further display (its canvas or window); the guest keeps it. */
  setDisplayShown: (a: readonly unknown[]): [display: number, shown: boolean] => [int(a[0], 1, MAX_GUEST_DISPLAYS - 1, 'setDisplayShown.display'), bool(a[1], 'setDisplayShown.shown')],
  /** File → Insert / Remove smartcard (remote-viewer's smartcard-insert / -remove): the shared readers' cards, for the guest. */
  setSmartcardInserted: (a: readonly unknown[]): [inserted: boolean] => [bool(a[0], 'setSmartcardInserted.inserted')],
  /** A window's display area in device pixels, for the display it shows: the guest's resolution follows it (MONITORS_CONFIG through the agent). */
  resizeGuest: (a: readonly unknown[]): [width: number, height: number, display: number] => [
    int(a[0], MIN_GUEST_WIDTH, MAX_GUEST_SIZE, 'resizeGuest.width'),
    int(a[1], MIN_GUEST_HEIGHT, MAX_GUEST_SIZE, 'resizeGuest.height'),
    int(a[2], 0, MAX_GUEST_DISPLAYS - 1, 'resizeGuest.display'),
  ],
  /** A file dropped on the display: the page's id for it, its name and size; main asks for its bytes ('fileXfer' 'read'). */
  fileXferStart: (a: readonly unknown[]): [id: number, name: string, size: number] => [
    int(a[0], 1, I32, 'fileXferStart.id'),
    str(a[1], MAX_XFER_NAME, 'fileXferStart.name'),
    int(a[2], 0, Number.MAX_SAFE_INTEGER, 'fileXferStart.size'),
  ],
  /** Bytes of a dropped file at offset, as main asked (none: the page could not read the file). */
  fileXferData: (a: readonly unknown[]): [id: number, offset: number, data: Uint8Array] => [
    int(a[0], 1, I32, 'fileXferData.id'),
    int(a[1], 0, Number.MAX_SAFE_INTEGER, 'fileXferData.offset'),
    bytes(a[2], MAX_XFER_BLOCK, 'fileXferData.data'),
  ],
  /** The user cancelled a transfer (the guest deletes the partial file). */
  fileXferCancel: (a: readonly unknown[]): [id: number] => [int(a[0], 1, I32, 'fileXferCancel.id')],
  /**
   * SpiceVideoCodecTypes the page's display worker decodes (WebCodecs said so), preferred first;
   * display channels that link from now on announce them (MJPEG is always announced).
   */
  videoCodecs: (a: readonly unknown[]): [codecs: number[]] => {
    const v = a[0];
    if (!Array.isArray(v) || v.length > MAX_VIDEO_CODECS) return bad(`videoCodecs: expected at most ${MAX_VIDEO_CODECS} codec types`);
    return [v.map((c) => int(c, 1, MAX_VIDEO_CODEC_TYPE, 'videoCodecs.codec'))];
  },
  /** A .vv file the user opened in the page (connect dialog): its bytes, parsed in main like a command-line .vv. */
  openVv: (a: readonly unknown[]): [bytes: Uint8Array] => [a[0] instanceof Uint8Array && a[0].length <= MAX_VV_FILE ? a[0] : bad(`openVv: expected at most ${MAX_VV_FILE} bytes`)],
} as const;

export type RequestName = keyof typeof VIEWER_REQUESTS;
export type RequestArgs<K extends RequestName> = ReturnType<(typeof VIEWER_REQUESTS)[K]>;
/** renderer → main requests, as methods (derived from the table). */
export type ViewerRequests = { [K in RequestName]: (...args: RequestArgs<K>) => void };

export const REQUEST_NAMES = Object.keys(VIEWER_REQUESTS) as RequestName[];

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(VIEWER_REQUESTS, name);
}

/**
 * Host side: validates one request from a page and calls the engine's handler.
 * Throws BadRequestError (the caller drops the page or rejects the invoke).
 */
export function dispatchRequest(engine: ViewerRequests, name: unknown, args: unknown): void {
  if (!isRequestName(name)) bad(`unknown request ${JSON.stringify(String(name)).slice(0, 60)}`);
  if (!Array.isArray(args)) bad(`${String(name)}: arguments are not a list`);
  const typed = VIEWER_REQUESTS[name as RequestName](args as unknown[]);
  (engine[name as RequestName] as (...a: unknown[]) => void)(...typed);
}

/**
 * Page side: one method per table entry, each handing (name, args) to the
 * transport (ipcRenderer.invoke, the web bridge's socket). Arguments are
 * checked here too, so a page bug shows in the page's console, not only as a
 * dropped request.
 */
export function requestClient(send: (name: RequestName, args: unknown[]) => void): ViewerRequests {
  const out: Record<string, (...a: unknown[]) => void> = {};
  for (const name of REQUEST_NAMES) {
    out[name] = (...a: unknown[]) => {
      // undefined trailing arguments are dropped (optional parameters)
      while (a.length && a[a.length - 1] === undefined) a.pop();
      send(name, VIEWER_REQUESTS[name](a));
    };
  }
  return out as ViewerRequests;
}
