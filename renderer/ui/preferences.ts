// File → Preferences: the saved choices, each a checkbox that applies at once
// (remote-viewer's preferences dialog: share clipboard; plus ours). Share
// clipboard is the same toggle as the File menu's; what the command line fixed
// (--auto-resize=never, --clipboard) is shown and not changeable.
//
// The shared folder (remote-viewer's "Share folder"): the folder, Choose… (the
// Electron window's native picker, in main) or a path typed in the web page
// (the browser cannot browse this machine's folders; main checks the path and
// says why it refuses one), Read-only, and Stop sharing / Share. Main owns the
// state (AppState.sharedFolder); the page only asks.
import type { SessionStatus, SharedFolderState, ViewerApi } from '../../preload/contract';
import { StatusDialog } from './guest-details';

export type PrefName = 'shareClipboard' | 'autoResize' | 'displayWindows';

/** What each checkbox shows for a status, and whether the command line fixed it. */
export function preferenceView(s: SessionStatus, displayWindowsDefault: boolean): Record<PrefName, { checked: boolean; fixed: boolean }> {
  const p = s.app?.preferences;
  const fixed = new Set(p?.fixed ?? []);
  return {
    shareClipboard: { checked: s.app?.clipboard?.policy !== 'off', fixed: fixed.has('clipboard') },
    autoResize: { checked: s.app?.autoResize !== false, fixed: fixed.has('autoResize') },
    displayWindows: { checked: p?.displayWindows ?? displayWindowsDefault, fixed: false },
  };
}

/** What the shared-folder controls show for a status. */
export function folderView(f: SharedFolderState | undefined): {
  offered: boolean;
  now: string;
  picker: boolean;
  dirFixed: boolean;
  readOnly: { checked: boolean; fixed: boolean };
  toggle: { label: string; share: boolean; disabled: boolean };
  error: string;
} {
  if (!f) return { offered: false, now: 'This viewer shares no folder (the webdav channel is disabled).', picker: false, dirFixed: true, readOnly: { checked: false, fixed: true }, toggle: { label: 'Share', share: true, disabled: true }, error: '' };
  const dirFixed = f.fixed.includes('dir');
  const now = f.dir === undefined ? 'No folder chosen.' : `${f.shared ? 'Sharing' : 'Not sharing'} ${f.dir}${f.shared ? (f.readOnly ? ' (read-only)' : ' (read-write)') : ''}.`;
  return {
    offered: true,
    now: dirFixed ? `${now} Set by the command line for this run.` : now,
    picker: f.picker,
    dirFixed,
    readOnly: { checked: f.readOnly, fixed: f.fixed.includes('readOnly') },
    toggle: f.shared ? { label: 'Stop sharing', share: false, disabled: false } : { label: 'Share', share: true, disabled: f.dir === undefined },
    error: f.error ?? '',
  };
}

export class PreferencesDialog extends StatusDialog {
  constructor(
    dialog: HTMLDialogElement,
    private readonly api: ViewerApi,
    private readonly displayWindowsDefault: boolean,
  ) {
    super(dialog);
    for (const box of this.boxes()) {
      box.addEventListener('change', () => this.changed(box.dataset.pref as PrefName, box.checked));
    }
    const f = this.folder();
    const share = (): void => this.api.setSharedFolder({ dir: f.dir.value, shared: true });
    f.share.addEventListener('click', share);
    f.dir.addEventListener('keydown', (e) => {
      if (e.key !== 'Enter') return;
      e.preventDefault();
      share();
    });
    f.choose.addEventListener('click', () => this.api.chooseSharedFolder());
    f.readOnly.addEventListener('change', () => this.api.setSharedFolder({ readOnly: f.readOnly.checked }));
    f.toggle.addEventListener('click', () => this.api.setSharedFolder({ shared: f.toggle.dataset.share === '1' }));
  }

  private folderEls?: ReturnType<PreferencesDialog['findFolder']>;

  /** The shared-folder controls, looked up once. */
  private folder(): ReturnType<PreferencesDialog['findFolder']> {
    return (this.folderEls ??= this.findFolder());
  }

  private findFolder() {
    const q = <T extends HTMLElement>(sel: string): T => this.dialog.querySelector<T>(sel)!;
    return {
      set: q<HTMLFieldSetElement>('#pref-folder'),
      now: q<HTMLElement>('#pref-folder-now'),
      web: q<HTMLElement>("[data-picker='web']"),
      native: q<HTMLElement>("[data-picker='native']"),
      dir: q<HTMLInputElement>('#pref-folder-dir'),
      share: q<HTMLButtonElement>('#pref-folder-share'),
      choose: q<HTMLButtonElement>('#pref-folder-choose'),
      readOnly: q<HTMLInputElement>('#pref-folder-ro'),
      toggle: q<HTMLButtonElement>('#pref-folder-toggle'),
      error: q<HTMLElement>('#pref-folder-error'),
    };
  }

  private renderFolder(): void {
    const v = folderView(this.last.app?.sharedFolder);
    const f = this.folder();
    f.now.textContent = v.now;
    f.web.hidden = v.picker || !v.offered;
    f.native.hidden = !v.picker || !v.offered;
    f.dir.disabled = f.share.disabled = v.dirFixed;
    f.choose.disabled = v.dirFixed;
    // the typed path stays while the user types; a folder main accepted replaces it
    const dir = this.last.app?.sharedFolder?.dir;
    if (dir !== undefined && dir !== f.dir.dataset.shown) {
      f.dir.value = dir;
      f.dir.dataset.shown = dir;
    }
    f.readOnly.checked = v.readOnly.checked;
    f.readOnly.disabled = v.readOnly.fixed || !v.offered;
    f.toggle.textContent = v.toggle.label;
    f.toggle.dataset.share = v.toggle.share ? '1' : '0';
    f.toggle.disabled = v.toggle.disabled;
    f.error.textContent = v.error;
    f.dir.setAttribute('aria-invalid', v.error ? 'true' : 'false');
  }

  protected override focusTarget(): HTMLElement | null {
    return this.boxes().find((b) => !b.disabled) ?? null;
  }

  private boxes(): HTMLInputElement[] {
    return [...this.dialog.querySelectorAll<HTMLInputElement>('input[data-pref]')];
  }

  private changed(name: PrefName, on: boolean): void {
    if (name === 'shareClipboard') this.api.setClipboardPolicy(on ? 'both' : 'off');
    else this.api.setPreferences({ [name]: on });
  }

  protected render(): void {
    this.renderFolder();
    const view = preferenceView(this.last, this.displayWindowsDefault);
    const fixedNames: string[] = [];
    for (const box of this.boxes()) {
      const v = view[box.dataset.pref as PrefName];
      box.checked = v.checked;
      box.disabled = v.fixed;
      if (v.fixed) fixedNames.push(box.labels?.[0]?.textContent?.trim() ?? '');
    }
    const note = this.dialog.querySelector<HTMLElement>('.pref-note');
    if (note) {
      note.hidden = !fixedNames.length;
      note.textContent = fixedNames.length ? `Set by the command line for this run: ${fixedNames.join('; ')}.` : '';
    }
  }
}
