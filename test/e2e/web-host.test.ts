// Web host end to end: the built page in headless Chromium (playwright-core),
// the real engine, and — for the guest tests — a real QEMU from the harness,
// reached through the `web` command itself (main/web.ts) so its terminal
// output is checked too. Needs `npm run build` first (npm test does it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { WebSocket } from 'ws';
import { startWebHost } from '../../main/web-host';
import { decodeFrame } from '../../preload/codec';
import { QemuVm } from '../harness/qemu';
import { WebCli, chromiumForTests, closedPort, openPage, screenDiff, waitCanvasEqualsScreendump } from '../helpers/web-page';
import { decodePng } from '../helpers/png';

function get(url: string, headers: Record<string, string> = {}, ca?: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((ok, fail) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { headers, ...(ca ? { ca } : {}) }, (res) => {
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

const statusText = async (page: Page): Promise<string> => (await page.textContent('#status')) ?? '';

/** A self-signed certificate for 127.0.0.1 (openssl), PEM. */
function selfSigned(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'web-tls-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const browser = chromiumForTests();

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

    // the page and its scripts are no secret; no cookie either (browsers send cookies to every
    // port of a host, so another local server would get it): only the sockets take the token
    assert.equal((await get(`${u.origin}/`)).status, 200, 'the page without a token');
    assert.equal((await get(`${u.origin}/main.js`)).status, 200, 'a script without a token');
    assert.equal(ok.headers['set-cookie'], undefined, 'no token cookie');
    assert.equal((await get(host.url, { host: `evil.example:${u.port}` })).status, 403, 'DNS rebinding Host header');
    assert.equal((await get(`${u.origin}/..%2f..%2fpackage.json?token=${host.token}`)).status, 404, 'path traversal');

    const wsBase = `ws://127.0.0.1:${u.port}/bridge`;
    assert.equal(await wsOutcome(`${wsBase}?token=nope`), 'http 403');
    // last character changed (to one it is not: a fixed 'x' was the token itself 1 time in 64)
    const wrong = host.token.slice(0, -1) + (host.token.endsWith('x') ? 'y' : 'x');
    assert.equal(await wsOutcome(`${wsBase}?token=${wrong}`), 'http 403', 'wrong token, same length');
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
  // The target travels over the bridge, never in the HTML.
  const withUri = await startWebHost({ uri: `spice://127.0.0.1:${await closedPort()}` });
  try {
    const page = await get(withUri.url);
    assert.equal(page.status, 200);
    assert.ok(!page.body.includes('spice://127.0.0.1'));
  } finally {
    await withUri.close();
  }
  await assert.rejects(startWebHost({ host: '0.0.0.0' }), /non-loopback/);
  await assert.rejects(startWebHost({ host: '::' }), /non-loopback/);
  // --allow-remote without a certificate: the token and SPICE password would cross the network in clear
  await assert.rejects(startWebHost({ host: '0.0.0.0', allowRemote: true }), /refusing to serve on 0\.0\.0\.0 without TLS: .* --cert FILE --key FILE/);
});

test('web host over TLS: https and wss with a certificate, Origin still checked', async () => {
  const tls = selfSigned();
  const host = await startWebHost({ tls, allowRemote: true });
  try {
    const u = new URL(host.url);
    assert.equal(u.protocol, 'https:');
    const ok = await get(host.url, {}, tls.cert);
    assert.equal(ok.status, 200);
    assert.match(String(ok.headers['content-security-policy']), new RegExp(`connect-src 'self' wss://127\\.0\\.0\\.1:${u.port}`));
    await assert.rejects(get(host.url), /self-signed|certificate/, 'an unknown certificate is refused by default');
    // --allow-remote accepts any Host name, but a page of another origin still may not open the bridge
    const wsUrl = `wss://127.0.0.1:${u.port}/bridge?token=${host.token}`;
    const outcome = (origin?: string): Promise<string> =>
      new Promise((done) => {
        const ws = new WebSocket(wsUrl, { ca: tls.cert, ...(origin ? { origin } : {}) });
        ws.on('open', () => {
          ws.close();
          done('open');
        });
        ws.on('unexpected-response', (_q, res) => done(`http ${res.statusCode}`));
        ws.on('error', (e) => done(`error ${e.message}`));
      });
    assert.equal(await outcome(`https://127.0.0.1:${u.port}`), 'open');
    assert.equal(await outcome('https://evil.example'), 'http 403');
    assert.equal(await outcome(`http://127.0.0.1:${u.port}`), 'http 403', 'http origin on an https host');

    // the page in Chromium: its bridge runs over wss (a connect reports back through it)
    const ctx = await browser().newContext({ ignoreHTTPSErrors: true });
    try {
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${host.url}&test=1`);
      await page.fill('#uri', `spice://127.0.0.1:${await closedPort()}`);
      await page.click('#connect');
      await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'disconnected', undefined, { timeout: 15000 });
      assert.match(await statusText(page), /^disconnected: \S/);
      assert.deepEqual(errors, []);
    } finally {
      await ctx.close();
    }
  } finally {
    await host.close();
  }
});

test('web host: the page loads in Chromium and shows the idle status', async () => {
  const host = await startWebHost();
  try {
    const { page, probe } = await openPage(browser(), host.url);
    await page.waitForFunction(() => {
      const s = document.getElementById('status');
      return s && /^(idle|disconnected)/.test(s.textContent ?? '');
    });
    const state = await page.getAttribute('#status', 'data-state');
    assert.ok(state === 'idle' || state === 'disconnected', `status state ${state}`);
    assert.equal(await page.evaluate(() => typeof (window as unknown as { __spiceTest?: unknown }).__spiceTest), 'object');
    const px = await page.evaluate(async () => (await (window as unknown as { __spiceTest: { primaryPixels(): Promise<{ width: number }> } }).__spiceTest.primaryPixels()).width);
    assert.equal(px, 0, 'nothing painted before a connection');
    // No CSP violations, worker failures or script errors.
    assert.deepEqual(probe.errors, []);
    // The display worker may compile WebAssembly (its QUIC decoder): the CSP it is served with allows exactly that.
    const worker = page.workers()[0] ?? (await page.waitForEvent('worker', { timeout: 10_000 }));
    const wasm = await worker.evaluate(() => {
      try {
        new WebAssembly.Instance(new WebAssembly.Module(Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0)));
        return 'ok';
      } catch (e) {
        return String(e);
      }
    });
    assert.equal(wasm, 'ok', 'WebAssembly in the display worker');

    // The token leaves the address bar once read; a reload still works (the tab's sessionStorage).
    assert.equal(new URL(page.url()).searchParams.get('token'), null, page.url());
    assert.equal(new URL(page.url()).searchParams.get('test'), '1');
    await page.reload();
    await page.waitForFunction(() => typeof (window as unknown as { __spiceTest?: unknown }).__spiceTest === 'object');

    // Connecting to a closed port reports a disconnected status with a reason (over the bridge the reload opened).
    await page.fill('#uri', `spice://127.0.0.1:${await closedPort()}`);
    await page.click('#connect');
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'disconnected', undefined, { timeout: 15000 });
    assert.match(await statusText(page), /^disconnected: \S/);

    // What is not an address gets a plain answer; a bad URI never shows its password.
    const answer = async (typed: string): Promise<string> => {
      const before = await statusText(page);
      await page.fill('#uri', typed);
      await page.click('#connect');
      await page.waitForFunction((b) => document.getElementById('status')?.textContent !== b, before, { timeout: 15000 });
      return statusText(page);
    };
    assert.match(await answer('--version'), /^disconnected: not a SPICE address: "--version"; type spice:\/\/HOST:PORT.* \(CONFIG\)$/);
    const shown = await answer('spice://127.0.0.1:99999?password=hunter2');
    assert.match(shown, /^disconnected: invalid port "99999" in "spice:\/\/127\.0\.0\.1:99999\?password=\*\*\*" \(expected 1-65535\) \(CONFIG\)$/);
    assert.ok(!shown.includes('hunter2'));
    assert.deepEqual(probe.errors, []);
    await page.close();
  } finally {
    await host.close();
  }
});

test('web command: a target that cannot be reached is reported on the terminal at start', { timeout: 60_000 }, async () => {
  const port = await closedPort();
  const cli = new WebCli([`spice://127.0.0.1:${port}`]);
  try {
    await cli.waitFor(/SPICE viewer: open http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/, 30_000, 'out');
    const m = await cli.waitFor(/^spice-viewer: disconnected: (.*)$/m, 30_000);
    assert.match(m[1], new RegExp(`127\\.0\\.0\\.1:${port}.*\\(TRANSPORT\\)$`));
    assert.match(cli.err, /^spice-viewer: connecting: connecting to 127\.0\.0\.1:\d+$/m, 'the attempt comes first');
    assert.match(cli.err, /^spice-viewer: {3}\S.*$/m, "the doctor's summary and hint follow");
    assert.equal(cli.proc.exitCode, null, 'outside kiosk the host keeps serving (the page offers the connect form)');
  } finally {
    await cli.stop();
  }
});

test('web command + QEMU: dials at start (before any page), the page takes the session over, shows the guest exactly and keys reach it', { timeout: 300_000 }, async () => {
  const vm = await QemuVm.start({ password: 'hunter2' });
  let cli: WebCli | null = null;
  try {
    // the one password path: --password goes into the launch configuration, never to the page
    cli = new WebCli([`spice://127.0.0.1:${vm.spicePort}`, '--password=hunter2']);
    const url = (await cli.waitFor(/SPICE viewer: open (http\S+)/, 30_000, 'out'))[1];
    // connected while no page is open: a broker's short-lived ticket is used at once
    await cli.waitFor(/^spice-viewer: connected to \S.*$/m, 60_000);
    const html = await get(url);
    assert.ok(!html.body.includes('hunter2'));
    const { page, probe } = await openPage(browser(), url);
    await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'connected', undefined, { timeout: 60_000 });
    assert.equal(await page.inputValue('#uri'), `spice://127.0.0.1:${vm.spicePort}`);
    // the page took over the session dialled at start: it did not dial again
    assert.equal((cli.err.match(/^spice-viewer: connecting:/gm) ?? []).length, 1, cli.err);
    await vm.command('freeze', /GUEST OK freeze/);

    for (const n of [1, 2]) {
      await vm.command(`pattern ${n}`, new RegExp(`GUEST OK pattern ${n}`));
      await waitCanvasEqualsScreendump(page, () => vm.screendump(), `pattern ${n}`);
    }
    // what the page shows (the worker's canvas as composited into the page) equals it too
    await page.setViewportSize({ width: 1280, height: 1100 }); // the whole 1024x768 canvas below the toolbar
    const shot = decodePng(await page.locator('#screen').screenshot({ animations: 'disabled', scale: 'css' }));
    assert.equal(screenDiff(shot, await vm.screendump()), '', 'the page as composited');

    // Keyboard: click grabs the keyboard, typing reaches the guest's evdev; the title says how to let go.
    assert.doesNotMatch(await page.title(), /^\(Press/);
    await page.click('#screen');
    assert.match(await page.title(), /^\(Press Ctrl\+Alt to release pointer\) .* - SPICE viewer$/);
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
    // the pointer moved: the status line shows the connection's round trip (input → server → ack)
    await page.mouse.move(box.x + 200, box.y + 150, { steps: 12 });
    await page.waitForFunction(() => !document.getElementById('quality-indicator')!.hidden, undefined, { timeout: 10_000 });
    assert.match((await page.textContent('#quality-indicator')) ?? '', /^\d+(\.\d)? ms$/);
    assert.match(await page.getAttribute('#quality-indicator', 'data-quality') ?? '', /^(good|fair|poor)$/);

    // Ctrl+Alt releases the grab.
    await page.keyboard.down('ControlLeft');
    await page.keyboard.down('AltLeft');
    await page.keyboard.up('AltLeft');
    await page.keyboard.up('ControlLeft');
    assert.equal(await page.evaluate(() => document.activeElement?.id ?? ''), '');
    assert.equal(await page.evaluate(() => document.pointerLockElement), null);
    assert.doesNotMatch(await page.title(), /^\(Press/, 'released: the title says nothing about it');
    assert.deepEqual(probe.errors, []);
    await page.close();
  } finally {
    await cli?.stop();
    await vm.stop();
  }
});
