// The viewer window's commands, page side: runs every command of the table
// (preload/commands.ts) whether it comes from the web toolbar, the Electron
// menu (the 'command' event) or a hotkey, and owns the small dialogs they
// open (custom key sequence, connect, guest details). renderer/main.ts mounts
// it and keeps what it already owned (zoom, full screen, grab) behind
// `runHotkey`.
import type { SessionStatus, ViewerApi } from '../../preload/contract';
import { commandState, findCommand, type CommandState } from '../../preload/commands';
import { Toolbar } from './toolbar';
import { commandBytes, parseKeySequence, sequenceBytes } from './send-keys';
import { ConnectDialog } from './connect-dialog';
import { GuestDetails, aboutRows } from './guest-details';
import { DevicesPanel } from './devices-panel';
import { PageClipboard } from './clipboard';
import { FileXferPanel } from './file-xfer';
import { PreferencesDialog } from './preferences';

export interface WindowUiDeps {
  host: 'electron' | 'web';
  api: ViewerApi;
  /** The primary surface as RGBA (read from the display worker's canvas); null: none yet. */
  pixels: () => Promise<{ width: number; height: number; rgba: Uint8Array } | null>;
  /** Commands the page had before the table (full screen, zoom): their hotkey action. */
  runHotkey: (action: string) => void;
  /** Shows the connection doctor again (Help → Connection doctor). */
  showDoctor: () => void;
  /** Further displays get windows of their own unless the user chose otherwise (Preferences). */
  displayWindowsDefault: boolean;
}

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from index.html`);
  return el as T;
}

/** The screen as a PNG (lossless: the pixels equal the guest's). */
export async function screenshotPng(px: { width: number; height: number; rgba: Uint8Array }): Promise<Blob> {
  if (px.width === 0 || px.height === 0) throw new Error('nothing to capture: no guest screen yet');
  const c = document.createElement('canvas');
  c.width = px.width;
  c.height = px.height;
  const ctx = c.getContext('2d');
  if (!ctx) throw new Error('no 2D context for the screenshot');
  ctx.putImageData(new ImageData(new Uint8ClampedArray(px.rgba), px.width, px.height), 0, 0);
  const blob = await new Promise<Blob | null>((ok) => c.toBlob(ok, 'image/png'));
  if (!blob) throw new Error('the browser could not encode the PNG');
  return blob;
}

/** A file name for a screenshot: the VM's name (or "guest") and the local time. */
export function screenshotName(vmName: string | undefined, now: Date): string {
  const base = (vmName ?? '').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 64) || 'guest';
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${base}-${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}.png`;
}

export class WindowUi {
  private status: SessionStatus = { state: 'idle', message: '' };
  private readonly toolbar: Toolbar;
  private readonly keysDialog: HTMLDialogElement;
  private readonly keysInput: HTMLInputElement;
  private readonly keysError: HTMLElement;
  readonly connect: ConnectDialog;
  readonly details: GuestDetails;
  readonly about: GuestDetails;
  readonly preferences: PreferencesDialog;
  readonly devices: DevicesPanel;
  readonly clipboard: PageClipboard;
  readonly files: FileXferPanel;
  /** Last command error shown (tests). */
  lastError = '';

  constructor(private readonly deps: WindowUiDeps) {
    // Electron shows the same table as its native menu bar; there the toolbar appears only in full
    // screen (style.css), where the menu bar is gone
    this.toolbar = new Toolbar(byId('commands'), (id) => this.run(id));
    document.body.dataset.host = deps.host;
    this.keysDialog = byId<HTMLDialogElement>('send-keys-dialog');
    this.keysInput = byId<HTMLInputElement>('send-keys-input');
    this.keysError = byId('send-keys-error');
    byId<HTMLFormElement>('send-keys-form').addEventListener('submit', (e) => {
      e.preventDefault();
      this.sendCustom(this.keysInput.value);
    });
    byId('send-keys-cancel').addEventListener('click', () => this.keysDialog.close());
    this.connect = new ConnectDialog(deps.api);
    this.details = new GuestDetails(byId<HTMLDialogElement>('guest-details'));
    this.about = new GuestDetails(byId<HTMLDialogElement>('about-dialog'), aboutRows);
    this.preferences = new PreferencesDialog(byId<HTMLDialogElement>('preferences-dialog'), deps.api, deps.displayWindowsDefault);
    this.devices = new DevicesPanel(byId<HTMLDialogElement>('devices-dialog'), byId('device-indicator'), deps.api);
    this.clipboard = new PageClipboard(deps.api, byId('clipboard-indicator'));
    this.files = new FileXferPanel(deps.api, byId('viewport'), byId('xfer-panel'));
    deps.api.on('command', (id) => this.run(id));
    this.toolbar.update(this.state(), undefined);
  }

  private state(): CommandState {
    return commandState(this.deps.host, this.status);
  }

  update(s: SessionStatus): void {
    this.status = s;
    this.toolbar.update(this.state(), s.app?.hotkeys);
    this.connect.update(s);
    this.details.update(s);
    this.about.update(s);
    this.preferences.update(s);
    this.clipboard.update(s);
    this.files.update(s);
  }

  /** Runs a command by id; a disabled or unknown one does nothing (a stale menu click). */
  run(id: string): void {
    const cmd = findCommand(id);
    const st = this.state();
    if (!cmd || st.kiosk || (cmd.enabled && !cmd.enabled(st)) || (cmd.visible && !cmd.visible(st))) return;
    const bytes = commandBytes(cmd);
    if (bytes) {
      this.deps.api.sendScancodes(bytes);
      return;
    }
    switch (id) {
      case 'connect':
        this.connect.open();
        break;
      case 'disconnect':
        this.deps.api.disconnect();
        break;
      case 'quit':
        window.close(); // the app's one window: Electron quits when it closes
        break;
      case 'screenshot':
        this.screenshot().catch((e: unknown) => this.fail(`screenshot: ${(e as Error).message}`));
        break;
      case 'scale-to-window':
        this.deps.runHotkey('scale-to-window');
        break;
      case 'send-custom':
        this.keysError.textContent = '';
        this.keysDialog.showModal();
        this.keysInput.select();
        break;
      case 'guest-details':
        this.details.open();
        break;
      case 'devices':
        this.devices.open();
        break;
      case 'share-clipboard':
        // remote-viewer's toggle: off, or both ways (a one-way --clipboard counts as on)
        this.deps.api.setClipboardPolicy(this.status.app?.clipboard?.policy === 'off' ? 'both' : 'off');
        break;
      case 'display-1':
      case 'display-2':
      case 'display-3': {
        const n = Number(id.slice('display-'.length));
        this.deps.api.setDisplayShown(n, !!this.status.app?.hiddenDisplays?.includes(n));
        break;
      }
      case 'smartcard-insert':
      case 'smartcard-remove':
        this.deps.api.setSmartcardInserted(id === 'smartcard-insert');
        break;
      case 'doctor':
        this.deps.showDoctor();
        break;
      case 'about':
        this.about.open();
        break;
      case 'preferences':
        this.preferences.open();
        break;
      default:
        if (cmd.hotkey) this.deps.runHotkey(cmd.hotkey);
    }
  }

  private fail(text: string): void {
    this.lastError = text;
    console.warn(text);
  }

  private sendCustom(text: string): void {
    let bytes: number[];
    try {
      bytes = sequenceBytes(parseKeySequence(text));
    } catch (e) {
      this.keysError.textContent = (e as Error).message;
      this.keysInput.setAttribute('aria-invalid', 'true');
      return;
    }
    this.keysInput.removeAttribute('aria-invalid');
    this.keysDialog.close();
    if (this.state().connected) this.deps.api.sendScancodes(bytes);
  }

  private async screenshot(): Promise<void> {
    const blob = await screenshotPng((await this.deps.pixels()) ?? { width: 0, height: 0, rgba: new Uint8Array(0) });
    if (this.deps.host === 'electron') {
      // main shows the save dialog and writes the file
      this.deps.api.saveScreenshot(new Uint8Array(await blob.arrayBuffer()));
      return;
    }
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = screenshotName(this.status.name, new Date());
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
  }
}
