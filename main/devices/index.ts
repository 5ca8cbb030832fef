// Device layer: managers for what the client machine lends the guest over
// spicevmc channels (USB redirection, smartcards, later shared folders). The
// engine (main/spice) knows only the DeviceManager seam; the session
// controller takes a factory of managers per session (ControllerOptions.devices).
// The native packages (usb, pcsclite) may be imported only under main/devices
// (eslint.config.js).
export type { DeviceManager } from '../spice/devices';
export { DeviceChannelPool, type ChannelPoolEvents } from './channel-pool';
export { SmartcardDevices, smartcardDevicesFor, type SmartcardDevicesOptions } from './smartcard/device-manager';
