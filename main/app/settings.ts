// Installed-app settings in <userData>/settings.json: recent connections,
// zoom, clipboard sharing, the preferences (File → Preferences). Never a password: URIs are stripped of it before
// they are stored, and a file edited by hand is sanitised on load.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { MAX_FOLDER_PATH } from '../../preload/requests';

export const SETTINGS_FILE = 'settings.json';
export const MAX_RECENT = 10;
const MAX_FILE_BYTES = 256 * 1024;
const MAX_URI_CHARS = 4096;

/** A saved folder path: absolute, no NUL, bounded (the folder itself is checked when it is served). */
function folderPath(v: unknown): string | undefined {
  return typeof v === 'string' && isAbsolute(v) && v.length <= MAX_FOLDER_PATH && !v.includes('\0') ? v : undefined;
}

export interface RecentConnection {
  /** spice://… without password, or the .vv path. */
  uri: string;
  title?: string;
  /** Epoch ms. */
  lastUsed: number;
}

export interface Settings {
  version: 1;
  recent: RecentConnection[];
  /** Zoom %, 10..400. */
  zoom: number;
  shareClipboard: boolean;
  /** The guest's resolution follows the window (remote-viewer's auto-resize). */
  autoResize: boolean;
  /** Each further display in a window of its own; unset: the host's default (the app: yes, the web host: no). */
  displayWindows?: boolean;
  /** The shared folder (File → Preferences): its real path; unset: none chosen. */
  sharedFolder?: string;
  sharedFolderReadOnly: boolean;
  /** The folder is shared at start (remote-viewer's share-folder); false: chosen but stopped. */
  shareFolder: boolean;
}

/** The shared folder as saved. */
export interface SavedSharedFolder {
  dir?: string;
  readOnly: boolean;
  shared: boolean;
}

/** What File → Preferences changes (besides Share clipboard), and the zoom the View menu sets. */
export type Preferences = Pick<Settings, 'zoom' | 'autoResize' | 'displayWindows'>;

export function defaultSettings(): Settings {
  return { version: 1, recent: [], zoom: 100, shareClipboard: true, autoResize: true, sharedFolderReadOnly: false, shareFolder: false };
}

/** Removes credentials from a connection URI: password= query items and user:password@. */
export function stripPassword(uri: string): string {
  let out = uri.replace(/([?&;])password=[^&;#]*(&|;)?/gi, (_m, lead: string, trail: string | undefined) => (trail ? lead : ''));
  out = out.replace(/[?&;]$/, '');
  out = out.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^@/?#]*):[^@/?#]*@/, '$1$2@');
  return out;
}

/** Settings from untrusted JSON: unknown keys dropped, values range-checked. */
export function sanitizeSettings(raw: unknown): Settings {
  const s = defaultSettings();
  if (typeof raw !== 'object' || raw === null) return s;
  const o = raw as Record<string, unknown>;
  if (typeof o.zoom === 'number' && Number.isFinite(o.zoom) && o.zoom >= 10 && o.zoom <= 400) s.zoom = Math.round(o.zoom);
  if (typeof o.shareClipboard === 'boolean') s.shareClipboard = o.shareClipboard;
  if (typeof o.autoResize === 'boolean') s.autoResize = o.autoResize;
  if (typeof o.displayWindows === 'boolean') s.displayWindows = o.displayWindows;
  const dir = folderPath(o.sharedFolder);
  if (dir !== undefined) s.sharedFolder = dir;
  if (typeof o.sharedFolderReadOnly === 'boolean') s.sharedFolderReadOnly = o.sharedFolderReadOnly;
  // sharing needs a folder
  if (typeof o.shareFolder === 'boolean') s.shareFolder = o.shareFolder && dir !== undefined;
  if (Array.isArray(o.recent)) {
    for (const r of o.recent) {
      if (typeof r !== 'object' || r === null) continue;
      const e = r as Record<string, unknown>;
      if (typeof e.uri !== 'string' || !e.uri || e.uri.length > MAX_URI_CHARS) continue;
      const item: RecentConnection = { uri: stripPassword(e.uri), lastUsed: typeof e.lastUsed === 'number' && Number.isFinite(e.lastUsed) ? e.lastUsed : 0 };
      if (typeof e.title === 'string' && e.title.length <= 256) item.title = e.title;
      if (!s.recent.some((x) => x.uri === item.uri)) s.recent.push(item);
      if (s.recent.length >= MAX_RECENT) break;
    }
  }
  return s;
}

/** Adds (or moves to the front) a connection; returns new settings. */
export function addRecent(s: Settings, uri: string, now: number, title?: string): Settings {
  const clean = stripPassword(uri);
  const item: RecentConnection = { uri: clean, lastUsed: now };
  if (title !== undefined) item.title = title;
  return { ...s, recent: [item, ...s.recent.filter((r) => r.uri !== clean)].slice(0, MAX_RECENT) };
}

export async function loadSettings(dir: string): Promise<Settings> {
  try {
    const text = await readFile(join(dir, SETTINGS_FILE), 'utf8');
    if (text.length > MAX_FILE_BYTES) return defaultSettings();
    return sanitizeSettings(JSON.parse(text));
  } catch {
    return defaultSettings(); // missing or corrupt: start fresh
  }
}

/** Atomic write (temp file + rename), so a crash never leaves half a file. */
export async function saveSettings(dir: string, s: Settings): Promise<void> {
  await mkdir(dir, { recursive: true });
  const clean = sanitizeSettings(s);
  const file = join(dir, SETTINGS_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(clean, null, 2) + '\n', { mode: 0o600 });
  await rename(tmp, file);
}

/**
 * Where the web host keeps settings.json: $SPICE_VIEWER_CONFIG_DIR, else the
 * directory the Electron app uses when run from the project
 * ($XDG_CONFIG_HOME or ~/.config, then spice-viewer), so both share one file.
 */
export function settingsDir(env: Record<string, string | undefined>, home: string = homedir()): string {
  if (env.SPICE_VIEWER_CONFIG_DIR) return env.SPICE_VIEWER_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'spice-viewer');
}

/** The settings of one process: loaded once, saved after each change (errors go to onError, never thrown). */
export interface SettingsStore {
  readonly current: Settings;
  /** Recent connection URIs, newest first. */
  recent(): string[];
  /** Records a connection the user made (the password stripped) and saves. */
  addRecent(uri: string, title?: string): void;
  /** The "Share clipboard" toggle (remote-viewer's share-clipboard), saved. */
  setShareClipboard(share: boolean): void;
  /** Preferences and the zoom, saved (checked values only: see sanitizeSettings). */
  setPreferences(p: Partial<Preferences>): void;
  /** The shared folder (checked as a file's would be), saved. */
  setSharedFolder(f: SavedSharedFolder): void;
  /** The shared folder as saved. */
  sharedFolder(): SavedSharedFolder;
}

export async function openSettingsStore(dir: string, onError: (e: Error) => void, now: () => number = Date.now): Promise<SettingsStore> {
  let settings = await loadSettings(dir);
  // saves run one after another, so an older write never lands last
  let saving: Promise<void> = Promise.resolve();
  const save = (): void => {
    const snapshot = settings;
    saving = saving.then(() => saveSettings(dir, snapshot)).catch((e: unknown) => onError(e as Error));
  };
  return {
    get current() {
      return settings;
    },
    recent: () => settings.recent.map((r) => r.uri),
    addRecent(uri, title) {
      settings = addRecent(settings, uri, now(), title);
      save();
    },
    setShareClipboard(share) {
      if (settings.shareClipboard === share) return;
      settings = { ...settings, shareClipboard: share };
      save();
    },
    setPreferences(p) {
      // each value checked as a file's would be; a bad one keeps what was there
      const checked = sanitizeSettings(p);
      const next: Settings = {
        ...settings,
        ...(checked.zoom === p.zoom ? { zoom: checked.zoom } : {}),
        ...(checked.autoResize === p.autoResize ? { autoResize: checked.autoResize } : {}),
        ...(checked.displayWindows !== undefined ? { displayWindows: checked.displayWindows } : {}),
      };
      if (next.zoom === settings.zoom && next.autoResize === settings.autoResize && next.displayWindows === settings.displayWindows) return;
      settings = next;
      save();
    },
    setSharedFolder(f) {
      const checked = sanitizeSettings({ sharedFolder: f.dir, sharedFolderReadOnly: f.readOnly, shareFolder: f.shared });
      const { sharedFolder: _old, ...rest } = settings;
      const next: Settings = {
        ...rest,
        ...(checked.sharedFolder !== undefined ? { sharedFolder: checked.sharedFolder } : {}),
        sharedFolderReadOnly: checked.sharedFolderReadOnly,
        shareFolder: checked.shareFolder,
      };
      if (next.sharedFolder === settings.sharedFolder && next.sharedFolderReadOnly === settings.sharedFolderReadOnly && next.shareFolder === settings.shareFolder) return;
      settings = next;
      save();
    },
    sharedFolder: () => ({
      ...(settings.sharedFolder !== undefined ? { dir: settings.sharedFolder } : {}),
      readOnly: settings.sharedFolderReadOnly,
      shared: settings.shareFolder,
    }),
  };
}
