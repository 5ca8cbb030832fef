// The smartcard channel's device manager (the main/spice DeviceManager seam):
// when the session links the smartcard channel, the client's readers (a
// SmartcardBackend, pcscd by default) are offered to the guest through a
// SmartcardManager whose VSCard messages ride the channel's DATA messages,
// one VSCard message per SPICE message (spice-server asserts exactly that),
// header little endian.
//
// spice-server has one smartcard channel and one reader per
// ccid-card-passthru device behind it. The manager's state (reader ids, the
// APDU in flight and the queue behind it) lives here, on the logical channel:
// a seamless migration keeps the channel object (no down/up), so nothing is
// resent or lost; a switch-host or a relink is a new server and starts over.
// Flow control is not needed: the manager has at most one control message and
// one APDU answer outstanding, far below the channel's high-water marks.
import type { DeviceManager } from '../../spice/devices';
import { SPICEVMC_MAX_CHUNK, type SpicevmcChannel } from '../../spice/channels/spicevmc-channel';
import type { Logger } from '../../spice/channels/base-channel';
import { Channel as ChannelType } from '../../spice/protocol/enums';
import type { SpiceError } from '../../spice/wire/errors';
import { SmartcardError, type SmartcardBackend } from './backend';
import { SmartcardManager, type SharedReader } from './manager';
import { SPICE_VSC_ORDER, VscErrorCode, VscMessageType, encodeVscMessage, type VscMessage } from './vscard';
import { PcscBackend } from './pcsc-backend';
import type { DevicePanelSource } from '../panel';
import type { DeviceEntry } from '../../../preload/contract';

export interface SmartcardDevicesOptions {
  backend: SmartcardBackend;
  log?: Logger;
  /** A reader or card problem (pcscd away, a refused reader, a failed transmit), or the backend not starting. */
  onError?: (e: SmartcardError, reader?: string) => void;
  /** The shared readers changed (for the window's indicator). */
  onChange?: () => void;
}

/** Words for the panel: why a reader is not (yet) the guest's. */
const READER_STATE_TEXT: Record<string, string> = {
  adding: 'being offered to the guest',
  waiting: 'waiting: the VM takes one reader at a time (stop sharing the other to use this one)',
  rejected: 'the VM refused it (it has no free smartcard slot: add a ccid-card-passthru device)',
  stopped: 'not shared',
};

export class SmartcardDevices implements DeviceManager, DevicePanelSource {
  readonly channelTypes = [ChannelType.SMARTCARD] as const;
  readonly panelKind = 'smartcard';
  /** Why there are no readers (pcscd away, the backend not starting), until pcscd is back. */
  private problem: SmartcardError | null = null;
  private channel: SpicevmcChannel | null = null;
  private mgr: SmartcardManager | null = null;
  private backendStarted: Promise<void> | null = null;
  private closed = false;
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: SmartcardDevicesOptions) {
    // pcscd away: the panel says so (its readers are gone with it); back: it stops saying so
    this.unsubscribe = opts.backend.onEvent((e) => {
      if (e.type === 'service-down') this.problem = e.error;
      else if (e.type === 'service-up' && this.problem) this.problem = null;
      else return;
      this.opts.onChange?.();
    });
  }

  /** The manager serving the linked channel (null while none is linked). */
  get manager(): SmartcardManager | null {
    return this.mgr;
  }

  readers(): SharedReader[] {
    return this.mgr?.readers() ?? [];
  }

  /** The Devices panel's lines: each reader with its card, or why there is none (pcscd away). */
  entries(): DeviceEntry[] {
    const readers = this.readers();
    if (this.problem && this.channel && (!readers.length || !this.opts.backend.serviceUp)) {
      return [{ kind: 'smartcard', id: '', label: 'Smartcard readers', detail: '', state: 'error', shared: false, error: this.problem.message }];
    }
    return readers.map((r) => ({
      kind: 'smartcard',
      id: r.name,
      label: r.name,
      detail:
        r.state === 'shared'
          ? r.ejected
            ? 'card removed in the viewer (File → Insert smartcard puts it back)'
            : r.guestAtr
              ? `card ${r.inUse ? 'in use by the guest' : 'inserted'}${r.bridged ? ' (T=1 card bridged to T=0)' : ''}`
              : 'no card'
          : READER_STATE_TEXT[r.state] ?? r.state,
      state: r.state,
      shared: r.state === 'shared' || r.state === 'adding',
      ...(r.inUse ? { inUse: true } : {}),
    }));
  }

  /** Stops (or resumes) offering a reader to the guest. */
  async setShared(name: string, shared: boolean): Promise<void> {
    this.mgr?.setShared(name, shared);
  }

  /** File → Insert / Remove smartcard: the cards of the shared readers, for the guest (they stay in the readers). */
  setCardsPresented(presented: boolean): void {
    const mgr = this.mgr;
    if (!mgr) return;
    for (const r of mgr.readers()) if (r.state === 'shared') mgr.setCardPresented(r.name, presented);
  }

  channelUp(ch: SpicevmcChannel): void {
    if (this.closed) return;
    if (this.channel) {
      // spice-server has a single smartcard channel; any other is left alone
      this.opts.log?.warn(`${ch.name}: a second smartcard channel is not used`);
      return;
    }
    this.channel = ch;
    const mgr = new SmartcardManager({
      backend: this.opts.backend,
      send: (msg) => ch.write(this.encode(msg)),
      order: SPICE_VSC_ORDER,
      // spice-server attaches one ccid-card-passthru device per channel client and
      // answers every further ReaderAdd with that device's reader id (seen: two
      // client readers both "added" as id 0), so one reader at a time
      maxReaders: 1,
      onError: (e, reader) => this.error(e, reader),
    });
    this.mgr = mgr;
    // a malformed VSCard message throws a coded SpiceError: the channel fails with it, the session lives
    ch.onData = (bytes) => mgr.handleBytes(bytes);
    if (this.opts.onChange) mgr.onChange(this.opts.onChange);
    mgr.start();
    this.backendStarted ??= this.opts.backend.start().catch((e: unknown) => this.error(e as SmartcardError));
    this.opts.onChange?.();
  }

  channelDown(ch: SpicevmcChannel, err: SpiceError | null): void {
    if (ch !== this.channel) return;
    if (err) this.opts.log?.warn(`${ch.name}: smartcards no longer shared: ${err.code}: ${err.message}`);
    ch.onData = null;
    this.channel = null;
    this.mgr?.close();
    this.mgr = null;
    this.opts.onChange?.();
  }

  close(): void {
    if (this.channel) this.channelDown(this.channel, null);
    this.closed = true;
    this.unsubscribe();
    this.opts.backend.close().catch(() => {});
  }

  /**
   * One VSCard message for one DATA message. The channel splits writes at
   * SPICEVMC_MAX_CHUNK and spice-server asserts that a message holds exactly
   * one VSCard message (a split one would abort QEMU), so a card answer too
   * big for that (an extended-length response near 64 KiB) becomes an Error.
   */
  private encode(msg: VscMessage): Uint8Array {
    const bytes = encodeVscMessage(msg, SPICE_VSC_ORDER);
    if (bytes.length <= SPICEVMC_MAX_CHUNK) return bytes;
    this.error(new SmartcardError('TRANSMIT_FAILED', `a ${bytes.length}-byte VSCard message exceeds the smartcard channel's ${SPICEVMC_MAX_CHUNK}-byte messages; the guest gets an error instead`));
    return encodeVscMessage({ type: VscMessageType.Error, readerId: msg.readerId, code: VscErrorCode.GENERAL_ERROR }, SPICE_VSC_ORDER);
  }

  private error(e: SmartcardError, reader?: string): void {
    this.opts.log?.warn(`smartcard${reader ? ` ${reader}` : ''}: ${e.code ?? 'ERROR'}: ${e.message}`);
    if (!reader) {
      this.problem = e;
      this.opts.onChange?.();
    }
    this.opts.onError?.(e, reader);
  }
}

/**
 * The session controller's device factory for smartcards: a manager on pcscd
 * when the configuration enables the channel (--spice-smartcard,
 * enable-smartcard=1), none otherwise.
 */
export function smartcardDevicesFor(
  cfg: { channels: { smartcard: boolean } },
  opts: Omit<SmartcardDevicesOptions, 'backend'> & { backend?: () => SmartcardBackend } = {},
): DeviceManager[] {
  if (!cfg.channels.smartcard) return [];
  const { backend, ...rest } = opts;
  return [new SmartcardDevices({ ...rest, backend: backend?.() ?? new PcscBackend() })];
}
