// Guest-side driver of test/integration/node-usb-guest.test.ts: runs inside the
// usbgadget guest (GUEST_USB_GADGET=1 scripts/build-guest.sh, bundled by
// scripts/build-usb-driver.mjs) against a real kernel USB device, the configfs
// SourceSink gadget 0525:a4a0 on dummy_hcd ("usbg up"), through our
// NodeUsbBackend and nothing but the UsbBackend interface the app uses.
// Each step prints one line on the serial console:
//   GUEST USBDRV <step> ok|FAIL <json>
// and a FAIL ends the run (exit 1). The host drives the plug: after
// "unplug-ready" it unbinds the UDC ("usbg unplug"), after "replug-ready" it
// binds it again ("usbg plug"); the driver waits for the backend's events.
import { readlinkSync } from 'node:fs';
import { NodeUsbBackend } from '../../main/devices/usb/node-usb-backend';
import {
  UsbBackendError, type UsbBackend, type UsbDeviceHandle, type UsbDeviceInfo, type UsbHotplugEvent, type UsbTransferStatus,
} from '../../main/devices/usb/backend';

const VID = 0x0525, PID = 0xa4a0;
/** Every wait is bounded; the whole run too (the host's deadline is longer). */
const STEP_MS = 20000;
const RUN_MS = 120000;
const BULK = 16384; // four of the gadget's 4096-byte requests: each OUT request is checked whole

/** A step that failed; `reported` once its FAIL line is out. */
class StepFailed extends Error {
  constructor(message: string, readonly reported = false) {
    super(message);
  }
}

function emit(step: string, ok: boolean, facts: Record<string, unknown>): void {
  process.stdout.write(`GUEST USBDRV ${step} ${ok ? 'ok' : 'FAIL'} ${JSON.stringify(facts)}\n`);
}

function fail(step: string, why: string, facts: Record<string, unknown> = {}): never {
  emit(step, false, { why, ...facts });
  throw new StepFailed(why, true);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const vidpid = (d: Pick<UsbDeviceInfo, 'vendorId' | 'productId'>): string =>
  `${d.vendorId.toString(16).padStart(4, '0')}:${d.productId.toString(16).padStart(4, '0')}`;

/** SourceSink pattern 1: byte i of each packet is i % 63 (f_sourcesink.c, maxpacket-sized packets). */
function pattern(length: number, maxPacket: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = (i % maxPacket) % 63;
  return b;
}
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => { t = setTimeout(() => reject(new StepFailed(`${what}: nothing within ${ms} ms`)), ms); })])
    .finally(() => clearTimeout(t));
}

/** The kernel driver bound to interface 0 (sysfs), or null. */
function kernelDriver(id: string): string | null {
  try {
    return readlinkSync(`/sys/bus/usb/devices/${id}:1.0/driver`).split('/').pop() ?? null;
  } catch {
    return null;
  }
}

/** Hotplug events in order, with waiters for the next one that matches. */
class Events {
  readonly seen: UsbHotplugEvent[] = [];
  private waiters: { match: (e: UsbHotplugEvent) => boolean; resolve: (e: UsbHotplugEvent) => void }[] = [];
  readonly stop: () => void;
  constructor(backend: UsbBackend) {
    this.stop = backend.onHotplug((e) => {
      this.seen.push(e);
      this.waiters = this.waiters.filter((w) => (w.match(e) ? (w.resolve(e), false) : true));
    });
  }
  next(match: (e: UsbHotplugEvent) => boolean, from: number): Promise<UsbHotplugEvent> {
    const had = this.seen.slice(from).find(match);
    return had ? Promise.resolve(had) : new Promise((resolve) => this.waiters.push({ match, resolve }));
  }
}

async function main(): Promise<void> {
  const backend: UsbBackend = new NodeUsbBackend();
  const events = new Events(backend);
  emit('start', true, { node: process.version });
  let id = 1n;

  // enumerate: the gadget with descriptors and speed (hubs are never listed)
  const list = await within(backend.list(), STEP_MS, 'list');
  const dev = list.find((d) => d.vendorId === VID && d.productId === PID);
  const all = list.map((d) => `${vidpid(d)}@${d.id}`);
  if (!dev) fail('enumerate', 'the gadget is not listed', { all });
  const eps = dev.interfaces.flatMap((i) => i.endpoints);
  const epIn = eps.find((e) => e.type === 2 && e.address & 0x80), epOut = eps.find((e) => e.type === 2 && !(e.address & 0x80));
  if (!epIn || !epOut) fail('enumerate', 'no bulk IN/OUT pair', { interfaces: dev.interfaces });
  emit('enumerate', true, {
    all, id: dev.id, vidpid: vidpid(dev), bus: dev.busNumber, address: dev.deviceAddress, speed: dev.speed,
    deviceClass: dev.deviceClass, bcdDevice: dev.deviceVersion, deviceDescriptor: hex(dev.deviceDescriptor),
    configDescriptor: hex(dev.configDescriptor), interfaces: dev.interfaces.length,
    endpoints: eps.map((e) => ({ address: e.address, type: e.type, maxPacketSize: e.maxPacketSize })),
  });

  // strings: read with the device opened during list()
  emit('strings', true, { manufacturer: dev.manufacturer ?? null, product: dev.product ?? null, serialNumber: dev.serialNumber ?? null });

  // open, detach the kernel driver (usbtest), claim
  const driverBefore = kernelDriver(dev.id);
  const h = await within(backend.open(dev.id), STEP_MS, 'open');
  await within(h.claimAll(), STEP_MS, 'claimAll');
  emit('open', true, { driverBefore, driverAfter: kernelDriver(dev.id), configuration: h.getConfiguration() });

  // control: a standard GET_DESCRIPTOR, SourceSink's vendor write/read-back (0x5b/0x5c), an unknown request
  const desc = await h.control(id++, { requestType: 0x80, request: 6, value: 0x0100, index: 0, length: 18 }, new Uint8Array(0));
  const written = Uint8Array.from({ length: 64 }, (_, i) => (i * 7 + 3) & 0xff);
  const wr = await h.control(id++, { requestType: 0x40, request: 0x5b, value: 0, index: 0, length: written.length }, written);
  const rd = await h.control(id++, { requestType: 0xc0, request: 0x5c, value: 0, index: 0, length: written.length }, new Uint8Array(0));
  const unknown = await h.control(id++, { requestType: 0xc0, request: 0x5f, value: 0, index: 0, length: 8 }, new Uint8Array(0));
  emit('control', desc.status === 'success' && same(desc.data, dev.deviceDescriptor) && wr.status === 'success' && rd.status === 'success' && same(rd.data, written), {
    getDescriptor: desc.status, descriptorMatches: same(desc.data, dev.deviceDescriptor),
    vendorOut: wr.status, vendorOutActual: wr.actual, vendorIn: rd.status, readBack: same(rd.data, written), unknownRequest: unknown.status,
  });

  // bulk OUT (the gadget checks every byte and halts its OUT endpoint on a wrong one), then IN (checked here)
  const good = pattern(BULK, epOut.maxPacketSize);
  const out1 = await h.bulk(id++, epOut.address, 0, good);
  const out2 = await h.bulk(id++, epOut.address, 0, good);
  const in1 = await h.bulk(id++, epIn.address, BULK, new Uint8Array(0));
  const inOk = in1.status === 'success' && same(in1.data, pattern(BULK, epIn.maxPacketSize));
  emit('bulk', out1.status === 'success' && out1.actual === BULK && out2.status === 'success' && inOk, {
    out: [out1.status, out1.actual], out2: [out2.status, out2.actual], in: [in1.status, in1.actual], inPattern: inOk,
    inHead: hex(in1.data.subarray(0, 16)),
  });

  // a wrong byte halts the gadget's OUT endpoint: the next OUT stalls until clearHalt
  const bad = pattern(4096, epOut.maxPacketSize);
  bad[1] ^= 0xff;
  const badOut = await h.bulk(id++, epOut.address, 0, bad);
  const stalled = await h.bulk(id++, epOut.address, 0, good.subarray(0, 4096));
  const cleared = await h.clearHalt(epOut.address);
  const after = await h.bulk(id++, epOut.address, 0, good.subarray(0, 4096));
  emit('halt', stalled.status === 'stall' && cleared === 'success' && after.status === 'success', {
    badOut: badOut.status, next: stalled.status, clearHalt: cleared, afterClear: after.status,
  });

  // hot-unplug while bulk IN transfers run back to back on the open handle
  const gone = new Promise<void>((resolve) => h.onGone(resolve));
  let goneFired = false;
  void gone.then(() => { goneFired = true; });
  const mark = events.seen.length;
  const detach = events.next((e) => e.kind === 'detach' && e.id === dev.id, mark);
  const loopStatuses: Partial<Record<UsbTransferStatus, number>> = {};
  let firstFailure: UsbTransferStatus | null = null;
  let loops = 0;
  const loop = (async () => {
    for (;;) {
      const r = await h.bulk(id++, epIn.address, BULK, new Uint8Array(0));
      loops++;
      loopStatuses[r.status] = (loopStatuses[r.status] ?? 0) + 1;
      if (r.status !== 'success') { firstFailure = r.status; return; }
      if (loops === 1) emit('unplug-ready', true, { id: dev.id });
    }
  })();
  await within(loop, STEP_MS, 'a bulk IN failing after the unplug');
  await within(detach, STEP_MS, 'the hotplug detach');
  await within(gone, STEP_MS, 'onGone');
  // the handle outlives its device: every call answers with a status or a coded error, nothing throws
  const afterControl = await h.control(id++, { requestType: 0x80, request: 6, value: 0x0100, index: 0, length: 18 }, new Uint8Array(0));
  const afterBulk = await h.bulk(id++, epOut.address, 0, good.subarray(0, 4096));
  const resetError = await h.reset().then(() => null, (e) => (e instanceof UsbBackendError ? e.code : `uncoded: ${(e as Error).message}`));
  await within(h.close(), STEP_MS, 'close of the gone device');
  const reopenError = await backend.open(dev.id).then((x) => { void x.close(); return null; }, (e) => (e instanceof UsbBackendError ? e.code : `uncoded: ${(e as Error).message}`));
  emit('unplug', true, {
    detachId: dev.id, goneFired, transfersBefore: loops - 1, loopStatuses, firstFailure,
    afterControl: afterControl.status, afterBulk: afterBulk.status, resetError, reopenError,
    stillListed: (await backend.list()).some((d) => d.vendorId === VID && d.productId === PID),
  });

  // re-bind: an attach with the full description, and the device works again
  const mark2 = events.seen.length;
  const attach = events.next((e) => e.kind === 'attach' && e.device.vendorId === VID && e.device.productId === PID, mark2);
  emit('replug-ready', true, {});
  const a = await within(attach, STEP_MS, 'the hotplug attach');
  if (a.kind !== 'attach') throw new StepFailed('unreachable');
  const h2: UsbDeviceHandle = await within(backend.open(a.device.id), STEP_MS, 'open after replug');
  await within(h2.claimAll(), STEP_MS, 'claimAll after replug');
  const in2 = await h2.bulk(id++, epIn.address, 4096, new Uint8Array(0));
  await h2.close();
  emit('replug', in2.status === 'success' && same(in2.data, pattern(4096, epIn.maxPacketSize)), {
    id: a.device.id, vidpid: vidpid(a.device), speed: a.device.speed, product: a.device.product ?? null,
    address: a.device.deviceAddress, in: [in2.status, in2.actual], driverAfterClose: kernelDriver(a.device.id),
  });
  events.stop();
  emit('done', true, { events: events.seen.map((e) => (e.kind === 'attach' ? `attach ${e.device.id}` : `detach ${e.id}`)) });
}

const watchdog = setTimeout(() => { emit('watchdog', false, { why: `not done within ${RUN_MS} ms` }); process.exit(1); }, RUN_MS);
process.on('unhandledRejection', (e) => { emit('crash', false, { why: String((e as Error)?.stack ?? e) }); process.exit(1); });
process.on('uncaughtException', (e) => { emit('crash', false, { why: String(e?.stack ?? e) }); process.exit(1); });
main().then(() => { clearTimeout(watchdog); process.exit(0); }, (e) => {
  if (e instanceof StepFailed) { if (!e.reported) emit('wait', false, { why: e.message }); } else emit('crash', false, { why: String((e as Error)?.stack ?? e) });
  process.exit(1);
});
