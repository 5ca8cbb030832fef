// The channels of one device kind (usbredir, smartcard, webdav) and which
// device each serves: spice-server gives one device per spicevmc channel, so a
// manager claims a free channel for a device and gets it back when the device
// goes. A channel lost under a device (its failure, the session's end) is
// reported to the manager, which closes or re-offers that device.
import type { DeviceManager } from '../spice/devices';
import type { SpicevmcChannel } from '../spice/channels/spicevmc-channel';
import { CHANNEL_NAMES } from '../spice/channels/base-channel';
import { SpiceError } from '../spice/wire/errors';

export interface ChannelPoolEvents<D> {
  /** Channels came or went (a picker shows how many are free). */
  onChange?(): void;
  /** The channel under a device is gone: err when it failed, null when the session closed. */
  onLost?(device: D, ch: SpicevmcChannel, err: SpiceError | null): void;
}

export class DeviceChannelPool<D> implements DeviceManager {
  private readonly up: SpicevmcChannel[] = [];
  private readonly bound = new Map<SpicevmcChannel, D>();

  constructor(
    readonly channelTypes: readonly number[],
    private readonly events: ChannelPoolEvents<D> = {},
  ) {}

  channelUp(ch: SpicevmcChannel): void {
    if (!this.up.includes(ch)) this.up.push(ch);
    this.events.onChange?.();
  }

  channelDown(ch: SpicevmcChannel, err: SpiceError | null): void {
    const i = this.up.indexOf(ch);
    if (i >= 0) this.up.splice(i, 1);
    this.unbind(ch, err);
    this.events.onChange?.();
  }

  close(): void {
    for (const ch of [...this.bound.keys()]) this.unbind(ch, null);
    this.up.length = 0;
    this.events.onChange?.();
  }

  /** Linked channels no device uses, in the server's order. */
  get free(): SpicevmcChannel[] {
    return this.up.filter((c) => !this.bound.has(c));
  }

  deviceOn(ch: SpicevmcChannel): D | undefined {
    return this.bound.get(ch);
  }

  /** A free channel for device, or a CONFIG error naming what the VM lacks. */
  claim(device: D): SpicevmcChannel {
    const ch = this.free[0];
    if (!ch) {
      const kind = this.channelTypes.map((t) => CHANNEL_NAMES[t] ?? `channel ${t}`).join('/');
      throw new SpiceError(
        'CONFIG',
        `no free ${kind} channel: ${this.up.length ? `all ${this.up.length} are in use` : 'the VM offers none'} (add more ${kind} devices to the VM)`,
      );
    }
    this.bound.set(ch, device);
    this.events.onChange?.();
    return ch;
  }

  /** The device is done with its channel (unplugged, unshared). */
  release(ch: SpicevmcChannel): void {
    if (!this.bound.delete(ch)) return;
    ch.onData = null;
    ch.onPause = null;
    ch.onResume = null;
    this.events.onChange?.();
  }

  private unbind(ch: SpicevmcChannel, err: SpiceError | null): void {
    const d = this.bound.get(ch);
    if (d === undefined) return;
    this.bound.delete(ch);
    this.events.onLost?.(d, ch, err);
  }
}
