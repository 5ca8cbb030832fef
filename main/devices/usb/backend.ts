// UsbBackend: what the usbredir host side needs from a source of USB devices.
// Shaped after node-usb (usb@2, libusb): enumerate with descriptors and strings,
// hotplug, open, detach the kernel driver, claim, transfers, cancel, reset.
// Implementations: the node-usb backend (real devices) and emulated devices
// (the shared CD-ROM). Pure types: no platform imports here.

/** Transfer outcome, one-to-one with usbredir's status values. */
export type UsbTransferStatus = 'success' | 'cancelled' | 'inval' | 'ioerror' | 'stall' | 'timeout' | 'babble';

/** Speeds as usbredir numbers them (device_connect.speed). */
export type UsbSpeed = 'low' | 'full' | 'high' | 'super';

/** The 8-byte SETUP packet of a control transfer. */
export interface UsbSetup {
  requestType: number;
  request: number;
  value: number;
  index: number;
  /** wLength: bytes to read (IN) or the length of `data` (OUT). */
  length: number;
}

export interface UsbTransferResult {
  status: UsbTransferStatus;
  /** IN data (at most the requested length); empty for OUT. */
  data: Uint8Array;
  /** Bytes moved: data.length for IN, bytes written for OUT. */
  actual: number;
}

export interface UsbEndpointInfo {
  /** bEndpointAddress (bit 7 = IN) */
  address: number;
  /** 0 control, 1 iso, 2 bulk, 3 interrupt (bmAttributes & 3) */
  type: number;
  maxPacketSize: number;
  interval: number;
  /** USB 3 bulk streams (0 = none) */
  maxStreams: number;
}

export interface UsbInterfaceInfo {
  number: number;
  alt: number;
  class: number;
  subclass: number;
  protocol: number;
  endpoints: UsbEndpointInfo[];
}

export interface UsbDeviceInfo {
  /** Stable while plugged: "bus-ports" for real devices, "emulated:<n>" for emulated ones. */
  id: string;
  busNumber: number;
  deviceAddress: number;
  vendorId: number;
  productId: number;
  deviceClass: number;
  deviceSubclass: number;
  deviceProtocol: number;
  /** bcdDevice */
  deviceVersion: number;
  speed: UsbSpeed;
  manufacturer?: string;
  product?: string;
  serialNumber?: string;
  /** Raw device descriptor (18 bytes) and the active configuration's full descriptor. */
  deviceDescriptor: Uint8Array;
  configDescriptor: Uint8Array;
  /** Interfaces of the active configuration (current alt settings). */
  interfaces: UsbInterfaceInfo[];
  emulated: boolean;
}

export type UsbHotplugEvent = { kind: 'attach'; device: UsbDeviceInfo } | { kind: 'detach'; id: string };

/** Errors a backend reports; the device manager turns them into user-facing text. */
export type UsbBackendErrorCode = 'BUSY' | 'ACCESS' | 'NO_DEVICE' | 'NOT_FOUND' | 'IO' | 'NOT_SUPPORTED';
export class UsbBackendError extends Error {
  constructor(readonly code: UsbBackendErrorCode, message: string) {
    super(message);
    this.name = 'UsbBackendError';
  }
}

export interface UsbBackend {
  /** Devices present now, with descriptors and (where readable) strings. */
  list(): Promise<UsbDeviceInfo[]>;
  /** Hotplug notifications; returns the unsubscribe function. */
  onHotplug(listener: (e: UsbHotplugEvent) => void): () => void;
  /** Opens a device for redirection (rejects with UsbBackendError). */
  open(id: string): Promise<UsbDeviceHandle>;
}

/**
 * An opened device. Transfers are tagged with the caller's id (the usbredir
 * packet id) so cancel() can name one; a cancelled transfer resolves with
 * status 'cancelled', it never rejects.
 */
export interface UsbDeviceHandle {
  readonly info: UsbDeviceInfo;
  /** Detaches the kernel driver (if one is bound) and claims every interface. */
  claimAll(): Promise<void>;
  releaseAll(): Promise<void>;
  setConfiguration(config: number): Promise<UsbTransferStatus>;
  getConfiguration(): number;
  setAltSetting(iface: number, alt: number): Promise<UsbTransferStatus>;
  getAltSetting(iface: number): number;
  control(id: bigint, setup: UsbSetup, data: Uint8Array): Promise<UsbTransferResult>;
  /** IN: `length` bytes are requested and `data` is empty; OUT: `data` is written. */
  bulk(id: bigint, endpoint: number, length: number, data: Uint8Array, streamId?: number): Promise<UsbTransferResult>;
  interrupt(id: bigint, endpoint: number, length: number, data: Uint8Array): Promise<UsbTransferResult>;
  iso(id: bigint, endpoint: number, length: number, data: Uint8Array): Promise<UsbTransferResult>;
  cancel(id: bigint): void;
  clearHalt(endpoint: number): Promise<UsbTransferStatus>;
  reset(): Promise<void>;
  close(): Promise<void>;
  /** Called when the device disappears (unplug, emulated media removed from the picker). */
  onGone(listener: () => void): () => void;
}

/** Reads a byte range of an emulated medium (an ISO file); injected so the emulation stays pure. */
export interface BlockSource {
  readonly size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}
