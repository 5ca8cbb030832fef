// The shared folder the user chose, for the whole run (every session's webdav
// share follows it): the folder, read-only, shared or stopped, where each came
// from (the command line fixes the folder and read-only, as it fixes the other
// preferences) and the last refusal in words. File → Preferences changes it
// through the setSharedFolder / chooseSharedFolder requests; what the command
// line did not fix is saved in settings.json.
//
// checkFolder is the one validation of a folder a user names (the Electron
// picker's answer or the web page's text field, where the browser cannot
// browse this machine's folders): an absolute path of an existing, readable
// directory of this machine.
import fs from 'node:fs';
import path from 'node:path';
import type { SharedFolderState } from '../../../preload/contract';
import { MAX_FOLDER_PATH } from '../../../preload/requests';

export type FolderCheck = { ok: true; dir: string } | { ok: false; why: string };

/** Whether `dir` can be shared: { ok, dir: its real path } or { why } in words. */
export async function checkFolder(dir: string): Promise<FolderCheck> {
  const shown = dir.length > 200 ? `${dir.slice(0, 200)}…` : dir;
  if (!dir.trim()) return { ok: false, why: 'Type the full path of a folder on this machine.' };
  if (dir.length > MAX_FOLDER_PATH) return { ok: false, why: `The path is longer than ${MAX_FOLDER_PATH} characters.` };
  if (dir.includes('\0')) return { ok: false, why: 'The path holds a NUL character.' };
  if (!path.isAbsolute(dir)) return { ok: false, why: `"${shown}" is not a full path: start it with ${path.sep} (for example ${path.join(path.sep, 'home', 'me', 'Public')}).` };
  let real: string;
  try {
    real = await fs.promises.realpath(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, why: `There is no folder "${shown}" on this machine.` };
    if (code === 'EACCES') return { ok: false, why: `You may not open "${shown}" (permission denied on the way to it).` };
    if (code === 'ENOTDIR') return { ok: false, why: `There is no folder "${shown}": a part of the path is a file.` };
    if (code === 'ENAMETOOLONG') return { ok: false, why: `A name in "${shown}" is too long for this machine.` };
    if (code === 'ELOOP') return { ok: false, why: `"${shown}" leads to a loop of symbolic links.` };
    // the system's message names the whole path: the code is enough
    return { ok: false, why: `"${shown}" cannot be opened (${code ?? 'error'}).` };
  }
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(real);
  } catch (e) {
    return { ok: false, why: `"${shown}" cannot be opened (${(e as NodeJS.ErrnoException).code ?? 'error'}).` };
  }
  if (!st.isDirectory()) return { ok: false, why: `"${shown}" is a file, not a folder.` };
  try {
    // listing needs read, opening what is in it needs search (x)
    await fs.promises.access(real, fs.constants.R_OK | fs.constants.X_OK);
  } catch {
    return { ok: false, why: `You may not read the folder "${shown}" (permission denied).` };
  }
  return { ok: true, dir: real };
}

/** What the user asks for; only the keys given change. */
export interface SharedFolderChange {
  dir?: string;
  readOnly?: boolean;
  shared?: boolean;
}

export interface SharedFolderOptions {
  /** --spice-shared-dir: fixes the folder and shares it at start (not saved). */
  cliDir?: string;
  /** --spice-shared-dir-ro: fixes read-only. */
  cliReadOnly?: boolean;
  /** The saved choice (settings.json). */
  saved?: { dir?: string; readOnly: boolean; shared: boolean };
  /** Save what the command line did not fix. */
  save?: (s: { dir?: string; readOnly: boolean; shared: boolean }) => void;
  /** Electron: the native folder picker; resolves null when cancelled. */
  pick?: () => Promise<string | null>;
  check?: (dir: string) => Promise<FolderCheck>;
}

export class SharedFolder {
  private dir: string | undefined;
  private readOnly: boolean;
  private shared: boolean;
  private error: string | undefined;
  private readonly fixed: SharedFolderState['fixed'];
  private readonly listeners = new Set<() => void>();
  /** Changes run one after another, in the order asked. */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly o: SharedFolderOptions = {}) {
    const fixed: SharedFolderState['fixed'] = [];
    if (o.cliDir !== undefined) fixed.push('dir');
    if (o.cliReadOnly) fixed.push('readOnly');
    this.fixed = fixed;
    this.dir = o.cliDir ?? o.saved?.dir;
    this.readOnly = o.cliReadOnly || (o.saved?.readOnly ?? false);
    this.shared = o.cliDir !== undefined ? true : (o.saved?.shared ?? false) && this.dir !== undefined;
  }

  state(): SharedFolderState {
    return {
      ...(this.dir !== undefined ? { dir: this.dir } : {}),
      readOnly: this.readOnly,
      shared: this.shared && this.dir !== undefined,
      fixed: [...this.fixed],
      picker: this.o.pick !== undefined,
      ...(this.error ? { error: this.error } : {}),
    };
  }

  /** Told after every change (and every refusal). */
  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  /** Applies a change (a named folder is checked first); resolves when done. */
  set(c: SharedFolderChange): Promise<void> {
    this.queue = this.queue.then(() => this.apply(c));
    return this.queue;
  }

  /** Electron's Choose…: the picker, then the folder picked is shared. */
  choose(): Promise<void> {
    const pick = this.o.pick;
    if (!pick) return this.refuse('This window cannot browse folders: type the folder\'s path instead.');
    return pick().then(
      (dir) => (dir === null ? undefined : this.set({ dir, shared: true })),
      (e: unknown) => this.refuse(`The folder picker failed: ${(e as Error).message}`),
    );
  }

  private refuse(why: string): Promise<void> {
    this.error = why;
    this.changed();
    return Promise.resolve();
  }

  private async apply(c: SharedFolderChange): Promise<void> {
    let dir = this.dir;
    if (c.dir !== undefined) {
      if (this.fixed.includes('dir')) return this.refuse('The shared folder was set on the command line (--spice-shared-dir) for this run.');
      const r = await (this.o.check ?? checkFolder)(c.dir);
      if (!r.ok) return this.refuse(r.why);
      dir = r.dir;
    }
    if (c.readOnly !== undefined && c.readOnly !== this.readOnly && this.fixed.includes('readOnly')) {
      return this.refuse('Read-only was set on the command line (--spice-shared-dir-ro) for this run.');
    }
    if (c.shared && dir === undefined) return this.refuse('Choose a folder to share first.');
    this.dir = dir;
    if (c.readOnly !== undefined) this.readOnly = c.readOnly;
    if (c.shared !== undefined) this.shared = c.shared;
    this.error = undefined;
    if (!this.fixed.includes('dir')) this.o.save?.({ ...(this.dir !== undefined ? { dir: this.dir } : {}), readOnly: this.readOnly, shared: this.shared });
    this.changed();
  }

  private changed(): void {
    for (const cb of [...this.listeners]) cb();
  }
}
