// One window per display, and each window's size asked of the guest: a VM
// with two display devices (-vga std + a second VGA: spice-server forwards
// MONITORS_CONFIG to the agent, not to a QXL driver) running Debian's real
// spice-vdagentd + spice-vdagent under Xvfb, the `web` page with ?windows=1
// (the Electron app's way) in Debian's Chromium. Display 1 moves into its own
// window; once both windows have a size the page asks for two monitors side by
// side, and the guest's daemon takes the 2-monitor config (8 + 2 × 20 bytes).
// Needs `npm run build` first (npm test does it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { QemuVm } from '../harness/qemu';
import { chromiumForTests, openWebSession, type WebSession } from '../helpers/web-page';

const browser = chromiumForTests();
let vm: QemuVm;
let web: WebSession;
let popup: Page;

type Size = { width: number; height: number };
const asked = (display: number) =>
  web.page.evaluate((d) => {
    const t = (window as any).__spiceTest;
    return (d === 0 ? t.guestResize() : t.windowResize(d)) as Size | null;
  }, display);

before(async () => {
  vm = await QemuVm.start({ name: 'display-windows', agent: true, extraArgs: ['-vga', 'std', '-device', 'VGA,id=vga1'] });
  await vm.waitForSerial(/agent started/, 90_000);
  web = await openWebSession(browser(), vm.spicePort, { viewport: { width: 1100, height: 760 }, query: 'windows=1' });
  const opened = web.ctx.waitForEvent('page', { timeout: 60_000 });
  opened.catch(() => {});
  popup = web.ctx.pages().find((p) => p !== web.page) ?? (await opened);
});

after(async () => {
  await web?.close();
  await vm?.stop();
});

test('display 1 in its own window: the guest is asked for two monitors, the main window\'s and that window\'s, side by side', async () => {
  await popup.waitForFunction(() => document.body?.classList.contains('display-window'), undefined, { timeout: 30_000 });
  await web.page.waitForFunction(() => (window as any).__spiceTest.guestResize() && (window as any).__spiceTest.windowResize(1), undefined, { timeout: 60_000 });
  const [a, b] = [(await asked(0))!, (await asked(1))!];
  const body = await popup.evaluate(() => ({ w: document.body.clientWidth, h: document.body.clientHeight }));
  assert.deepEqual(b, { width: Math.floor(body.w / 8) * 8, height: Math.max(200, body.h) }, 'display 1: its window\'s area');
  await vm.waitForSerial(/GUEST AGENTD .*sent monitors config, arg1: 0, arg2: 0, size 48/, 60_000);
  await vm.waitForSerial(new RegExp(`GUEST AGENT .*display_id=0 - ${a.width}x${a.height}\\+0\\+0`), 60_000);
  assert.ok(!vm.serialLines().some((l) => /invalid message size/.test(l)), 'no size complaint from the daemon');
  // what the session agent made of it under Xvfb (one X screen): for the note
  for (const l of vm.serialLines().filter((x) => /GUEST AGENT .*display_id=/.test(x)).slice(-3)) console.log(`  ${l}`);
});

test('the display\'s window is resized: the guest is asked for its new size, display 0 keeps its own', async () => {
  const [a, b] = [(await asked(0))!, (await asked(1))!];
  const from = vm.serialLines().length;
  await popup.setViewportSize({ width: 820, height: 560 });
  await web.page.waitForFunction((n) => {
    const s = (window as any).__spiceTest.windowResize(1);
    return s && (s.width !== n.width || s.height !== n.height);
  }, b, { timeout: 60_000 });
  const b2 = (await asked(1))!;
  assert.deepEqual(b2, { width: 816, height: 560 });
  assert.deepEqual(await asked(0), a);
  await vm.waitForSerial(/GUEST AGENTD .*sent monitors config, arg1: 0, arg2: 0, size 48/, 60_000, from);
  assert.deepEqual(web.errors, []);
});

test('File → Preferences: display windows off brings display 1 into the page; on again opens its window, though its size never changed', async () => {
  const page = web.page;
  await page.click('#commands .menu[data-group="File"] .menu-button');
  await page.click('#commands [data-command="preferences"]');
  await page.waitForFunction(() => (document.getElementById('preferences-dialog') as HTMLDialogElement).open, undefined, { timeout: 5_000 });
  const box = '#preferences-dialog input[data-pref="displayWindows"]';
  assert.equal(await page.$eval(box, (b) => (b as HTMLInputElement).checked), true, 'on, as ?windows=1 asked');
  const closed = popup.waitForEvent('close', { timeout: 30_000 });
  await page.click(box);
  await closed;
  await page.waitForFunction(() => !!document.querySelector('#viewport canvas.screen-extra[data-display="1"]'), undefined, { timeout: 10_000 });
  // the worker tells the page of size changes only: the window must come from the preference itself
  const opened = web.ctx.waitForEvent('page', { timeout: 30_000 });
  await page.click(box);
  popup = await opened;
  await popup.waitForFunction(() => document.body?.classList.contains('display-window') && !!document.querySelector('canvas.screen-extra'), undefined, { timeout: 30_000 });
  assert.equal(await page.$('#viewport canvas.screen-extra[data-display="1"]'), null, 'display 1 left the page');
  await page.click('#preferences-dialog .details-close');
  assert.deepEqual(web.errors, []);
});
