// FOR TESTS ONLY: a UsbBackend whose devices are files in one directory, so the
// picker's hotplug path can run end to end on a machine without USB (CI, this
// host's kernel). Enabled only by the environment variable
// SPICE_VIEWER_TEST_USB_DIR (host-options.ts; off by default, never set by the
// app). A file appearing in the directory is a device plugged (attach event),
// removed is unplugged (detach event, and an open handle's onGone):
//   *.iso  an emulated USB CD-ROM drive with that image (emulated-cdrom.ts);
//   *.hid  a fake USB keyboard (HID boot interface, no key presses): listed,
//          never taken by the default auto-redirect filter.
// Write a file elsewhere and rename it in, so it is whole when it appears.
import { watch, type FSWatcher } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type {
  UsbBackend, UsbDeviceHandle, UsbDeviceInfo, UsbHotplugEvent, UsbInterfaceInfo, UsbSetup, UsbTransferResult, UsbTransferStatus,
} from './backend';
import { UsbBackendError } from './backend';
import { configDescriptor, deviceDescriptor, stringDescriptor } from './descriptors';
import { EmulatedCdrom } from './emulated-cdrom';
import { openFileBlockSource } from './file-block-source';

/** The environment variable that turns it on (tests only). */
export const TEST_USB_DIR_ENV = 'SPICE_VIEWER_TEST_USB_DIR';

const HID_VENDOR_ID = 0x1d6b; // Linux Foundation
const HID_PRODUCT_ID = 0x0104; // multifunction composite gadget (a fake)

interface Entry {
  name: string;
  info: UsbDeviceInfo;
  index: number;
  handles: Set<{ gone(): void }>;
}

const isDevice = (name: string): boolean => /\.(iso|hid)$/i.test(name) && !name.startsWith('.');

export class TestDirUsbBackend implements UsbBackend {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(e: UsbHotplugEvent) => void>();
  private watcher: FSWatcher | null = null;
  private nextIndex = 101; // serials SPICECD0101…: apart from --spice-share-cd drives (SPICECD0001…)
  private scanning: Promise<void> = Promise.resolve();

  constructor(readonly dir: string) {}

  async list(): Promise<UsbDeviceInfo[]> {
    this.startWatching();
    await this.rescan(false); // present now: listed, not announced as plugged
    return [...this.entries.values()].map((e) => e.info);
  }

  onHotplug(listener: (e: UsbHotplugEvent) => void): () => void {
    this.listeners.add(listener);
    this.startWatching();
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size) {
        this.watcher?.close();
        this.watcher = null;
      }
    };
  }

  async open(id: string): Promise<UsbDeviceHandle> {
    const e = [...this.entries.values()].find((x) => x.info.id === id);
    if (!e) throw new UsbBackendError('NOT_FOUND', `no device ${id}`);
    const handle = e.name.toLowerCase().endsWith('.iso')
      ? await this.openCd(e)
      : new FakeKeyboard(e.info);
    const tracked = { gone: () => (handle as EmulatedCdrom | FakeKeyboard).unplug() };
    e.handles.add(tracked);
    const close = handle.close.bind(handle);
    handle.close = async () => {
      e.handles.delete(tracked);
      await close();
    };
    return handle;
  }

  private async openCd(e: Entry): Promise<UsbDeviceHandle> {
    let medium;
    try {
      medium = await openFileBlockSource(join(this.dir, e.name));
    } catch (err) {
      throw new UsbBackendError('NO_DEVICE', `${e.name}: ${(err as Error).message}`);
    }
    const cd = new EmulatedCdrom(medium, { index: e.index, label: e.name });
    Object.assign(cd.info, { id: e.info.id });
    const close = cd.close.bind(cd);
    cd.close = async () => {
      await close();
      await medium.close();
    };
    return cd;
  }

  private startWatching(): void {
    if (this.watcher) return;
    this.watcher = watch(this.dir, () => void this.rescan());
    this.watcher.on('error', () => { /* the directory went away: no more hotplug */ });
  }

  /** Directory listing ↔ known devices: new files attach, missing ones detach (one scan at a time). */
  private rescan(announce = true): Promise<void> {
    this.scanning = this.scanning.then(async () => {
      let names: string[];
      try {
        names = (await readdir(this.dir)).filter(isDevice).sort();
      } catch {
        names = [];
      }
      for (const [name, e] of [...this.entries]) {
        if (names.includes(name)) continue;
        this.entries.delete(name);
        for (const h of [...e.handles]) h.gone();
        this.emit({ kind: 'detach', id: e.info.id });
      }
      for (const name of names) {
        if (this.entries.has(name)) continue;
        const index = this.nextIndex++;
        const info = name.toLowerCase().endsWith('.iso') ? cdInfo(name, index) : keyboardInfo(name, index);
        const e: Entry = { name, info, index, handles: new Set() };
        this.entries.set(name, e);
        if (announce) this.emit({ kind: 'attach', device: info });
      }
    });
    return this.scanning;
  }

  private emit(e: UsbHotplugEvent): void {
    for (const l of [...this.listeners]) l(e);
  }
}

function cdInfo(name: string, index: number): UsbDeviceInfo {
  const info = new EmulatedCdrom(null, { index, label: name }).info;
  return { ...info, id: `testdir:${name}` };
}

const KEYBOARD_INTERFACES: UsbInterfaceInfo[] = [{
  number: 0, alt: 0, class: 0x03, subclass: 0x01, protocol: 0x01, // HID, boot interface, keyboard
  endpoints: [{ address: 0x81, type: 3, maxPacketSize: 8, interval: 10, maxStreams: 0 }],
}];

function keyboardInfo(name: string, index: number): UsbDeviceInfo {
  const product = name.replace(/\.hid$/i, '');
  return {
    id: `testdir:${name}`, busNumber: 0, deviceAddress: index, vendorId: HID_VENDOR_ID, productId: HID_PRODUCT_ID,
    deviceClass: 0, deviceSubclass: 0, deviceProtocol: 0, deviceVersion: 0x0100, speed: 'full',
    manufacturer: 'SPICE test', product, serialNumber: `TESTHID${String(index).padStart(4, '0')}`,
    deviceDescriptor: deviceDescriptor({
      bcdUSB: 0x0200, deviceClass: 0, deviceSubclass: 0, deviceProtocol: 0, maxPacketSize0: 64,
      vendorId: HID_VENDOR_ID, productId: HID_PRODUCT_ID, bcdDevice: 0x0100, iManufacturer: 1, iProduct: 2, iSerial: 3, numConfigurations: 1,
    }),
    configDescriptor: configDescriptor(1, 0x80, 50, KEYBOARD_INTERFACES),
    interfaces: KEYBOARD_INTERFACES, emulated: true,
  };
}

const done = (status: UsbTransferStatus, data: Uint8Array = new Uint8Array(0)): UsbTransferResult => ({ status, data, actual: data.length });

/** A keyboard nobody types on: descriptors, configuration, interrupt INs that wait until cancelled. */
class FakeKeyboard implements UsbDeviceHandle {
  private configuration = 0;
  private readonly pending = new Map<bigint, (r: UsbTransferResult) => void>();
  private readonly goneListeners = new Set<() => void>();
  constructor(readonly info: UsbDeviceInfo) {}
  async claimAll(): Promise<void> {}
  async releaseAll(): Promise<void> {}
  async setConfiguration(c: number): Promise<UsbTransferStatus> {
    if (c > 1) return 'stall';
    this.configuration = c;
    return 'success';
  }
  getConfiguration(): number { return this.configuration; }
  async setAltSetting(iface: number, alt: number): Promise<UsbTransferStatus> { return iface === 0 && alt === 0 ? 'success' : 'stall'; }
  getAltSetting(): number { return 0; }
  async control(_id: bigint, s: UsbSetup): Promise<UsbTransferResult> {
    if (s.requestType === 0x80 && s.request === 0x06) {
      const kind = s.value >> 8;
      const i = s.value & 0xff;
      const strings = [this.info.manufacturer!, this.info.product!, this.info.serialNumber!];
      const d = kind === 1 ? this.info.deviceDescriptor
        : kind === 2 ? this.info.configDescriptor
          : kind === 3 ? (i === 0 ? stringDescriptor(null) : i <= 3 ? stringDescriptor(strings[i - 1]) : null)
            : null;
      return d ? done('success', d.subarray(0, s.length)) : done('stall');
    }
    if (s.requestType === 0x00 && s.request === 0x09) {
      this.configuration = s.value;
      return done('success');
    }
    if (s.requestType === 0x21 && (s.request === 0x0a || s.request === 0x0b || s.request === 0x09)) return done('success'); // SET_IDLE / SET_PROTOCOL / SET_REPORT
    return done('stall');
  }
  async bulk(): Promise<UsbTransferResult> { return done('stall'); }
  interrupt(id: bigint): Promise<UsbTransferResult> {
    return new Promise((ok) => this.pending.set(id, ok));
  }
  async iso(): Promise<UsbTransferResult> { return done('stall'); }
  cancel(id: bigint): void {
    this.pending.get(id)?.(done('cancelled'));
    this.pending.delete(id);
  }
  async clearHalt(): Promise<UsbTransferStatus> { return 'success'; }
  async reset(): Promise<void> {}
  async close(): Promise<void> {
    for (const id of [...this.pending.keys()]) this.cancel(id);
  }
  unplug(): void {
    for (const ok of this.pending.values()) ok(done('ioerror'));
    this.pending.clear();
    for (const l of [...this.goneListeners]) l();
  }
  onGone(listener: () => void): () => void {
    this.goneListeners.add(listener);
    return () => this.goneListeners.delete(listener);
  }
}
