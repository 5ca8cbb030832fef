// Accessibility of the web host's page, connected to a real QEMU guest: every
// button, input and select of the toolbar, the menus, the dialogs and the
// connection doctor has an accessible name (Chromium's own computation, read
// through the DevTools accessibility domain: what a screen reader is given),
// and can be reached from the keyboard — toolbar and dialog controls with Tab,
// menu items with the menu pattern (Enter opens, arrows move, Escape returns to
// the menu button). Text scales: the dialogs' sizes follow the root font size.
// Needs `npm run build` first (npm test does it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { CDPSession, Page } from 'playwright-core';
import { QemuVm } from '../harness/qemu';
import { WebCli, chromiumForTests, openPage } from '../helpers/web-page';

const browser = chromiumForTests();
let vm: QemuVm | undefined;
let cli: WebCli | undefined;
after(async () => {
  await cli?.stop();
  await vm?.stop();
});

const CONTROLS = 'button, input, select, textarea, summary, [role="menuitem"], [role="menuitemcheckbox"]';

interface Control { key: string; tag: string; role: string; name: string; disabled: boolean; visible: boolean }

/** Each control under `scope` (visible or not), keyed by a stable description, with the name Chromium computes for it. */
async function controls(page: Page, cdp: CDPSession, scope: string): Promise<Control[]> {
  const keys: { key: string; tag: string; disabled: boolean; visible: boolean }[] = await page.$$eval(`${scope} :is(${CONTROLS})`, (els, sc) =>
    els.map((el, i) => {
      const h = el as HTMLElement;
      const key = h.id ? `#${h.id}` : h.dataset.command ? `[data-command=${h.dataset.command}]` : `${sc} ${h.tagName.toLowerCase()}.${h.className || 'x'}[${i}]`;
      h.dataset.a11yKey = key;
      return { key, tag: h.tagName.toLowerCase(), disabled: (h as HTMLButtonElement).disabled === true, visible: h.getClientRects().length > 0 && getComputedStyle(h).visibility !== 'hidden' };
    }), scope,
  );
  const { root } = (await cdp.send('DOM.getDocument', { depth: -1 })) as { root: { nodeId: number } };
  const out: Control[] = [];
  for (const k of keys) {
    const { nodeId } = (await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: `[data-a11y-key="${k.key}"]` })) as { nodeId: number };
    const ax = (await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false })) as { nodes: { role?: { value?: string }; name?: { value?: string }; ignored?: boolean }[] };
    const node = ax.nodes.find((n) => !n.ignored) ?? ax.nodes[0];
    out.push({ ...k, role: String(node?.role?.value ?? ''), name: String(node?.name?.value ?? '').trim() });
  }
  return out;
}

/** What has the keyboard focus, by the key controls() gave it. */
const focused = (page: Page): Promise<string> => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.a11yKey ?? `(${document.activeElement?.tagName ?? 'none'})`);

/** The keys Tab visits, starting from the current focus, `n` presses. */
async function tabWalk(page: Page, n: number): Promise<Set<string>> {
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('Tab');
    seen.add(await focused(page));
  }
  return seen;
}

function assertNamed(cs: Control[], where: string): void {
  const unnamed = cs.filter((c) => c.visible && !c.name).map((c) => `${c.key} (${c.role})`);
  assert.deepEqual(unnamed, [], `${where}: controls without an accessible name`);
}

/** Every visible, enabled control of the open dialog `sel` is reached with Tab (and with Shift+Tab back to the first). */
async function dialogReachable(page: Page, cdp: CDPSession, sel: string): Promise<void> {
  await page.waitForSelector(`${sel}[open]`);
  const cs = await controls(page, cdp, sel);
  assertNamed(cs, sel);
  const want = cs.filter((c) => c.visible && !c.disabled).map((c) => c.key);
  assert.ok(want.length > 0, `${sel}: no control`);
  const seen = await tabWalk(page, want.length * 2 + 4);
  assert.deepEqual(want.filter((k) => !seen.has(k)), [], `${sel}: not reached with Tab (seen ${[...seen].join(' ')})`);
  await page.keyboard.press('Escape');
  await page.waitForSelector(`${sel}:not([open])`, { state: 'attached' });
}

async function runCommand(page: Page, group: string, id: string): Promise<void> {
  await page.click(`#commands .menu[data-group="${group}"] .menu-button`);
  await page.click(`#commands [data-command="${id}"]`);
}

test('every toolbar, menu, dialog and doctor control has an accessible name and is reached by keyboard; dialog text scales with the root font size', { timeout: 300_000 }, async () => {
  vm = await QemuVm.start({ name: 'a11y', webdav: true });
  cli = new WebCli([`spice://127.0.0.1:${vm.spicePort}`]);
  const url = (await cli.waitFor(/SPICE viewer: open (http\S+)/, 30_000, 'out'))[1];
  const { page, probe } = await openPage(browser(), url);
  await page.waitForFunction(() => (window as any).__spiceTest?.status().state === 'connected', undefined, { timeout: 30_000 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('DOM.enable');
  await cdp.send('Accessibility.enable');

  // the toolbar: named, and Tab reaches each of its visible controls from the top of the page
  const bar = await controls(page, cdp, '#toolbar');
  assertNamed(bar, 'toolbar');
  const barTabbable = bar.filter((c) => c.visible && !c.disabled && c.role !== 'menuitem' && c.role !== 'menuitemcheckbox').map((c) => c.key);
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  const seen = await tabWalk(page, barTabbable.length + 6);
  assert.deepEqual(barTabbable.filter((k) => !seen.has(k)), [], `toolbar: not reached with Tab (seen ${[...seen].join(' ')})`);

  // each menu: Enter opens it on its first item, ArrowDown visits every enabled item, Escape returns to its button
  const groups = await page.$$eval('#commands .menu', (ms) => ms.map((m) => (m as HTMLElement).dataset.group!));
  assert.deepEqual(groups, ['File', 'View', 'Send key', 'Help']);
  for (const g of groups) {
    const button = `#commands .menu[data-group="${g}"] .menu-button`;
    await page.focus(button);
    await page.keyboard.press('Enter');
    await page.waitForSelector(`#commands .menu[data-group="${g}"] [role="menu"]:not([hidden])`);
    const items = (await controls(page, cdp, `#commands .menu[data-group="${g}"] [role="menu"]`)).filter((c) => c.visible);
    assertNamed(items, `menu ${g}`);
    const enabled = items.filter((c) => !c.disabled).map((c) => c.key);
    const visited = new Set([await focused(page)]);
    for (let i = 0; i < enabled.length; i++) {
      await page.keyboard.press('ArrowDown');
      visited.add(await focused(page));
    }
    assert.deepEqual(enabled.filter((k) => !visited.has(k)), [], `menu ${g}: items not reached with the arrows`);
    await page.keyboard.press('Escape');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).classList.contains('menu-button') && (document.activeElement as HTMLElement).textContent), g);
  }

  // the dialogs, each opened from its command
  for (const [group, id, sel] of [
    ['File', 'connect', '#connect-dialog'],
    ['File', 'devices', '#devices-dialog'],
    ['File', 'preferences', '#preferences-dialog'],
    ['Send key', 'send-custom', '#send-keys-dialog'],
    ['Help', 'guest-details', '#guest-details'],
    ['Help', 'about', '#about-dialog'],
  ] as const) {
    await runCommand(page, group, id);
    await dialogReachable(page, cdp, sel);
  }

  // the connection doctor (a region, not a dialog), after a connect that fails: a port nothing listens on
  await runCommand(page, 'File', 'connect');
  await page.fill('#connect-address', 'spice://127.0.0.1:1');
  await page.click('#connect-dialog-go');
  await page.waitForSelector('#doctor:not([hidden])', { timeout: 60_000 });
  const doctor = await controls(page, cdp, '#doctor');
  assertNamed(doctor, 'doctor');
  const want = doctor.filter((c) => c.visible && !c.disabled).map((c) => c.key);
  await page.focus(`[data-a11y-key="${want[0]}"]`);
  const doctorSeen = new Set([await focused(page), ...(await tabWalk(page, want.length + 2))]);
  assert.deepEqual(want.filter((k) => !doctorSeen.has(k)), [], 'doctor: not reached with Tab');

  // text scales: the user's larger root font size makes the dialogs' text and width larger
  await runCommand(page, 'File', 'preferences');
  const size = () => page.evaluate(() => {
    const d = document.getElementById('preferences-dialog')!;
    return { h2: parseFloat(getComputedStyle(d.querySelector('h2')!).fontSize), width: parseFloat(getComputedStyle(d).minWidth), padding: parseFloat(getComputedStyle(d.querySelector('.pref-folder')!).paddingLeft) };
  });
  const before = await size();
  await page.evaluate(() => (document.documentElement.style.fontSize = '32px'));
  const big = await size();
  assert.ok(big.h2 >= before.h2 * 1.9 && big.padding >= before.padding * 1.9, `text does not scale: ${JSON.stringify({ before, big })}`);
  assert.deepEqual(probe.errors, []);
});
