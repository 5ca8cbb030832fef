// The USB manager a session gets from its configuration (the session
// controller's `devices` factory): none when usbredir is off (--spice-disable-
// usbredir, a .vv's enable-usbredir=0), else one manager sharing the
// --spice-share-cd images from the file system.
import type { DeviceManager } from '../../spice/devices';
import type { Logger } from '../../spice/channels/base-channel';
import type { EffectiveConfig } from '../../config/effective';
import { openFileBlockSource } from './file-block-source';
import { UsbDeviceManager, type UsbDeviceState } from './manager';

export function usbDevicesFor(cfg: EffectiveConfig, log?: Logger, onChange?: (d: UsbDeviceState[]) => void): DeviceManager[] {
  if (!cfg.channels.usbredir) return [];
  return [new UsbDeviceManager({ shareCd: cfg.usb.shareCd, openImage: openFileBlockSource, ...(log ? { log } : {}), ...(onChange ? { onChange } : {}) })];
}
