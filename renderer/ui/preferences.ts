// File → Preferences: the saved choices, each a checkbox that applies at once
// (remote-viewer's preferences dialog: share clipboard; plus ours). Share
// clipboard is the same toggle as the File menu's; what the command line fixed
// (--auto-resize=never, --clipboard) is shown and not changeable.
import type { SessionStatus, ViewerApi } from '../../preload/contract';
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
