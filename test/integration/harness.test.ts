// Integration test of the QEMU test harness and the test guest: boot, guest
// command replies, screendump == generated pattern file (pixel exact), guest
// key echo driven by QMP input-send-event, and QEMU gone after stop().
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { QemuVm, ensureGuest, freePort, guestPattern, type GuestImage, type Screen } from '../harness/qemu';
import { warmUp } from '../harness/migration';

let vm: QemuVm;
let guest: GuestImage;
let bootMs = 0;

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function firstDiff(a: Screen, b: Screen): string {
  for (let i = 0; i < a.rgb.length; i++) {
    if (a.rgb[i] !== b.rgb[i]) {
      const p = Math.floor(i / 3);
      return `first difference at x=${p % a.width} y=${Math.floor(p / a.width)}`;
    }
  }
  return 'equal';
}

/** Screendumps until the display equals want (the qxl flush is asynchronous). */
async function waitScreen(want: Screen, timeoutMs = 10000): Promise<Screen> {
  const end = Date.now() + timeoutMs;
  let s: Screen;
  do {
    s = await vm.screendump();
    if (s.width === want.width && s.height === want.height && Buffer.from(s.rgb).equals(Buffer.from(want.rgb))) return s;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < end);
  return s;
}

before(async () => {
  guest = await ensureGuest();
  const t0 = Date.now();
  vm = await QemuVm.start({ name: 'harness-test' });
  bootMs = Date.now() - t0;
  console.log(`# guest boot to ready: ${bootMs} ms (spice port ${vm.spicePort}, pid ${vm.pid})`);
});

after(async () => {
  await vm?.stop();
});

test('guest image files exist and QEMU runs', () => {
  for (const f of [guest.kernel, guest.initrd]) assert.ok(fs.statSync(f).size > 100000, f);
  assert.match(guest.cmdline, /rdinit=\/init/);
  assert.ok(alive(vm.pid));
  assert.ok(vm.serialLines().some((l) => /^GUEST\[[\d.]+\] ready /.test(l)));
});

test('guest answers commands', async () => {
  assert.equal(await vm.command('ping'), 'GUEST OK ping');
  assert.equal(await vm.command('freeze'), 'GUEST OK freeze');
  await assert.rejects(vm.command('bogus'), /GUEST ERR bogus/);
  await assert.rejects(vm.command('pattern 9'), /GUEST ERR pattern/);
});

test('frozen text console is stable between screendumps', async () => {
  await vm.command('clear');
  await vm.command('text hello from the host');
  const a = await vm.screendump();
  await new Promise((r) => setTimeout(r, 500));
  const b = await vm.screendump();
  assert.equal(a.width, 1024);
  assert.equal(a.height, 768);
  assert.ok(Buffer.from(a.rgb).equals(Buffer.from(b.rgb)), 'screen changed while frozen');
  assert.ok(a.rgb.some((v) => v !== 0), 'text should have drawn something');
});

for (const n of [1, 2, 3]) {
  test(`pattern ${n}: screendump equals the generated pattern file`, async () => {
    const want = guestPattern(guest, n);
    assert.equal(await vm.command(`pattern ${n}`), `GUEST OK pattern ${n}`);
    const got = await waitScreen(want);
    assert.equal(got.width, want.width);
    assert.equal(got.height, want.height);
    assert.ok(Buffer.from(got.rgb).equals(Buffer.from(want.rgb)), firstDiff(got, want));
  });
}

test('tick resumes redrawing', async () => {
  await vm.command('clear');
  assert.equal(await vm.command('tick'), 'GUEST OK tick');
  const a = await vm.screendump();
  const end = Date.now() + 5000;
  let changed = false;
  while (!changed && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 300));
    changed = !Buffer.from((await vm.screendump()).rgb).equals(Buffer.from(a.rgb));
  }
  assert.ok(changed, 'ticking display did not change');
  await vm.command('freeze');
});

test('QMP keyboard events are echoed by the guest', async () => {
  const from = vm.serialLines().length;
  const key = (qcode: string, down: boolean) => ({ type: 'key', data: { down, key: { type: 'qcode', data: qcode } } });
  await vm.qmp.execute('input-send-event', { events: [key('a', true)] });
  await vm.qmp.execute('input-send-event', { events: [key('a', false)] });
  // KEY_A = 30 (linux/input-event-codes.h)
  const down = await vm.waitForSerial(/^GUEST KEY 30 1$/, 10000, from);
  const up = await vm.waitForSerial(/^GUEST KEY 30 0$/, 10000, down.index + 1);
  assert.ok(up.index > down.index);
});

test('QMP mouse events are echoed by the guest', async () => {
  await vm.waitForSerial(/^GUEST input event\d+: .*Mouse/, 10000);
  const from = vm.serialLines().length;
  await vm.qmp.execute('input-send-event', { events: [{ type: 'btn', data: { down: true, button: 'left' } }] });
  await vm.qmp.execute('input-send-event', { events: [{ type: 'btn', data: { down: false, button: 'left' } }] });
  await vm.qmp.execute('input-send-event', { events: [{ type: 'rel', data: { axis: 'x', value: 10 } }] });
  // BTN_LEFT = 0x110 = 272, REL_X = 0
  const b = await vm.waitForSerial(/^GUEST BTN 272 1$/, 10000, from);
  await vm.waitForSerial(/^GUEST BTN 272 0$/, 10000, b.index + 1);
  await vm.waitForSerial(/^GUEST REL 0 -?\d+$/, 10000, from);
});

test('migration to an incoming VM: guest and display survive', async () => {
  // First a move with the VM stopped: a live first migration of a freshly booted
  // TCG guest can corrupt it (see warmUp); the live migration below starts from there.
  const warm = await warmUp(vm);
  if (typeof warm === 'string') assert.fail(`stopped move: ${warm}`);
  const src = warm;
  await src.command('pattern 2');
  const dst = await QemuVm.start({ incoming: 'defer', name: 'harness-dst' });
  try {
    const port = await freePort();
    await dst.qmp.execute('migrate-incoming', { uri: `tcp:127.0.0.1:${port}` });
    // MIGRATION events are only sent with the "events" capability
    await src.qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
    const t0 = Date.now();
    const mark = src.qmp.events.length; // src has its own incoming 'completed' already
    await src.qmp.execute('migrate', { uri: `tcp:127.0.0.1:${port}` });
    await src.qmp.waitEvents('MIGRATION', 1, 60000, (e) => e.data?.status === 'completed', mark);
    await dst.qmp.waitEvent('RESUME', 30000);
    console.log(`# migration: ${Date.now() - t0} ms`);
    assert.equal((await dst.qmp.execute('query-status')).status, 'running');
    assert.equal(await dst.command('ping'), 'GUEST OK ping');
    const want = guestPattern(guest, 2);
    const got = await dst.screendump();
    assert.ok(Buffer.from(got.rgb).equals(Buffer.from(want.rgb)), firstDiff(got, want));
    // the guest's input echo runs on the destination too
    const from = dst.serialLines().length;
    await dst.qmp.execute('input-send-event', { events: [{ type: 'key', data: { down: true, key: { type: 'qcode', data: 'esc' } } }] });
    await dst.waitForSerial(/^GUEST KEY 1 1$/, 10000, from);
  } finally {
    await dst.stop();
    await src.stop();
  }
});

test('stop() quits QEMU and is idempotent', async () => {
  const pid = vm.pid;
  const dir = vm.dir;
  await vm.stop();
  await vm.stop();
  assert.equal(alive(pid), false, 'QEMU still running');
  assert.equal(fs.existsSync(dir), false, 'run directory not removed');
});
