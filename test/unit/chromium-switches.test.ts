import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chromiumArgs, chromiumSwitches } from '../../main/windows/chromium-switches';

test('the app runs the GPU and network services in the browser process and keeps no spare renderer, on Linux only', () => {
  assert.deepEqual(chromiumArgs('linux'), ['--in-process-gpu', '--enable-features=NetworkServiceInProcess2', '--disable-features=SpareRendererForSitePerProcess']);
  // each feature switch once: Chromium keeps the last --enable-features/--disable-features it is given
  const names = chromiumSwitches('linux').map(([k]) => k);
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual(chromiumSwitches('win32'), []);
  assert.deepEqual(chromiumSwitches('darwin'), []);
});
