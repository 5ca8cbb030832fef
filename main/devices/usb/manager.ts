// USB device manager: the one owner of USB devices ↔ usbredir channels in a
// session (a DeviceManager, main/spice/devices.ts). Each usbredir channel gets
// a UsbRedirHost when it links: QEMU's usb-redir sends its hello as soon as the
// channel opens, so the host answers at once and keeps the parser state for the
// channel's life (a seamless switch keeps the channel object, and so the host).
// A device is placed on a free channel (one device per channel, the pool's
// rule); its DATA goes both ways, and the channel's flow control reaches the
// device: write() false pauses the host (no new transfers, no interrupt polls)
// until onResume. `--spice-share-cd` images become emulated CD-ROM drives that
// are redirected as channels come up. Errors are coded per device and never
// reach another device or the session: malformed usbredir from the server
// fails that channel only (Channel.fail: the session lists it and goes on).
import { DeviceChannelPool } from '../channel-pool';
import type { DeviceManager } from '../../spice/devices';
import type { SpicevmcChannel } from '../../spice/channels/spicevmc-channel';
import type { Logger } from '../../spice/channels/base-channel';
import { Channel as ChannelType } from '../../spice/protocol/enums';
import { SpiceError } from '../../spice/wire/errors';
import { UsbBackendError, type BlockSource, type UsbBackend, type UsbDeviceHandle, type UsbDeviceInfo, type UsbHotplugEvent } from './backend';
import { checkUsbFilter } from './filter';
import type { UsbFilterRule } from '../../config/vv';
import { EmulatedCdrom } from './emulated-cdrom';
import { UsbRedirHost } from './redir-host';
import type { DevicePanelSource } from '../panel';
import type { DeviceEntry } from '../../../preload/contract';

/** What the picker shows per device. */
export type UsbDeviceStateName = 'free' | 'connecting' | 'redirected' | 'error';

/** Coded errors of a device: a SpiceError code (CONFIG, BAD_MESSAGE, …) or a backend one (BUSY, ACCESS, …). */
export interface UsbDeviceError {
  code: string;
  message: string;
}

export interface UsbDeviceState {
  id: string;
  label: string;
  vendorId: number;
  productId: number;
  emulated: boolean;
  state: UsbDeviceStateName;
  /** The channel carrying it while connecting/redirected ("usbredir 0"). */
  channel?: string;
  error?: UsbDeviceError;
}

export interface UsbManagerOptions {
  /** ISO images to share as CD-ROM drives (--spice-share-cd), redirected once channels come up. */
  shareCd?: readonly string[];
  /** Opens an image (default: the file system). */
  openImage: (path: string) => Promise<BlockSource>;
  /** Real devices (node-usb); none without it. */
  backend?: UsbBackend;
  /** Devices plugged during the session that these rules allow are redirected (usb-autoshare + the auto-redirect filter). */
  autoRedirectRules?: UsbFilterRule[];
  /** Devices present at connect that these rules allow are redirected (--spice-usbredir-redirect-on-connect). */
  redirectOnConnectRules?: UsbFilterRule[];
  log?: Logger;
  /** Device list or a state changed (the picker re-renders). */
  onChange?: (devices: UsbDeviceState[]) => void;
}

/** The wording users see when every usbredir channel is taken. */
export const NO_FREE_CHANNEL = 'the VM needs more usb-redir devices';

interface Device {
  id: string;
  label: string;
  vendorId: number;
  productId: number;
  emulated: boolean;
  /** Redirect whenever a channel is free (shared CDs, redirect-on-connect). */
  wanted: boolean;
  state: UsbDeviceStateName;
  error?: UsbDeviceError;
  channel: SpicevmcChannel | null;
  handle: UsbDeviceHandle | null;
  /** Backend devices: opened on redirect, closed when given back. */
  fromBackend: boolean;
  stopGone?: () => void;
  /** Emulated drives: their medium, closed when the drive goes. */
  medium?: BlockSource;
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {} };

export class UsbDeviceManager implements DeviceManager, DevicePanelSource {
  readonly channelTypes = [ChannelType.USBREDIR];
  readonly panelKind = 'usb';
  private readonly pool: DeviceChannelPool<Device>;
  private readonly hosts = new Map<SpicevmcChannel, UsbRedirHost>();
  private readonly devices = new Map<string, Device>();
  private readonly log: Logger;
  private cdCount = 0;
  private closed = false;
  /** The --spice-share-cd images are opened once, at the first channel. */
  private sharedAtConnect = false;
  private stopHotplug: (() => void) | null = null;

  constructor(private readonly opts: UsbManagerOptions) {
    this.log = opts.log ?? quiet;
    this.pool = new DeviceChannelPool<Device>([ChannelType.USBREDIR], {
      onLost: (d, _ch, err) => this.lost(d, err),
    });
  }

  // ---- DeviceManager -------------------------------------------------------

  channelUp(ch: SpicevmcChannel): void {
    if (this.closed) return;
    const host = new UsbRedirHost((b) => ch.write(b), {
      error: (e) => this.hostFailed(ch, e),
      filterReject: () => {
        const d = this.pool.deviceOn(ch);
        if (d) this.setError(d, { code: 'FILTER', message: 'the guest refused the device (its usbredir filter)' });
      },
    });
    this.hosts.set(ch, host);
    this.wire(ch, host);
    this.pool.channelUp(ch);
    host.start();
    if (!this.sharedAtConnect) {
      this.sharedAtConnect = true;
      for (const p of this.opts.shareCd ?? []) void this.shareCd(p, { wanted: true }).catch(() => { /* state shows it */ });
      if (this.opts.backend) void this.listBackend(this.opts.backend);
    }
    this.place();
  }

  channelDown(ch: SpicevmcChannel, err: SpiceError | null): void {
    const host = this.hosts.get(ch);
    this.hosts.delete(ch);
    host?.end();
    this.pool.channelDown(ch, err);
    this.changed();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopHotplug?.();
    this.pool.close();
    this.hosts.clear();
    for (const d of this.devices.values()) void this.dispose(d);
    this.devices.clear();
    this.changed();
  }

  // ---- what the picker and the app ask -------------------------------------

  list(): UsbDeviceState[] {
    return [...this.devices.values()].map((d) => ({
      id: d.id, label: d.label, vendorId: d.vendorId, productId: d.productId, emulated: d.emulated, state: d.state,
      ...(d.channel ? { channel: d.channel.name } : {}),
      ...(d.error ? { error: { ...d.error } } : {}),
    }));
  }

  /** The Devices panel's lines: every device and shared image, redirected or not. */
  entries(): DeviceEntry[] {
    return this.list().map((d) => ({
      kind: 'usb',
      id: d.id,
      label: d.label,
      detail: `${d.emulated ? 'CD image, ' : ''}${hex4(d.vendorId)}:${hex4(d.productId)}`,
      state: d.state,
      shared: d.state === 'connecting' || d.state === 'redirected',
      ...(d.error ? { error: d.error.message } : {}),
    }));
  }

  /** The panel's toggle: redirect on a free channel, or give the device back (a shared image stays listed). */
  setShared(id: string, shared: boolean): Promise<void> {
    if (shared) return this.redirect(id);
    // given back by the user: it no longer waits for a channel (a drive waiting behind it may take this one)
    const d = this.devices.get(id);
    if (d) d.wanted = false;
    return this.unredirect(id);
  }

  /** Free usbredir channels (the picker tells when none is left). */
  get freeChannels(): number {
    return this.pool.free.length;
  }

  /**
   * Shares an ISO as an emulated CD-ROM drive and redirects it. Rejects with a
   * coded SpiceError (CONFIG: no free channel, the image cannot be opened) —
   * the drive then stays listed with that error; `wanted` drives (the command
   * line's) are placed when a channel comes up instead.
   */
  async shareCd(path: string, o: { wanted?: boolean } = {}): Promise<string> {
    const index = ++this.cdCount;
    const label = path.split(/[\\/]/).pop() || path;
    const d: Device = {
      id: `emulated:cd${index}`, label, vendorId: 0, productId: 0, emulated: true,
      wanted: o.wanted ?? false, state: 'free', channel: null, handle: null, fromBackend: false,
    };
    this.devices.set(d.id, d);
    try {
      d.medium = await this.opts.openImage(path);
    } catch (e) {
      d.wanted = false;
      const err = new SpiceError('CONFIG', `cannot share ${path}: ${(e as Error).message}`);
      this.setError(d, { code: err.code, message: err.message });
      throw err;
    }
    if (this.closed) {
      await d.medium.close();
      throw new SpiceError('CLOSED', 'session closed');
    }
    const cd = new EmulatedCdrom(d.medium, { index, label });
    d.handle = cd;
    d.vendorId = cd.info.vendorId;
    d.productId = cd.info.productId;
    if (d.wanted) {
      this.place();
    } else {
      await this.redirect(d.id);
    }
    return d.id;
  }

  /** Removes a shared drive: the guest sees a USB disconnect, the channel is free again. */
  async unshareCd(id: string): Promise<void> {
    const d = this.devices.get(id);
    if (!d?.emulated) throw new SpiceError('CONFIG', `no shared drive ${id}`);
    d.wanted = false;
    await this.unredirect(id);
    this.devices.delete(id);
    await this.dispose(d);
    this.changed();
  }

  /** Redirects a listed device to the guest on a free channel (CONFIG error when none is left). */
  async redirect(id: string): Promise<void> {
    const d = this.devices.get(id);
    if (!d) throw new SpiceError('CONFIG', `no USB device ${id}`);
    if (d.channel) return;
    if (!this.pool.free.length) throw this.noChannel(d);
    await this.connect(d, this.pool.claim(d));
  }

  /** Gives a redirected device back to the client (device_disconnect, ack awaited). */
  async unredirect(id: string): Promise<void> {
    const d = this.devices.get(id);
    const ch = d?.channel;
    if (!d || !ch) return;
    const host = this.hosts.get(ch);
    try {
      await host?.detach();
    } finally {
      d.channel = null;
      if (d.state !== 'error') d.state = 'free';
      if (d.fromBackend) await this.giveBack(d);
      this.pool.release(ch);
      if (host && this.hosts.get(ch) === host) this.wire(ch, host);
      this.changed();
      this.place();
    }
  }

  // ---- internals -----------------------------------------------------------

  /** The channel's pipe ↔ its host (again after the pool's release() unhooked it). */
  private wire(ch: SpicevmcChannel, host: UsbRedirHost): void {
    ch.onData = (b) => host.receive(b);
    ch.onPause = () => host.pause();
    ch.onResume = () => host.resume();
  }

  /** Wanted devices without a channel take free ones, in the order they were added. */
  private place(): void {
    for (const d of this.devices.values()) {
      if (!d.wanted || d.channel || (!d.handle && !d.fromBackend) || this.closed) continue;
      // still waiting: the error says so, with the channel count as it is now
      if (!this.pool.free.length) this.noChannel(d);
      else void this.connect(d, this.pool.claim(d)).catch(() => { /* state shows it */ });
    }
  }

  private async connect(d: Device, ch: SpicevmcChannel): Promise<void> {
    const host = this.hosts.get(ch)!;
    d.channel = ch;
    d.state = 'connecting';
    delete d.error;
    this.changed();
    try {
      if (d.fromBackend && !d.handle) {
        d.handle = await this.opts.backend!.open(d.id);
        // unplugged while redirected: the host withdraws it (its own onGone); the channel is freed here
        d.stopGone = d.handle.onGone(() => { void this.unredirect(d.id); });
      }
      await host.attach(d.handle!);
    } catch (e) {
      const err = e instanceof UsbBackendError || e instanceof SpiceError
        ? { code: e.code, message: e.message }
        : { code: 'IO', message: String((e as Error)?.message ?? e) };
      this.log.warn(`usb: ${d.label} on ${ch.name}: ${err.code}: ${err.message}`);
      if (d.channel === ch) {
        d.channel = null;
        this.pool.release(ch);
        if (this.hosts.get(ch) === host) this.wire(ch, host);
      }
      if (d.fromBackend) await this.giveBack(d);
      d.wanted = false;
      this.setError(d, err);
      throw e;
    }
    if (d.channel !== ch) return; // lost while attaching
    d.state = 'redirected';
    this.log.info(`usb: ${d.label} redirected on ${ch.name}`);
    this.changed();
  }

  /** Real devices: listed at connect (redirect-on-connect rules), then followed through hotplug (auto-redirect rules). */
  private async listBackend(backend: UsbBackend): Promise<void> {
    this.stopHotplug = backend.onHotplug((e) => this.hotplug(e));
    let present: UsbDeviceInfo[];
    try {
      present = await backend.list();
    } catch (e) {
      this.log.warn(`usb: listing devices: ${(e as Error).message}`);
      return;
    }
    for (const info of present) this.addBackendDevice(info, this.opts.redirectOnConnectRules);
    this.place();
  }

  private hotplug(e: UsbHotplugEvent): void {
    if (this.closed) return;
    if (e.kind === 'attach') {
      this.addBackendDevice(e.device, this.opts.autoRedirectRules);
      this.place();
      return;
    }
    const d = this.devices.get(e.id);
    if (!d?.fromBackend) return;
    d.wanted = false;
    void this.unredirect(d.id).finally(() => {
      this.devices.delete(d.id);
      this.changed();
    });
  }

  private addBackendDevice(info: UsbDeviceInfo, rules: UsbFilterRule[] | undefined): void {
    if (this.devices.has(info.id)) return;
    const label = info.product ?? `${hex4(info.vendorId)}:${hex4(info.productId)}`;
    this.devices.set(info.id, {
      id: info.id, label, vendorId: info.vendorId, productId: info.productId, emulated: false, fromBackend: true,
      wanted: rules !== undefined && checkUsbFilter(rules, info) === 'allow',
      state: 'free', channel: null, handle: null,
    });
    this.changed();
  }

  /** Closes a real device's handle (its kernel driver comes back). */
  private async giveBack(d: Device): Promise<void> {
    d.stopGone?.();
    delete d.stopGone;
    const h = d.handle;
    d.handle = null;
    await h?.close().catch((e: unknown) => this.log.warn(`usb: closing ${d.label}: ${(e as Error).message}`));
  }

  /** The server sent bytes that are no usbredir: that channel fails, alone. */
  private hostFailed(ch: SpicevmcChannel, e: SpiceError): void {
    if (!this.hosts.has(ch)) return; // a packet cut by the channel's end: nothing left to fail
    this.log.warn(`usb: ${ch.name}: ${e.code}: ${e.message}`);
    const d = this.pool.deviceOn(ch);
    if (d) this.setError(d, { code: e.code, message: `${ch.name}: ${e.message}` });
    ch.fail(e); // the session drops this channel (linkFailures); channelDown follows
  }

  /** The channel under a device is gone (its failure, or the session's end). */
  private lost(d: Device, err: SpiceError | null): void {
    d.channel = null;
    d.wanted = false; // a drive whose channel broke mid-stream is not offered again by itself
    if (err) this.setError(d, { code: err.code, message: d.error?.message ?? err.message });
    else if (d.state !== 'error') d.state = 'free';
    this.changed();
  }

  private noChannel(d: Device): SpiceError {
    const n = this.hosts.size;
    const detail = n ? `all ${n} usbredir channels are in use` : 'the VM offers no usbredir channel';
    const err = new SpiceError('CONFIG', `${d.label}: ${NO_FREE_CHANNEL} (${detail})`);
    this.setError(d, { code: err.code, message: err.message });
    return err;
  }

  private setError(d: Device, err: UsbDeviceError): void {
    d.state = 'error';
    d.error = err;
    this.changed();
  }

  private async dispose(d: Device): Promise<void> {
    try {
      await d.handle?.close();
      await d.medium?.close();
    } catch (e) {
      this.log.warn(`usb: closing ${d.label}: ${(e as Error).message}`);
    }
  }

  private changed(): void {
    this.opts.onChange?.(this.list());
  }
}
