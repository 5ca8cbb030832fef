// What both hosts (the Electron app and the web host) give every session
// controller they make: the real transports, the device managers the
// configuration asks for, and the saved zoom and recent connections.
import { defaultTransportFactory } from '../transport/index';
import { smartcardDevicesFor } from '../devices/smartcard/device-manager';
import { usbDevicesFor } from '../devices/usb/session-devices';
import { TEST_USB_DIR_ENV, TestDirUsbBackend } from '../devices/usb/test-dir-backend';
import { webdavSharesFor } from '../devices/webdav/manager';
import { SharedFolder } from '../devices/webdav/shared-folder';
import { Channel as ChannelType } from '../spice/protocol/enums';
import type { EffectiveConfig } from '../config/effective';
import type { Logger } from '../spice/channels/base-channel';
import type { ControllerOptions } from './session-controller';
import type { SettingsStore } from './settings';

export function hostControllerOptions(o: {
  config: EffectiveConfig;
  log: Logger;
  appVersion: string;
  env: Record<string, string | undefined>;
  settings: SettingsStore;
  /** Electron: the native folder picker (Choose…); resolves null when cancelled. */
  pickFolder?: () => Promise<string | null>;
}): ControllerOptions {
  // the shared folder of the run: the command line's, else the saved one; File → Preferences changes it
  const sharedFolder = new SharedFolder({
    ...(o.config.sharedDir !== undefined ? { cliDir: o.config.sharedDir } : {}),
    cliReadOnly: o.config.sharedDirReadOnly,
    saved: o.settings.sharedFolder(),
    save: (f) => o.settings.setSharedFolder(f),
    ...(o.pickFolder ? { pick: o.pickFolder } : {}),
  });
  // tests only: USB devices from files in a directory (test-dir-backend.ts) instead of node-usb; unset in real use
  const testUsbDir = o.env[TEST_USB_DIR_ENV];
  return {
    config: o.config,
    transport: defaultTransportFactory,
    log: o.log,
    appVersion: o.appVersion,
    env: o.env,
    devices: (cfg, changed) => [
      ...usbDevicesFor(cfg, { log: o.log, onChange: changed, ...(testUsbDir ? { backend: new TestDirUsbBackend(testUsbDir) } : {}) }), ...smartcardDevicesFor(cfg, { log: o.log, onChange: changed }),
      ...webdavSharesFor(cfg, { log: o.log, onChange: changed, folder: sharedFolder }),
    ],
    savedZoom: o.settings.current.zoom,
    recent: o.settings.recent,
    shareClipboard: o.settings.current.shareClipboard,
    // the saved toggle is remote-viewer's on/off; a one-way policy counts as on
    onClipboardPolicy: (p) => o.settings.setShareClipboard(p !== 'off'),
    preferences: { autoResize: o.settings.current.autoResize, ...(o.settings.current.displayWindows !== undefined ? { displayWindows: o.settings.current.displayWindows } : {}) },
    onPreferences: (p) => o.settings.setPreferences(p),
    ...(o.config.channels.disabledTypes.includes(ChannelType.WEBDAV) ? {} : { sharedFolder }),
  };
}
