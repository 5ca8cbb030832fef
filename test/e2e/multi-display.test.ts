// A VM with two display devices (two qxl: spice-server gives each a display
// channel, the guest a framebuffer each), as a web-host user sees it: the page
// shows one canvas per display, each pixel-exact against QMP screendump of its
// own device while the guest draws different pictures on the two. Each display
// channel announces its own pixmap cache and GLZ dictionary, and the display
// worker keeps a DisplayState per channel: before, display 1's surface 0 was
// painted over display 0's. Needs `npm run build` first (npm test does it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { QemuVm } from '../harness/qemu';
import { decodePng } from '../helpers/png';
import { canvasPixels, chromiumForTests, openWebSession, screenDiff, waitCanvasEqualsScreendump, type WebSession } from '../helpers/web-page';

const browser = chromiumForTests();
let vm: QemuVm;
let web: WebSession | undefined;
let page: Page;

before(async () => {
  vm = await QemuVm.start({ name: 'two-displays', extraArgs: ['-device', 'qxl,id=qxl1'] });
  web = await openWebSession(browser(), vm.spicePort, { viewport: { width: 2200, height: 900 } });
  page = web.page;
});

after(async () => {
  await web?.close();
  await vm?.stop();
});

test('two displays, two canvases: each equals its own device\'s screendump, pattern 1 on the first and pattern 2 on the second', async () => {
  assert.match(await vm.command('pattern 1'), /OK pattern 1/);
  assert.match(await vm.command('pattern 2 fb1'), /OK pattern 2 fb1/);
  await waitCanvasEqualsScreendump(page, () => vm.screendump(), 'display 0', 60_000, 0);
  await waitCanvasEqualsScreendump(page, () => vm.screendump('qxl1'), 'display 1', 60_000, 1);
  const [a, b] = [await canvasPixels(page, 0), await canvasPixels(page, 1)];
  assert.ok(Buffer.compare(Buffer.from(a.rgba), Buffer.from(b.rgba)) !== 0, 'the two displays show different pictures');
  assert.equal(await page.locator('canvas.screen-extra[data-display="1"]').isVisible(), true);
});

test('the second display changes alone: display 0 keeps its picture', async () => {
  assert.match(await vm.command('pattern 3 fb1'), /OK pattern 3 fb1/);
  await waitCanvasEqualsScreendump(page, () => vm.screendump('qxl1'), 'display 1 after pattern 3', 60_000, 1);
  await waitCanvasEqualsScreendump(page, () => vm.screendump(), 'display 0 unchanged', 30_000, 0);
  assert.deepEqual(web?.errors, []);
});

test('View → Display 2 unticked hides the second display, ticked shows it again as it is', async () => {
  const canvas1 = page.locator('canvas.screen-extra[data-display="1"]');
  await page.click('#commands .menu[data-group="View"] .menu-button');
  assert.equal(await page.getAttribute('#commands [data-command="display-1"]', 'aria-checked'), 'true');
  await page.click('#commands [data-command="display-1"]');
  await page.waitForFunction(() => (document.querySelector('canvas.screen-extra[data-display="1"]') as HTMLCanvasElement).hidden, undefined, { timeout: 10_000 });
  assert.equal(await canvas1.isVisible(), false);
  await page.click('#commands .menu[data-group="View"] .menu-button');
  assert.equal(await page.getAttribute('#commands [data-command="display-1"]', 'aria-checked'), 'false');
  await page.click('#commands [data-command="display-1"]');
  await page.waitForFunction(() => !(document.querySelector('canvas.screen-extra[data-display="1"]') as HTMLCanvasElement).hidden, undefined, { timeout: 10_000 });
  await waitCanvasEqualsScreendump(page, () => vm.screendump('qxl1'), 'display 1 shown again', 30_000, 1);
  assert.deepEqual(web?.errors, []);
});

// One window per further display (the Electron app's way, remote-viewer's too; the web host with
// ?windows=1): display 1's canvas moves into a window of its own, painted there by the same page.
test('?windows=1: display 1 in its own window, equal to its screendump there; typing there reaches the guest; closing it brings the canvas back', async () => {
  // one client at a time: the page of the tests above leaves first
  await web?.close();
  web = undefined;
  const win = await openWebSession(browser(), vm.spicePort, { viewport: { width: 1200, height: 900 }, query: 'windows=1' });
  try {
    // the window may open before the session is reported connected
    const opened = win.ctx.waitForEvent('page', { timeout: 60_000 });
    opened.catch(() => {});
    const popup = win.ctx.pages().find((p) => p !== win.page) ?? (await opened);
    await popup.waitForFunction(() => document.body?.classList.contains('display-window'), undefined, { timeout: 30_000 });
    assert.match(await popup.title(), /^.+ \(2\) - SPICE viewer$/, 'remote-viewer\'s title for a further display');
    assert.equal(await win.page.locator('canvas.screen-extra').count(), 0, 'the canvas left the page');
    assert.match(await vm.command('pattern 2 fb1'), /OK pattern 2 fb1/);
    // what the window shows: its canvas as composited there (the pixels live in the display worker's
    // OffscreenCanvas; an element screenshot of the window proves the window shows them)
    const shown = async (): Promise<{ width: number; height: number; rgba: Uint8Array }> =>
      decodePng(await popup.locator('canvas.screen-extra').screenshot({ animations: 'disabled', scale: 'css' }));
    const deadline = Date.now() + 60_000;
    for (let last = 'none'; ; ) {
      const px = await shown();
      last = screenDiff(px, await vm.screendump('qxl1'));
      if (!last) break;
      if (Date.now() > deadline) assert.fail(`display 1 in its window: ${last}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    await waitCanvasEqualsScreendump(win.page, () => vm.screendump(), 'display 0 in the page', 30_000, 0);

    const from = vm.serialLines().length;
    await popup.click('canvas.screen-extra');
    await popup.keyboard.press('KeyB');
    await vm.waitForSerial(/GUEST KEY 48 1\b/, 10_000, from); // KEY_B
    await vm.waitForSerial(/GUEST KEY 48 0\b/, 10_000, from);

    await popup.close({ runBeforeUnload: true });
    await win.page.waitForFunction(() => document.querySelector('canvas.screen-extra[data-display="1"]') !== null, undefined, { timeout: 10_000 });
    assert.equal(await win.page.evaluate(() => (window as unknown as { __spiceTest: { displayWindow(id: number): boolean } }).__spiceTest.displayWindow(1)), false);
    assert.match(await vm.command('pattern 1 fb1'), /OK pattern 1 fb1/);
    await waitCanvasEqualsScreendump(win.page, () => vm.screendump('qxl1'), 'display 1 back in the page', 60_000, 1);
    // and the page shows it (the canvas came back as the same placeholder of the worker's canvas)
    const home = await decodePng(await win.page.locator('canvas.screen-extra[data-display="1"]').screenshot({ animations: 'disabled', scale: 'css' }));
    assert.equal(screenDiff(home, await vm.screendump('qxl1')), '', 'display 1 as the page shows it');
    assert.equal(win.ctx.pages().length, 1, 'no window reopened after the user closed it');
    assert.deepEqual(win.errors, []);
  } finally {
    await win.close();
  }
});
