// The node-usb backend's translation, checked against hand-written USB 2.0
// descriptors (chapter 9) and the libusb codes the installed `usb` package
// exports; then the backend on this machine's real libusb (enumeration and
// hotplug subscription; this host has no USB devices, so a real device test
// needs a guest with dummy_hcd — not here yet).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NodeUsbBackend, backendError, hotplugListenerCount, libusbConstant, loadNodeUsb, maxPacketBytes, nodeUsbDeviceId, nodeUsbDeviceInfo, speedOf, transferStatus, type RawUsbDevice,
} from '../../../main/devices/usb/node-usb-backend';

const ep = (bEndpointAddress: number, bmAttributes: number, wMaxPacketSize: number, bInterval: number) => ({
  bLength: 7, bDescriptorType: 5, bEndpointAddress, bmAttributes, wMaxPacketSize, bInterval, bRefresh: 0, bSynchAddress: 0, extra: Buffer.alloc(0),
});
const alt = (n: number, a: number, cls: number, sub: number, proto: number, endpoints: ReturnType<typeof ep>[]) => ({
  bLength: 9, bDescriptorType: 4, bInterfaceNumber: n, bAlternateSetting: a, bNumEndpoints: endpoints.length,
  bInterfaceClass: cls, bInterfaceSubClass: sub, bInterfaceProtocol: proto, iInterface: 0, extra: Buffer.alloc(0), endpoints,
});

// a high-speed webcam-like composite: video control (interrupt IN), video streaming with an iso alt setting (2 × 1024 per microframe)
const webcam: RawUsbDevice = {
  busNumber: 3, deviceAddress: 7, portNumbers: [2, 4],
  deviceDescriptor: {
    bLength: 18, bDescriptorType: 1, bcdUSB: 0x0200, bDeviceClass: 0xef, bDeviceSubClass: 2, bDeviceProtocol: 1, bMaxPacketSize0: 64,
    idVendor: 0x046d, idProduct: 0x0825, bcdDevice: 0x0012, iManufacturer: 0, iProduct: 2, iSerialNumber: 1, bNumConfigurations: 1,
  },
  configDescriptor: {
    bLength: 9, bDescriptorType: 2, wTotalLength: 0, bNumInterfaces: 2, bConfigurationValue: 1, iConfiguration: 0, bmAttributes: 0x80,
    bMaxPower: 250, extra: Buffer.alloc(0),
    interfaces: [
      [alt(0, 0, 0x0e, 1, 0, [ep(0x87, 3, 16, 8)])],
      [alt(1, 0, 0x0e, 2, 0, []), alt(1, 1, 0x0e, 2, 0, [ep(0x81, 5, 0x0800 | 1024, 1)])],
    ],
  },
};

test('descriptors → UsbDeviceInfo: ids, interfaces at their alt settings, periodic max packet with its multiplier, device descriptor bytes', () => {
  assert.equal(nodeUsbDeviceId(webcam), '3-2.4');
  assert.equal(nodeUsbDeviceId({ busNumber: 1, deviceAddress: 9 }), '1-@9');
  const info = nodeUsbDeviceInfo(webcam, 'high', { product: 'Webcam C270', serialNumber: 'ABC' });
  assert.deepEqual([info.id, info.vendorId, info.productId, info.deviceClass, info.deviceVersion, info.speed, info.product, info.manufacturer, info.emulated],
    ['3-2.4', 0x046d, 0x0825, 0xef, 0x0012, 'high', 'Webcam C270', undefined, false]);
  // the 18 bytes as the device sends them (USB 2.0 table 9-8)
  assert.deepEqual([...info.deviceDescriptor], [18, 1, 0x00, 0x02, 0xef, 2, 1, 64, 0x6d, 0x04, 0x25, 0x08, 0x12, 0x00, 0, 2, 1, 1]);
  assert.deepEqual(info.interfaces, [
    { number: 0, alt: 0, class: 0x0e, subclass: 1, protocol: 0, endpoints: [{ address: 0x87, type: 3, maxPacketSize: 16, interval: 8, maxStreams: 0 }] },
    { number: 1, alt: 0, class: 0x0e, subclass: 2, protocol: 0, endpoints: [] },
  ]);
  const streaming = nodeUsbDeviceInfo(webcam, 'high', {}, new Map([[1, 1]]));
  assert.deepEqual(streaming.interfaces[1].endpoints, [{ address: 0x81, type: 1, maxPacketSize: 2048, interval: 1, maxStreams: 0 }]);
  // rebuilt configuration: header + 2 interfaces (9 each) + 1 endpoint (7), wTotalLength filled in
  assert.deepEqual([...info.configDescriptor.subarray(0, 9)], [9, 2, 34, 0, 2, 1, 0, 0x80, 250]);
  assert.equal(info.configDescriptor.length, 34);
  assert.equal(maxPacketBytes(0x1000 | 1024, 3), 3072);
  assert.equal(maxPacketBytes(0x1000 | 512, 2), 512, 'bulk endpoints have no multiplier');
});

test('speed from sysfs (Mb/s), else from bcdUSB', () => {
  assert.deepEqual(['1.5\n', '12\n', '480\n', '5000\n', '10000\n'].map((v) => speedOf(v, 0x0200)), ['low', 'full', 'high', 'super', 'super']);
  assert.deepEqual([0x0110, 0x0200, 0x0320].map((b) => speedOf(null, b)), ['full', 'high', 'super']);
});

test('libusb codes (as the installed usb package numbers them) → transfer statuses and coded errors naming what to do', async () => {
  await loadNodeUsb(); // the binding loads on first use, not on import
  const u = new Proxy({}, { get: (_t, k: string) => libusbConstant(k) }) as Record<string, number>;
  assert.equal(typeof u.LIBUSB_TRANSFER_STALL, 'number');
  assert.equal(transferStatus(undefined), 'success');
  assert.deepEqual([
    u.LIBUSB_TRANSFER_CANCELLED, u.LIBUSB_TRANSFER_STALL, u.LIBUSB_TRANSFER_TIMED_OUT, u.LIBUSB_TRANSFER_OVERFLOW,
    u.LIBUSB_TRANSFER_NO_DEVICE, u.LIBUSB_TRANSFER_ERROR, u.LIBUSB_ERROR_PIPE, u.LIBUSB_ERROR_TIMEOUT, u.LIBUSB_ERROR_IO,
  ].map((errno) => transferStatus({ errno })), ['cancelled', 'stall', 'timeout', 'babble', 'ioerror', 'ioerror', 'stall', 'timeout', 'ioerror']);
  const busy = backendError({ errno: u.LIBUSB_ERROR_BUSY, message: 'LIBUSB_ERROR_BUSY' }, 'claim interface 0', 'USB device 046d:0825 at 3-2.4');
  assert.equal(busy.code, 'BUSY');
  assert.match(busy.message, /^USB device 046d:0825 at 3-2\.4: claim interface 0: the device is in use by another driver or program/);
  const access = backendError({ errno: u.LIBUSB_ERROR_ACCESS, message: 'LIBUSB_ERROR_ACCESS' }, 'open', 'd');
  assert.equal(access.code, 'ACCESS');
  assert.match(access.message, /permission denied.*udev rule.*SUBSYSTEM=="usb"/);
  assert.equal(backendError({ errno: u.LIBUSB_ERROR_NO_DEVICE }, 'open', 'd').code, 'NO_DEVICE');
  assert.equal(backendError(new Error('odd'), 'open', 'd').code, 'IO');
});

test('real libusb: enumeration answers (no devices on this host), hotplug subscribes and unsubscribes, a missing id is NOT_FOUND', async () => {
  const b = new NodeUsbBackend();
  const list = await b.list();
  assert.ok(Array.isArray(list));
  for (const d of list) assert.equal(d.emulated, false);
  const before = hotplugListenerCount();
  const stop = b.onHotplug(() => {});
  await new Promise((r) => setImmediate(r)); // it subscribes once the (already loaded) binding is in hand
  assert.equal(hotplugListenerCount(), before + 2);
  stop();
  assert.equal(hotplugListenerCount(), before);
  await assert.rejects(b.open('99-1.2.3'), (e: unknown) => (e as { code?: string }).code === 'NOT_FOUND');
});
