// The node-usb backend against a real kernel USB device (devices.md B.7): the
// usbgadget guest (GUEST_USB_GADGET=1 scripts/build-guest.sh) runs dummy_hcd with
// a configfs SourceSink gadget 0525:a4a0 ("usbg up"), and our NodeUsbBackend
// inside it (test/guest/usb-driver.ts, bundled into the guest) drives the
// gadget through the UsbBackend interface the app uses: enumerate, strings,
// open with usbtest detached and claim, control, bulk OUT/IN with the gadget's
// data pattern checked both ways, a halted endpoint cleared, a hot-unplug with
// transfers in flight (detach event, onGone, coded statuses, no crash) and a
// re-plug (attach event, the device works again). Each step is one serial line
// "GUEST USBDRV <step> ok|FAIL <json>"; this file asserts each one's facts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QemuVm } from '../harness/qemu';

const STEP_RE = /^GUEST USBDRV (\S+) (ok|FAIL) (.*)$/;
const DRV_LINE = /^GUEST USBDRV /;
/** What scripts/guest/usbg configures. */
const GADGET = { manufacturer: 'spice-viewer', product: 'SourceSink test gadget', serialNumber: 'SSG-0001', bcdDevice: 0x0101 };
/**
 * Statuses the transfer in flight at the unplug may end with: libusb's NO_DEVICE is
 * usbredir's ioerror (as usbredirhost maps it), a stall if the endpoint went first.
 */
const GONE_STATUSES = ['ioerror', 'stall'];

let vm: QemuVm;
let sysfsName: string;
let cursor = 0;
/** Why the driver's run broke: the steps after it fail at once instead of waiting. */
let broken: string | null = null;
const t0 = Date.now();
const times: string[] = [];

/** The driver's next line: it must be `name` ok (a FAIL, another step or its exit fails the test). */
async function step(name: string, timeoutMs = 30000): Promise<any> {
  if (broken) assert.fail(`driver step ${name} not reached: ${broken}`);
  try {
    const r = await vm.waitForSerial(DRV_LINE, timeoutMs, cursor);
    cursor = r.index + 1;
    times.push(`${name} ${((Date.now() - t0) / 1000).toFixed(1)}s`);
    const m = STEP_RE.exec(r.line);
    if (!m || m[1] !== name || m[2] !== 'ok') throw new Error(`got "${r.line}"`);
    console.log(`# ${r.line.slice('GUEST USBDRV '.length)}`);
    return JSON.parse(m[3]);
  } catch (e) {
    broken = `step ${name}: ${(e as Error).message.split('\n')[0]}`;
    assert.fail(`driver step ${name}: ${(e as Error).message}\nlast serial lines:\n${vm.serialLines().filter((l) => !/ tick=/.test(l)).slice(-25).join('\n')}`);
  }
}

before(async () => {
  vm = await QemuVm.start({ name: 'node-usb-guest', usbGadget: true });
  times.push(`ready ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  const up = await vm.command('usbg up', undefined, 30000);
  // "GUEST OK usbg up <sysfs name> <udc> <driver>"
  const [, , , , name, udc, driver] = up.split(' ');
  assert.equal(udc, 'dummy_udc.0');
  assert.equal(driver, 'usbtest', 'usbtest binds the gadget before the backend opens it');
  sysfsName = name;
  times.push(`gadget ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  cursor = vm.serialLines().length;
  await vm.command('usbg drv');
});

after(async () => {
  console.log(`# guest boot to done: ${times.join(', ')}`);
  await vm?.stop();
});

test('enumerate: the gadget with VID:PID, speed and descriptors', async () => {
  const start = await step('start', 60000);
  assert.match(start.node, /^v\d+\./);
  const e = await step('enumerate');
  assert.deepEqual(e.all, [`0525:a4a0@${sysfsName}`], 'hubs are not listed, the gadget is');
  assert.equal(e.id, sysfsName);
  assert.equal(e.vidpid, '0525:a4a0');
  assert.equal(e.speed, 'high', 'dummy_hcd is a high-speed controller (sysfs speed 480)');
  assert.equal(e.bcdDevice, GADGET.bcdDevice);
  const dd = Buffer.from(e.deviceDescriptor, 'hex');
  assert.equal(dd.length, 18);
  assert.deepEqual([dd[0], dd[1], dd.readUInt16LE(8), dd.readUInt16LE(10), dd.readUInt16LE(12)], [18, 1, 0x0525, 0xa4a0, GADGET.bcdDevice]);
  const cd = Buffer.from(e.configDescriptor, 'hex');
  assert.deepEqual([cd[0], cd[1], cd.readUInt16LE(2)], [9, 2, cd.length], 'config descriptor header, wTotalLength');
  assert.equal(e.interfaces, 1);
  assert.deepEqual(e.endpoints.filter((x: any) => x.type === 2).map((x: any) => [x.address & 0x80, x.maxPacketSize]).sort(), [[0, 512], [0x80, 512]]);
});

test('string descriptors', async () => {
  const s = await step('strings');
  assert.deepEqual(s, { manufacturer: GADGET.manufacturer, product: GADGET.product, serialNumber: GADGET.serialNumber });
});

test('open: usbtest detached, every interface claimed', async () => {
  const o = await step('open');
  // a claim through usbfs binds the interface to the "usbfs" driver
  assert.deepEqual(o, { driverBefore: 'usbtest', driverAfter: 'usbfs', configuration: 1 });
});

test('control transfers: GET_DESCRIPTOR, vendor write and read back, an unknown request stalls', async () => {
  const c = await step('control');
  assert.deepEqual(c, {
    getDescriptor: 'success', descriptorMatches: true, vendorOut: 'success', vendorOutActual: 64,
    vendorIn: 'success', readBack: true, unknownRequest: 'stall',
  });
});

test('bulk OUT and IN against SourceSink, data checked both ways', async () => {
  const b = await step('bulk');
  assert.deepEqual([b.out, b.out2, b.in, b.inPattern], [['success', 16384], ['success', 16384], ['success', 16384], true]);
  const halt = await step('halt');
  assert.deepEqual(halt, { badOut: 'success', next: 'stall', clearHalt: 'success', afterClear: 'success' },
    'a wrong byte halts the gadget OUT endpoint; clearHalt lets data through again');
});

test('hot-unplug with transfers in flight: detach, onGone, coded statuses, no crash', async () => {
  const ready = await step('unplug-ready');
  assert.equal(ready.id, sysfsName);
  await vm.command('usbg unplug');
  const u = await step('unplug');
  assert.equal(u.detachId, sysfsName);
  assert.equal(u.goneFired, true);
  assert.ok(u.transfersBefore >= 1, 'bulk IN transfers ran before the unplug');
  assert.ok(GONE_STATUSES.includes(u.firstFailure), `transfer in flight at unplug: ${u.firstFailure}`);
  // calls on the handle after the device left: libusb NO_DEVICE, as a status or a coded error
  assert.equal(u.afterControl, 'ioerror', 'control on the gone device');
  assert.equal(u.afterBulk, 'ioerror', 'bulk on the gone device');
  assert.equal(u.resetError, 'NO_DEVICE', 'reset of the gone device');
  assert.equal(u.reopenError, 'NOT_FOUND');
  assert.equal(u.stillListed, false);
});

test('re-plug: attach event with the full description, the device works again', async () => {
  await step('replug-ready');
  const plugged = await vm.command('usbg plug');
  const r = await step('replug');
  assert.equal(r.id, plugged.split(' ')[4]);
  assert.equal(r.vidpid, '0525:a4a0');
  assert.equal(r.speed, 'high');
  assert.equal(r.product, GADGET.product);
  assert.deepEqual(r.in, ['success', 4096]);
  assert.equal(r.driverAfterClose, 'usbtest', 'close gives the interface back to its kernel driver');
  const d = await step('done');
  assert.deepEqual(d.events, [`detach ${sysfsName}`, `attach ${r.id}`]);
  await vm.waitForSerial(/^GUEST USBDRV exit 0$/, 10000, cursor);
});
