// The shared folder in the web host as a user runs it: `web --spice-shared-dir DIR
// --spice-shared-dir-ro` against a QEMU with the webdav port, the built page in
// Debian's Chromium. The Devices panel lists the folder (its path, read-only) and
// the indicator says so; the guest's spice-webdavd reads a file of it through the
// bundled web host; unticking stops sharing. Then, on the same VM, a web host
// started without a folder: File → Preferences shares a folder typed in the page,
// swaps it for another while the guest stays connected (its next request lists
// and reads the new one), toggles read-only (a write refused, then allowed),
// refuses bad paths in words, stops sharing (503), and saves the choice.
// Needs `npm run build` first (npm test does it).
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
const dirs: string[] = [];
after(async () => {
  await cli?.stop();
  await vm?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const md5 = (b: Uint8Array): string => crypto.createHash('md5').update(b).digest('hex');

/** A guest `dav` command's reply line (OK or ERR). */
const dav = (args: string, ms = 120_000): Promise<string> => vm!.command(`dav ${args}`, /^GUEST (OK|ERR) dav\b/, ms);

/** The guest's PROPFIND of the folder's root: the entries' paths, sorted. */
async function guestLs(): Promise<{ status: string; names: string[] }> {
  const from = vm!.serialLines().length;
  const done = await dav('ls /');
  const m = /^GUEST OK dav ls (\d+) /.exec(done);
  assert.ok(m, done);
  const names = vm!
    .serialLines()
    .slice(from)
    .filter((l) => l.startsWith('GUEST DAV '))
    .map((l) => decodeURIComponent(new URL(l.slice('GUEST DAV '.length), 'http://localhost:9843').pathname))
    .sort();
  return { status: m[1], names };
}

/** The Preferences dialog's shared-folder line once it says `re`. */
const folderNow = (page: Page, re: RegExp): Promise<void> =>
  page
    .waitForFunction((src) => new RegExp(src).test(document.getElementById('pref-folder-now')?.textContent ?? ''), re.source, { timeout: 30_000 })
    .then(() => undefined);

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

test('File → Preferences: a folder typed in the page is shared, swapped for another while connected, read-only toggled, bad paths refused in words, sharing stopped; the choice is saved', { timeout: 600_000 }, async () => {
  assert.ok(vm, 'the first test started the VM');
  // spice-webdavd ends its service run when a client leaves; the next one starts a second later
  await cli?.stop();
  const runsBefore = vm.serialLines().length;
  const a = fs.mkdtempSync(path.join(os.tmpdir(), 'folder-a-'));
  const b = fs.mkdtempSync(path.join(os.tmpdir(), 'folder-b-'));
  dirs.push(a, b);
  const dataA = crypto.randomBytes(100_000);
  const dataB = crypto.randomBytes(300_000);
  fs.writeFileSync(path.join(a, 'a.bin'), dataA);
  fs.writeFileSync(path.join(b, 'b.bin'), dataB);
  fs.mkdirSync(path.join(b, 'sub'));
  cli = new WebCli([`spice://127.0.0.1:${vm.spicePort}`]);
  const url = (await cli.waitFor(/SPICE viewer: open (http\S+)/, 30_000, 'out'))[1];
  const { page, probe } = await openPage(browser(), url);
  await page.waitForFunction(() => (window as any).__spiceTest?.status().state === 'connected', undefined, { timeout: 30_000 });
  await dav('ready 2');
  // nothing chosen: the guest gets 503, in words
  assert.match(await dav('md5 /a.bin'), /^GUEST OK dav md5 503 /);

  await page.click('#commands .menu[data-group="File"] .menu-button');
  await page.click('#commands [data-command="preferences"]');
  await folderNow(page, /^No folder chosen\.$/);
  assert.equal(await page.isVisible('#pref-folder-dir'), true, 'the web page types a path');
  assert.equal(await page.isVisible('#pref-folder-choose'), false, 'no native picker in the browser');
  assert.equal(await page.isDisabled('#pref-folder-toggle'), true, 'nothing to share yet');

  // bad paths: refused by main, why in words on the page, nothing shared
  const refused = async (typed: string, why: string): Promise<void> => {
    await page.fill('#pref-folder-dir', typed);
    await page.click('#pref-folder-share');
    await page.waitForFunction((w) => document.getElementById('pref-folder-error')?.textContent === w, why, { timeout: 10_000 });
    assert.equal(await page.getAttribute('#pref-folder-dir', 'aria-invalid'), 'true');
  };
  await refused(path.join(a, 'a.bin'), `"${path.join(a, 'a.bin')}" is a file, not a folder.`);
  await refused(path.join(a, 'missing'), `There is no folder "${path.join(a, 'missing')}" on this machine.`);
  await refused('relative/dir', '"relative/dir" is not a full path: start it with / (for example /home/me/Public).');
  assert.match(await page.textContent('#pref-folder-now') ?? '', /^No folder chosen\.$/);

  // share A (Share this folder): the guest lists it and reads its file
  await page.fill('#pref-folder-dir', a);
  await page.click('#pref-folder-share');
  await folderNow(page, new RegExp(`^Sharing ${fs.realpathSync(a)} \\(read-write\\)\\.$`));
  assert.equal(await page.textContent('#pref-folder-error'), '');
  assert.deepEqual(await guestLs(), { status: '207', names: ['/', '/a.bin'] });
  assert.equal(await dav('md5 /a.bin'), `GUEST OK dav md5 200 ${dataA.length} ${md5(dataA)}`);

  // swap to B while connected (Enter in the field): the guest's next request sees B
  await page.fill('#pref-folder-dir', b);
  await page.press('#pref-folder-dir', 'Enter');
  await folderNow(page, new RegExp(`^Sharing ${fs.realpathSync(b)} \\(read-write\\)\\.$`));
  assert.deepEqual(await guestLs(), { status: '207', names: ['/', '/b.bin', '/sub/'] });
  assert.equal(await dav('md5 /b.bin'), `GUEST OK dav md5 200 ${dataB.length} ${md5(dataB)}`);
  assert.match(await dav('md5 /a.bin'), /^GUEST OK dav md5 404 /, 'A is no longer served');

  // read-only at runtime: a write is refused and nothing lands; unticked, the write lands exactly
  await page.check('#pref-folder-ro');
  await folderNow(page, /\(read-only\)\.$/);
  assert.match(await dav('put /w.bin 50000 7'), /^GUEST OK dav put 403 /);
  assert.equal(fs.existsSync(path.join(b, 'w.bin')), false);
  await page.uncheck('#pref-folder-ro');
  await folderNow(page, /\(read-write\)\.$/);
  const put = /^GUEST OK dav put (\d+) (\d+) ([0-9a-f]{32})$/.exec(await dav('put /w.bin 50000 7'));
  assert.ok(put && (put[1] === '201' || put[1] === '200'), String(put));
  assert.equal(md5(fs.readFileSync(path.join(b, 'w.bin'))), put[3]);

  // the same channel and spice-webdavd run throughout: the guest's service never restarted
  const from = vm.serialLines().length;
  await dav('log');
  const runs = vm.serialLines().slice(from).filter((l) => l.startsWith('GUEST DAVLOG') && l.includes('Run service')).length;
  assert.equal(runs, 2, 'spice-webdavd ran twice (one per web host), not once more per folder change');
  assert.ok(runsBefore > 0);

  // stop sharing: the guest is answered 503, the panel and the indicator drop the folder
  await page.click('#pref-folder-toggle');
  await folderNow(page, new RegExp(`^Not sharing ${fs.realpathSync(b)}\\.$`));
  assert.equal(await page.textContent('#pref-folder-toggle'), 'Share');
  assert.match(await dav('md5 /b.bin'), /^GUEST OK dav md5 503 /);
  await page.waitForFunction(() => (document.getElementById('device-indicator') as HTMLElement).hidden, undefined, { timeout: 10_000 });

  // saved: the folder, not read-only, stopped
  const settingsFile = path.join(cli.configDir, 'settings.json');
  const saved = (): { sharedFolder?: string; sharedFolderReadOnly?: boolean; shareFolder?: boolean } => JSON.parse(fs.readFileSync(settingsFile, 'utf8'));
  const deadline = Date.now() + 10_000;
  while (saved().shareFolder !== false && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual([saved().sharedFolder, saved().sharedFolderReadOnly, saved().shareFolder], [fs.realpathSync(b), false, false]);
  assert.deepEqual(probe.errors, []);
});
