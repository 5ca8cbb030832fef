// UsbBackend over node-usb (usb@2, libusb): real devices of the client machine.
// Enumerate with descriptors and (where the device can be opened) strings,
// hotplug through libusb's attach/detach events, open, detach the kernel driver
// and claim every interface (re-attached on release), control / bulk /
// interrupt transfers tagged with the usbredir id so cancel() can name one,
// clear halt, reset. node-usb has no isochronous API: iso transfers answer
// 'inval'. The translation (descriptors → UsbDeviceInfo, libusb codes →
// statuses and coded UsbBackendErrors) is pure and exported for unit tests.
import { readFile } from 'node:fs/promises';
import type { Device, Interface, Endpoint, Transfer, ConfigDescriptor, DeviceDescriptor } from 'usb';
import {
  UsbBackendError, type UsbBackend, type UsbDeviceHandle, type UsbDeviceInfo, type UsbEndpointInfo, type UsbHotplugEvent,
  type UsbInterfaceInfo, type UsbSetup, type UsbSpeed, type UsbTransferResult, type UsbTransferStatus,
} from './backend';
import { configDescriptor as buildConfigDescriptor, deviceDescriptor as buildDeviceDescriptor } from './descriptors';

// libusb_transfer_status (transfer callbacks) and libusb_error (synchronous calls), as node-usb reports them in errno
const T = { ERROR: 1, TIMED_OUT: 2, CANCELLED: 3, STALL: 4, NO_DEVICE: 5, OVERFLOW: 6 } as const;
const E = { IO: -1, INVALID_PARAM: -2, ACCESS: -3, NO_DEVICE: -4, NOT_FOUND: -5, BUSY: -6, TIMEOUT: -7, OVERFLOW: -8, PIPE: -9, NOT_SUPPORTED: -12 } as const;

const EMPTY = new Uint8Array(0);

type UsbModule = typeof import('usb');
let usbModule: UsbModule | null = null;
/**
 * node-usb loads libusb's native binding when imported: load it when a session
 * first asks for devices, not at every start of the app or the web host (nor
 * at all with usbredir off).
 */
export async function loadNodeUsb(): Promise<UsbModule> {
  return (usbModule ??= await import('usb'));
}

/** A libusb constant as the loaded binding numbers it (tests check the tables above against it). */
export function libusbConstant(name: string): number | undefined {
  return (usbModule?.usb as unknown as Record<string, number | undefined> | undefined)?.[name];
}

/** Hotplug listeners registered on node-usb (tests: onHotplug's unsubscribe leaves none). */
export function hotplugListenerCount(): number {
  return usbModule ? usbModule.usb.listenerCount('attach') + usbModule.usb.listenerCount('detach') : 0;
}

/** The parts of a node-usb Device the translation reads. */
export interface RawUsbDevice {
  busNumber: number;
  deviceAddress: number;
  portNumbers?: number[];
  deviceDescriptor: DeviceDescriptor;
  configDescriptor?: ConfigDescriptor;
}

/** Stable while plugged: bus and port path ("1-2.4"), the address where ports are unknown. */
export function nodeUsbDeviceId(d: Pick<RawUsbDevice, 'busNumber' | 'deviceAddress' | 'portNumbers'>): string {
  return d.portNumbers?.length ? `${d.busNumber}-${d.portNumbers.join('.')}` : `${d.busNumber}-@${d.deviceAddress}`;
}

/** Speed from sysfs's value in Mb/s, else guessed from bcdUSB. */
export function speedOf(sysfsMbps: string | null, bcdUSB: number): UsbSpeed {
  const v = sysfsMbps === null ? NaN : Number(sysfsMbps.trim());
  if (v === 1.5) return 'low';
  if (v === 12) return 'full';
  if (v === 480) return 'high';
  if (v >= 5000) return 'super';
  return bcdUSB >= 0x0300 ? 'super' : bcdUSB >= 0x0200 ? 'high' : 'full';
}

/** wMaxPacketSize → bytes per (micro)frame: periodic high-speed endpoints carry up to 3 transactions. */
export function maxPacketBytes(wMaxPacketSize: number, type: number): number {
  const base = wMaxPacketSize & 0x7ff;
  return type === 1 || type === 3 ? base * (1 + ((wMaxPacketSize >> 11) & 3)) : base;
}

/** Interfaces of a configuration at the given alt settings (alt 0 where none is set). */
export function interfacesOf(cfg: ConfigDescriptor | undefined, alts: ReadonlyMap<number, number> = new Map()): UsbInterfaceInfo[] {
  if (!cfg) return [];
  return cfg.interfaces.map((settings) => {
    const n = settings[0].bInterfaceNumber;
    const d = settings.find((s) => s.bAlternateSetting === (alts.get(n) ?? 0)) ?? settings[0];
    const endpoints: UsbEndpointInfo[] = d.endpoints.map((e) => {
      const type = e.bmAttributes & 3;
      return { address: e.bEndpointAddress, type, maxPacketSize: maxPacketBytes(e.wMaxPacketSize, type), interval: e.bInterval, maxStreams: 0 };
    });
    return { number: n, alt: d.bAlternateSetting, class: d.bInterfaceClass, subclass: d.bInterfaceSubClass, protocol: d.bInterfaceProtocol, endpoints };
  });
}

/** UsbDeviceInfo from node-usb's parsed descriptors (the config descriptor is rebuilt without class-specific extras). */
export function nodeUsbDeviceInfo(d: RawUsbDevice, speed: UsbSpeed, strings: { manufacturer?: string; product?: string; serialNumber?: string } = {},
  alts?: ReadonlyMap<number, number>): UsbDeviceInfo {
  const dd = d.deviceDescriptor;
  const interfaces = interfacesOf(d.configDescriptor, alts);
  const cfg = d.configDescriptor;
  return {
    id: nodeUsbDeviceId(d), busNumber: d.busNumber, deviceAddress: d.deviceAddress,
    vendorId: dd.idVendor, productId: dd.idProduct, deviceClass: dd.bDeviceClass, deviceSubclass: dd.bDeviceSubClass,
    deviceProtocol: dd.bDeviceProtocol, deviceVersion: dd.bcdDevice, speed, ...strings,
    deviceDescriptor: buildDeviceDescriptor({
      bcdUSB: dd.bcdUSB, deviceClass: dd.bDeviceClass, deviceSubclass: dd.bDeviceSubClass, deviceProtocol: dd.bDeviceProtocol,
      maxPacketSize0: dd.bMaxPacketSize0, vendorId: dd.idVendor, productId: dd.idProduct, bcdDevice: dd.bcdDevice,
      iManufacturer: dd.iManufacturer, iProduct: dd.iProduct, iSerial: dd.iSerialNumber, numConfigurations: dd.bNumConfigurations,
    }),
    configDescriptor: cfg ? buildConfigDescriptor(cfg.bConfigurationValue, cfg.bmAttributes, cfg.bMaxPower, interfaces) : EMPTY,
    interfaces, emulated: false,
  };
}

/** A transfer's outcome from node-usb's error (errno = libusb_transfer_status, or a libusb_error). */
export function transferStatus(err: { errno?: number } | undefined | null): UsbTransferStatus {
  if (!err) return 'success';
  switch (err.errno) {
    case T.CANCELLED: return 'cancelled';
    case T.STALL: case E.PIPE: return 'stall';
    case T.TIMED_OUT: case E.TIMEOUT: return 'timeout';
    case T.OVERFLOW: case E.OVERFLOW: return 'babble';
    case E.INVALID_PARAM: case E.NOT_SUPPORTED: return 'inval';
    default: return 'ioerror';
  }
}

/** A coded error naming what to do, from a failed open/claim/detach. */
export function backendError(e: unknown, what: string, label: string): UsbBackendError {
  const errno = (e as { errno?: number } | null)?.errno;
  const why = (e as Error)?.message ?? String(e);
  switch (errno) {
    case E.BUSY:
      return new UsbBackendError('BUSY', `${label}: ${what}: the device is in use by another driver or program (${why})`);
    case E.ACCESS:
      return new UsbBackendError('ACCESS', `${label}: ${what}: permission denied; allow your user to open it, e.g. a udev rule `
        + `/etc/udev/rules.d/50-spice-usb.rules: SUBSYSTEM=="usb", MODE="0660", TAG+="uaccess" (then: udevadm control --reload; replug)`);
    case E.NO_DEVICE:
      return new UsbBackendError('NO_DEVICE', `${label}: ${what}: the device was unplugged`);
    case E.NOT_FOUND:
      return new UsbBackendError('NOT_FOUND', `${label}: ${what}: not found (${why})`);
    case E.NOT_SUPPORTED:
      return new UsbBackendError('NOT_SUPPORTED', `${label}: ${what}: not supported on this system (${why})`);
    default:
      return new UsbBackendError('IO', `${label}: ${what}: ${why}`);
  }
}

const labelOf = (i: Pick<UsbDeviceInfo, 'vendorId' | 'productId' | 'id'>): string =>
  `USB device ${i.vendorId.toString(16).padStart(4, '0')}:${i.productId.toString(16).padStart(4, '0')} at ${i.id}`;

async function sysfsSpeed(d: RawUsbDevice): Promise<string | null> {
  if (!d.portNumbers?.length) return null;
  return readFile(`/sys/bus/usb/devices/${d.busNumber}-${d.portNumbers.join('.')}/speed`, 'utf8').catch(() => null);
}

function stringOf(dev: Device, index: number): Promise<string | undefined> {
  if (!index) return Promise.resolve(undefined);
  return new Promise((resolve) => dev.getStringDescriptor(index, (err, v) => resolve(err ? undefined : v)));
}

/** Strings need the device open: read them when it can be opened, else leave them out. */
async function stringsOf(dev: Device): Promise<{ manufacturer?: string; product?: string; serialNumber?: string }> {
  const dd = dev.deviceDescriptor;
  try {
    dev.open(false);
  } catch {
    return {};
  }
  try {
    const [manufacturer, product, serialNumber] = await Promise.all([stringOf(dev, dd.iManufacturer), stringOf(dev, dd.iProduct), stringOf(dev, dd.iSerialNumber)]);
    return { ...(manufacturer ? { manufacturer } : {}), ...(product ? { product } : {}), ...(serialNumber ? { serialNumber } : {}) };
  } finally {
    try { dev.close(); } catch { /* gone meanwhile */ }
  }
}

async function describe(dev: Device): Promise<UsbDeviceInfo> {
  return nodeUsbDeviceInfo(dev, speedOf(await sysfsSpeed(dev), dev.deviceDescriptor.bcdUSB), await stringsOf(dev));
}

const cb = <R = void>(run: (done: (err: unknown, r?: R) => void) => void): Promise<R> =>
  new Promise((resolve, reject) => run((err, r) => (err ? reject(err) : resolve(r as R))));

export class NodeUsbBackend implements UsbBackend {
  private readonly open_ = new Map<string, NodeUsbHandle>();

  async list(): Promise<UsbDeviceInfo[]> {
    const out: UsbDeviceInfo[] = [];
    for (const dev of (await loadNodeUsb()).getDeviceList()) {
      if (dev.deviceDescriptor.bDeviceClass === 9) continue; // hubs are never redirected
      out.push(await describe(dev));
    }
    return out;
  }

  onHotplug(listener: (e: UsbHotplugEvent) => void): () => void {
    const attach = (dev: Device): void => {
      if (dev.deviceDescriptor.bDeviceClass === 9) return;
      void describe(dev).then((device) => listener({ kind: 'attach', device }), () => { /* gone again */ });
    };
    const detach = (dev: Device): void => {
      const id = nodeUsbDeviceId(dev);
      this.open_.get(id)?.gone();
      listener({ kind: 'detach', id });
    };
    let stop: (() => void) | null = null;
    let stopped = false;
    void loadNodeUsb().then(({ usb }) => {
      if (stopped) return;
      usb.on('attach', attach);
      usb.on('detach', detach);
      stop = () => {
        usb.off('attach', attach);
        usb.off('detach', detach);
      };
    }, () => { /* list() and open() report a binding that does not load */ });
    return () => {
      stopped = true;
      stop?.();
    };
  }

  async open(id: string): Promise<UsbDeviceHandle> {
    const dev = (await loadNodeUsb()).getDeviceList().find((d) => nodeUsbDeviceId(d) === id);
    if (!dev) throw new UsbBackendError('NOT_FOUND', `USB device ${id}: not present (unplugged?)`);
    const info = await describe(dev);
    try {
      dev.open(true);
    } catch (e) {
      throw backendError(e, 'open', labelOf(info));
    }
    const h = new NodeUsbHandle(dev, info, () => this.open_.delete(id));
    this.open_.set(id, h);
    // a device unplugged between a list and here: libusb's detach may never reach us for it
    return h;
  }
}

export class NodeUsbHandle implements UsbDeviceHandle {
  private current: UsbDeviceInfo;
  private readonly alts = new Map<number, number>();
  private readonly transfers = new Map<bigint, Transfer>();
  private readonly detachedDrivers = new Set<number>();
  private readonly claimed = new Set<number>();
  private readonly goneListeners = new Set<() => void>();
  private closed = false;

  constructor(private readonly dev: Device, info: UsbDeviceInfo, private readonly onClose: () => void) {
    this.current = info;
  }

  get info(): UsbDeviceInfo {
    return this.current;
  }

  private refresh(): void {
    const { manufacturer, product, serialNumber } = this.current;
    this.current = nodeUsbDeviceInfo(this.dev, this.current.speed, {
      ...(manufacturer ? { manufacturer } : {}), ...(product ? { product } : {}), ...(serialNumber ? { serialNumber } : {}),
    }, this.alts);
  }

  private get label(): string {
    return labelOf(this.current);
  }

  async claimAll(): Promise<void> {
    for (const iface of this.dev.interfaces ?? []) {
      const n = iface.interfaceNumber;
      try {
        if (iface.isKernelDriverActive()) {
          iface.detachKernelDriver();
          this.detachedDrivers.add(n);
        }
        iface.claim();
        this.claimed.add(n);
      } catch (e) {
        await this.releaseAll();
        throw backendError(e, `claim interface ${n}`, this.label);
      }
    }
  }

  async releaseAll(): Promise<void> {
    for (const iface of this.dev.interfaces ?? []) {
      const n = iface.interfaceNumber;
      if (this.claimed.delete(n)) await cb((done) => iface.release(true, done)).catch(() => { /* unplugged */ });
      if (this.detachedDrivers.delete(n)) {
        try { iface.attachKernelDriver(); } catch { /* no driver for it any more, or unplugged */ }
      }
    }
  }

  async setConfiguration(config: number): Promise<UsbTransferStatus> {
    // interfaces of the old configuration are released first, those of the new one claimed after (as usbredirhost)
    const hadClaims = this.claimed.size > 0;
    await this.releaseAll();
    let status: UsbTransferStatus;
    try {
      await cb((done) => this.dev.setConfiguration(config, done));
      status = 'success';
    } catch (e) {
      status = transferStatus(e as { errno?: number });
    }
    this.alts.clear();
    this.refresh();
    if (hadClaims) await this.claimAll().catch(() => { status = 'ioerror'; });
    return status;
  }

  getConfiguration(): number {
    return this.dev.configDescriptor?.bConfigurationValue ?? 0;
  }

  async setAltSetting(iface: number, alt: number): Promise<UsbTransferStatus> {
    const i = this.iface(iface);
    if (!i) return 'inval';
    try {
      await cb((done) => i.setAltSetting(alt, done));
    } catch (e) {
      return transferStatus(e as { errno?: number });
    }
    this.alts.set(iface, alt);
    this.refresh();
    return 'success';
  }

  getAltSetting(iface: number): number {
    return this.alts.get(iface) ?? 0;
  }

  control(_id: bigint, s: UsbSetup, data: Uint8Array): Promise<UsbTransferResult> {
    const dirIn = (s.requestType & 0x80) !== 0;
    // node-usb gives no handle on a control transfer: it cannot be cancelled, it completes or times out
    return new Promise((resolve) => {
      try {
        this.dev.controlTransfer(s.requestType, s.request, s.value, s.index, dirIn ? s.length : Buffer.from(data), (err, r) => {
          if (err) resolve({ status: transferStatus(err), data: EMPTY, actual: 0 });
          else if (dirIn) {
            const b = r instanceof Buffer ? new Uint8Array(r) : EMPTY;
            resolve({ status: 'success', data: b, actual: b.length });
          } else resolve({ status: 'success', data: EMPTY, actual: typeof r === 'number' ? r : data.length });
        });
      } catch (e) {
        resolve({ status: transferStatus(e as { errno?: number }), data: EMPTY, actual: 0 });
      }
    });
  }

  bulk(id: bigint, endpoint: number, length: number, data: Uint8Array): Promise<UsbTransferResult> {
    return this.transfer(id, endpoint, length, data);
  }

  interrupt(id: bigint, endpoint: number, length: number, data: Uint8Array): Promise<UsbTransferResult> {
    return this.transfer(id, endpoint, length, data);
  }

  async iso(): Promise<UsbTransferResult> {
    return { status: 'inval', data: EMPTY, actual: 0 }; // node-usb has no isochronous transfers
  }

  private transfer(id: bigint, address: number, length: number, data: Uint8Array): Promise<UsbTransferResult> {
    const ep = this.endpoint(address);
    if (!ep || this.closed) return Promise.resolve({ status: this.closed ? 'ioerror' : 'stall', data: EMPTY, actual: 0 });
    const dirIn = (address & 0x80) !== 0;
    return new Promise((resolve) => {
      try {
        // timeout 0: the guest decides when to give up (cancel_data_packet)
        const t = ep.makeTransfer(0, (err, buf, actual) => {
          if (id) this.transfers.delete(id);
          const status = transferStatus(err);
          resolve(dirIn
            ? { status, data: new Uint8Array(buf.subarray(0, actual)), actual }
            : { status, data: EMPTY, actual });
        });
        if (id) this.transfers.set(id, t);
        t.submit(dirIn ? Buffer.alloc(length) : Buffer.from(data));
      } catch (e) {
        if (id) this.transfers.delete(id);
        resolve({ status: transferStatus(e as { errno?: number }), data: EMPTY, actual: 0 });
      }
    });
  }

  cancel(id: bigint): void {
    this.transfers.get(id)?.cancel();
  }

  async clearHalt(endpoint: number): Promise<UsbTransferStatus> {
    const ep = this.endpoint(endpoint);
    if (!ep) return 'inval';
    return cb((done) => ep.clearHalt(done)).then(() => 'success' as const, (e) => transferStatus(e as { errno?: number }));
  }

  async reset(): Promise<void> {
    await cb((done) => this.dev.reset(done)).catch((e) => { throw backendError(e, 'reset', this.label); });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.transfers.values()) t.cancel();
    await this.releaseAll();
    try { this.dev.close(); } catch { /* unplugged */ }
    this.onClose();
  }

  /** The backend saw the device unplugged. */
  gone(): void {
    for (const l of [...this.goneListeners]) l();
  }

  onGone(listener: () => void): () => void {
    this.goneListeners.add(listener);
    return () => this.goneListeners.delete(listener);
  }

  private iface(n: number): Interface | undefined {
    return (this.dev.interfaces ?? []).find((i) => i.interfaceNumber === n);
  }

  private endpoint(address: number): Endpoint | undefined {
    for (const i of this.dev.interfaces ?? []) {
      const e = i.endpoint(address);
      if (e) return e;
    }
    return undefined;
  }
}
