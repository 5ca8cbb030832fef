// The Devices panel follows USB hotplug, end to end: the `web` command against a
// QEMU with one usb-redir channel, its USB devices coming from the test-only
// directory backend (SPICE_VIEWER_TEST_USB_DIR, main/devices/usb/test-dir-backend.ts:
// a file renamed into the directory is a device plugged, removed is unplugged;
// this machine's kernel has no USB), the built page in Debian's Chromium.
// Plugged after connect, a fake keyboard (.hid) is listed live and left alone
// by the default auto-redirect filter (HID is never auto-redirected); an ISO
// (an emulated CD drive) is listed and redirected by itself, and the guest
// enumerates it; a second ISO finds no free channel and its line says what to
// do, as does ticking the keyboard; unplugging the first ISO takes its line
// away, the guest sees a USB disconnect and the waiting ISO takes the channel;
// unplugging that one empties the USB list. Needs `npm run build` first.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { QemuVm } from '../harness/qemu';
import { WebCli, chromiumForTests, deviceLines, openPage } from '../helpers/web-page';
import { guestLines, makeTestIso, pollUntil } from '../helpers/usb-guest';

const browser = chromiumForTests();
let vm: QemuVm | undefined;
let cli: WebCli | undefined;
let dir = '';
after(async () => {
  await cli?.stop();
  await vm?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const lines = (page: Page) => deviceLines(page, 'usb');

/** Waits until the panel has a line with this label in `state` ('gone': no such line). */
const lineIn = (page: Page, label: string, state: string): Promise<void> =>
  page
    .waitForFunction(
      ([l, st]) => {
        const li = [...document.querySelectorAll<HTMLElement>("#devices-dialog ul[data-kind='usb'] li")].find((x) => x.querySelector('.device-label')?.textContent === l);
        return st === 'gone' ? !li : li?.dataset.state === st;
      },
      [label, state],
      { timeout: 60_000 },
    )
    .then(() => undefined);

const usbDevs = (): Promise<string[]> => guestLines(vm!, 'usbdevs', /^GUEST USBDEV /);
const cdSerials = async (): Promise<string[]> => (await usbDevs()).map((l) => /serial='([^']*)'/.exec(l)?.[1] ?? '').filter((s) => s.startsWith('SPICECD'));
const disconnects = async (): Promise<number> => (await guestLines(vm!, 'dmesg USB disconnect', /^GUEST DMESG /)).length;

test('Devices panel under hotplug: plugged devices listed live, an ISO auto-redirected (the guest has it), a keyboard not; no free channel in words; unplug reflected in the panel and the guest', { timeout: 300_000 }, async () => {
  const iso = makeTestIso({ prefix: 'devices-hotplug-', name: 'src.iso', volume: 'HOTPLUG', dataBytes: 64 * 1024, hello: 'hotplug\n' });
  dir = iso.dir;
  const usbDir = path.join(dir, 'usb');
  fs.mkdirSync(usbDir);
  /** Plugs a device: written beside the directory, then renamed in whole. */
  const plug = (name: string, from?: string): void => {
    const tmp = path.join(dir, `${name}.part`);
    if (from) fs.copyFileSync(from, tmp);
    else fs.writeFileSync(tmp, 'fake HID keyboard\n');
    fs.renameSync(tmp, path.join(usbDir, name));
  };
  const unplug = (name: string): void => fs.unlinkSync(path.join(usbDir, name));

  vm = await QemuVm.start({ name: 'devices-hotplug', usbRedirChannels: 1 });
  cli = new WebCli([`spice://127.0.0.1:${vm.spicePort}`], { SPICE_VIEWER_TEST_USB_DIR: usbDir });
  const url = (await cli.waitFor(/SPICE viewer: open (http\S+)/, 30_000, 'out'))[1];
  const { page, probe } = await openPage(browser(), url);
  await page.waitForFunction(() => (window as any).__spiceTest?.status().state === 'connected', undefined, { timeout: 30_000 });
  await page.click('#commands .menu[data-group="File"] .menu-button');
  await page.click('#commands [data-command="devices"]');
  assert.deepEqual(await lines(page), [], 'nothing plugged yet');
  assert.equal(await page.isVisible("p[data-empty='usb']"), true);
  const disconnectsAtStart = await disconnects();

  // a keyboard plugged: listed live, not redirected (the default filter never takes HID)
  plug('keyboard.hid');
  await lineIn(page, 'keyboard', 'free');
  // an ISO plugged: listed and redirected by itself on the one channel
  plug('disk.iso', iso.iso);
  await lineIn(page, 'disk.iso', 'redirected');
  let got = await lines(page);
  const disk = got.find((l) => l.label === 'disk.iso')!;
  const keyboard = got.find((l) => l.label === 'keyboard')!;
  assert.deepEqual([disk.checked, disk.error], [true, '']);
  assert.match(disk.detail, /2b23:cdcd · redirected$/);
  assert.deepEqual([keyboard.checked, keyboard.state, keyboard.error], [false, 'free', '']);
  assert.match(keyboard.detail, /^1d6b:0104/);
  assert.equal(await page.textContent('#device-indicator'), 'USB 1');
  const [diskSerial] = await pollUntil('the guest enumerates the plugged drive', cdSerials, (s) => s.length === 1, 90_000);
  await pollUntil('the guest binds sr to it', () => guestLines(vm!, 'dmesg Attached scsi CD-ROM', /^GUEST DMESG /), (l) => l.length >= 1, 60_000);
  assert.ok(!(await usbDevs()).some((l) => / 1d6b:0104 /.test(l)), 'the keyboard never reached the guest');

  // a second ISO plugged: wanted, but the one channel is taken; its line says what to do
  plug('other.iso', iso.iso);
  await lineIn(page, 'other.iso', 'error');
  got = await lines(page);
  assert.match(got.find((l) => l.label === 'other.iso')!.error, /the VM needs more usb-redir devices \(all 1 usbredir channels are in use\)/);
  // ticking the keyboard is refused in words too
  await page.click(`#devices-dialog li[data-id='${keyboard.id}'] input`);
  await lineIn(page, 'keyboard', 'error');
  got = await lines(page);
  assert.match(got.find((l) => l.label === 'keyboard')!.error, /the VM needs more usb-redir devices/);
  assert.equal(got.find((l) => l.label === 'keyboard')!.checked, false);

  // the first ISO unplugged: its line goes, the guest sees the USB disconnect, the waiting ISO takes the channel
  unplug('disk.iso');
  await lineIn(page, 'disk.iso', 'gone');
  await pollUntil('USB disconnect in the guest', disconnects, (n) => n === disconnectsAtStart + 1, 60_000);
  await lineIn(page, 'other.iso', 'redirected');
  await pollUntil('the guest has the other drive instead', cdSerials, (s) => s.length === 1 && s[0] !== diskSerial, 90_000);
  assert.equal(await page.textContent('#device-indicator'), 'USB 1');

  // everything unplugged: the list empties, the guest sees the second disconnect
  unplug('other.iso');
  unplug('keyboard.hid');
  await lineIn(page, 'other.iso', 'gone');
  await lineIn(page, 'keyboard', 'gone');
  await pollUntil('the second USB disconnect in the guest', disconnects, (n) => n === disconnectsAtStart + 2, 60_000);
  assert.deepEqual(await cdSerials(), []);
  assert.deepEqual(await lines(page), []);
  await page.waitForFunction(() => (document.getElementById('device-indicator') as HTMLElement).hidden, undefined, { timeout: 10_000 });
  assert.deepEqual(probe.errors, []);
});
