// npm run docs:screenshots: the viewer window in its states, as PNGs under
// docs/screenshots/ for the README — connected, grabbed (the release hint),
// full screen, the connection doctor after a failed connect, the Devices
// panel with a shared CD image, and File → Preferences with a shared folder
// chosen in the page. The web host and Debian's Chromium on the test
// guest (the Electron window shows the same page; its menu bar is native).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { QemuVm } from '../test/harness/qemu';
import { CHROMIUM_ARGS, ROOT, WebCli, closedPort } from '../test/helpers/web-page';

const OUT = join(ROOT, 'docs/screenshots');
mkdirSync(OUT, { recursive: true });
const VIEW = { width: 1100, height: 880 };

async function open(cli: WebCli, page: Page): Promise<void> {
  const url = (await cli.waitFor(/SPICE viewer: open (http\S+)/, 30_000, 'out'))[1];
  await page.goto(url);
}

const vm = await QemuVm.start({ name: 'docs', webdav: true, extraArgs: ['-device', 'qemu-xhci,p2=8,p3=8', '-chardev', 'spicevmc,name=usbredir,id=ur0', '-device', 'usb-redir,chardev=ur0'] });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
const clis: WebCli[] = [];
try {
  const iso = join(vm.dir, 'installer.iso');
  const { execFileSync } = await import('node:child_process');
  execFileSync('genisoimage', ['-quiet', '-V', 'INSTALLER', '-o', iso, join(ROOT, 'README.md')]);
  const cli = new WebCli([`--spice-share-cd=${iso}`, `spice://127.0.0.1:${vm.spicePort}`]);
  clis.push(cli);
  const page = await browser.newPage({ viewport: VIEW });
  await open(cli, page);
  await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'connected', undefined, { timeout: 30_000 });
  await vm.command('pattern 2');
  await page.waitForTimeout(1500); // the picture settles (a doc image, not a test)
  await page.screenshot({ path: join(OUT, 'connected.png') });

  await page.click('#screen');
  await page.waitForFunction(() => document.getElementById('grab-hint')?.textContent !== '');
  await page.screenshot({ path: join(OUT, 'grabbed.png') });
  await page.keyboard.down('Control');
  await page.keyboard.down('Alt');
  await page.keyboard.up('Alt');
  await page.keyboard.up('Control');

  await page.click('#commands .menu[data-group="File"] .menu-button');
  await page.screenshot({ path: join(OUT, 'file-menu.png') });
  await page.click('#commands [data-command="devices"]');
  await page.waitForSelector("#devices-dialog li[data-state='redirected']", { timeout: 60_000 });
  await page.screenshot({ path: join(OUT, 'devices.png') });
  await page.click('#devices-dialog .devices-close');

  // File → Preferences: a folder typed in the page and shared (main checks it)
  const folder = join(vm.dir, 'Public');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'notes.txt'), 'shared with the guest\n');
  await page.click('#commands .menu[data-group="File"] .menu-button');
  await page.click('#commands [data-command="preferences"]');
  await page.fill('#pref-folder-dir', folder);
  await page.click('#pref-folder-share');
  await page.waitForFunction(() => /^Sharing /.test(document.getElementById('pref-folder-now')?.textContent ?? ''), undefined, { timeout: 30_000 });
  await page.screenshot({ path: join(OUT, 'preferences.png') });
  await page.click('#preferences-dialog .details-close');

  await page.click('#commands .menu[data-group="View"] .menu-button');
  await page.click('#commands [data-command="fullscreen"]');
  await page.waitForFunction(() => document.fullscreenElement !== null);
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(OUT, 'fullscreen.png') });
  await page.evaluate(() => document.exitFullscreen());

  const port = await closedPort();
  const bad = new WebCli([`spice://127.0.0.1:${port}`]);
  clis.push(bad);
  const page2 = await browser.newPage({ viewport: VIEW });
  await open(bad, page2);
  await page2.waitForSelector('#doctor:not([hidden])', { timeout: 30_000 });
  await page2.screenshot({ path: join(OUT, 'doctor.png') });
  console.log(`screenshots in ${OUT}`);
} finally {
  await browser.close();
  for (const c of clis) await c.stop();
  await vm.stop();
}
