// The viewer window's commands end to end: the `web` command started without
// a target, the built page in headless Chromium, a real QEMU (TCG). The
// connect dialog connects to a typed address and records it; the toolbar
// (the command table's web face) drives every send-key command and the guest's
// evdev reader echoes the keys the scancodes mean (incl. Pause, which only a
// raw KEY_SCANCODE carries); a custom sequence; the toolbar by keyboard only;
// the screenshot download equals QMP screendump; guest details; zoom, scale
// to window and full screen resize the canvas as they say. Needs
// `npm run build` first (npm test does it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { QemuVm } from '../harness/qemu';
import { WebCli, chromiumForTests, closedPort, openPage, screenDiff, waitCanvasEqualsScreendump } from '../helpers/web-page';
import { decodePng } from '../helpers/png';

const browser = chromiumForTests();

/** Opens a toolbar menu and clicks one of its commands, as a user does. */
async function runCommand(page: Page, group: string, id: string): Promise<void> {
  await page.click(`#commands .menu[data-group="${group}"] .menu-button`);
  await page.click(`#commands [data-command="${id}"]`);
}

/** Waits until the guest echoed exactly these key events (code, 1 = press / 0 = release) after serial line `from`. */
async function guestKeys(vm: QemuVm, from: number, want: [number, number][], what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  const expected = want.map(([c, v]) => `${c} ${v}`);
  for (;;) {
    // auto-repeat (value 2) may show on a slow guest; presses and releases are what the scancodes say
    const got = vm
      .serialLines()
      .slice(from)
      .map((l) => /^GUEST KEY (\d+) ([01])$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => `${m[1]} ${m[2]}`);
    if (got.length >= expected.length) {
      assert.deepEqual(got, expected, what);
      return;
    }
    if (Date.now() > deadline) assert.fail(`${what}: the guest echoed ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}; last serial lines:\n${vm.serialLines().slice(-12).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// Linux input event codes (linux/input-event-codes.h)
const KEY = { LEFTCTRL: 29, LEFTALT: 56, RIGHTCTRL: 97, DELETE: 111, BACKSPACE: 14, SYSRQ: 99, PAUSE: 119, Z: 44 } as const;
const F = [59, 60, 61, 62, 63, 64, 65, 66, 67, 68, 87, 88];
/** Keys pressed in order, released in reverse. */
const chord = (...codes: number[]): [number, number][] => [...codes.map((c): [number, number] => [c, 1]), ...[...codes].reverse().map((c): [number, number] => [c, 0])];

test('window commands against QEMU: connect dialog and recent list, every send key, keyboard-only toolbar, screenshot = screendump, guest details, zoom/scale/full screen', { timeout: 600_000 }, async () => {
  // Ctrl+Alt+Del would reboot the guest at once; with ctrl-alt-del=0 the kernel signals init instead (see the end)
  const vm = await QemuVm.start({ name: 'window-test', append: 'sysctl.kernel.ctrl-alt-del=0' });
  const cli = new WebCli([]);
  try {
    const url = (await cli.waitFor(/SPICE viewer: open (http\S+)/, 30_000, 'out'))[1];
    const { page, probe } = await openPage(browser(), url);

    // ---- started without a target: the connect dialog asks for one; nothing is dialled
    await page.waitForFunction(() => (document.getElementById('connect-dialog') as HTMLDialogElement | null)?.open === true, undefined, { timeout: 30_000 });
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'connect-address', 'the address field has the focus');
    assert.doesNotMatch(cli.err, /connecting:/);
    const target = `spice://127.0.0.1:${vm.spicePort}`;
    await page.fill('#connect-address', target);
    await page.click('#connect-dialog-go');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'connected', undefined, { timeout: 60_000 });
    assert.equal(await page.evaluate(() => (document.getElementById('connect-dialog') as HTMLDialogElement).open), false);
    // it lands in the recent list: the page's (dialog and address history) and the settings file
    await page.waitForFunction((t) => [...document.querySelectorAll<HTMLElement>('#connect-recent button')].some((b) => b.dataset.uri === t), target, { timeout: 10_000 });
    assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll<HTMLOptionElement>('#recent option')].map((o) => o.value)), [target]);
    const savedRecent = (): string[] => {
      const f = join(cli.configDir, 'settings.json');
      return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as { recent: { uri: string }[] }).recent.map((r) => r.uri) : [];
    };
    for (const end = Date.now() + 10_000; savedRecent().length === 0 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(savedRecent(), [target]);
    await vm.command('freeze', /GUEST OK freeze/);

    // ---- every send-key command of the toolbar, echoed by the guest's evdev reader
    const sends: [string, [number, number][]][] = [
      ['send-ctrl-alt-backspace', chord(KEY.LEFTCTRL, KEY.LEFTALT, KEY.BACKSPACE)],
      ...F.map((code, i): [string, [number, number][]] => [`send-ctrl-alt-f${i + 1}`, chord(KEY.LEFTCTRL, KEY.LEFTALT, code)]),
      ['send-print', chord(KEY.SYSRQ)],
      // E1 1D 45 E1 9D C5: a press with no break code; the guest's driver reports press and release
      ['send-pause', chord(KEY.PAUSE)],
    ];
    for (const [id, keys] of sends) {
      const from = vm.serialLines().length;
      await runCommand(page, 'Send key', id);
      await guestKeys(vm, from, keys, id);
    }

    // ---- a custom sequence; a name that is no key is refused in the dialog and sends nothing
    let from = vm.serialLines().length;
    await runCommand(page, 'Send key', 'send-custom');
    await page.fill('#send-keys-input', 'rctrl+nosuchkey');
    await page.click('#send-keys-go');
    assert.match((await page.textContent('#send-keys-error')) ?? '', /unknown key "nosuchkey"/);
    assert.equal(await page.getAttribute('#send-keys-input', 'aria-invalid'), 'true');
    await page.fill('#send-keys-input', 'rctrl+z');
    await page.press('#send-keys-input', 'Enter');
    await guestKeys(vm, from, chord(KEY.RIGHTCTRL, KEY.Z), 'custom rctrl+z');

    // ---- the toolbar by keyboard only: Tab to the Send key menu, open it, End, ArrowUp (Pause), Enter
    from = vm.serialLines().length;
    await page.focus('#commands .menu[data-group="File"] .menu-button');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.closest('.menu')?.getAttribute('data-group')), 'Send key');
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('#commands .menu[data-group="Send key"] .menu-button', 'aria-expanded'), 'true');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.command), 'send-ctrl-alt-del', 'the first item has the focus');
    await page.keyboard.press('End');
    await page.keyboard.press('ArrowUp');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.command), 'send-pause');
    await page.keyboard.press('Enter');
    await guestKeys(vm, from, chord(KEY.PAUSE), 'Pause by keyboard');
    // the focus is back on the menu button; Escape closes a menu and gives the focus back to it too
    assert.equal(await page.evaluate(() => document.activeElement?.closest('.menu')?.getAttribute('data-group')), 'Send key');
    await page.keyboard.press('Enter');
    assert.equal(await page.getAttribute('#commands .menu[data-group="Send key"] .menu-button', 'aria-expanded'), 'true');
    await page.keyboard.press('Escape');
    assert.equal(await page.getAttribute('#commands .menu[data-group="Send key"] .menu-button', 'aria-expanded'), 'false');
    assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('menu-button')), true);
    // every control has a name a screen reader can say
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('button, input, [role="menuitem"]')]
        .filter((el) => {
          const labelled = el.id && document.querySelector(`label[for="${el.id}"]`);
          return !labelled && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby') && !(el.textContent ?? '').trim();
        })
        .map((el) => el.outerHTML.slice(0, 80)),
    );
    assert.deepEqual(unnamed, []);

    // ---- screenshot: the downloaded PNG's pixels equal QMP screendump
    await vm.command('pattern 2', /GUEST OK pattern 2/);
    await waitCanvasEqualsScreendump(page, () => vm.screendump(), 'pattern 2 on the canvas');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), runCommand(page, 'File', 'screenshot')]);
    assert.match(download.suggestedFilename(), /^window-test-\d{8}-\d{6}\.png$/);
    const file = await download.path();
    assert.ok(file);
    const png = decodePng(readFileSync(file));
    assert.equal(screenDiff(png, await vm.screendump()), '', 'screenshot vs screendump');

    // ---- Help → Guest details
    await runCommand(page, 'Help', 'guest-details');
    const field = (f: string): Promise<string | null> => page.textContent(`#guest-details dd[data-field="${f}"]`);
    assert.equal(await field('name'), 'window-test');
    assert.match((await field('uuid')) ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(await field('address'), target);
    for (const ch of ['main', 'display', 'inputs', 'cursor']) assert.ok(((await field('channels')) ?? '').split(', ').some((c) => c.startsWith(ch)), ch);
    await page.click('#guest-details .details-close');

    // ---- Help → About: the version main reports, what it runs on
    await runCommand(page, 'Help', 'about');
    const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    assert.equal(await page.textContent('#about-dialog dd[data-field="version"]'), version);
    assert.match((await page.textContent('#about-dialog dd[data-field="runs-on"]')) ?? '', /^Node \d+\./);
    await page.click('#about-dialog .details-close');

    // ---- View: zoom in / out / normal size, scale to window, full screen — the canvas box as each says
    const box = (): Promise<{ w: number; h: number; sw: number; sh: number; vw: number; vh: number; full: boolean }> =>
      page.evaluate(() => {
        const c = document.getElementById('screen') as HTMLCanvasElement;
        const v = document.getElementById('viewport')!;
        const r = c.getBoundingClientRect();
        return { w: r.width, h: r.height, sw: c.width, sh: c.height, vw: v.clientWidth, vh: v.clientHeight, full: document.fullscreenElement !== null };
      });
    const view = async (id: string, want: (b: Awaited<ReturnType<typeof box>>) => [number, number]): Promise<Awaited<ReturnType<typeof box>>> => {
      await runCommand(page, 'View', id);
      const end = Date.now() + 10_000;
      for (;;) {
        const b = await box();
        const [w, h] = want(b);
        if (b.w === w && b.h === h) return b;
        if (Date.now() > end) assert.fail(`${id}: canvas ${b.w}x${b.h}, expected ${w}x${h} (surface ${b.sw}x${b.sh}, viewport ${b.vw}x${b.vh})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const fitted = (b: { sw: number; sh: number; vw: number; vh: number }): [number, number] => {
      const k = Math.min(b.vw / b.sw, b.vh / b.sh);
      return [Math.floor(b.sw * k), Math.floor(b.sh * k)];
    };
    const b0 = await box();
    assert.deepEqual([b0.w, b0.h], [b0.sw, b0.sh], 'normal size: one CSS pixel per guest pixel');
    await view('zoom-in', (b) => [Math.round(b.sw * 1.1), Math.round(b.sh * 1.1)]);
    await view('zoom-out', (b) => [b.sw, b.sh]);
    await view('zoom-out', (b) => [Math.round(b.sw * 0.9), Math.round(b.sh * 0.9)]);
    await view('zoom-reset', (b) => [b.sw, b.sh]);
    const fit = await view('scale-to-window', fitted);
    assert.ok(fit.w === fit.vw || fit.h === fit.vh, 'fills the window in one direction, aspect kept');
    const full = await view('fullscreen', (b) => (b.full ? fitted(b) : [-1, -1]));
    assert.ok(full.vw * full.vh > fit.vw * fit.vh, `full screen has more room (${fit.vw}x${fit.vh} → ${full.vw}x${full.vh})`);
    // in full screen the toolbar is a strip at the top edge that slides in on keyboard focus (or hover)
    assert.equal(await page.evaluate(() => getComputedStyle(document.getElementById('status')!).display), 'none');
    // grabbed in full screen: the Keyboard Lock API holds the keys the OS would take (Alt+Tab, Super, Esc)
    type Lock = { locked: boolean; error: string };
    const keyLock = () => page.evaluate(() => (window as unknown as { __spiceTest: { keyboardLock(): Lock } }).__spiceTest.keyboardLock());
    await page.focus('#screen');
    await page.waitForFunction(() => { const l = (window as any).__spiceTest.keyboardLock(); return l.locked || l.error; }, undefined, { timeout: 10_000 });
    assert.deepEqual(await keyLock(), { locked: true, error: '' });
    await page.focus('#commands .menu[data-group="View"] .menu-button');
    assert.deepEqual(await keyLock(), { locked: false, error: '' }, 'released with the grab');
    await view('fullscreen', (b) => (b.full ? [-1, -1] : fitted(b)));
    await view('scale-to-window', (b) => [b.sw, b.sh]);

    // ---- File → Preferences: each choice applies at once and lands in settings.json, as does the zoom
    const saved = async (pred: (o: Record<string, unknown>) => boolean, what: string): Promise<void> => {
      const end = Date.now() + 10_000;
      for (;;) {
        let o: Record<string, unknown> = {};
        try {
          o = JSON.parse(readFileSync(join(cli.configDir, 'settings.json'), 'utf8'));
        } catch {}
        if (pred(o)) return;
        if (Date.now() > end) assert.fail(`settings.json never had ${what}: ${JSON.stringify(o)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await runCommand(page, 'View', 'zoom-in');
    await saved((o) => o.zoom === 110, 'zoom 110');
    await runCommand(page, 'View', 'zoom-reset');
    await saved((o) => o.zoom === 100, 'zoom 100');
    await runCommand(page, 'File', 'preferences');
    await page.waitForFunction(() => (document.getElementById('preferences-dialog') as HTMLDialogElement).open, undefined, { timeout: 5_000 });
    assert.deepEqual(await page.$$eval('#preferences-dialog input[data-pref]', (l) => (l as HTMLInputElement[]).map((b) => [b.dataset.pref, b.checked, b.disabled])), [
      ['shareClipboard', true, false],
      ['autoResize', true, false],
      ['displayWindows', false, false],
    ]);
    await page.click('#preferences-dialog input[data-pref="autoResize"]');
    await saved((o) => o.autoResize === false, 'autoResize false');
    await page.waitForFunction(() => (window as any).__spiceTest.status().app?.autoResize === false, undefined, { timeout: 5_000 });
    await page.click('#preferences-dialog input[data-pref="shareClipboard"]');
    await saved((o) => o.shareClipboard === false, 'shareClipboard false');
    await page.waitForFunction(() => (window as any).__spiceTest.status().app?.clipboard?.policy === 'off', undefined, { timeout: 5_000 });
    await page.click('#preferences-dialog input[data-pref="displayWindows"]');
    await saved((o) => o.displayWindows === true, 'displayWindows true');
    await page.waitForFunction(() => (window as any).__spiceTest.status().app?.preferences?.displayWindows === true, undefined, { timeout: 5_000 });
    for (const pref of ['autoResize', 'shareClipboard', 'displayWindows']) await page.click(`#preferences-dialog input[data-pref="${pref}"]`);
    await saved((o) => o.autoResize === true && o.shareClipboard === true && o.displayWindows === false, 'all back');
    await page.click('#preferences-dialog .details-close');

    // ---- Ctrl+Alt+Del last. With ctrl-alt-del=0 the guest kernel's keyboard answers the combination (and
    // only it) by sending SIGINT to init, and the test guest's init (a shell) dies of it: the kernel's
    // "Attempted to kill init" is the guest's own word that Ctrl+Alt+Del arrived. The evdev echo races that
    // panic, so what was echoed must be the chord's start, and all of it unless the panic came first.
    from = vm.serialLines().length;
    await runCommand(page, 'Send key', 'send-ctrl-alt-del');
    const cad = chord(KEY.LEFTCTRL, KEY.LEFTALT, KEY.DELETE).map(([c, v]) => `${c} ${v}`);
    const keyLines = (): string[] => vm.serialLines().slice(from).flatMap((l) => /^GUEST KEY (\d+) ([01])$/.exec(l)?.slice(1, 3).join(' ') ?? []);
    const panicked = (): boolean => vm.serialLines().slice(from).some((l) => /Attempted to kill init/.test(l));
    for (const end = Date.now() + 20_000; keyLines().length < cad.length && !panicked(); ) {
      if (Date.now() > end) assert.fail(`Ctrl+Alt+Del: no echo and no reaction; last serial lines:\n${vm.serialLines().slice(-12).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const echoed = keyLines();
    assert.deepEqual(echoed, cad.slice(0, echoed.length), 'Ctrl+Alt+Del: the echo is the chord in order');
    if (echoed.length < cad.length) assert.ok(panicked());
    else await vm.waitForSerial(/Attempted to kill init/, 20_000, from);

    assert.deepEqual(probe.errors, []);
    await page.close();
  } finally {
    await cli.stop();
    await vm.stop();
  }
});

test('connect dialog: a .vv file opened in the page is parsed by main (its target dialled), a bad one is answered in words', { timeout: 120_000 }, async () => {
  const cli = new WebCli([]);
  const dir = mkdtempSync(join(tmpdir(), 'window-vv-'));
  try {
    const url = (await cli.waitFor(/SPICE viewer: open (http\S+)/, 30_000, 'out'))[1];
    const { page, probe } = await openPage(browser(), url);
    await page.waitForFunction(() => (document.getElementById('connect-dialog') as HTMLDialogElement | null)?.open === true, undefined, { timeout: 30_000 });
    const port = await closedPort();
    const good = join(dir, 'good.vv');
    writeFileSync(good, `[virt-viewer]\ntype=spice\nhost=127.0.0.1\nport=${port}\npassword=s3cret\n`);
    await page.setInputFiles('#connect-vv', good);
    // main dialled the file's target (nothing listens there): the terminal and the page say so, never the password
    await cli.waitFor(new RegExp(`^spice-viewer: connecting: connecting to 127\\.0\\.0\\.1:${port}$`, 'm'), 30_000);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'disconnected', undefined, { timeout: 30_000 });
    assert.match((await page.textContent('#status')) ?? '', new RegExp(`127\\.0\\.0\\.1:${port}.*\\(TRANSPORT\\)$`));
    assert.ok(!cli.err.includes('s3cret'));

    const bad = join(dir, 'bad.vv');
    writeFileSync(bad, '[virt-viewer]\ntype=vnc\nhost=127.0.0.1\nport=5900\n');
    await page.evaluate(() => (document.getElementById('connect-dialog') as HTMLDialogElement).close());
    await runCommand(page, 'File', 'connect');
    await page.setInputFiles('#connect-vv', bad);
    await page.waitForFunction(() => /\(CONFIG\)$/.test(document.getElementById('status')?.textContent ?? ''), undefined, { timeout: 30_000 });
    assert.match((await page.textContent('#status')) ?? '', /vnc/i);
    assert.deepEqual(probe.errors, []);
    await page.close();
  } finally {
    await cli.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a .vv file's hotkeys rebind the toolbar's commands: the new accelerator is shown and runs the command, the unbound one does nothing", { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'window-hotkeys-'));
  const vvFile = join(dir, 'keys.vv');
  writeFileSync(vvFile, `[virt-viewer]\ntype=spice\nhost=127.0.0.1\nport=${await closedPort()}\ntoggle-fullscreen=shift+f11\nzoom-in=ctrl+alt+i\n`);
  const cli = new WebCli([vvFile]);
  try {
    const url = (await cli.waitFor(/SPICE viewer: open (http\S+)/, 30_000, 'out'))[1];
    const { page, probe } = await openPage(browser(), url);
    const shortcut = (id: string): Promise<string | null> => page.getAttribute(`#commands [data-command="${id}"]`, 'aria-keyshortcuts');
    await page.waitForFunction(() => document.querySelector('#commands [data-command="fullscreen"] kbd')?.textContent === 'Shift+F11', undefined, { timeout: 30_000 });
    assert.equal(await shortcut('fullscreen'), 'Shift+F11');
    assert.equal(await shortcut('zoom-in'), 'Control+Alt+I');
    // a .vv clears every binding it does not name (remote-viewer): zoom-out has none now
    assert.equal(await shortcut('zoom-out'), null);
    assert.equal(await page.locator('#commands [data-command="zoom-out"] kbd').count(), 0);
    // the keys: on the focused screen, Ctrl+Alt+I zooms in, Ctrl+- (the old default) goes to the guest instead
    await page.focus('#screen');
    const zoom = (): Promise<number> => page.evaluate(() => (window as unknown as { __spiceTest: { zoom(): number } }).__spiceTest.zoom());
    await page.keyboard.press('Control+Alt+KeyI');
    assert.equal(await zoom(), 110);
    await page.keyboard.press('Control+Minus');
    assert.equal(await zoom(), 110);
    await page.keyboard.press('Shift+F11');
    await page.waitForFunction(() => document.fullscreenElement !== null, undefined, { timeout: 10_000 });
    assert.deepEqual(probe.errors, []);
    await page.close();
  } finally {
    await cli.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
