// USB filter check (auto-redirect / redirect-on-connect), with rules parsed by
// the config layer's parseUsbFilter from remote-viewer's syntax.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkUsbFilter, type FilterDevice } from '../../../main/devices/usb/filter';
import { parseUsbFilter } from '../../../main/config/vv';
import { DEFAULT_USB_AUTO_FILTER } from '../../../main/config/effective';
import { EmulatedCdrom } from '../../../main/devices/usb/emulated-cdrom';

const dev = (deviceClass: number, ifs: [number, number, number][], vendorId = 0x1234, productId = 0x5678, deviceVersion = 0x0100): FilterDevice =>
  ({ deviceClass, vendorId, productId, deviceVersion, interfaces: ifs.map(([c, s, p]) => ({ class: c, subclass: s, protocol: p })) });
const keyboard = dev(0, [[3, 1, 1]]);
const mouse = dev(0, [[3, 1, 2]]);
const stick = dev(0, [[8, 6, 0x50]]);
const headset = dev(0, [[1, 1, 0], [1, 2, 0], [3, 0, 0]]); // audio + a non-boot HID for the buttons
const hidOnly = dev(0, [[3, 0, 0], [3, 0, 0]]);
const hub = dev(9, [[9, 0, 0]]);

test('default auto-redirect filter: HID never, storage / composite with a side HID / hubs yes', () => {
  const rules = parseUsbFilter(DEFAULT_USB_AUTO_FILTER);
  assert.equal(checkUsbFilter(rules, keyboard), 'deny');
  assert.equal(checkUsbFilter(rules, mouse), 'deny');
  assert.equal(checkUsbFilter(rules, hidOnly), 'deny'); // all interfaces non-boot HID: checked after all
  assert.equal(checkUsbFilter(rules, stick), 'allow');
  assert.equal(checkUsbFilter(rules, headset), 'allow');
  assert.equal(checkUsbFilter(rules, hub), 'allow');
  const cd = new EmulatedCdrom(null, { index: 1 }).info;
  assert.equal(checkUsbFilter(rules, { ...cd, interfaces: cd.interfaces }), 'allow');
});

test('a rule naming a HID device lets it through; first match wins; version and class filters', () => {
  const rules = parseUsbFilter('-1,0x1234,0x5678,-1,1|0x03,-1,-1,-1,0|-1,-1,-1,-1,1');
  assert.equal(checkUsbFilter(rules, keyboard), 'allow');
  assert.equal(checkUsbFilter(rules, dev(0, [[3, 1, 1]], 0x1234, 0x9999)), 'deny');
  const v = parseUsbFilter('-1,-1,-1,0x0200,1|-1,-1,-1,-1,0');
  assert.equal(checkUsbFilter(v, dev(0, [[8, 6, 0x50]], 1, 2, 0x0200)), 'allow');
  assert.equal(checkUsbFilter(v, stick), 'deny');
  // device class 0xef (miscellaneous) is judged by its interfaces, like 0
  const onlyStorage = parseUsbFilter('0x08,-1,-1,-1,1');
  assert.equal(checkUsbFilter(onlyStorage, dev(0xef, [[8, 6, 0x50]])), 'allow');
  assert.equal(checkUsbFilter(onlyStorage, dev(0xef, [[8, 6, 0x50], [0xe0, 1, 1]])), 'no-match');
  assert.equal(checkUsbFilter(onlyStorage, hub), 'no-match');
});

test('redirect-on-connect: exactly the matching devices; no rule → no match unless default allow', () => {
  const rules = parseUsbFilter('0x08,-1,-1,-1,1');
  const devices = [keyboard, stick, headset, hub, dev(0, [[8, 6, 0x50]], 0xaaaa, 0xbbbb)];
  assert.deepEqual(devices.map((d) => checkUsbFilter(rules, d) === 'allow'), [false, true, false, false, true]);
  assert.equal(checkUsbFilter([], stick), 'no-match');
  assert.equal(checkUsbFilter([], stick, { defaultAllow: true }), 'allow');
  assert.equal(checkUsbFilter(parseUsbFilter('0x08,-1,-1,-1,0'), stick, { defaultAllow: true }), 'deny');
});
