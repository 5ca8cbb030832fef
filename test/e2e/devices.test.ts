// File → USB devices and smartcards, end to end: the `web` command as a user
// runs it with two --spice-share-cd images against a QEMU with one usb-redir
// channel, the built page in Debian's Chromium. The panel lists both drives;
// the first is redirected (the guest enumerates it), the second shows "the VM
// needs more usb-redir devices"; unticking the first gives it back (the guest
// sees it go) and the waiting drive takes the channel (the guest enumerates
// that one); ticking the first again is refused in words on its line. The
// status line's indicator follows. Needs `npm run build` first (npm test does it).
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

/** Waits until the panel's line for this image is in `state`. */
const lineIn = (page: Page, label: string, state: string): Promise<void> =>
  page
    .waitForFunction(
      ([l, st]) => [...document.querySelectorAll<HTMLElement>("#devices-dialog ul[data-kind='usb'] li")].some((li) => li.querySelector('.device-label')?.textContent === l && li.dataset.state === st),
      [label, state],
      { timeout: 60_000 },
    )
    .then(() => undefined);

const usbSerials = async (): Promise<string[]> => (await guestLines(vm!, 'usbdevs', /^GUEST USBDEV /)).map((l) => /serial='([^']*)'/.exec(l)?.[1] ?? '').filter((s) => s.startsWith('SPICECD'));

test('Devices panel: shared images listed with their state, give back / take over / refused in words, the guest sees each change; the indicator follows', { timeout: 300_000 }, async () => {
  const a = makeTestIso({ prefix: 'devices-panel-', name: 'first.iso', volume: 'FIRST', dataBytes: 64 * 1024, hello: 'first\n' });
  dir = a.dir;
  const second = path.join(dir, 'second.iso');
  fs.copyFileSync(a.iso, second);
  vm = await QemuVm.start({ name: 'devices-panel', usbRedirChannels: 1 });
  cli = new WebCli(['--spice-share-cd', a.iso, '--spice-share-cd', second, `spice://127.0.0.1:${vm.spicePort}`]);
  const url = (await cli.waitFor(/SPICE viewer: open (http\S+)/, 30_000, 'out'))[1];
  const { page, probe } = await openPage(browser(), url);
  await page.waitForFunction(() => (window as any).__spiceTest?.status().state === 'connected', undefined, { timeout: 30_000 });

  // File → USB devices and smartcards
  await page.click('#commands .menu[data-group="File"] .menu-button');
  await page.click('#commands [data-command="devices"]');
  assert.equal(await page.evaluate(() => (document.getElementById('devices-dialog') as HTMLDialogElement).open), true);
  await lineIn(page, 'first.iso', 'redirected');
  await lineIn(page, 'second.iso', 'error');
  let got = await lines(page);
  const first = got.find((l) => l.label === 'first.iso')!;
  const waiting = got.find((l) => l.label === 'second.iso')!;
  assert.deepEqual([first.checked, first.disabled, first.error], [true, false, '']);
  assert.match(first.detail, /^CD image, 2b23:cdcd · redirected$/);
  assert.equal(waiting.checked, false);
  assert.match(waiting.error, /the VM needs more usb-redir devices/);
  assert.equal(await page.textContent('#device-indicator'), 'USB 1');
  assert.equal(await page.isVisible("p[data-empty='smartcard']"), true, 'no reader without --spice-smartcard: the panel says so');
  await pollUntil('the guest enumerates the first drive', usbSerials, (s) => s.includes('SPICECD0001'), 90_000);

  // untick the first: given back; the drive waiting from the command line takes the channel
  await page.click(`#devices-dialog li[data-id='${first.id}'] input`);
  await lineIn(page, 'first.iso', 'free');
  await lineIn(page, 'second.iso', 'redirected');
  await pollUntil('the guest has the second drive instead of the first', usbSerials, (s) => s.includes('SPICECD0002') && !s.includes('SPICECD0001'), 90_000);
  got = await lines(page);
  assert.deepEqual(got.map((l) => [l.label, l.checked]), [['first.iso', false], ['second.iso', true]]);

  // tick the first again: no channel is free; its line says what to do
  await page.click(`#devices-dialog li[data-id='${first.id}'] input`);
  await lineIn(page, 'first.iso', 'error');
  got = await lines(page);
  assert.match(got.find((l) => l.label === 'first.iso')!.error, /the VM needs more usb-redir devices/);
  assert.equal(got.find((l) => l.label === 'first.iso')!.checked, false);
  assert.equal(await page.textContent('#device-indicator'), 'USB 1');
  assert.deepEqual(await usbSerials(), ['SPICECD0002']);

  // disconnect: the session released its devices, the panel is empty and the indicator gone
  await page.click('#devices-dialog .devices-close');
  await page.click('#disconnect');
  await page.waitForFunction(() => (document.getElementById('device-indicator') as HTMLElement).hidden, undefined, { timeout: 10_000 });
  await page.click('#commands .menu[data-group="File"] .menu-button');
  await page.click('#commands [data-command="devices"]');
  assert.deepEqual(await lines(page), []);
  assert.equal(await page.isVisible("p[data-empty='usb']"), true);
  assert.deepEqual(probe.errors, []);
});
