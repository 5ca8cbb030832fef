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
  for (const s of [guestSizeFor(10, 5, 1, 400), guestSizeFor(99999, 99999, 3, 10)]) VIEWER_REQUESTS.resizeGuest([s.width, s.height]);
});
