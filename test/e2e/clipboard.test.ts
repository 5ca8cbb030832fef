// The clipboard end to end, as a web-host user has it: the `web` command
// against a QEMU guest running Debian's real spice-vdagentd + spice-vdagent
// under Xvfb (the guest reads and sets its clipboard with xclip), the built
// page in Debian's Chromium with clipboard permission granted (the page's
// async Clipboard API is the host clipboard). Text both ways with equal
// checksums, a PNG both ways (Chromium re-encodes images it puts on its
// clipboard, so the guest's bytes are checked against what the browser holds
// and the way back by pixels), the Share clipboard toggle blocking both ways
// (the indicator says so), and a page without permission told in words.
// Needs `npm run build` first (npm test does it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Page } from 'playwright-core';
import { QemuVm } from '../harness/qemu';
import { chromiumForTests, openWebSession, type WebSession } from '../helpers/web-page';

const browser = chromiumForTests();
let vm: QemuVm;
let web: WebSession;
let page: Page;

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
/** The guest's clipset text: "spice clipboard test\n" repeated, cut at n bytes. */
const guestText = (n: number) => Buffer.from('spice clipboard test\n'.repeat(Math.ceil(n / 21))).subarray(0, n);

async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    last = await f();
    if (last) return last as T;
    if (Date.now() > end) assert.fail(`${what}: not within ${ms} ms (last ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** `clipget`: the guest's selection as xclip reads it, byte count and sha256. */
async function guestClip(png = false): Promise<{ n: number; sha: string } | null> {
  const r = await vm.command(`clipget clipboard${png ? ' png' : ''}`, /^GUEST (OK|ERR) clipget\b/, 30_000);
  const m = /^GUEST OK clipget (\d+) ([0-9a-f]{64})/.exec(r);
  return m ? { n: Number(m[1]), sha: m[2] } : null;
}

const indicator = (p: Page) => p.evaluate(() => document.getElementById('clipboard-indicator')?.textContent ?? '');
const pageClip = (p: Page) => p.evaluate(() => (window as any).__spiceTest.clipboard() as { sent: number; text: string });

before(async () => {
  vm = await QemuVm.start({ name: 'clip-e2e', agent: true });
  await vm.waitForSerial(/agent started/, 90_000);
  web = await openWebSession(browser(), vm.spicePort, { permissions: ['clipboard-read', 'clipboard-write'] });
  page = web.page;
  // the guest agent is up: the indicator says the clipboard is shared
  await page.waitForFunction(() => document.getElementById('clipboard-indicator')?.textContent === 'Clipboard: shared', undefined, { timeout: 90_000 });
});

after(async () => {
  await web?.close();
  await vm?.stop();
});

test('text guest → browser: xclip owns 100 kB in the guest, the browser clipboard gets the same bytes', async () => {
  const r = await vm.command('clipset clipboard 100000', /^GUEST (OK|ERR) clipset\b/);
  assert.match(r, /OK clipset 100000 /);
  const want = sha(guestText(100_000));
  await until('the browser holds the guest text', async () => sha(await page.evaluate(() => navigator.clipboard.readText())) === want);
  await until('indicator', async () => (await indicator(page)) === 'Clipboard: 97.7 KiB of text from the guest');
});

test('text browser → guest: UTF-8 copied in the browser is what xclip reads in the guest', async () => {
  const text = 'Grüße aus dem Browser → 日本語 ✓\n'.repeat(2000);
  await page.evaluate((t) => navigator.clipboard.writeText(t), text);
  const want = sha(Buffer.from(text, 'utf8'));
  const got = await until('the guest reads the browser text', async () => {
    const g = await guestClip();
    return g?.sha === want ? g : null;
  });
  assert.equal(got.n, Buffer.byteLength(text));
});

test('PNG browser → guest → browser: the guest gets the image the browser holds, and offered back the browser gets its pixels', async () => {
  // a 64x48 gradient put on the browser's clipboard as image/png; Chromium re-encodes it
  const held = await page.evaluate(async () => {
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 48;
    const g = c.getContext('2d')!;
    for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) {
      g.fillStyle = `rgb(${x * 4}, ${y * 5}, ${(x + y) * 2})`;
      g.fillRect(x, y, 1, 1);
    }
    const blob = await new Promise<Blob>((ok) => c.toBlob((b) => ok(b!), 'image/png'));
    await navigator.clipboard.write([new ClipboardItem({ 'image/png': blob })]);
    const [item] = await navigator.clipboard.read();
    return Array.from(new Uint8Array(await (await item.getType('image/png')).arrayBuffer()));
  });
  const want = sha(Uint8Array.from(held));
  await until('the guest reads the browser image', async () => (await guestClip(true))?.sha === want);

  // the browser's clipboard moves on (text); the guest offers the image back as image/png
  await page.evaluate(() => navigator.clipboard.writeText('placeholder'));
  await until('the guest has the placeholder', async () => (await guestClip())?.sha === sha('placeholder'));
  assert.match(await vm.command('clipset clipboard last png', /^GUEST (OK|ERR) clipset\b/), new RegExp(`OK clipset ${held.length} ${want}`));
  const same = await until('the browser holds the guest image again (same pixels)', () =>
    page.evaluate(async () => {
      const items = await navigator.clipboard.read();
      const png = items.find((i) => i.types.includes('image/png'));
      if (!png) return false;
      const bmp = await createImageBitmap(await png.getType('image/png'));
      const c = new OffscreenCanvas(bmp.width, bmp.height);
      const g = c.getContext('2d')!;
      g.drawImage(bmp, 0, 0);
      const px = g.getImageData(0, 0, bmp.width, bmp.height).data;
      for (let y = 0; y < 48; y++) for (let x = 0; x < 64; x++) {
        const i = (y * 64 + x) * 4;
        if (px[i] !== x * 4 || px[i + 1] !== y * 5 || px[i + 2] !== (x + y) * 2) return `pixel ${x},${y}`;
      }
      return bmp.width === 64 && bmp.height === 48 ? 'same' : `${bmp.width}x${bmp.height}`;
    }),
  );
  assert.equal(same, 'same');
  await until('indicator', async () => /^Clipboard: .* of image from the guest$/.test(await indicator(page)));
});

test('File → Share clipboard off blocks both ways (the indicator says so); on again shares at once', async () => {
  await page.click('#commands .menu[data-group="File"] .menu-button');
  assert.equal(await page.getAttribute('#commands [data-command="share-clipboard"]', 'aria-checked'), 'true');
  await page.click('#commands [data-command="share-clipboard"]');
  await until('indicator: not shared', async () => (await indicator(page)) === 'Clipboard: not shared');

  // guest → browser blocked
  await page.evaluate(() => navigator.clipboard.writeText('browser keeps this'));
  const r = await vm.command('clipset clipboard 3000', /^GUEST (OK|ERR) clipset\b/);
  assert.match(r, /OK clipset 3000 /);
  await until('indicator: blocked from the guest', async () => (await indicator(page)) === 'Clipboard: text from the guest not shared: clipboard sharing from the guest is off');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'browser keeps this');

  // browser → guest blocked: the page stops reporting; the guest keeps its own text
  const sent = (await pageClip(page)).sent;
  await page.evaluate(() => navigator.clipboard.writeText('must not reach the guest'));
  await new Promise((r) => setTimeout(r, 2500)); // two poll periods: a page that still polled would have reported by now
  assert.equal((await pageClip(page)).sent, sent, 'the page does not read the clipboard while sharing to the guest is off');
  assert.equal((await guestClip())?.sha, sha(guestText(3000)));

  // on again: what the browser holds is offered to the guest
  await page.click('#commands .menu[data-group="File"] .menu-button');
  await page.click('#commands [data-command="share-clipboard"]');
  await until('the guest reads the browser text after sharing is back on', async () => (await guestClip())?.sha === sha('must not reach the guest'));
  const settings = JSON.parse((await import('node:fs')).readFileSync(`${web.cli.configDir}/settings.json`, 'utf8')) as { shareClipboard: boolean };
  assert.equal(settings.shareClipboard, true, 'the toggle is saved');
});

test('a page without clipboard permission says so in words (no silent failure)', async () => {
  const bare = await browser().newContext();
  try {
    const p = await bare.newPage();
    await p.goto(`${web.url}&test=1`);
    await p.waitForFunction(() => (window as any).__spiceTest?.status().state === 'connected', undefined, { timeout: 30_000 });
    await p.bringToFront();
    await until('the page explains', async () => /does not let this page read the clipboard/.test(await indicator(p)), 30_000);
  } finally {
    await bare.close();
  }
  assert.deepEqual(web.errors, []);
});

test('--clipboard=to-guest: the browser\'s copy reaches the guest, the guest\'s copy does not reach the browser', async () => {
  await web.close();
  const one = await openWebSession(browser(), vm.spicePort, { permissions: ['clipboard-read', 'clipboard-write'], args: ['--clipboard=to-guest'] });
  web = one;
  const p = one.page;
  await until('indicator: one way', async () => (await indicator(p)) === 'Clipboard: shared to the guest only', 90_000);
  await p.evaluate(() => navigator.clipboard.writeText('one way only'));
  await until('the guest reads the browser text', async () => (await guestClip())?.sha === sha('one way only'));
  assert.match(await vm.command('clipset clipboard 2000', /^GUEST (OK|ERR) clipset\b/), /OK clipset 2000 /);
  await until('indicator: blocked from the guest', async () => (await indicator(p)) === 'Clipboard: text from the guest not shared: clipboard sharing from the guest is off');
  assert.equal(await p.evaluate(() => navigator.clipboard.readText()), 'one way only', 'the browser keeps its own text');
  assert.deepEqual(one.errors, []);
});
