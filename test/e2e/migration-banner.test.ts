// The migration banner in the real page (web host + Debian Chromium) during a
// real seamless migration between two QEMUs: it appears over the picture
// without moving it, reports the outcome, the address field names the
// destination (and so does Guest details' address), and the canvas is never blanked — it equals the destination's
// screendump.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser } from 'playwright-core';
import { startWebHost, type WebHost } from '../../main/web-host';
import { startMigratableVm, startDestination, migrate, finishSource } from '../harness/migration';
import type { QemuVm } from '../harness/qemu';
import { sleep } from '../helpers/client';

const CHROMIUM_ARGS = ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const vms: QemuVm[] = [];
let browser: Browser | undefined;
let host: WebHost | undefined;
after(async () => {
  await browser?.close();
  await host?.close();
  for (const vm of vms) await vm.stop();
});

test('the page shows the migration as it happens and ends on the destination picture', async () => {
  const src = await startMigratableVm({ name: 'banner-src', warmUp: true });
  vms.push(src);
  await src.command('pattern 2', /GUEST OK pattern 2/);
  host = await startWebHost({ uri: `spice://127.0.0.1:${src.spicePort}` });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const page = await browser.newPage();
  await page.goto(`${host.url}&test=1`);
  await page.waitForFunction(() => (window as any).__spiceTest?.status().state === 'connected', undefined, { timeout: 20000 });
  const screenTop = () => page.evaluate(() => document.getElementById('screen')!.getBoundingClientRect().top);
  const topBefore = await screenTop();
  const dst = await startDestination(src, { name: 'banner-dst' });
  vms.push(dst);
  // sample the banner while the migration runs
  const phases = new Set<string>();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const p = await page.evaluate(() => document.getElementById('migration-banner')?.dataset.phase ?? '').catch(() => '');
      if (p) phases.add(p);
      await sleep(10);
    }
  })();
  await migrate(src, dst);
  await page.waitForFunction(() => (window as any).__spiceTest?.migration()?.phase === 'done', undefined, { timeout: 20000 });
  sampling = false;
  await sampler;
  const banner = await page.evaluate(() => {
    const el = document.getElementById('migration-banner')!;
    return { hidden: el.hidden, text: el.textContent ?? '', phase: el.dataset.phase, mode: el.dataset.mode };
  });
  assert.equal(banner.hidden, false);
  assert.equal(banner.phase, 'done');
  assert.equal(banner.mode, 'seamless');
  assert.match(banner.text, new RegExp(`migration \\(seamless\\) → 127\\.0\\.0\\.1:${dst.spicePort}: done`));
  assert.match(banner.text, /dropped 0 B/);
  assert.ok(phases.has('migrating') || phases.has('connecting'), `banner showed progress before the outcome (saw ${[...phases]})`);
  // the banner floats over the picture: the guest screen did not move when it appeared
  assert.equal(await screenTop(), topBefore, 'the screen stays where it was while the banner shows');
  // the address field names the VM where it is now
  assert.equal(await page.evaluate(() => (document.getElementById('uri') as HTMLInputElement).value), `spice://127.0.0.1:${dst.spicePort}`);
  await page.waitForFunction((want) => (window as any).__spiceTest.status().app?.target === want, `spice://127.0.0.1:${dst.spicePort}`, { timeout: 5000 });
  await finishSource(src);
  // never blanked: the canvas equals the destination's screen
  await sleep(800);
  const shot = await dst.screendump();
  const px = await page.evaluate(async () => {
    const p = await (window as any).__spiceTest.primaryPixels();
    return { width: p.width, height: p.height, rgba: Array.from(p.rgba as Uint8ClampedArray) };
  });
  assert.equal(`${px.width}x${px.height}`, `${shot.width}x${shot.height}`);
  let diff = 0;
  for (let i = 0, j = 0; j < shot.rgb.length; i += 4, j += 3) {
    if (px.rgba[i] !== shot.rgb[j] || px.rgba[i + 1] !== shot.rgb[j + 1] || px.rgba[i + 2] !== shot.rgb[j + 2]) diff++;
  }
  assert.equal(diff, 0, `${diff} pixels differ from the destination screendump`);
});
