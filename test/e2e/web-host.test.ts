// Web host end to end: the built page in headless Chromium (playwright-core),
// the real engine, and — for the guest tests — a real QEMU from the harness.
// Needs `npm run build` first (npm test does it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { startWebHost, type WebHost } from '../../main/web-host';
import { decodeFrame } from '../../preload/codec';
import { QemuVm } from '../harness/qemu';

const DIST = fileURLToPath(new URL('../../dist/renderer', import.meta.url));
const CHROMIUM_ARGS = ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

interface PageProbe {
  errors: string[];
}

async function openPage(browser: Browser, url: string): Promise<{ page: Page; probe: PageProbe }> {
  const page = await browser.newPage();
  const probe: PageProbe = { errors: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') probe.errors.push(m.text());
  });
  page.on('pageerror', (e) => probe.errors.push(e.message));
  await page.goto(`${url}&test=1`);
  return { page, probe };
}

function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((ok, fail) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => ok({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', fail);
    req.end();
  });
}

function wsOutcome(url: string): Promise<string> {
  return new Promise((ok) => {
    const ws = new WebSocket(url);
    ws.on('open', () => {
      ws.close();
      ok('open');
    });
    ws.on('unexpected-response', (_req, res) => ok(`http ${res.statusCode}`));
    ws.on('error', (e) => ok(`error ${e.message}`));
  });
}

let browser: Browser;
before(async () => {
  assert.ok(existsSync(`${DIST}/main.js`), 'dist/renderer is missing: run `npm run build` first');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});
after(async () => {
  await browser?.close();
});

test('web host: token, host and bind checks', async () => {
  const host = await startWebHost();
  try {
    const u = new URL(host.url);
    assert.equal(u.hostname, '127.0.0.1');
    assert.equal(u.searchParams.get('token'), host.token);
    assert.ok(host.token.length >= 32);

    const ok = await get(host.url);
    assert.equal(ok.status, 200);
    assert.match(ok.body, /<canvas id="screen"/);
    assert.match(String(ok.headers['content-security-policy']), /default-src 'self'/);

    assert.equal((await get(`${u.origin}/`)).status, 403, 'no token');
    assert.equal((await get(`${u.origin}/?token=wrong`)).status, 403, 'wrong token');
    // last character changed (to one it is not: a fixed 'x' was the token itself 1 time in 64)
    const wrong = host.token.slice(0, -1) + (host.token.endsWith('x') ? 'y' : 'x');
    assert.equal((await get(`${u.origin}/main.js?token=${wrong}`)).status, 403, 'wrong token, same length');
    assert.equal((await get(`${u.origin}/main.js`, { cookie: `spice_viewer_token=${host.token}` })).status, 200, 'cookie carries the token');
    assert.equal((await get(host.url, { host: `evil.example:${u.port}` })).status, 403, 'DNS rebinding Host header');
    assert.equal((await get(`${u.origin}/..%2f..%2fpackage.json?token=${host.token}`)).status, 404, 'path traversal');

    const wsBase = `ws://127.0.0.1:${u.port}/bridge`;
    assert.equal(await wsOutcome(`${wsBase}?token=nope`), 'http 403');
    assert.equal(await wsOutcome(wsBase), 'http 403');
    assert.equal(await wsOutcome(`${wsBase}?token=${host.token}`), 'open');
    // the display worker's socket needs the token and a live page's id
    const display = `ws://127.0.0.1:${u.port}/display`;
    assert.equal(await wsOutcome(`${display}?token=${host.token}&page=nope`), 'http 403', 'unknown page');
    const pageId = await new Promise<string>((ok, fail) => {
      const ws = new WebSocket(`${wsBase}?token=${host.token}`);
      ws.on('message', (d: Buffer) => {
        const hello = decodeFrame(new Uint8Array(d)) as { kind: string; display?: string };
        if (hello.kind === 'hello' && hello.display) ok(hello.display);
      });
      ws.on('error', fail);
    });
    assert.equal(await wsOutcome(`${display}?token=nope&page=${pageId}`), 'http 403', 'wrong token');
    assert.equal(await wsOutcome(`${display}?page=${pageId}`), 'http 403', 'no token');
    assert.equal(await wsOutcome(`${display}?token=${host.token}&page=${pageId}`), 'open');
  } finally {
    await host.close();
  }
  // The auto-connect URI and password travel over the bridge, never in the HTML.
  const withUri = await startWebHost({ uri: 'spice://127.0.0.1:5999', password: 'hunter2' });
  try {
    const page = await get(withUri.url);
    assert.equal(page.status, 200);
    assert.ok(!page.body.includes('5999') && !page.body.includes('hunter2'));
  } finally {
    await withUri.close();
  }
  await assert.rejects(startWebHost({ host: '0.0.0.0' }), /non-loopback/);
  await assert.rejects(startWebHost({ host: '::' }), /non-loopback/);
});

test('web host: the page loads in Chromium and shows the idle status', async () => {
  const host = await startWebHost();
  try {
    const { page, probe } = await openPage(browser, host.url);
    await page.waitForFunction(() => {
      const s = document.getElementById('status');
      return s && /^(idle|disconnected)/.test(s.textContent ?? '');
    });
    const state = await page.getAttribute('#status', 'data-state');
    assert.ok(state === 'idle' || state === 'disconnected', `status state ${state}`);
    assert.equal(await page.evaluate(() => typeof (window as unknown as { __spiceTest?: unknown }).__spiceTest), 'object');
    const px = await page.evaluate(() => (window as unknown as { __spiceTest: { primaryPixels(): { width: number } } }).__spiceTest.primaryPixels().width);
    assert.equal(px, 0, 'nothing painted before a connection');
    // No CSP violations, worker failures or script errors.
    assert.deepEqual(probe.errors, []);

    // Connecting to a closed port reports a disconnected status with a reason.
    await page.fill('#uri', 'spice://127.0.0.1:1');
    await page.click('#connect');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'disconnected', undefined, { timeout: 15000 });
    assert.match((await page.textContent('#status')) ?? '', /^disconnected: \S/);
    await page.close();
  } finally {
    await host.close();
  }
});

test('web host + QEMU: page shows the guest screen exactly and keys reach the guest', { timeout: 300_000 }, async () => {
  const vm = await QemuVm.start();
  let host: WebHost | null = null;
  try {
    host = await startWebHost({ uri: `spice://127.0.0.1:${vm.spicePort}` });
    const { page, probe } = await openPage(browser, host.url);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'connected', undefined, { timeout: 60_000 });
    await vm.command('freeze', /GUEST OK freeze/);

    for (const n of [1, 2]) {
      await vm.command(`pattern ${n}`, new RegExp(`GUEST OK pattern ${n}`));
      // The page catches up asynchronously: poll until the canvas equals the screendump.
      const deadline = Date.now() + 30_000;
      let last = '';
      for (;;) {
        const shot = await vm.screendump();
        const got = await page.evaluate(() => (window as unknown as { __spiceTest: { primaryPixels(): { width: number; height: number; rgba: Uint8Array } } }).__spiceTest.primaryPixels());
        const rgba = got.rgba instanceof Uint8Array ? got.rgba : Uint8Array.from(Object.values(got.rgba as object) as number[]);
        let diff = 0;
        let first = -1;
        if (got.width === shot.width && got.height === shot.height) {
          for (let i = 0, j = 0; i < shot.width * shot.height; i++, j += 4) {
            if (rgba[j] !== shot.rgb[i * 3] || rgba[j + 1] !== shot.rgb[i * 3 + 1] || rgba[j + 2] !== shot.rgb[i * 3 + 2] || rgba[j + 3] !== 255) {
              if (first < 0) first = i;
              diff++;
            }
          }
          if (diff === 0) break;
          last = `${diff} pixels differ, first at (${first % shot.width}, ${Math.floor(first / shot.width)})`;
        } else {
          last = `canvas ${got.width}x${got.height} vs screendump ${shot.width}x${shot.height}`;
        }
        if (Date.now() > deadline) assert.fail(`pattern ${n}: ${last}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }

    // Keyboard: click grabs the keyboard, typing reaches the guest's evdev.
    await page.click('#screen');
    const from = 0;
    await page.keyboard.press('KeyA');
    await vm.waitForSerial(/GUEST KEY 30 1\b/, 10_000, from);
    await vm.waitForSerial(/GUEST KEY 30 0\b/, 10_000, from);
    await page.keyboard.down('ShiftLeft');
    await page.keyboard.press('ArrowUp'); // E0-extended key
    await page.keyboard.up('ShiftLeft');
    await vm.waitForSerial(/GUEST KEY 103 1\b/, 10_000, from); // KEY_UP
    await vm.waitForSerial(/GUEST KEY 42 0\b/, 10_000, from); // KEY_LEFTSHIFT released

    // Mouse: motion (relative under Pointer Lock in server mode, absolute in client mode) and buttons.
    const box = await page.locator('#screen').boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + 50, box.y + 50);
    await page.mouse.move(box.x + 120, box.y + 90, { steps: 4 });
    await vm.waitForSerial(/GUEST (REL|ABS) /, 10_000, from);
    await page.mouse.down();
    await page.mouse.up();
    await vm.waitForSerial(/GUEST BTN 272 1\b/, 10_000, from); // BTN_LEFT
    await vm.waitForSerial(/GUEST BTN 272 0\b/, 10_000, from);

    // Ctrl+Alt releases the grab.
    await page.keyboard.down('ControlLeft');
    await page.keyboard.down('AltLeft');
    await page.keyboard.up('AltLeft');
    await page.keyboard.up('ControlLeft');
    assert.equal(await page.evaluate(() => document.activeElement?.id ?? ''), '');
    assert.equal(await page.evaluate(() => document.pointerLockElement), null);
    assert.deepEqual(probe.errors, []);
    await page.close();
  } finally {
    await host?.close();
    await vm.stop();
  }
});
