// The emulated USB CD-ROM drive behind --spice-share-cd: a high-speed mass
// storage device (SCSI transparent command set, Bulk-Only Transport) with one
// LUN, exposed through the same UsbDeviceHandle as a real device. Bulk
// transfers run one at a time in arrival order (BOT is strictly sequential).
import type {
  BlockSource, UsbDeviceHandle, UsbDeviceInfo, UsbInterfaceInfo, UsbSetup, UsbTransferResult, UsbTransferStatus,
} from './backend';
import { BulkOnlyTransport } from './bot';
import { configDescriptor, deviceDescriptor, stringDescriptor } from './descriptors';
import { ScsiCdrom } from './scsi-cdrom';

/** VID:PID spice-gtk uses for its emulated CD, so guest-side filters and drivers treat ours alike. */
export const CDROM_VENDOR_ID = 0x2b23;
export const CDROM_PRODUCT_ID = 0xcdcd;
const EP_IN = 0x81;
const EP_OUT = 0x02;

export interface EmulatedCdromOptions {
  /** Unique per shared image: "emulated:cd<n>" ids and the serial number use it. */
  index: number;
  /** Shown in the picker and as the product string. */
  label?: string;
}

const STRINGS = { manufacturer: 1, product: 2, serial: 3 } as const;

const done = (status: UsbTransferStatus, data: Uint8Array = new Uint8Array(0), actual = data.length): UsbTransferResult => ({ status, data, actual });

export class EmulatedCdrom implements UsbDeviceHandle {
  readonly info: UsbDeviceInfo;
  readonly scsi: ScsiCdrom;
  private readonly bot: BulkOnlyTransport;
  private readonly strings: string[];
  private configuration = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly cancelled = new Set<bigint>();
  private readonly goneListeners = new Set<() => void>();
  private closed = false;

  constructor(medium: BlockSource | null, opts: EmulatedCdromOptions) {
    const serial = `SPICECD${String(opts.index).padStart(4, '0')}`;
    this.strings = ['SPICE', opts.label ?? 'Shared CD-ROM', serial];
    this.scsi = new ScsiCdrom(medium, { vendor: 'SPICE', product: 'Shared CD-ROM', revision: '0.1', serial });
    this.bot = new BulkOnlyTransport(this.scsi);
    const interfaces: UsbInterfaceInfo[] = [{
      number: 0, alt: 0, class: 0x08, subclass: 0x06, protocol: 0x50, // mass storage, SCSI transparent, bulk-only
      endpoints: [
        { address: EP_IN, type: 2, maxPacketSize: 512, interval: 0, maxStreams: 0 },
        { address: EP_OUT, type: 2, maxPacketSize: 512, interval: 0, maxStreams: 0 },
      ],
    }];
    this.info = {
      id: `emulated:cd${opts.index}`, busNumber: 0, deviceAddress: opts.index, vendorId: CDROM_VENDOR_ID,
      productId: CDROM_PRODUCT_ID, deviceClass: 0, deviceSubclass: 0, deviceProtocol: 0, deviceVersion: 0x0100,
      speed: 'high', manufacturer: this.strings[0], product: this.strings[1], serialNumber: serial,
      deviceDescriptor: deviceDescriptor({
        bcdUSB: 0x0200, deviceClass: 0, deviceSubclass: 0, deviceProtocol: 0, maxPacketSize0: 64,
        vendorId: CDROM_VENDOR_ID, productId: CDROM_PRODUCT_ID, bcdDevice: 0x0100,
        iManufacturer: STRINGS.manufacturer, iProduct: STRINGS.product, iSerial: STRINGS.serial, numConfigurations: 1,
      }),
      configDescriptor: configDescriptor(1, 0x80, 250, interfaces), // bus powered, 500 mA
      interfaces, emulated: true,
    };
  }

  async claimAll(): Promise<void> {}
  async releaseAll(): Promise<void> {}

  async setConfiguration(config: number): Promise<UsbTransferStatus> {
    if (config > 1) return 'stall';
    this.configuration = config;
    return 'success';
  }
  getConfiguration(): number {
    return this.configuration;
  }
  async setAltSetting(iface: number, alt: number): Promise<UsbTransferStatus> {
    return iface === 0 && alt === 0 ? 'success' : 'stall';
  }
  getAltSetting(_iface: number): number {
    return 0;
  }

  async control(_id: bigint, s: UsbSetup, _data: Uint8Array): Promise<UsbTransferResult> {
    const type = s.requestType & 0x60;
    if (type === 0x00) return this.standardRequest(s);
    if (type === 0x20 && (s.requestType & 0x1f) === 1 && s.index === 0) {
      if (s.request === 0xff && s.requestType === 0x21) { // Bulk-Only Mass Storage Reset
        this.bot.reset();
        return done('success');
      }
      if (s.request === 0xfe && s.requestType === 0xa1) return done('success', Uint8Array.of(0).subarray(0, s.length)); // Get Max LUN
    }
    return done('stall');
  }

  private standardRequest(s: UsbSetup): UsbTransferResult {
    const dirIn = (s.requestType & 0x80) !== 0;
    switch (s.request) {
      case 0x06: { // GET_DESCRIPTOR
        if (!dirIn) return done('stall');
        const kind = s.value >> 8;
        const index = s.value & 0xff;
        let d: Uint8Array | null = null;
        if (kind === 1) d = this.info.deviceDescriptor;
        else if (kind === 2 && index === 0) d = this.info.configDescriptor;
        else if (kind === 3) d = index === 0 ? stringDescriptor(null) : index <= this.strings.length ? stringDescriptor(this.strings[index - 1]) : null;
        else if (kind === 6) d = Uint8Array.from([10, 6, 0x00, 0x02, 0, 0, 0, 64, 1, 0]); // device qualifier
        return d ? done('success', d.subarray(0, s.length)) : done('stall');
      }
      case 0x00: // GET_STATUS: not self powered, no remote wakeup, endpoints not halted
        return dirIn ? done('success', new Uint8Array(2).subarray(0, s.length)) : done('stall');
      case 0x08: // GET_CONFIGURATION
        return done('success', Uint8Array.of(this.configuration).subarray(0, s.length));
      case 0x0a: // GET_INTERFACE
        return done('success', Uint8Array.of(0).subarray(0, s.length));
      case 0x01: // CLEAR_FEATURE (ENDPOINT_HALT after a stall)
      case 0x03: // SET_FEATURE
        return done('success');
      case 0x09: // SET_CONFIGURATION
        if (s.value > 1) return done('stall');
        this.configuration = s.value;
        return done('success');
      case 0x0b: // SET_INTERFACE
        return s.value === 0 ? done('success') : done('stall');
      default:
        return done('stall');
    }
  }

  bulk(id: bigint, endpoint: number, length: number, data: Uint8Array): Promise<UsbTransferResult> {
    const run = async (): Promise<UsbTransferResult> => {
      if (this.cancelled.delete(id)) return done('cancelled');
      if (this.closed) return done('ioerror');
      if (endpoint === EP_OUT) return this.bot.bulkOut(data);
      if (endpoint === EP_IN) return this.bot.bulkIn(length);
      return done('stall');
    };
    const p = this.chain.then(run, run);
    this.chain = p;
    return p;
  }

  async interrupt(): Promise<UsbTransferResult> {
    return done('stall');
  }
  async iso(): Promise<UsbTransferResult> {
    return done('stall');
  }

  /** Only a transfer still waiting its turn can be cancelled; a running one completes. */
  cancel(id: bigint): void {
    this.cancelled.add(id);
  }

  async clearHalt(): Promise<UsbTransferStatus> {
    return 'success';
  }

  async reset(): Promise<void> {
    this.bot.reset();
    this.scsi.reset();
    this.configuration = 0;
    this.cancelled.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The user unshares the drive: listeners (the redir host) disconnect it from the guest. */
  unplug(): void {
    for (const l of [...this.goneListeners]) l();
  }

  onGone(listener: () => void): () => void {
    this.goneListeners.add(listener);
    return () => this.goneListeners.delete(listener);
  }
}
