// Standard USB descriptors (USB 2.0 chapter 9) for emulated devices. Pure byte building.
import type { UsbInterfaceInfo } from './backend';

export interface DeviceDescriptorFields {
  bcdUSB: number; deviceClass: number; deviceSubclass: number; deviceProtocol: number; maxPacketSize0: number;
  vendorId: number; productId: number; bcdDevice: number; iManufacturer: number; iProduct: number; iSerial: number;
  numConfigurations: number;
}

export function deviceDescriptor(d: DeviceDescriptorFields): Uint8Array {
  return Uint8Array.from([18, 1, d.bcdUSB & 0xff, d.bcdUSB >> 8, d.deviceClass, d.deviceSubclass, d.deviceProtocol,
    d.maxPacketSize0, d.vendorId & 0xff, d.vendorId >> 8, d.productId & 0xff, d.productId >> 8, d.bcdDevice & 0xff,
    d.bcdDevice >> 8, d.iManufacturer, d.iProduct, d.iSerial, d.numConfigurations]);
}

/** Full configuration descriptor (config + interfaces + endpoints), wTotalLength filled in. */
export function configDescriptor(value: number, attributes: number, maxPower2mA: number, interfaces: UsbInterfaceInfo[]): Uint8Array {
  const body: number[] = [];
  const numbers = new Set(interfaces.map((i) => i.number));
  for (const i of interfaces) {
    body.push(9, 4, i.number, i.alt, i.endpoints.length, i.class, i.subclass, i.protocol, 0);
    for (const e of i.endpoints) body.push(7, 5, e.address, e.type, e.maxPacketSize & 0xff, e.maxPacketSize >> 8, e.interval);
  }
  const total = 9 + body.length;
  return Uint8Array.from([9, 2, total & 0xff, total >> 8, numbers.size, value, 0, attributes, maxPower2mA, ...body]);
}

/** String descriptor: UTF-16LE; index 0 is the language list (US English). */
export function stringDescriptor(s: string | null): Uint8Array {
  if (s === null) return Uint8Array.from([4, 3, 0x09, 0x04]);
  const units = Array.from(s.slice(0, 126), (c) => c.charCodeAt(0));
  const out = new Uint8Array(2 + units.length * 2);
  out[0] = out.length;
  out[1] = 3;
  units.forEach((u, k) => { out[2 + k * 2] = u & 0xff; out[3 + k * 2] = u >> 8; });
  return out;
}
