// The guest size the page asks for when the window changes (auto-resize):
// device pixels of the display area divided by the zoom, widths in multiples
// of 8 (X rounds others and the window would not match), within the limits
// the request table accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { guestSizeFor } from '../../renderer/ui/guest-resize';
import { VIEWER_REQUESTS } from '../../preload/requests';

test('guestSizeFor: device pixels / zoom, widths rounded down to 8, clamped to what resizeGuest accepts', () => {
  assert.deepEqual(guestSizeFor(1100, 708, 1, 100), { width: 1096, height: 708 });
  assert.deepEqual(guestSizeFor(1100, 708, 2, 100), { width: 2200, height: 1416 }, 'HiDPI: device pixels');
  assert.deepEqual(guestSizeFor(1100, 708, 1, 125), { width: 880, height: 566 });
  assert.deepEqual(guestSizeFor(10, 5, 1, 100), { width: 320, height: 200 }, 'a window shrunk to nothing');
  assert.deepEqual(guestSizeFor(40000, 30000, 1, 100), { width: 16384, height: 16384 });
  for (const s of [guestSizeFor(10, 5, 1, 400), guestSizeFor(99999, 99999, 3, 10)]) VIEWER_REQUESTS.resizeGuest([s.width, s.height, 0]);
});

test('monitorsLayout: one display follows its window; several go side by side once each has a window of its own', async () => {
  const { monitorsLayout } = await import('../../main/app/guest-monitors');
  const sizes = new Map([[0, { width: 1280, height: 800 }]]);
  assert.deepEqual(monitorsLayout(sizes, 1), [{ width: 1280, height: 800, depth: 32, x: 0, y: 0 }]);
  assert.deepEqual(monitorsLayout(sizes, 0), [{ width: 1280, height: 800, depth: 32, x: 0, y: 0 }], 'before a display channel links');
  assert.equal(monitorsLayout(sizes, 2), null, 'display 1 shown in the page has no size: nothing is asked (it would turn display 1 off)');
  sizes.set(1, { width: 1024, height: 768 });
  assert.deepEqual(monitorsLayout(sizes, 2), [
    { width: 1280, height: 800, depth: 32, x: 0, y: 0 },
    { width: 1024, height: 768, depth: 32, x: 1280, y: 0 },
  ]);
  assert.equal(monitorsLayout(new Map([[1, { width: 1024, height: 768 }]]), 2), null, 'no size for display 0 yet');
});
