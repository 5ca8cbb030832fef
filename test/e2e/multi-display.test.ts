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
import { canvasPixels, chromiumForTests, openWebSession, waitCanvasEqualsScreendump, type WebSession } from '../helpers/web-page';

const browser = chromiumForTests();
let vm: QemuVm;
let web: WebSession;
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
  assert.deepEqual(web.errors, []);
});
