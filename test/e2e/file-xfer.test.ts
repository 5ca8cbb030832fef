// Files dropped on the display, end to end as a web-host user has it: the
// `web` command against a QEMU guest running Debian's real spice-vdagent
// (saving into a 48 MiB tmpfs), the built page in Debian's Chromium. A drop
// event on the display carries real File objects; the page hands main their
// bytes as asked; the guest's file has the same md5 and size; progress only
// grows and ends at 100 %; Cancel stops a transfer (the agent deletes the
// partial file) and the next one succeeds; a file too big for the guest's disk
// fails with the agent's reason in words.
// Needs `npm run build` first (npm test does it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Page } from 'playwright-core';
import { QemuVm } from '../harness/qemu';
import { chromiumForTests, openWebSession, type WebSession } from '../helpers/web-page';
import type { XferRow } from '../../renderer/ui/file-xfer';

const browser = chromiumForTests();
let vm: QemuVm;
let web: WebSession;
let page: Page;

/** The bytes the page generates for a file (xorshift32 from the seed), made the same way here. */
function fileBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Drops one generated file on the display, as a drag from the desktop does (the page runs fileBytes from its source). */
const drop = (name: string, size: number, seed: number) =>
  page.evaluate(
    ({ src, name, size, seed }) => {
      const gen = new Function(`return (${src})`)() as (size: number, seed: number) => Uint8Array<ArrayBuffer>;
      const dt = new DataTransfer();
      dt.items.add(new File([gen(size, seed)], name));
      const target = document.getElementById('viewport')!;
      target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    },
    { src: fileBytes.toString(), name, size, seed },
  );

const rows = () => page.evaluate(() => (window as any).__spiceTest.fileXfer() as XferRow[]);
const row = async (name: string) => (await rows()).find((r) => r.name === name);

async function ended(name: string, ms = 180_000): Promise<XferRow> {
  await page.waitForFunction((n) => ((window as any).__spiceTest.fileXfer() as XferRow[]).some((r) => r.name === n && r.state !== 'sending'), name, { timeout: ms });
  return (await row(name))!;
}

async function guestMd5(name: string): Promise<{ n: number; md5: string } | null> {
  const r = await vm.command(`filemd5 ${name}`, /^GUEST (OK|ERR) filemd5\b/, 60_000);
  const m = /^GUEST OK filemd5 (\d+) ([0-9a-f]{32}) /.exec(r);
  return m ? { n: Number(m[1]), md5: m[2] } : null;
}

before(async () => {
  vm = await QemuVm.start({ name: 'xfer-e2e', agent: true });
  await vm.waitForSerial(/agent started/, 90_000);
  web = await openWebSession(browser(), vm.spicePort);
  page = web.page;
  await page.waitForFunction(() => (window as any).__spiceTest.status().app?.agent === true, undefined, { timeout: 90_000 });
});

after(async () => {
  await web?.close();
  await vm?.stop();
});

test('a 20 MiB file dropped on the display arrives whole; its bar only grows and ends at 100 %', async () => {
  const size = 20 << 20;
  await drop('big.bin', size, 20261202);
  assert.equal(await page.isVisible('#xfer-panel'), true);
  const r = await ended('big.bin');
  assert.equal(r.state, 'done', r.error);
  assert.equal(r.percent, 100);
  assert.ok(r.history.length > 10, `${r.history.length} progress events`);
  assert.ok(r.history.every((v, i) => i === 0 || v >= r.history[i - 1]), 'progress is monotonic');
  const want = createHash('md5').update(fileBytes(size, 20261202)).digest('hex');
  assert.deepEqual(await guestMd5('big.bin'), { n: size, md5: want });
  assert.equal(await page.textContent('#xfer-panel li[data-state="done"] .xfer-state'), 'done');
});

test('Cancel mid-way: the row says cancelled, the guest keeps no partial file, and the next file arrives', async () => {
  await drop('cancel.bin', 16 << 20, 7);
  await page.waitForFunction(() => ((window as any).__spiceTest.fileXfer() as XferRow[]).some((r) => r.name === 'cancel.bin' && r.sent > 0), undefined, { timeout: 60_000 });
  await page.click('#xfer-panel li[data-state="sending"] .xfer-cancel');
  const r = await ended('cancel.bin');
  assert.equal(r.state, 'cancelled');
  assert.ok(r.sent < r.size);
  const ls = await vm.command('filels', /^GUEST (OK|ERR) filels\b/);
  assert.match(ls, /^GUEST OK filels 1 /, 'only big.bin in the guest');
  await drop('after.txt', 5000, 99);
  assert.equal((await ended('after.txt')).state, 'done');
  assert.deepEqual(await guestMd5('after.txt'), { n: 5000, md5: createHash('md5').update(fileBytes(5000, 99)).digest('hex') });
});

test('too big for the guest: failed, with the agent\'s reason in words on its row', async () => {
  await drop('huge.bin', 40 << 20, 3);
  const r = await ended('huge.bin');
  assert.equal(r.state, 'failed');
  assert.match(r.error ?? '', /not enough space in the guest for huge\.bin/);
  const text = await page.textContent('#xfer-panel li[data-state="failed"] .xfer-state');
  assert.match(text ?? '', /^failed: not enough space/);
  // Clear finished empties the panel
  await page.click('#xfer-panel .xfer-close');
  assert.equal(await page.isVisible('#xfer-panel'), false);
  assert.deepEqual(web.errors, []);
});
