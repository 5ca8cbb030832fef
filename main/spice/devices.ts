// The seam between the engine and the device layer (main/devices): a device
// manager (USB, smartcard, shared folders) is told when a spicevmc channel of
// its kind comes up or goes away, and uses the channel's byte pipe
// (SpicevmcChannel: onData, write, onPause/onResume). A seamless migration
// keeps the same channel object, so a manager sees no down/up across it.
import type { SpicevmcChannel } from './channels/spicevmc-channel';
import type { SpiceError } from './wire/errors';

export interface DeviceManager {
  /** The spicevmc channel types this manager serves. */
  readonly channelTypes: readonly number[];
  /** A channel of one of those types is linked (again, after a switch-host). */
  channelUp(ch: SpicevmcChannel): void;
  /** The channel is gone: err when it failed, null on a clean close. */
  channelDown(ch: SpicevmcChannel, err: SpiceError | null): void;
  /** The session ended: release every device. */
  close(): void;
}
