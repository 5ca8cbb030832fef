// usbredir host side for one device (what usbredirhost does over libusb): our
// hello, then interface_info + ep_info + device_connect, then every request the
// guest (QEMU's usb-redir) sends is carried out on a UsbDeviceHandle and
// answered with the same id. Transport-agnostic: bytes in through receive(),
// out through the send callback (a TCP chardev in tests, SPICEVMC_DATA on the
// usbredir channel in the app). Malformed input fails this device only.
import { SpiceError } from '../../spice/wire/errors';
import type { UsbDeviceHandle, UsbTransferResult, UsbTransferStatus } from './backend';
import { UsbRedirParser } from './usbredir-parser';
import {
  UsbRedirCaps, UsbRedirEpType, UsbRedirSpeed, UsbRedirStatus, encodePacket, epIndex, slots,
  type MessageOf, type UsbRedirCapName, type UsbRedirMessage, type UsbRedirPacket,
} from './usbredir-proto';

/** What we announce: everything QEMU needs on an XHCI port; bulk streams / bulk receiving are not implemented yet. */
export const HOST_CAPS: UsbRedirCapName[] = ['connect_device_version', 'filter', 'device_disconnect_ack',
  'ep_info_max_packet_size', '64bits_ids', '32bits_bulk_length'];

export interface UsbRedirHostEvents {
  /** The stream is unusable (coded SpiceError); the caller closes this channel only. */
  error?(e: SpiceError): void;
  /** Every packet received, after it was parsed (diagnostics, tests). */
  packet?(p: UsbRedirPacket): void;
  /** The guest refused the device (its usbredir filter). */
  filterReject?(): void;
  /** The guest's filter rules (filter_filter). */
  guestFilter?(rules: string): void;
}

const EMPTY = new Uint8Array(0);

export class UsbRedirHost {
  readonly caps: UsbRedirCaps;
  private readonly parser: UsbRedirParser;
  private device: UsbDeviceHandle | null = null;
  private helloSeen: Promise<void>;
  private helloResolve!: () => void;
  private disconnectAck: (() => void) | null = null;
  private readonly interruptLoops = new Set<number>();
  private failed: SpiceError | null = null;
  private stopGone: (() => void) | null = null;
  private detaching: Promise<void> | null = null;
  /** Backpressure: while paused, guest requests wait in `held` and interrupt polling stops. */
  private paused = false;
  private readonly held: Uint8Array[] = [];
  private resumed: (() => void)[] = [];

  constructor(
    /** Writes bytes towards the guest; returning false pauses this host until resume(). */
    private readonly sendBytes: (bytes: Uint8Array) => boolean | void,
    private readonly events: UsbRedirHostEvents = {},
    readonly version = 'spice-viewer usbredir host 0.1',
    /** Announced caps; only tests announce fewer (QEMU's reaction to a host lacking some). */
    caps: UsbRedirCapName[] = HOST_CAPS,
  ) {
    this.caps = UsbRedirCaps.fromNames(caps, 'host');
    this.parser = new UsbRedirParser(this.caps);
    this.helloSeen = new Promise((r) => { this.helloResolve = r; });
  }

  /** Sends our hello; call once the byte stream is open. */
  start(): void {
    this.send(0n, { type: 'hello', version: this.version, caps: this.caps.ourCaps });
  }

  get peerVersion(): string | null {
    return this.caps.peerVersion;
  }

  receive(chunk: Uint8Array): void {
    if (this.failed) return;
    if (this.paused) {
      // the byte pipe is full: carry out nothing new (no device reads) until it drains
      this.held.push(chunk);
      return;
    }
    try {
      for (const p of this.parser.push(chunk)) {
        this.events.packet?.(p);
        this.dispatch(p);
      }
    } catch (e) {
      this.fail(e);
    }
  }

  /** The pipe towards the guest is full (its write returned false): stop reading the device. */
  pause(): void {
    this.paused = true;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The pipe drained: carry out the held requests and go on polling. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    for (const r of this.resumed.splice(0)) r();
    while (!this.paused && this.held.length) this.receive(this.held.shift()!);
  }

  private whenResumed(): Promise<void> {
    return this.paused ? new Promise((r) => this.resumed.push(r)) : Promise.resolve();
  }

  /** The stream closed: a packet cut short is reported. */
  end(): void {
    if (this.failed) return;
    try {
      this.parser.end();
    } catch (e) {
      this.fail(e);
    }
  }

  /** Offers a device to the guest (after the peer's hello): interface and endpoint info, then device_connect. */
  async attach(device: UsbDeviceHandle): Promise<void> {
    if (this.device) throw new SpiceError('PROTOCOL', 'usbredir: a device is already attached to this channel');
    await this.helloSeen;
    await device.claimAll();
    this.device = device;
    this.stopGone = device.onGone(() => { void this.detach(); });
    this.sendInterfaceAndEpInfo();
    const i = device.info;
    this.send(0n, {
      type: 'device_connect', speed: UsbRedirSpeed[i.speed], deviceClass: i.deviceClass, deviceSubclass: i.deviceSubclass,
      deviceProtocol: i.deviceProtocol, vendorId: i.vendorId, productId: i.productId, deviceVersionBcd: i.deviceVersion,
    });
  }

  /** Withdraws the device; resolves when the guest acknowledged (or at once without that cap). */
  detach(): Promise<void> {
    if (!this.detaching) {
      const dev = this.device;
      if (!dev) return Promise.resolve();
      this.detaching = this.withdraw(dev).finally(() => { this.detaching = null; });
    }
    return this.detaching;
  }

  get attached(): UsbDeviceHandle | null {
    return this.device;
  }

  private async withdraw(dev: UsbDeviceHandle): Promise<void> {
    this.device = null;
    this.stopGone?.();
    this.interruptLoops.clear();
    const acked = this.caps.peer('device_disconnect_ack') ? new Promise<void>((r) => { this.disconnectAck = r; }) : Promise.resolve();
    if (!this.failed) this.send(0n, { type: 'device_disconnect' });
    else this.disconnectAck?.();
    await acked;
    await dev.releaseAll();
  }

  private fail(e: unknown): void {
    this.failed = e instanceof SpiceError ? e : new SpiceError('BAD_MESSAGE', String(e));
    this.interruptLoops.clear();
    this.held.length = 0;
    for (const r of this.resumed.splice(0)) r();
    this.disconnectAck?.();
    this.events.error?.(this.failed);
  }

  private send(id: bigint, msg: UsbRedirMessage): void {
    if (this.failed) return;
    if (this.sendBytes(encodePacket({ id, msg }, this.caps)) === false) this.paused = true;
  }

  private sendInterfaceAndEpInfo(): void {
    const info = this.device!.info;
    const ifs = info.interfaces;
    this.send(0n, {
      type: 'interface_info', interfaceCount: ifs.length,
      interface: slots(0, Object.fromEntries(ifs.map((f, k) => [k, f.number]))),
      interfaceClass: slots(0, Object.fromEntries(ifs.map((f, k) => [k, f.class]))),
      interfaceSubclass: slots(0, Object.fromEntries(ifs.map((f, k) => [k, f.subclass]))),
      interfaceProtocol: slots(0, Object.fromEntries(ifs.map((f, k) => [k, f.protocol]))),
    });
    const mps0 = info.deviceDescriptor[7] ?? 64;
    const epType = slots(UsbRedirEpType.invalid, { 0: UsbRedirEpType.control, 16: UsbRedirEpType.control });
    const interval = slots(0);
    const iface = slots(0);
    const maxPacketSize = slots(0, { 0: mps0, 16: mps0 });
    const maxStreams = slots(0);
    for (const f of ifs) {
      for (const e of f.endpoints) {
        const k = epIndex(e.address);
        epType[k] = e.type;
        interval[k] = e.interval;
        iface[k] = f.number;
        maxPacketSize[k] = e.maxPacketSize;
        maxStreams[k] = e.maxStreams;
      }
    }
    this.send(0n, { type: 'ep_info', epType, interval, interface: iface, maxPacketSize, maxStreams });
  }

  private dispatch(p: UsbRedirPacket): void {
    const m = p.msg;
    switch (m.type) {
      case 'hello':
        this.helloResolve();
        return;
      case 'filter_reject':
        this.events.filterReject?.();
        return;
      case 'filter_filter':
        this.events.guestFilter?.(m.rules);
        return;
      case 'device_disconnect_ack':
        this.disconnectAck?.();
        this.disconnectAck = null;
        return;
    }
    const dev = this.device;
    if (!dev) {
      // requests racing a disconnect: answer data packets so the guest does not wait forever
      this.replyWithoutDevice(p);
      return;
    }
    void this.carryOut(dev, p).catch((e) => this.fail(e));
  }

  private replyWithoutDevice(p: UsbRedirPacket): void {
    const m = p.msg;
    if (m.type === 'control_packet' || m.type === 'bulk_packet' || m.type === 'interrupt_packet') {
      this.send(p.id, { ...m, status: UsbRedirStatus.ioerror, length: 0, data: EMPTY } as UsbRedirMessage);
    }
  }

  private async carryOut(dev: UsbDeviceHandle, p: UsbRedirPacket): Promise<void> {
    const { id, msg: m } = p;
    // a transfer that completes after its device was withdrawn is not answered: the guest
    // already dropped its requests with the device_disconnect
    const reply = (msg: UsbRedirMessage): void => { if (this.device === dev) this.send(id, msg); };
    switch (m.type) {
      case 'reset':
        await dev.reset();
        return;
      case 'set_configuration': {
        const st = await dev.setConfiguration(m.configuration);
        if (st === 'success' && this.device === dev) this.sendInterfaceAndEpInfo();
        reply({ type: 'configuration_status', status: code(st), configuration: dev.getConfiguration() });
        return;
      }
      case 'get_configuration':
        reply({ type: 'configuration_status', status: 0, configuration: dev.getConfiguration() });
        return;
      case 'set_alt_setting': {
        const st = await dev.setAltSetting(m.interface, m.alt);
        if (st === 'success' && this.device === dev) this.sendInterfaceAndEpInfo();
        reply({ type: 'alt_setting_status', status: code(st), interface: m.interface, alt: dev.getAltSetting(m.interface) });
        return;
      }
      case 'get_alt_setting':
        reply({ type: 'alt_setting_status', status: 0, interface: m.interface, alt: dev.getAltSetting(m.interface) });
        return;
      case 'cancel_data_packet':
        dev.cancel(id);
        return;
      case 'control_packet': {
        const dirIn = (m.requestType & 0x80) !== 0;
        const r = await guard(dev.control(id, { requestType: m.requestType, request: m.request, value: m.value, index: m.index, length: m.length }, m.data.slice()));
        reply({ ...m, status: code(r.status), length: dirIn ? r.data.length : r.actual, data: dirIn ? r.data : EMPTY });
        return;
      }
      case 'bulk_packet': {
        const dirIn = (m.endpoint & 0x80) !== 0;
        const r = await guard(dev.bulk(id, m.endpoint, m.length, dirIn ? EMPTY : m.data.slice(), m.streamId));
        reply({ ...m, status: code(r.status), length: dirIn ? r.data.length : r.actual, data: dirIn ? r.data : EMPTY });
        return;
      }
      case 'interrupt_packet': { // OUT; IN data flows through interrupt receiving
        const r = await guard(dev.interrupt(id, m.endpoint, m.length, m.data.slice()));
        reply({ ...m, status: code(r.status), length: r.actual, data: EMPTY });
        return;
      }
      case 'start_interrupt_receiving':
        reply({ type: 'interrupt_receiving_status', status: 0, endpoint: m.endpoint });
        this.interruptLoop(dev, m);
        return;
      case 'stop_interrupt_receiving':
        this.interruptLoops.delete(m.endpoint);
        reply({ type: 'interrupt_receiving_status', status: 0, endpoint: m.endpoint });
        return;
      // not implemented yet: the guest sees a clear "invalid" status instead of silence
      case 'start_iso_stream':
      case 'stop_iso_stream':
        reply({ type: 'iso_stream_status', status: UsbRedirStatus.inval, endpoint: m.endpoint });
        return;
      case 'iso_packet':
        reply({ type: 'iso_stream_status', status: UsbRedirStatus.inval, endpoint: m.endpoint });
        return;
      case 'alloc_bulk_streams':
      case 'free_bulk_streams':
        reply({ type: 'bulk_streams_status', endpoints: m.endpoints, noStreams: 0, status: UsbRedirStatus.inval });
        return;
      default:
        throw new SpiceError('PROTOCOL', `usbredir: unexpected ${m.type} from the guest`);
    }
  }

  /** Polls an interrupt IN endpoint while the guest wants its reports. */
  private interruptLoop(dev: UsbDeviceHandle, m: MessageOf<'start_interrupt_receiving'>): void {
    const ep = m.endpoint;
    if (this.interruptLoops.has(ep)) return;
    this.interruptLoops.add(ep);
    const mps = dev.info.interfaces.flatMap((f) => f.endpoints).find((e) => e.address === ep)?.maxPacketSize ?? 64;
    const loop = async (): Promise<void> => {
      while (this.interruptLoops.has(ep) && this.device === dev) {
        await this.whenResumed();
        if (!this.interruptLoops.has(ep) || this.device !== dev) return;
        const r = await guard(dev.interrupt(0n, ep, mps, EMPTY));
        if (!this.interruptLoops.has(ep) || this.device !== dev) return;
        if (r.status !== 'success') {
          this.interruptLoops.delete(ep);
          this.send(0n, { type: 'interrupt_receiving_status', status: code(r.status), endpoint: ep });
          return;
        }
        this.send(0n, { type: 'interrupt_packet', endpoint: ep, status: 0, length: r.data.length, data: r.data });
      }
    };
    void loop().catch((e) => this.fail(e));
  }
}

function code(s: UsbTransferStatus): number {
  return UsbRedirStatus[s];
}

/** A backend that throws (device gone mid-transfer) becomes an I/O error status for that transfer. */
async function guard(p: Promise<UsbTransferResult>): Promise<UsbTransferResult> {
  try {
    return await p;
  } catch {
    return { status: 'ioerror', data: EMPTY, actual: 0 };
  }
}
