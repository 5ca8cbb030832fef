// Electron shell end to end (Playwright's _electron): the window opens the
// built renderer sandboxed, with only window.spiceViewer exposed.
// Skips — and says why — when no Electron binary is installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { _electron } from 'playwright-core';
import { REQUEST_NAMES } from '../../preload/requests';

const MAIN = fileURLToPath(new URL('../../dist/main/electron.cjs', import.meta.url));

function electronBinary(): { path?: string; why?: string } {
  try {
    // The electron package exports the binary path; it throws when the binary was never downloaded.
    const p = createRequire(import.meta.url)('electron') as unknown;
    if (typeof p !== 'string') return { why: 'the electron package did not return a binary path' };
    if (!existsSync(p)) return { why: `Electron binary ${p} does not exist` };
    return { path: p };
  } catch (e) {
    return { why: `no Electron binary installed (node_modules/electron has no dist/: its postinstall download is not possible here): ${(e as Error).message.split('\n')[0]}` };
  }
}

const bin = electronBinary();

test('electron shell: sandboxed window with only the ViewerApi exposed', { skip: bin.path ? false : bin.why, timeout: 120_000 }, async () => {
  assert.ok(existsSync(MAIN), 'dist/main/electron.cjs is missing: run `npm run build` first');
  const app = await _electron.launch({ executablePath: bin.path, args: ['--no-sandbox', MAIN], env: { ...process.env, ELECTRON_ENABLE_LOGGING: '1' } });
  try {
    const win = await app.firstWindow();
    await win.waitForSelector('#status');
    assert.match((await win.textContent('#status')) ?? '', /^(idle|disconnected)/);
    assert.equal(new URL(win.url()).protocol, 'app:');
    const probe = await win.evaluate(() => ({
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
      api: Object.keys((window as unknown as { spiceViewer: object }).spiceViewer).sort(),
    }));
    // exactly the request table's methods plus `on` (test/unit/requests.test.ts checks the preload against the table)
    assert.deepEqual(probe, { require: 'undefined', process: 'undefined', api: [...REQUEST_NAMES, 'on'].sort() });
    const prefs = await app.evaluate(({ BrowserWindow }) => {
      const w = BrowserWindow.getAllWindows()[0];
      const wc = w.webContents as unknown as { getLastWebPreferences(): Record<string, unknown> | null };
      return { count: BrowserWindow.getAllWindows().length, prefs: wc.getLastWebPreferences() };
    });
    assert.equal(prefs.count, 1);
    assert.equal(prefs.prefs?.sandbox, true);
    assert.equal(prefs.prefs?.contextIsolation, true);
    assert.equal(prefs.prefs?.nodeIntegration, false);
    // Navigation away from the app origin is refused.
    // will-navigate fires (and is prevented) before any request: wait for the attempt, then check where we are
    const attempted = app.evaluate(
      ({ BrowserWindow }) =>
        new Promise<string>((ok) => BrowserWindow.getAllWindows()[0].webContents.once('will-navigate', (_e, url) => setImmediate(() => ok(url)))),
    );
    await win.evaluate(() => {
      location.href = 'https://example.invalid/';
    });
    assert.equal(await attempted, 'https://example.invalid/');
    assert.equal(new URL(win.url()).protocol, 'app:');
  } finally {
    await app.close();
  }
});
