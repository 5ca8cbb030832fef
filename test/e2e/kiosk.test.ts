// Kiosk mode end to end: the web host CLI (`node dist/main/web.js --kiosk …`)
// as a child process, the page in headless Chromium, a REAL QEMU. The VM is
// killed and a new one started on the same SPICE port: the page shows why the
// session dropped and a countdown, then reconnects by itself and shows the new
// guest's screen; another client taking the console over is named as such.
// With --kiosk-quit=on-disconnect the web host process exits when QEMU dies.
// Needs `npm run build` first (npm test does it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { QemuVm } from '../harness/qemu';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';

const WEB = fileURLToPath(new URL('../../dist/main/web.js', import.meta.url));
const CHROMIUM_ARGS = ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface WebChild {
  proc: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnWeb(args: string[]): Promise<WebChild> {
  const proc = spawn(process.execPath, [WEB, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  // 'close', not 'exit': only then has the last of its stderr been read
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => proc.once('close', (code, signal) => ok({ code, signal })));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`web host printed no URL: ${out}${err}`)), 20_000);
    proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /open (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok({ proc, url: m[1], stderr: () => err, exited });
      }
    });
    void exited.then((e) => fail(new Error(`web host exited early (${e.code}): ${err}`)));
  });
}

type Probe = {
  status(): { state: string; app?: { kiosk?: boolean } };
  kiosk(): boolean;
  overlay(): { visible: boolean; reason: string; text: string; countdown: string; attempt: number };
  primaryPixels(): Promise<{ width: number; height: number; rgba: Uint8Array }>;
};
const probe = <T>(page: Page, fn: (p: Probe) => T): Promise<T> => page.evaluate(`(${fn.toString()})(window.__spiceTest)`) as Promise<T>;

async function waitState(page: Page, state: string, timeout: number): Promise<void> {
  await page.waitForFunction((s) => (window as unknown as { __spiceTest: Probe }).__spiceTest.status().state === s, state, { timeout, polling: 100 });
}

/** Polls until the canvas equals the VM's screendump pixel for pixel. */
async function waitScreen(page: Page, vm: QemuVm, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const shot = await vm.screendump();
    const got = await page.evaluate(() => (window as unknown as { __spiceTest: Probe }).__spiceTest.primaryPixels());
    const rgba = got.rgba instanceof Uint8Array ? got.rgba : Uint8Array.from(Object.values(got.rgba as object) as number[]);
    if (got.width === shot.width && got.height === shot.height) {
      let diff = 0;
      for (let i = 0, j = 0; i < shot.width * shot.height; i++, j += 4) {
        if (rgba[j] !== shot.rgb[i * 3] || rgba[j + 1] !== shot.rgb[i * 3 + 1] || rgba[j + 2] !== shot.rgb[i * 3 + 2]) diff++;
      }
      if (diff === 0) return;
      last = `${diff} pixels differ`;
    } else last = `canvas ${got.width}x${got.height} vs screendump ${shot.width}x${shot.height}`;
    if (Date.now() > deadline) assert.fail(`screen never matched the guest: ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let browser: Browser;
before(async () => {
  assert.ok(existsSync(WEB), 'dist/main/web.js is missing: run `npm run build` first');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});
after(async () => {
  await browser?.close();
});

test('kiosk: VM killed → reason + countdown → new VM on the same port → reconnected by itself; take-over named', { timeout: 420_000 }, async () => {
  let vm: QemuVm | null = await QemuVm.start({ name: 'kiosk-a' });
  const port = vm.spicePort;
  const web = await spawnWeb(['--kiosk', `spice://127.0.0.1:${port}`]);
  let intruder: Session | null = null;
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${web.url}&test=1`);
    await waitState(page, 'connected', 60_000);
    assert.equal(await probe(page, (p) => p.kiosk()), true);
    assert.equal(await page.isVisible('#toolbar'), false, 'no connect form / toolbar in kiosk mode');
    assert.equal(await page.isVisible('#status'), false);
    await vm.command('freeze', /GUEST OK freeze/);
    await vm.command('pattern 1', /GUEST OK pattern 1/);
    await waitScreen(page, vm);

    // the release-cursor combination is not honoured: the grab stays
    await page.click('#screen');
    await page.keyboard.down('ControlLeft');
    await page.keyboard.down('AltLeft');
    await page.keyboard.up('AltLeft');
    await page.keyboard.up('ControlLeft');
    assert.equal(await page.evaluate(() => document.activeElement?.id ?? ''), 'screen', 'Ctrl+Alt does not release the grab in kiosk mode');

    // QEMU dies: full-screen notice with the reason and a countdown
    const killedAt = Date.now();
    await vm.stop();
    vm = null;
    await page.waitForFunction(() => (window as unknown as { __spiceTest: Probe }).__spiceTest.overlay().reason === 'vm-stopped', undefined, { timeout: 20_000, polling: 100 });
    assert.equal(await page.isVisible('#kiosk-overlay'), true);
    const title = (await page.textContent('#kiosk-overlay .kiosk-title')) ?? '';
    assert.match(title, /virtual machine is not running/);
    await page.waitForFunction(() => /^Reconnecting in \d+ s \(attempt \d+\)$/.test(document.querySelector('#kiosk-overlay .kiosk-countdown')?.textContent ?? ''), undefined, { timeout: 20_000, polling: 100 });
    const shown = await probe(page, (p) => p.overlay());
    assert.ok(shown.attempt >= 1, JSON.stringify(shown));

    // a new VM on the same port: the page reconnects without any help
    vm = await QemuVm.start({ name: 'kiosk-b', spicePort: port });
    const upAt = Date.now();
    await waitState(page, 'connected', 90_000);
    const reconnectedAt = Date.now();
    assert.equal(await page.isVisible('#kiosk-overlay'), false, 'overlay gone once connected');
    await vm.command('freeze', /GUEST OK freeze/);
    await vm.command('pattern 2', /GUEST OK pattern 2/);
    await waitScreen(page, vm);
    console.log(`# kiosk: VM down → up ${upAt - killedAt} ms, reconnected ${reconnectedAt - upAt} ms after the new VM was ready`);

    // another client connects: spice-server drops us without a word; the port still answers → taken over
    intruder = new Session({ endpoint: { host: '127.0.0.1', port }, transport: defaultTransportFactory });
    await intruder.connect();
    await page.waitForFunction(() => (window as unknown as { __spiceTest: Probe }).__spiceTest.overlay().reason === 'taken-over', undefined, { timeout: 20_000, polling: 100 });
    assert.match((await page.textContent('#kiosk-overlay .kiosk-title')) ?? '', /Another viewer connected/);
    const slow = await probe(page, (p) => p.overlay());
    assert.match(slow.countdown, /^Reconnecting in (2[4-9]|3\d) s/, `take-over waits on the slow ladder: ${slow.countdown}`);
    assert.deepEqual(errors, []);
    await page.close();
  } finally {
    intruder?.disconnect();
    web.proc.kill('SIGTERM');
    await web.exited;
    await vm?.stop();
  }
});

test('kiosk --kiosk-quit=on-disconnect: the web host process exits when QEMU dies', { timeout: 300_000 }, async () => {
  const vm = await QemuVm.start({ name: 'kiosk-quit' });
  const web = await spawnWeb(['--kiosk', '--kiosk-quit', 'on-disconnect', `spice://127.0.0.1:${vm.spicePort}`]);
  try {
    const page = await browser.newPage();
    await page.goto(`${web.url}&test=1`);
    await waitState(page, 'connected', 60_000);
    const t0 = Date.now();
    await vm.stop();
    const res = await Promise.race([web.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 20_000))]);
    assert.notEqual(res, 'timeout', `web host still running: ${web.stderr()}`);
    assert.deepEqual(res, { code: 0, signal: null }, web.stderr());
    assert.match(web.stderr(), /session ended: .*\(--kiosk-quit=on-disconnect\)/);
    console.log(`# kiosk-quit: process exited ${Date.now() - t0} ms after QEMU was killed`);
    await page.close().catch(() => {});
  } finally {
    if (web.proc.exitCode === null) web.proc.kill('SIGKILL');
    await vm.stop();
  }
});
