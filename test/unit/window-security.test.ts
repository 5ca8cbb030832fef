// The Electron window factory's security settings, checked without loading
// Electron (app-window.ts only imports types from it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { APP_CSP, APP_URL, appWindowOptions, isAppUrl, isTrustedSender, windowOpenAnswer } from '../../main/windows/app-window';
import { displayWindowName } from '../../renderer/ui/display-windows';

test('webPreferences lock the renderer down', () => {
  const o = appWindowOptions('/opt/viewer/dist/preload/index.cjs');
  const wp = o.webPreferences ?? {};
  assert.equal(wp.sandbox, true);
  assert.equal(wp.contextIsolation, true);
  assert.equal(wp.nodeIntegration, false);
  assert.equal(wp.nodeIntegrationInWorker, false);
  assert.equal(wp.nodeIntegrationInSubFrames, false);
  assert.equal(wp.webviewTag, false);
  assert.equal(wp.webSecurity, true);
  assert.equal(wp.allowRunningInsecureContent, false);
  assert.equal(wp.preload, '/opt/viewer/dist/preload/index.cjs');
  assert.throws(() => appWindowOptions('dist/preload/index.cjs'), /absolute/);
});

test('CSP is strict: self only, no eval (WebAssembly only), no inline script', () => {
  const directives = new Map(APP_CSP.split(';').map((d) => { const [k, ...v] = d.trim().split(/\s+/); return [k, v]; }));
  assert.deepEqual(directives.get('default-src'), ["'self'"]);
  // WebAssembly compilation (the display worker's decoders), not eval
  assert.deepEqual(directives.get('script-src'), ["'self'", "'wasm-unsafe-eval'"]);
  assert.deepEqual(directives.get('worker-src'), ["'self'"]);
  assert.deepEqual(directives.get('object-src'), ["'none'"]);
  assert.ok(!APP_CSP.includes("'unsafe-eval'"));
  assert.ok(!APP_CSP.includes('unsafe-inline'));
  // The page's own meta CSP agrees.
  const html = readFileSync(new URL('../../renderer/index.html', import.meta.url), 'utf8');
  const meta = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html);
  assert.ok(meta, 'index.html has a CSP meta tag');
  assert.ok(!meta[1].includes('unsafe-eval') && !meta[1].includes('unsafe-inline'));
  assert.match(meta[1], /default-src 'self'/);
  assert.doesNotMatch(html, /<script>[^<]/, 'no inline script');
});

test('navigation is confined to the app origin', () => {
  assert.equal(isAppUrl(APP_URL), true);
  assert.equal(isAppUrl('app://viewer/other.html'), true);
  for (const u of ['https://example.com/', 'file:///etc/passwd', 'app://evil/index.html', 'javascript:alert(1)', 'not a url']) {
    assert.equal(isAppUrl(u), false, u);
  }
});

test('IPC is accepted only from our window main frame', () => {
  const mainFrame = { url: APP_URL };
  const contents = { mainFrame };
  const win = { webContents: contents };
  assert.equal(isTrustedSender({ sender: contents, senderFrame: mainFrame }, win, contents), true);
  assert.equal(isTrustedSender({ sender: contents, senderFrame: { url: APP_URL } }, win, contents), false, 'subframe');
  assert.equal(isTrustedSender({ sender: {}, senderFrame: mainFrame }, win, contents), false, 'other webContents');
  assert.equal(isTrustedSender({ sender: contents, senderFrame: null }, win, contents), false);
  assert.equal(isTrustedSender({ sender: contents, senderFrame: mainFrame }, null, contents), false);
  const navigatedAway = { url: 'https://example.com/' };
  const w2 = { webContents: { mainFrame: navigatedAway } };
  assert.equal(isTrustedSender({ sender: w2.webContents, senderFrame: navigatedAway }, w2, w2.webContents), false, 'foreign page');
});

test('window.open: only a display\'s own empty window, locked down like ours, never in kiosk mode', () => {
  const ok = windowOpenAnswer({ url: 'about:blank', frameName: displayWindowName(1) }, false);
  assert.equal(ok.action, 'allow');
  const wp = ok.action === 'allow' ? (ok.overrideBrowserWindowOptions.webPreferences ?? {}) : {};
  assert.equal(wp.sandbox, true);
  assert.equal(wp.contextIsolation, true);
  assert.equal(wp.nodeIntegration, false);
  assert.equal(wp.devTools, false);
  assert.equal(wp.preload, undefined);
  for (const d of [
    { url: 'https://example.com/', frameName: displayWindowName(1) },
    { url: APP_URL, frameName: displayWindowName(1) },
    { url: 'about:blank', frameName: '' },
    { url: 'about:blank', frameName: 'spice-display-1x' },
    { url: 'about:blank', frameName: 'spice-display-123' },
  ]) {
    assert.equal(windowOpenAnswer(d, false).action, 'deny', JSON.stringify(d));
  }
  assert.equal(windowOpenAnswer({ url: 'about:blank', frameName: displayWindowName(1) }, true).action, 'deny');
});
