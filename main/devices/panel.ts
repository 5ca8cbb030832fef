// The Devices panel's side of a device manager (File → USB devices and
// smartcards): what it lists and the toggle per line. The session controller
// collects the entries of every manager that has them and routes the page's
// setDeviceShared here; the managers stay the only owners of devices.
import type { DeviceEntry } from '../../preload/contract';
import type { DeviceManager } from '../spice/devices';

export interface DevicePanelSource {
  readonly panelKind: DeviceEntry['kind'];
  entries(): DeviceEntry[];
  /** Redirect / offer (true) or give back / stop offering (false); rejects with a coded error. */
  setShared(id: string, shared: boolean): Promise<void>;
  /** Smartcards: File → Insert / Remove smartcard presents or takes away the shared readers' cards. */
  setCardsPresented?(presented: boolean): void;
}

export function isPanelSource(m: DeviceManager): m is DeviceManager & DevicePanelSource {
  return typeof (m as Partial<DevicePanelSource>).entries === 'function' && typeof (m as Partial<DevicePanelSource>).panelKind === 'string';
}
