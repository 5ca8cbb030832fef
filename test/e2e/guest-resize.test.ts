// Resolution follows the window, as a web-host user has it: the `web` command
// against a QEMU guest running Debian's real spice-vdagentd + spice-vdagent
// under Xvfb (RandR), the built page in Debian's Chromium. The page asks for
// its display area (device pixels / zoom) once the window settles; the agent
// resizes the guest's X screen to exactly that (its log line), again when the
// window changes and when the user zooms. The VM uses -vga std: with qxl,
// spice-server hands MONITORS_CONFIG to the QXL driver, not to the agent
// (see test/integration/agent-monitors.test.ts).
// Needs `npm run build` first (npm test does it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { QemuVm } from '../harness/qemu';
import { chromiumForTests, openWebSession, type WebSession } from '../helpers/web-page';

const browser = chromiumForTests();
let vm: QemuVm;
let web: WebSession;
let page: Page;

type Size = { width: number; height: number };
const asked = (p: Page) => p.evaluate(() => (window as any).__spiceTest.guestResize() as Size | null);

/** Waits until the page asked for a size other than `not`, then until the guest's X screen has it. */
async function guestFollows(not: Size | null): Promise<Size> {
  const from = vm.serialLines().length;
  await page.waitForFunction(
    (n) => {
      const s = (window as any).__spiceTest.guestResize();
      return s && (!n || s.width !== n.width || s.height !== n.height);
    },
    not,
    { timeout: 60_000 },
  );
  const size = (await asked(page))!;
  // spice-vdagent logs the screen it set: "display_id=0 - 1096x712+0+0"
  await vm.waitForSerial(new RegExp(`GUEST AGENT .*display_id=0 - ${size.width}x${size.height}\\+0\\+0`), 60_000, from);
  return size;
}

before(async () => {
  vm = await QemuVm.start({ name: 'resize-e2e', agent: true, extraArgs: ['-vga', 'std'] });
  await vm.waitForSerial(/agent started/, 90_000);
  web = await openWebSession(browser(), vm.spicePort, { viewport: { width: 1100, height: 760 } });
  page = web.page;
});

after(async () => {
  await web?.close();
  await vm?.stop();
});

test('once the agent is there, the guest screen takes the size of the display area', async () => {
  const size = await guestFollows(null);
  const area = await page.evaluate(() => ({ w: document.getElementById('viewport')!.clientWidth, h: document.getElementById('viewport')!.clientHeight }));
  assert.deepEqual(size, { width: Math.floor(area.w / 8) * 8, height: area.h }, 'device pixels of the display area (dpr 1), width in multiples of 8');
});

test('the window shrinks (twice in a row): the guest follows to the final size', async () => {
  const before = (await asked(page))!;
  await page.setViewportSize({ width: 900, height: 640 });
  await page.setViewportSize({ width: 860, height: 600 });
  const size = await guestFollows(before);
  assert.ok(size.width < before.width && size.height < before.height, JSON.stringify({ before, size }));
});

test('zoom in (Ctrl++): the guest gets the area divided by the zoom', async () => {
  const before = (await asked(page))!;
  await page.click('#commands .menu[data-group="View"] .menu-button');
  await page.click('#commands [data-command="zoom-in"]');
  const zoom = await page.evaluate(() => (window as any).__spiceTest.zoom() as number);
  assert.ok(zoom > 100);
  const size = await guestFollows(before);
  assert.ok(Math.abs(size.width - (before.width * 100) / zoom) <= 8, `${size.width} vs ${before.width}/${zoom}%`);
  assert.deepEqual(web.errors, []);
});
