// KeyboardEvent.code → set-1 scancode (renderer) → SPICE KEY_DOWN/KEY_UP u32
// (engine codec), checked against a PC AT scan code set 1 table written out
// here independently (make codes as byte sequences, as the keyboard would send them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { set1Scancode, KeyboardTracker } from '../../renderer/input/keyboard';
import { keyCode } from '../../main/spice/messages/inputs';

// code → make bytes (set 1). Break = last byte | 0x80 (with the same E0 prefix).
const MAKE: [string, number[]][] = [
  ['Escape', [0x01]], ['Digit1', [0x02]], ['Digit2', [0x03]], ['Digit3', [0x04]], ['Digit4', [0x05]],
  ['Digit5', [0x06]], ['Digit6', [0x07]], ['Digit7', [0x08]], ['Digit8', [0x09]], ['Digit9', [0x0a]],
  ['Digit0', [0x0b]], ['Minus', [0x0c]], ['Equal', [0x0d]], ['Backspace', [0x0e]], ['Tab', [0x0f]],
  ['KeyQ', [0x10]], ['KeyW', [0x11]], ['KeyE', [0x12]], ['KeyR', [0x13]], ['KeyT', [0x14]],
  ['KeyY', [0x15]], ['KeyU', [0x16]], ['KeyI', [0x17]], ['KeyO', [0x18]], ['KeyP', [0x19]],
  ['BracketLeft', [0x1a]], ['BracketRight', [0x1b]], ['Enter', [0x1c]], ['ControlLeft', [0x1d]],
  ['KeyA', [0x1e]], ['KeyS', [0x1f]], ['KeyD', [0x20]], ['KeyF', [0x21]], ['KeyG', [0x22]],
  ['KeyH', [0x23]], ['KeyJ', [0x24]], ['KeyK', [0x25]], ['KeyL', [0x26]], ['Semicolon', [0x27]],
  ['Quote', [0x28]], ['Backquote', [0x29]], ['ShiftLeft', [0x2a]], ['Backslash', [0x2b]],
  ['KeyZ', [0x2c]], ['KeyX', [0x2d]], ['KeyC', [0x2e]], ['KeyV', [0x2f]], ['KeyB', [0x30]],
  ['KeyN', [0x31]], ['KeyM', [0x32]], ['Comma', [0x33]], ['Period', [0x34]], ['Slash', [0x35]],
  ['ShiftRight', [0x36]], ['NumpadMultiply', [0x37]], ['AltLeft', [0x38]], ['Space', [0x39]],
  ['CapsLock', [0x3a]], ['F1', [0x3b]], ['F2', [0x3c]], ['F3', [0x3d]], ['F4', [0x3e]], ['F5', [0x3f]],
  ['F6', [0x40]], ['F7', [0x41]], ['F8', [0x42]], ['F9', [0x43]], ['F10', [0x44]],
  ['NumLock', [0x45]], ['ScrollLock', [0x46]], ['Numpad7', [0x47]], ['Numpad8', [0x48]],
  ['Numpad9', [0x49]], ['NumpadSubtract', [0x4a]], ['Numpad4', [0x4b]], ['Numpad5', [0x4c]],
  ['Numpad6', [0x4d]], ['NumpadAdd', [0x4e]], ['Numpad1', [0x4f]], ['Numpad2', [0x50]],
  ['Numpad3', [0x51]], ['Numpad0', [0x52]], ['NumpadDecimal', [0x53]], ['IntlBackslash', [0x56]],
  ['F11', [0x57]], ['F12', [0x58]],
  ['F13', [0x64]], ['F14', [0x65]], ['F15', [0x66]], ['F16', [0x67]], ['F17', [0x68]], ['F18', [0x69]],
  ['F19', [0x6a]], ['F20', [0x6b]], ['F21', [0x6c]], ['F22', [0x6d]], ['F23', [0x6e]], ['F24', [0x76]],
  ['IntlRo', [0x73]], ['IntlYen', [0x7d]],
  ['NumpadEnter', [0xe0, 0x1c]], ['ControlRight', [0xe0, 0x1d]], ['NumpadDivide', [0xe0, 0x35]],
  ['PrintScreen', [0xe0, 0x37]], ['AltRight', [0xe0, 0x38]], ['Home', [0xe0, 0x47]],
  ['ArrowUp', [0xe0, 0x48]], ['PageUp', [0xe0, 0x49]], ['ArrowLeft', [0xe0, 0x4b]],
  ['ArrowRight', [0xe0, 0x4d]], ['End', [0xe0, 0x4f]], ['ArrowDown', [0xe0, 0x50]],
  ['PageDown', [0xe0, 0x51]], ['Insert', [0xe0, 0x52]], ['Delete', [0xe0, 0x53]],
  ['MetaLeft', [0xe0, 0x5b]], ['MetaRight', [0xe0, 0x5c]], ['ContextMenu', [0xe0, 0x5d]],
  ['OSLeft', [0xe0, 0x5b]], ['OSRight', [0xe0, 0x5c]],
];

/** The u32 SPICE sends: bytes packed little-endian, in the order the guest receives them. */
const pack = (bytes: number[]): number => bytes.reduce((acc, b, i) => acc + b * 2 ** (8 * i), 0);

/** What the engine sends for a KeyboardEvent.code: the renderer's scancode through the engine's encoder. */
function wire(code: string, down: boolean): number | undefined {
  const sc = set1Scancode(code);
  return sc === undefined ? undefined : keyCode(sc, down);
}

test('every key in the set-1 table maps to the right KEY_DOWN / KEY_UP u32', () => {
  for (const [code, make] of MAKE) {
    const brk = [...make.slice(0, -1), make[make.length - 1] | 0x80];
    assert.equal(wire(code, true), pack(make), `${code} down`);
    assert.equal(wire(code, false), pack(brk), `${code} up`);
  }
});

test('spot checks in the form spice-gtk documents', () => {
  assert.equal(wire('KeyA', true), 0x1e);
  assert.equal(wire('KeyA', false), 0x9e);
  assert.equal(wire('AltRight', true), 0x38e0); // AltGr = E0 38
  assert.equal(wire('AltRight', false), 0xb8e0);
  assert.equal(wire('ArrowUp', true), 0x48e0);
});

test("the tracker's key events carry the set-1 scancode the table gives", () => {
  for (const [code, make] of MAKE) {
    const kb = new KeyboardTracker();
    const [down] = kb.keyDown(code);
    const [up] = kb.keyUp(code);
    assert.ok(down.t === 'key' && up.t === 'key');
    const sc = make.length === 2 ? 0x100 | make[1] : make[0];
    assert.deepEqual([down.scancode, down.down, up.scancode, up.down], [sc, true, sc, false], code);
  }
});

test('unknown codes map to nothing', () => {
  for (const code of ['', 'Unidentified', 'Fn', 'Pause', 'toString', '__proto__', 'constructor']) {
    assert.equal(set1Scancode(code), undefined, code);
  }
  assert.deepEqual(new KeyboardTracker().keyDown('Fn'), []);
});

test('tracker releases held keys on releaseAll', () => {
  const kb = new KeyboardTracker();
  kb.keyDown('ShiftLeft');
  kb.keyDown('KeyA');
  kb.keyDown('ControlRight');
  kb.keyUp('KeyA');
  const rel = kb.releaseAll();
  assert.deepEqual(rel, [
    { t: 'key', scancode: 0x2a, down: false },
    { t: 'key', scancode: 0x11d, down: false },
    { t: 'releaseAllKeys' },
  ]);
  assert.equal(kb.isDown('ShiftLeft'), false);
  assert.deepEqual(kb.releaseAll(), [{ t: 'releaseAllKeys' }]);
});
