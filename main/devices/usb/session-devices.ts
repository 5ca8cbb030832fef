// The USB manager a session gets from its configuration (the session
// controller's `devices` factory): none when usbredir is off (--spice-disable-
// usbredir, a .vv's enable-usbredir=0), else one manager sharing the
// --spice-share-cd images from the file system and offering the machine's USB
// devices through node-usb, with remote-viewer's auto-redirect (usb-autoshare +
// filter) and redirect-on-connect rules.
import type { DeviceManager } from '../../spice/devices';
import type { Logger } from '../../spice/channels/base-channel';
import type { EffectiveConfig } from '../../config/effective';
import type { UsbBackend } from './backend';
import { openFileBlockSource } from './file-block-source';
import { UsbDeviceManager, type UsbDeviceState } from './manager';
import { NodeUsbBackend } from './node-usb-backend';

export interface UsbSessionOptions {
  log?: Logger;
  onChange?: (d: UsbDeviceState[]) => void;
  /** Real devices (default: node-usb). */
  backend?: UsbBackend;
}

export function usbDevicesFor(cfg: EffectiveConfig, o: UsbSessionOptions = {}): DeviceManager[] {
  if (!cfg.channels.usbredir) return [];
  return [new UsbDeviceManager({
    shareCd: cfg.usb.shareCd,
    openImage: openFileBlockSource,
    backend: o.backend ?? new NodeUsbBackend(),
    ...(cfg.usb.autoshare ? { autoRedirectRules: cfg.usb.autoRedirectRules } : {}),
    ...(cfg.usb.redirectOnConnectRules ? { redirectOnConnectRules: cfg.usb.redirectOnConnectRules } : {}),
    ...(o.log ? { log: o.log } : {}),
    ...(o.onChange ? { onChange: o.onChange } : {}),
  })];
}
