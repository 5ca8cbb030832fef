// Page hotkeys: accelerator matching on synthetic KeyboardEvent state, the
// release sequence, secure-attention scancodes, zoom steps and pointer mapping
// under zoom, and the bindings main sends (hotkeysForPage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HotkeyMatcher, ZOOM_MAX, ZOOM_MIN, matches, parseAccelerator, secureAttentionEvents, zoomAfter, zoomedSize, type KeyState } from '../../renderer/input/hotkeys';
import { PointerTracker } from '../../renderer/input/pointer';
import { hotkeysForPage } from '../../main/app/session-controller';
import { defaultHotkeys, mergeHotkeys } from '../../main/config/hotkeys';

const ev = (code: string, key: string, mods: Partial<KeyState> = {}): KeyState => ({ code, key, ctrlKey: false, altKey: false, shiftKey: false, metaKey: false, ...mods });

test('"ctrl+alt+f" matches only Ctrl+Alt+F (exact modifiers, by position)', () => {
  const acc = parseAccelerator('x', 'ctrl+alt+f')!;
  assert.deepEqual(acc, { action: 'x', ctrl: true, alt: true, shift: false, super: false, code: 'KeyF' });
  assert.equal(matches(acc, ev('KeyF', 'f', { ctrlKey: true, altKey: true })), true);
  assert.equal(matches(acc, ev('KeyF', 'f', { ctrlKey: true })), false, 'Alt missing');
  assert.equal(matches(acc, ev('KeyF', 'F', { ctrlKey: true, altKey: true, shiftKey: true })), false, 'extra Shift');
  assert.equal(matches(acc, ev('KeyG', 'g', { ctrlKey: true, altKey: true })), false);
});

test('"shift+f11" vs F11; modifier-only or two-key texts are not accelerators', () => {
  const acc = parseAccelerator('toggle-fullscreen', 'shift+f11')!;
  assert.equal(matches(acc, ev('F11', 'F11', { shiftKey: true })), true);
  assert.equal(matches(acc, ev('F11', 'F11')), false);
  assert.equal(matches(acc, ev('F12', 'F12', { shiftKey: true })), false);
  assert.equal(parseAccelerator('release-cursor', 'ctrl+alt'), null);
  assert.equal(parseAccelerator('x', 'a+b'), null);
});

test('<Ctrl>plus matches by character and ignores the Shift that types "+"', () => {
  const acc = parseAccelerator('zoom-in', { keys: ['ctrl', 'plus'] })!;
  assert.equal(matches(acc, ev('Equal', '+', { ctrlKey: true, shiftKey: true })), true, 'US layout: Shift+= is +');
  assert.equal(matches(acc, ev('BracketRight', '+', { ctrlKey: true })), true, 'German layout: + unshifted');
  assert.equal(matches(acc, ev('Equal', '=', { ctrlKey: true })), false);
  assert.equal(matches(acc, ev('Equal', '+', { shiftKey: true })), false, 'Ctrl missing');
});

test('main → page: default bindings as sent in AppState.hotkeys, and a .vv that clears them', () => {
  const sent = hotkeysForPage(defaultHotkeys());
  assert.deepEqual(sent.find((b) => b.action === 'secure-attention'), { action: 'secure-attention', keys: ['ctrl', 'alt', 'End'], code: 'End' });
  assert.deepEqual(sent.filter((b) => b.action === 'zoom-in'), [{ action: 'zoom-in', keys: ['ctrl', 'plus'] }, { action: 'zoom-in', keys: ['ctrl', 'KP_Add'], code: 'NumpadAdd' }]);
  assert.deepEqual(sent[sent.length - 1], { action: 'release-cursor', keys: ['Control_L', 'Alt_L'] });
  const vv = hotkeysForPage(mergeHotkeys([{ name: 'zoom-in', spec: 'ctrl+alt+z' }], [{ name: 'toggle-fullscreen', spec: 'shift+f11' }]));
  assert.deepEqual(vv, [{ action: 'toggle-fullscreen', keys: ['shift', 'F11'], code: 'F11' }, { action: 'release-cursor', keys: ['Control_L', 'Alt_L'] }]);
});

test('matcher: a matched key is swallowed down, repeat and up; the action fires once', () => {
  const m = new HotkeyMatcher();
  m.setBindings(hotkeysForPage(defaultHotkeys()));
  assert.deepEqual(m.keyDown(ev('ControlLeft', 'Control', { ctrlKey: true })), { send: true });
  assert.deepEqual(m.keyDown(ev('AltLeft', 'Alt', { ctrlKey: true, altKey: true })), { send: true });
  assert.deepEqual(m.keyDown(ev('End', 'End', { ctrlKey: true, altKey: true })), { send: false, action: 'secure-attention' });
  assert.deepEqual(m.keyDown(ev('End', 'End', { ctrlKey: true, altKey: true, repeat: true })), { send: false });
  assert.deepEqual(m.keyUp(ev('End', 'End', { ctrlKey: true, altKey: true })), { send: false });
  // Ctrl+Alt was interrupted by End: releasing it does not release the grab
  assert.deepEqual(m.keyUp(ev('AltLeft', 'Alt', { ctrlKey: true })), { send: true });
  assert.deepEqual(m.keyUp(ev('ControlLeft', 'Control')), { send: true });
  // an unbound key goes to the guest
  assert.deepEqual(m.keyDown(ev('KeyA', 'a')), { send: true });
});

test('matcher: Ctrl_L+Alt_L pressed and released alone releases the grab; kiosk disables everything', () => {
  const m = new HotkeyMatcher();
  m.setBindings(undefined); // an engine without AppState.hotkeys: the default sequence only
  m.keyDown(ev('ControlLeft', 'Control', { ctrlKey: true }));
  m.keyDown(ev('AltLeft', 'Alt', { ctrlKey: true, altKey: true }));
  assert.deepEqual(m.keyUp(ev('AltLeft', 'Alt', { ctrlKey: true })), { send: true, action: 'release-cursor' });
  m.keyUp(ev('ControlLeft', 'Control'));

  const k = new HotkeyMatcher();
  k.setBindings(hotkeysForPage(defaultHotkeys()));
  k.setDisabled(true);
  assert.deepEqual(k.keyDown(ev('F11', 'F11')), { send: true });
  k.keyDown(ev('ControlLeft', 'Control', { ctrlKey: true }));
  k.keyDown(ev('AltLeft', 'Alt', { ctrlKey: true, altKey: true }));
  assert.deepEqual(k.keyUp(ev('AltLeft', 'Alt', { ctrlKey: true })), { send: true });
});

test('matcher: a modifier-only release-cursor binding replaces the sequence', () => {
  const m = new HotkeyMatcher();
  m.setBindings([{ action: 'release-cursor', keys: ['Shift_R', 'Control_R'] }]);
  m.keyDown(ev('ControlLeft', 'Control', { ctrlKey: true }));
  m.keyDown(ev('AltLeft', 'Alt', { ctrlKey: true, altKey: true }));
  assert.deepEqual(m.keyUp(ev('AltLeft', 'Alt', { ctrlKey: true })), { send: true }, 'Ctrl_L+Alt_L no longer releases');
  m.keyUp(ev('ControlLeft', 'Control'));
  m.keyDown(ev('ShiftRight', 'Shift', { shiftKey: true }));
  m.keyDown(ev('ControlRight', 'Control', { shiftKey: true, ctrlKey: true }));
  assert.deepEqual(m.keyUp(ev('ShiftRight', 'Shift', { ctrlKey: true })), { send: true, action: 'release-cursor' });
});

test('secure-attention: Ctrl, Alt, E0 53 down, then up in reverse', () => {
  assert.deepEqual(secureAttentionEvents(), [
    { t: 'key', scancode: 0x1d, down: true },
    { t: 'key', scancode: 0x38, down: true },
    { t: 'key', scancode: 0x153, down: true },
    { t: 'key', scancode: 0x153, down: false },
    { t: 'key', scancode: 0x38, down: false },
    { t: 'key', scancode: 0x1d, down: false },
  ]);
});

test('zoom: 10 % steps, clamped to 10..400, reset to 100', () => {
  let z = 100;
  z = zoomAfter(z, 'zoom-in');
  assert.equal(z, 110);
  for (let i = 0; i < 50; i++) z = zoomAfter(z, 'zoom-in');
  assert.equal(z, ZOOM_MAX);
  for (let i = 0; i < 50; i++) z = zoomAfter(z, 'zoom-out');
  assert.equal(z, ZOOM_MIN);
  assert.equal(zoomAfter(z, 'zoom-reset'), 100);
  assert.equal(zoomAfter(130, 'toggle-fullscreen'), 130);
  assert.deepEqual(zoomedSize(800, 600, 150), { width: 1200, height: 900 });
  assert.deepEqual(zoomedSize(1024, 768, 90), { width: 922, height: 691 });
});

test('pointer mapping under zoom: the zoomed box maps back to guest pixels', () => {
  // 800x600 surface at 150 % → a 1200x900 box at (10, 20)
  const box = zoomedSize(800, 600, 150);
  const g = { left: 10, top: 20, width: box.width, height: box.height, surfaceWidth: 800, surfaceHeight: 600 };
  assert.deepEqual(PointerTracker.toSurface(g, 10 + 300, 20 + 150), { x: 200, y: 100 });
  assert.deepEqual(PointerTracker.toSurface(g, 10 + 1199, 20 + 899), { x: 799, y: 599 });
  // 50 %: every other guest pixel
  const half = zoomedSize(800, 600, 50);
  const h = { left: 0, top: 0, width: half.width, height: half.height, surfaceWidth: 800, surfaceHeight: 600 };
  assert.deepEqual(PointerTracker.toSurface(h, 123, 45), { x: 246, y: 90 });
});

test('the page and the config parser read key and modifier names from one table', async () => {
  const { KEY_NAMES, MODIFIER_NAMES } = await import('../../preload/hotkey-keys');
  const { parseHotkey } = await import('../../main/config/hotkeys');
  assert.ok(KEY_NAMES.size > 100);
  for (const [alias, k] of KEY_NAMES) {
    const cfg = parseHotkey(`ctrl+${alias}`);
    const page = parseAccelerator('x', `ctrl+${alias}`)!;
    assert.equal(cfg.key, k.gdk, alias);
    assert.equal(page.code, cfg.code, alias);
    if (cfg.code === undefined) assert.equal(page.key, k.char, alias);
  }
  for (const [word, m] of Object.entries(MODIFIER_NAMES)) {
    assert.equal(parseAccelerator('x', `${word}+f`)![m.mod], true, word);
    assert.equal(parseHotkey(`${word}+f`)[m.mod], true, word);
  }
});
