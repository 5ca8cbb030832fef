// The shared folder in the web host as a user runs it: `web --spice-shared-dir DIR
// --spice-shared-dir-ro` against a QEMU with the webdav port, the built page in
// Debian's Chromium. The Devices panel lists the folder (its path, read-only) and
// the indicator says so; the guest's spice-webdavd reads a file of it through the
// bundled web host; unticking stops sharing. Needs `npm run build` first (npm test does it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { QemuVm } from '../harness/qemu';
import { WebCli, chromiumForTests, deviceLines, openPage } from '../helpers/web-page';

const browser = chromiumForTests();
let vm: QemuVm | undefined;
let cli: WebCli | undefined;
let dir = '';
after(async () => {
  await cli?.stop();
  await vm?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const folderIn = (page: Page, state: string): Promise<void> =>
  page
    .waitForFunction((st) => document.querySelector<HTMLElement>("#devices-dialog ul[data-kind='folder'] li")?.dataset.state === st, state, { timeout: 60_000 })
    .then(() => undefined);

test('Devices panel: the shared folder with its path and read-only; the guest reads it through the web host; unticking stops sharing', { timeout: 300_000 }, async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'devices-folder-'));
  const data = crypto.randomBytes(256 * 1024);
  fs.writeFileSync(path.join(dir, 'file.bin'), data);
  vm = await QemuVm.start({ name: 'devices-folder', webdav: true });
  cli = new WebCli(['--spice-shared-dir', dir, '--spice-shared-dir-ro', `spice://127.0.0.1:${vm.spicePort}`]);
  const url = (await cli.waitFor(/SPICE viewer: open (http\S+)/, 30_000, 'out'))[1];
  const { page, probe } = await openPage(browser(), url);
  await page.waitForFunction(() => (window as any).__spiceTest?.status().state === 'connected', undefined, { timeout: 30_000 });

  await page.click('#commands .menu[data-group="File"] .menu-button');
  await page.click('#commands [data-command="devices"]');
  await folderIn(page, 'shared');
  const [line] = await deviceLines(page, 'folder');
  assert.equal(line.label, fs.realpathSync(dir));
  assert.equal(line.detail.split(' · ')[0], 'read-only');
  assert.deepEqual([line.checked, line.error], [true, '']);
  assert.equal(await page.isVisible("p[data-empty='folder']"), false);
  assert.equal(await page.textContent('#device-indicator'), 'folder (read-only)');

  // the guest reads the file through spice-webdavd and the web host's share
  await vm.command('dav start', /^GUEST OK dav started/, 60_000);
  const md5 = await vm.command('dav md5 /file.bin', /^GUEST (OK|ERR) dav\b/, 180_000);
  assert.equal(md5, `GUEST OK dav md5 200 ${data.length} ${crypto.createHash('md5').update(data).digest('hex')}`);
  const put = await vm.command('dav put /x.bin 1000 1', /^GUEST (OK|ERR) dav\b/, 60_000);
  assert.match(put, /^GUEST OK dav put 403 /);

  // untick: no longer shared; the indicator drops it
  await page.click("#devices-dialog ul[data-kind='folder'] li input");
  await folderIn(page, 'stopped');
  await page.waitForFunction(() => (document.getElementById('device-indicator') as HTMLElement).hidden, undefined, { timeout: 10_000 });
  assert.deepEqual(fs.readdirSync(dir), ['file.bin']);
  assert.deepEqual(probe.errors, []);
});
