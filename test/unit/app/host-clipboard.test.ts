// The host clipboards ClipboardSync talks to: the web host's PageClipboard
// (what the page reported, writes handed to the page) and the Electron app's
// system clipboard adapter. Electron cannot run here, so its clipboard module
// is an in-memory one with the same calls; the page side runs in Chromium in
// test/e2e/clipboard.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PageClipboard } from '../../../main/app/host-clipboard';
import { ElectronClipboard, type ElectronClipboardApi } from '../../../main/windows/electron-clipboard';
import type { ClipboardEvent, ClipKind } from '../../../preload/contract';
import { commandItems } from '../../../preload/commands';
import { menuTemplate } from '../../../main/windows/menu';

const text = (s: string) => new TextEncoder().encode(s);

test('PageClipboard: a new report is a change, the same again is not, and our own write does not come back', async () => {
  const toPage: ClipboardEvent[] = [];
  const changes: [number, ClipKind[]][] = [];
  const pc = new PageClipboard((ev) => toPage.push(ev));
  pc.onChange((s, k) => changes.push([s, k]));
  pc.setContent(0, [{ kind: 'text', data: text('one') }]);
  pc.setContent(0, [{ kind: 'text', data: text('one') }]);
  pc.setContent(1, [{ kind: 'text', data: text('primary') }]);
  assert.deepEqual(changes, [[0, ['text']]], 'one change; the page has no PRIMARY');
  assert.deepEqual(await pc.read(0, 'text'), text('one'));
  assert.equal(await pc.read(0, 'png'), null);
  await pc.write(0, 'png', Uint8Array.of(0x89, 0x50));
  assert.deepEqual(toPage, [{ t: 'write', selection: 0, kind: 'png', data: Uint8Array.of(0x89, 0x50) }]);
  pc.setContent(0, [{ kind: 'png', data: Uint8Array.of(0x89, 0x50) }]);
  assert.equal(changes.length, 1, 'the page reporting what we wrote is no change');
  assert.deepEqual(pc.kinds(0), ['png']);
});

class MemoryElectronClipboard implements ElectronClipboardApi {
  text = { clipboard: '', selection: '' };
  png: Record<'clipboard' | 'selection', Uint8Array> = { clipboard: new Uint8Array(0), selection: new Uint8Array(0) };
  availableFormats(t: 'clipboard' | 'selection' = 'clipboard') {
    return [...(this.text[t] ? ['text/plain'] : []), ...(this.png[t].length ? ['image/png'] : [])];
  }
  readText(t: 'clipboard' | 'selection' = 'clipboard') {
    return this.text[t];
  }
  writeText(s: string, t: 'clipboard' | 'selection' = 'clipboard') {
    this.text[t] = s;
    this.png[t] = new Uint8Array(0);
  }
  readPng(t: 'clipboard' | 'selection' = 'clipboard') {
    this.pngReads++;
    return this.png[t];
  }
  pngReads = 0;
  imageKey(t: 'clipboard' | 'selection' = 'clipboard') {
    return this.png[t].length ? `${this.png[t].length}:${Buffer.from(this.png[t]).toString('hex')}` : '';
  }
  writePng(p: Uint8Array, t: 'clipboard' | 'selection' = 'clipboard') {
    this.png[t] = p;
    this.text[t] = '';
  }
}

test('ElectronClipboard: polling reports another program\'s copy (CLIPBOARD and PRIMARY on Linux), never our own write', async () => {
  const sys = new MemoryElectronClipboard();
  sys.text.clipboard = 'there before';
  const ec = new ElectronClipboard(sys, 'linux', 3_600_000);
  const changes: [number, ClipKind[]][] = [];
  ec.onChange((s, k) => changes.push([s, k]));
  assert.equal(ec.watching, false, 'no agent yet: not polled');
  assert.deepEqual(ec.kinds(0), ['text'], 'what is there is known when asked (offered when the agent comes)');
  ec.watch(true);
  assert.equal(ec.watching, true);
  ec.poll();
  assert.deepEqual(changes, []);
  sys.text.selection = 'selected';
  sys.png.clipboard = Uint8Array.of(0x89, 0x50, 1);
  sys.text.clipboard = '';
  ec.poll();
  assert.deepEqual(changes, [
    [0, ['png']],
    [1, ['text']],
  ]);
  await ec.write(0, 'text', text('from the guest'));
  ec.poll();
  assert.equal(changes.length, 2, 'our write is not a change');
  assert.equal(sys.text.clipboard, 'from the guest');
  assert.deepEqual(await ec.read(0, 'text'), text('from the guest'));
  assert.deepEqual(await ec.read(1, 'png'), null);
  assert.equal(sys.pngReads, 1, 'a PNG is encoded only when read, never to look for changes');
  ec.watch(false);
  assert.equal(ec.watching, false, 'the agent went: polling stops');
  assert.deepEqual(new ElectronClipboard(sys, 'win32').selections, [0], 'no PRIMARY outside Linux');
});

test('Share clipboard is a ticked toggle in both faces (web toolbar items, Electron menu checkbox)', () => {
  const on = commandItems({ host: 'electron', connected: true, kiosk: false, clipboard: true }, undefined).find((i) => i.id === 'share-clipboard');
  const off = commandItems({ host: 'web', connected: false, kiosk: false, clipboard: false }, undefined).find((i) => i.id === 'share-clipboard');
  assert.deepEqual([on?.checked, off?.checked], [true, false]);
  const file = menuTemplate({ host: 'electron', connected: true, kiosk: false, clipboard: false }, undefined, () => {}).find((m) => m.label === '&File');
  const item = (file?.submenu as { id?: string; type?: string; checked?: boolean }[]).find((i) => i.id === 'share-clipboard');
  assert.deepEqual([item?.type, item?.checked], ['checkbox', false]);
});

test('--spice-disable-effects as DISPLAY_CONFIG flags (wallpaper 1, font-smooth 2, animation 4; all = 7)', async () => {
  const { displayConfigFlags } = await import('../../../main/app/session-controller');
  assert.equal(displayConfigFlags([]), 0);
  assert.equal(displayConfigFlags(['wallpaper', 'animation']), 5);
  assert.equal(displayConfigFlags(['all']), 7);
  assert.equal(displayConfigFlags(['font-smooth', 'all']), 7);
});

test('a --clipboard policy is a ceiling: the page toggle only narrows it (narrowest of both)', async () => {
  const { narrowest } = await import('../../../main/app/session-controller');
  assert.equal(narrowest('both', 'to-guest'), 'to-guest');
  assert.equal(narrowest('both', 'off'), 'off');
  assert.equal(narrowest('to-client', 'to-guest'), 'off');
  assert.equal(narrowest('to-client', 'both'), 'to-client');
  assert.equal(narrowest('off', 'both'), 'off');
});
