// The command table (preload/commands.ts) and its two faces: the Electron
// menu (main/windows/menu.ts) and the web toolbar (renderer/ui/toolbar.ts)
// list the same commands with the same accelerators, and a .vv's hotkeys
// rebind both. Send-key byte sequences and typed sequences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, commandForHotkey, commandItems, type CommandState } from '../../preload/commands';
import { menuTemplate } from '../../main/windows/menu';
import { toolbarGroups } from '../../renderer/ui/toolbar';
import { commandBytes, parseKeySequence, sequenceBytes, KeySequenceError } from '../../renderer/ui/send-keys';
import { screenshotName } from '../../renderer/ui/window-ui';
import { aboutRows, guestDetailRows } from '../../renderer/ui/guest-details';
import { fittedSize } from '../../renderer/input/hotkeys';
import { configForVv, hotkeysForPage } from '../../main/app/session-controller';
import { HOTKEY_ACTIONS, defaultHotkeys } from '../../main/config/hotkeys';

type Face = { group: string; id: string; label: string; accelerator?: string; enabled: boolean }[];

function menuFace(state: CommandState, bindings: ReturnType<typeof hotkeysForPage> | undefined): Face {
  const clicked: string[] = [];
  const out: Face = [];
  for (const top of menuTemplate(state, bindings, (id) => clicked.push(id))) {
    for (const item of top.submenu as { id: string; label: string; accelerator?: string; registerAccelerator?: boolean; enabled: boolean; click: () => void }[]) {
      // shown, never registered: the page's hotkey matcher owns the keys
      if (item.accelerator) assert.equal(item.registerAccelerator, false, item.id);
      item.click();
      out.push({ group: String(top.label).replace('&', ''), id: item.id, label: item.label, ...(item.accelerator ? { accelerator: item.accelerator } : {}), enabled: item.enabled });
    }
  }
  // every item's click runs its own command
  assert.deepEqual(clicked, out.map((i) => i.id));
  return out;
}

function toolbarFace(state: CommandState, bindings: ReturnType<typeof hotkeysForPage> | undefined): Face {
  return toolbarGroups(state, bindings).flatMap((g) => g.items.map((i) => ({ group: g.group, id: i.id, label: i.label, ...(i.accelerator ? { accelerator: i.accelerator } : {}), enabled: i.enabled })));
}

const vv = (extra: string): Uint8Array => new TextEncoder().encode(`[virt-viewer]\ntype=spice\nhost=127.0.0.1\nport=5999\n${extra}`);

test('the Electron menu and the web toolbar list the same commands and accelerators', () => {
  const defaults = hotkeysForPage(defaultHotkeys());
  for (const host of ['electron', 'web'] as const) {
    for (const connected of [false, true]) {
      const state = { host, connected, kiosk: false };
      const menu = menuFace(state, defaults);
      assert.deepEqual(toolbarFace(state, defaults), menu, `${host} connected=${connected}`);
      // every visible command of the table, once
      assert.deepEqual(menu.map((i) => i.id), COMMANDS.filter((c) => !c.visible || c.visible(state)).map((c) => c.id));
      assert.equal(new Set(menu.map((i) => i.id)).size, menu.length);
    }
  }
  const menu = menuFace({ host: 'web', connected: true, kiosk: false }, defaults);
  const acc = Object.fromEntries(menu.filter((i) => i.accelerator).map((i) => [i.id, i.accelerator]));
  // remote-viewer's default hotkeys, in Electron accelerator syntax
  assert.deepEqual(acc, { fullscreen: 'F11', 'zoom-in': 'Ctrl+Plus', 'zoom-out': 'Ctrl+-', 'zoom-reset': 'Ctrl+0', 'send-ctrl-alt-del': 'Ctrl+Alt+End', 'smartcard-insert': 'Shift+F8', 'smartcard-remove': 'Shift+F9' });
  // send keys need a session; Quit is the Electron app's only
  assert.equal(menuFace({ host: 'web', connected: false, kiosk: false }, defaults).find((i) => i.id === 'send-pause')?.enabled, false);
  assert.ok(!menu.some((i) => i.id === 'quit'));
  assert.ok(menuFace({ host: 'electron', connected: false, kiosk: false }, defaults).some((i) => i.id === 'quit'));
  // kiosk: no menu, no toolbar
  assert.deepEqual(menuFace({ host: 'electron', connected: true, kiosk: true }, defaults), []);
  assert.deepEqual(toolbarFace({ host: 'web', connected: true, kiosk: true }, defaults), []);
});

test('a .vv file rebinds the same commands in both faces (and unbinds the rest, as remote-viewer does)', () => {
  const cfg = configForVv(vv('toggle-fullscreen=shift+f11\nsecure-attention=ctrl+alt+k\nzoom-in=ctrl+KP_Add\n'), '1.0.0');
  const bindings = hotkeysForPage(cfg.ui.hotkeys);
  const state = { host: 'electron', connected: true, kiosk: false } as const;
  const menu = menuFace(state, bindings);
  assert.deepEqual(toolbarFace(state, bindings), menu);
  const acc = Object.fromEntries(menu.filter((i) => i.accelerator).map((i) => [i.id, i.accelerator]));
  assert.deepEqual(acc, { fullscreen: 'Shift+F11', 'zoom-in': 'Ctrl+numadd', 'send-ctrl-alt-del': 'Ctrl+Alt+K' });
  // a bad .vv is a ConfigError, not a crash
  assert.throws(() => configForVv(vv('version=99.0\n'), '1.0.0'), (e: Error & { code?: string }) => e.code === 'CONFIG' && /remote-viewer version/.test(e.message));
  assert.throws(() => configForVv(new TextEncoder().encode('not a key file'), '1.0.0'), (e: Error & { code?: string }) => e.code === 'CONFIG');
});

test('every command hotkey is a remote-viewer hotkey action, bound to one command', () => {
  for (const c of COMMANDS) if (c.hotkey) assert.ok((HOTKEY_ACTIONS as readonly string[]).includes(c.hotkey), c.id);
  assert.equal(commandForHotkey('secure-attention')?.id, 'send-ctrl-alt-del');
  assert.equal(commandForHotkey('toggle-fullscreen')?.id, 'fullscreen');
  assert.equal(commandForHotkey('release-cursor'), undefined);
  // no bindings at all (an engine without app state): no accelerators, all commands still there
  assert.ok(commandItems({ host: 'web', connected: true, kiosk: false }, undefined).every((i) => i.accelerator === undefined));
});

test('send-key bytes: make in order, break in reverse, E0 keys prefixed; Pause as its raw sequence', () => {
  const bytes = (id: string): number[] | undefined => {
    const c = COMMANDS.find((x) => x.id === id);
    assert.ok(c, id);
    return commandBytes(c);
  };
  assert.deepEqual(bytes('send-ctrl-alt-del'), [0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d]);
  assert.deepEqual(bytes('send-ctrl-alt-backspace'), [0x1d, 0x38, 0x0e, 0x8e, 0xb8, 0x9d]);
  assert.deepEqual(bytes('send-ctrl-alt-f1'), [0x1d, 0x38, 0x3b, 0xbb, 0xb8, 0x9d]);
  assert.deepEqual(bytes('send-ctrl-alt-f11'), [0x1d, 0x38, 0x57, 0xd7, 0xb8, 0x9d]);
  assert.deepEqual(bytes('send-ctrl-alt-f12'), [0x1d, 0x38, 0x58, 0xd8, 0xb8, 0x9d]);
  assert.deepEqual(bytes('send-print'), [0xe0, 0x37, 0xe0, 0xb7]);
  assert.deepEqual(bytes('send-pause'), [0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5]);
  assert.equal(bytes('zoom-in'), undefined);
  assert.throws(() => sequenceBytes(['NoSuchKey']), KeySequenceError);
});

test('custom sequences: modifier words, key names and aliases, KeyboardEvent codes; unknown names are coded errors', () => {
  assert.deepEqual(parseKeySequence('ctrl+alt+f5'), ['ControlLeft', 'AltLeft', 'F5']);
  assert.deepEqual(parseKeySequence(' Shift + rctrl  Escape '), ['ShiftLeft', 'ControlRight', 'Escape']);
  assert.deepEqual(parseKeySequence('super,l'), ['MetaLeft', 'KeyL']);
  assert.deepEqual(parseKeySequence('ctrl+alt+del'), ['ControlLeft', 'AltLeft', 'Delete']);
  assert.deepEqual(parseKeySequence('Print'), ['PrintScreen']);
  assert.deepEqual(parseKeySequence('ControlLeft+KeyC'), ['ControlLeft', 'KeyC']);
  for (const bad of ['', '   ', 'ctrl+nosuchkey', 'plus', 'a+'.repeat(17)]) {
    assert.throws(() => parseKeySequence(bad), (e: KeySequenceError) => e.code === 'BAD_KEY_SEQUENCE' && e.message.length > 0, JSON.stringify(bad));
  }
});

test('screenshot file names and the guest details rows', () => {
  const t = new Date(2026, 0, 2, 3, 4, 5);
  assert.equal(screenshotName('win10 (test)', t), 'win10_test_-20260102-030405.png');
  assert.equal(screenshotName(undefined, t), 'guest-20260102-030405.png');
  assert.equal(screenshotName('../../etc', t), 'etc-20260102-030405.png');
  const rows = Object.fromEntries(guestDetailRows({ state: 'connected', message: '', name: 'vm1', uuid: 'u-1', channels: ['main', 'display'], app: { target: 'spice://h:1' } }));
  assert.deepEqual(rows, { State: 'connected', Address: 'spice://h:1', Name: 'vm1', UUID: 'u-1', 'Mouse mode': '—', 'Round trip': '— (measured while the pointer moves)', Channels: 'main, display', Encryption: 'none (plain TCP)', 'Video codec': '— (no video stream yet)', 'Audio codec': '— (no sound yet)' });
  const codecs = Object.fromEntries(guestDetailRows({ state: 'connected', message: '', app: { codecs: { video: 'VP8', audio: 'Opus' } } }));
  assert.deepEqual([codecs['Video codec'], codecs['Audio codec']], ['VP8 (the last video stream)', 'Opus']);
  const tls = (secureChannels: string[]) => Object.fromEntries(guestDetailRows({ state: 'connected', message: '', channels: ['main', 'display 0'], secureChannels })).Encryption;
  assert.equal(tls(['main', 'display 0']), 'TLS on every channel');
  assert.equal(tls(['main']), 'TLS on main; plain: display 0');
  const measured = Object.fromEntries(guestDetailRows({ state: 'connected', message: '', app: { latencyMs: 0.2 } }));
  assert.equal(measured['Round trip'], '0.2 ms (input to the server and back)');
});

test('Help → About rows: version, runtime, protocol, then one row per area the client speaks', () => {
  const about = { version: '1.2.3', runtime: 'Node 20.0.0', protocol: 'SPICE 2.2', features: ['Sound: raw PCM and Opus', 'plain'] };
  assert.deepEqual(aboutRows({ state: 'idle', message: '', app: { about } }), [
    ['Version', '1.2.3'],
    ['Runs on', 'Node 20.0.0'],
    ['Protocol', 'SPICE 2.2'],
    ['Sound', 'raw PCM and Opus'],
    ['', 'plain'],
  ]);
  assert.deepEqual(aboutRows({ state: 'idle', message: '' }), [['Version', '—']]);
});

test("scale to window: the largest box of the guest's aspect inside the viewport, in whole pixels", () => {
  assert.deepEqual(fittedSize(1024, 768, 1280, 600), { width: 800, height: 600 });
  assert.deepEqual(fittedSize(1024, 768, 512, 1000), { width: 512, height: 384 });
  assert.deepEqual(fittedSize(1024, 768, 2048, 1536), { width: 2048, height: 1536 });
  assert.deepEqual(fittedSize(1000, 3, 7, 7), { width: 7, height: 1 });
  // nothing to fit (no surface, a hidden viewport): the natural size
  assert.deepEqual(fittedSize(0, 0, 800, 600), { width: 0, height: 0 });
  assert.deepEqual(fittedSize(1024, 768, 0, 600), { width: 1024, height: 768 });
});

test('View → Display N: one toggle per further display channel, ticked unless hidden; both faces from one commandState', async () => {
  const { commandState } = await import('../../preload/commands');
  const st = commandState('web', { state: 'connected', message: '', channels: ['main', 'display 0', 'display 1', 'inputs'], app: { hiddenDisplays: [1] } });
  assert.deepEqual([st.displays, st.hiddenDisplays], [2, [1]]);
  const items = commandItems(st, undefined).filter((i) => i.id.startsWith('display-'));
  assert.deepEqual(items.map((i) => [i.id, i.label, i.group, i.checked]), [['display-1', 'Display 2', 'View', false]]);
  const one = commandItems(commandState('electron', { state: 'connected', message: '', channels: ['main', 'display 0'] }), undefined);
  assert.equal(one.filter((i) => i.id.startsWith('display-')).length, 0, 'one display: no toggle');
  const menu = menuTemplate({ ...commandState('electron', { state: 'connected', message: '', channels: ['display 0', 'display 1', 'display 2'] }) }, undefined, () => {});
  const view = (menu.find((m) => m.label === '&View')?.submenu as { id?: string; checked?: boolean }[]).filter((i) => i.id?.startsWith('display-'));
  assert.deepEqual(view.map((i) => [i.id, i.checked]), [['display-1', true], ['display-2', true]]);
});

test('window titles as remote-viewer builds them: --title with %d, the guest name, the grab hint', async () => {
  const { windowTitle } = await import('../../preload/title');
  const s = (app: Record<string, unknown>, name?: string) => ({ state: 'connected' as const, message: '', ...(name ? { name } : {}), app });
  assert.equal(windowTitle(s({}), 0), 'SPICE viewer');
  assert.equal(windowTitle(s({ target: 'h:5900' }), 0), 'h:5900 - SPICE viewer');
  assert.equal(windowTitle(s({ target: 'h:5900' }, 'win10'), 1), 'win10 (2) - SPICE viewer');
  assert.equal(windowTitle(s({ title: 'Payroll' }, 'win10'), 0), 'Payroll');
  assert.equal(windowTitle(s({ title: 'Payroll' }), 1), 'Payroll (2)');
  assert.equal(windowTitle(s({ title: 'Desk %d' }), 0), 'Desk 1');
  assert.equal(windowTitle(s({}, 'win10'), 0, 'Ctrl+Alt'), '(Press Ctrl+Alt to release pointer) win10 - SPICE viewer');
});
