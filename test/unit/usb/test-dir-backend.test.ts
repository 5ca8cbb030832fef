// The test-only directory backend (SPICE_VIEWER_TEST_USB_DIR): files present at
// list() are listed without events, a file renamed in is an attach, removed a
// detach and an open handle's onGone; an .iso opens as a CD drive reading that
// file, a .hid is a HID boot keyboard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestDirUsbBackend } from '../../../main/devices/usb/test-dir-backend';
import type { UsbHotplugEvent } from '../../../main/devices/usb/backend';

test('test dir backend: list, attach, open, detach with onGone', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usb-testdir-'));
  try {
    fs.writeFileSync(path.join(dir, 'kbd.hid'), 'x');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not a device');
    const b = new TestDirUsbBackend(dir);
    const events: UsbHotplugEvent[] = [];
    let wake: () => void = () => {};
    const stop = b.onHotplug((e) => { events.push(e); wake(); });
    const next = (): Promise<void> => new Promise((ok) => { wake = ok; });
    const present = await b.list();
    assert.deepEqual(present.map((d) => [d.id, d.interfaces[0].class, d.product]), [['testdir:kbd.hid', 3, 'kbd']]);
    assert.equal(events.length, 0);

    const img = new Uint8Array(4096).map((_, i) => i & 0xff);
    fs.writeFileSync(path.join(dir, '.part'), img);
    let seen = next();
    fs.renameSync(path.join(dir, '.part'), path.join(dir, 'a.iso'));
    await seen;
    assert.equal(events.length, 1);
    const ev = events[0];
    assert.ok(ev.kind === 'attach');
    assert.deepEqual([ev.device.id, ev.device.vendorId, ev.device.productId, ev.device.interfaces[0].class], ['testdir:a.iso', 0x2b23, 0xcdcd, 8]);

    const h = await b.open('testdir:a.iso');
    assert.equal(h.info.id, 'testdir:a.iso');
    let gone = false;
    h.onGone(() => { gone = true; });
    seen = next();
    fs.unlinkSync(path.join(dir, 'a.iso'));
    await seen;
    assert.deepEqual(events[1], { kind: 'detach', id: 'testdir:a.iso' });
    assert.equal(gone, true);
    await h.close();
    await assert.rejects(b.open('testdir:a.iso'), { code: 'NOT_FOUND' });
    const k = await b.open('testdir:kbd.hid');
    const dd = await k.control(1n, { requestType: 0x80, request: 6, value: 0x0100, index: 0, length: 18 }, new Uint8Array(0));
    assert.equal(dd.status, 'success');
    assert.deepEqual([...dd.data.subarray(8, 12)], [0x6b, 0x1d, 0x04, 0x01]);
    await k.close();
    stop();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
