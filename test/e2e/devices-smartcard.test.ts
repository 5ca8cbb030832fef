// The smartcard side of the Devices panel end to end: the client's readers
// (pcscd + vpcd + two vicc cards in the test rig's namespace), the `web`
// command with --spice-smartcard as a user runs it, the built page in Debian's
// Chromium, and a QEMU guest with a usb-ccid reader whose own pcscd +
// opensc-tool read the card. The status indicator says a card is shared, then
// in use once the guest talks to it; the panel shows the shared reader (its
// card bridged or not) and the waiting one; unticking the shared reader stops
// sharing it, the other is offered, and the guest reads the other card.
// Needs `npm run build` first (npm test does it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
// the rig first: it sets PCSCLITE_CSOCK_NAME (the web process inherits it)
import { PcscRig, READER_NAMES, VICC_T0_ATR, VICC_T1_ATR } from '../harness/pcsc';
import type { Page } from 'playwright-core';
import { QemuVm } from '../harness/qemu';
import { WebCli, chromiumForTests, deviceLines, openPage } from '../helpers/web-page';
import { CCID_ARGS, colonHex, guestSc, startGuestPcscd, useSmartcardGuest } from '../helpers/smartcard-guest';
import { pollUntil } from '../helpers/usb-guest';

useSmartcardGuest();
const browser = chromiumForTests();
const [R0, R1] = READER_NAMES;
/** What the guest reads for the card in each client reader: R0's T=1-only card is bridged to T=0. */
const GUEST_ATR: Record<string, string> = { [R0]: '3b058073ff0100', [R1]: VICC_T0_ATR };

let rig: PcscRig | undefined;
let vm: QemuVm | undefined;
let cli: WebCli | undefined;
after(async () => {
  await cli?.stop();
  await vm?.stop();
  await rig?.stop();
});

const readerLines = (page: Page) => deviceLines(page, 'smartcard');
const indicator = (page: Page, text: string) => page.waitForFunction((t) => document.getElementById('device-indicator')?.textContent === t, text, { timeout: 60_000 });
const guestAtr = async (): Promise<string | null> => {
  const { lines, rc } = await guestSc(vm!, '-r 0 -a');
  return rc === 0 ? (lines.find((l) => /^[0-9a-f]{2}(:[0-9a-f]{2})+$/.test(l.trim()))?.trim() ?? null) : null;
};

test('Devices panel, smartcards: indicator shared → in use, the shared and the waiting reader listed, stop sharing offers the other card to the guest', { timeout: 400_000 }, async () => {
  rig = await PcscRig.start({ cards: [VICC_T1_ATR, VICC_T0_ATR] });
  vm = await QemuVm.start({ name: 'devices-smartcard', extraArgs: CCID_ARGS });
  await startGuestPcscd(vm);
  cli = new WebCli(['--spice-smartcard', `spice://127.0.0.1:${vm.spicePort}`]);
  const url = (await cli.waitFor(/SPICE viewer: open (http\S+)/, 30_000, 'out'))[1];
  const { page, probe } = await openPage(browser(), url);
  await page.waitForFunction(() => (window as any).__spiceTest?.status().state === 'connected', undefined, { timeout: 30_000 });
  await indicator(page, 'smartcard shared');

  await page.click('#commands .menu[data-group="File"] .menu-button');
  await page.click('#commands [data-command="devices"]');
  await page.waitForFunction(() => document.querySelectorAll("#devices-dialog ul[data-kind='smartcard'] li[data-state='shared']").length === 1, undefined, { timeout: 30_000 });
  let lines = await readerLines(page);
  assert.deepEqual(lines.map((l) => l.id).sort(), [R0, R1]);
  const first = lines.find((l) => l.state === 'shared')!;
  const second = lines.find((l) => l.id !== first.id)!;
  assert.equal(first.checked, true);
  assert.equal(first.detail, first.id === R0 ? 'card inserted (T=1 card bridged to T=0)' : 'card inserted');
  assert.deepEqual([second.state, second.checked], ['waiting', false]);
  assert.match(second.detail, /^waiting: the VM takes one reader at a time/);
  assert.equal(await pollUntil('the guest reads the shared card', guestAtr, (a) => a !== null, 120_000, 500), colonHex(GUEST_ATR[first.id]));

  // the guest talks to the card: "in use" on its line and in the indicator
  const { rc } = await guestSc(vm, '-r 0 -s 00A4000C023F00');
  assert.equal(rc, 0);
  await indicator(page, 'smartcard in use');
  await page.waitForFunction((id) => document.querySelector(`#devices-dialog li[data-id='${id}'] .device-detail`)?.textContent?.startsWith('card in use by the guest'), first.id, { timeout: 10_000 });

  // stop sharing it: the other reader is offered and the guest's reader gets its card
  await page.click(`#devices-dialog li[data-id='${first.id}'] input`);
  await page.waitForFunction((id) => document.querySelector<HTMLElement>(`#devices-dialog li[data-id='${id}']`)?.dataset.state === 'shared', second.id, { timeout: 30_000 });
  lines = await readerLines(page);
  const stopped = lines.find((l) => l.id === first.id)!;
  assert.deepEqual([stopped.state, stopped.checked, stopped.detail, stopped.error], ['stopped', false, 'not shared', '']);
  assert.equal(await pollUntil('the guest reads the other card', guestAtr, (a) => a === colonHex(GUEST_ATR[second.id]), 120_000, 500), colonHex(GUEST_ATR[second.id]));

  // File → Remove smartcard: the guest loses the card, which stays in the reader; Insert puts it back
  await page.click('#devices-dialog .devices-close');
  await page.click('#commands .menu[data-group="File"] .menu-button');
  await page.click('#commands [data-command="smartcard-remove"]');
  await pollUntil('the guest sees no card', guestAtr, (a) => a === null, 120_000, 500);
  await page.click('#commands .menu[data-group="File"] .menu-button');
  await page.click('#commands [data-command="devices"]');
  await page.waitForFunction((id) => document.querySelector(`#devices-dialog li[data-id='${id}'] .device-detail`)?.textContent?.startsWith('card removed in the viewer'), second.id, { timeout: 10_000 });
  await page.click('#devices-dialog .devices-close');
  await page.click('#commands .menu[data-group="File"] .menu-button');
  await page.click('#commands [data-command="smartcard-insert"]');
  assert.equal(await pollUntil('the guest reads the card again', guestAtr, (a) => a !== null, 120_000, 500), colonHex(GUEST_ATR[second.id]));
  assert.deepEqual(probe.errors, []);
});
