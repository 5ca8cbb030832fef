// Pointer → SPICE inputs events: coordinates, button masks, wheel clicks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PointerTracker } from '../../renderer/input/pointer';

const g = { left: 10, top: 20, width: 400, height: 300, surfaceWidth: 800, surfaceHeight: 600 };

test('client mode: page → surface coordinates, scaled and clamped', () => {
  const p = new PointerTracker();
  assert.deepEqual(p.move('client', g, { clientX: 110, clientY: 70, movementX: 0, movementY: 0 }), [{ t: 'mousePosition', x: 200, y: 100, buttons: 0, displayId: 0 }]);
  assert.deepEqual(p.move('client', g, { clientX: -50, clientY: 9999, movementX: 0, movementY: 0 }), [{ t: 'mousePosition', x: 0, y: 599, buttons: 0, displayId: 0 }]);
  assert.deepEqual(p.move('client', g, { clientX: 110, clientY: 70, movementX: 0, movementY: 0 }, 1), [{ t: 'mousePosition', x: 200, y: 100, buttons: 0, displayId: 1 }], 'on the second display');
});

test('server mode: relative motion, zero motion dropped', () => {
  const p = new PointerTracker();
  assert.deepEqual(p.move('server', g, { clientX: 0, clientY: 0, movementX: 3, movementY: -2 }), [{ t: 'mouseMotion', dx: 3, dy: -2, buttons: 0 }]);
  assert.deepEqual(p.move('server', g, { clientX: 0, clientY: 0, movementX: 0, movementY: 0 }), []);
});

test('buttons: SPICE numbers and masks (LEFT=1, MIDDLE=2, RIGHT=4)', () => {
  const p = new PointerTracker();
  assert.deepEqual(p.button(0, true), [{ t: 'mouseButton', button: 1, down: true, buttons: 1 }]);
  assert.deepEqual(p.button(2, true), [{ t: 'mouseButton', button: 3, down: true, buttons: 5 }]);
  assert.deepEqual(p.button(1, true), [{ t: 'mouseButton', button: 2, down: true, buttons: 7 }]);
  assert.deepEqual(p.button(0, true), [], 'no duplicate press');
  assert.deepEqual(p.button(0, false), [{ t: 'mouseButton', button: 1, down: false, buttons: 6 }]);
  assert.deepEqual(p.releaseAll(), [
    { t: 'mouseButton', button: 2, down: false, buttons: 4 },
    { t: 'mouseButton', button: 3, down: false, buttons: 0 },
  ]);
  assert.deepEqual(p.button(9, true), []);
});

test('wheel: one UP/DOWN click per notch, smooth deltas accumulate', () => {
  const p = new PointerTracker();
  assert.deepEqual(p.wheel(-100, 0), [
    { t: 'mouseButton', button: 4, down: true, buttons: 8 },
    { t: 'mouseButton', button: 4, down: false, buttons: 0 },
  ]);
  assert.deepEqual(p.wheel(3, 1).map((e) => e.t === 'mouseButton' && e.button), [5, 5]);
  assert.deepEqual(p.wheel(20, 0), []);
  assert.deepEqual(p.wheel(20, 0), []);
  assert.deepEqual(p.wheel(20, 0).map((e) => e.t === 'mouseButton' && e.button), [5, 5]);
});
