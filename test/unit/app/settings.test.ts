// Installed-app settings: round trip in a temp dir, never a password, atomic
// write, corrupt/hostile files sanitised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_RECENT, SETTINGS_FILE, addRecent, defaultSettings, loadSettings, openSettingsStore, saveSettings, settingsDir, stripPassword } from '../../../main/app/settings';

const withDir = async (fn: (dir: string) => Promise<void>): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'settings-test-'));
  try {
    await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

test('stripPassword removes password= and user:password@', () => {
  assert.equal(stripPassword('spice://h?port=5900&password=s3cret&tls-port=5901'), 'spice://h?port=5900&tls-port=5901');
  assert.equal(stripPassword('spice://h?password=s3cret'), 'spice://h');
  assert.equal(stripPassword('spice://h?port=1;password=x'), 'spice://h?port=1');
  assert.equal(stripPassword('ws://user:pw@h:80/x'), 'ws://user@h:80/x');
  assert.equal(stripPassword('spice://h:5900'), 'spice://h:5900');
});

test('settings: missing file → defaults; save/load round trip; no password on disk', async () => {
  await withDir(async (dir) => {
    assert.deepEqual(await loadSettings(dir), defaultSettings());
    let s = defaultSettings();
    s = addRecent(s, 'spice://a:5900?password=topsecret', 1000, 'VM A');
    s = addRecent(s, 'spice://b:5901', 2000);
    s = addRecent(s, 'spice://a:5900', 3000); // same target again: moves to the front
    s = { ...s, zoom: 150, shareClipboard: false };
    await saveSettings(dir, s);
    const text = readFileSync(join(dir, SETTINGS_FILE), 'utf8');
    assert.ok(!text.includes('topsecret'), text);
    assert.deepEqual(readdirSync(dir), [SETTINGS_FILE], 'no temp file left behind');
    assert.equal(statSync(join(dir, SETTINGS_FILE)).mode & 0o077, 0, 'settings are private to the user');
    const back = await loadSettings(dir);
    assert.deepEqual(back, {
      version: 1,
      zoom: 150,
      shareClipboard: false,
      autoResize: true,
      sharedFolderReadOnly: false,
      shareFolder: false,
      recent: [
        { uri: 'spice://a:5900', lastUsed: 3000 },
        { uri: 'spice://b:5901', lastUsed: 2000 },
      ],
    });
  });
});

test('settings: hostile or corrupt files are sanitised', async () => {
  await withDir(async (dir) => {
    writeFileSync(join(dir, SETTINGS_FILE), '{not json');
    assert.deepEqual(await loadSettings(dir), defaultSettings());
    const recent = Array.from({ length: 30 }, (_, i) => ({ uri: `spice://h${i}:5900?password=p${i}`, lastUsed: i, password: 'x' }));
    writeFileSync(join(dir, SETTINGS_FILE), JSON.stringify({ zoom: 9999, shareClipboard: 'yes', password: 'leak', recent: [...recent, 42, { uri: 5 }] }));
    const s = await loadSettings(dir);
    assert.equal(s.zoom, 100);
    assert.equal(s.shareClipboard, true);
    assert.equal(s.recent.length, MAX_RECENT);
    assert.ok(!JSON.stringify(s).includes('password'), JSON.stringify(s));
    assert.ok(!('password' in s));
  });
});

test("the web host finds the app's settings directory; the store saves each recent connect in order, without passwords", async () => {
  assert.equal(settingsDir({ SPICE_VIEWER_CONFIG_DIR: '/x/y' }, '/home/u'), '/x/y');
  assert.equal(settingsDir({ XDG_CONFIG_HOME: '/cfg' }, '/home/u'), '/cfg/spice-viewer');
  assert.equal(settingsDir({}, '/home/u'), '/home/u/.config/spice-viewer');
  await withDir(async (dir) => {
    const errors: Error[] = [];
    let t = 0;
    const store = await openSettingsStore(dir, (e) => errors.push(e), () => ++t);
    assert.deepEqual(store.recent(), []);
    store.addRecent('spice://a:1?password=s3cret');
    store.addRecent('spice://b:2', 'VM b');
    store.addRecent('spice://a:1');
    assert.deepEqual(store.recent(), ['spice://a:1', 'spice://b:2']);
    // the last write lands last: a second store reads what the first one said
    const deadline = Date.now() + 5000;
    let back = await openSettingsStore(dir, (e) => errors.push(e));
    while (back.recent().join() !== 'spice://a:1,spice://b:2' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      back = await openSettingsStore(dir, (e) => errors.push(e));
    }
    assert.deepEqual(back.current.recent, [{ uri: 'spice://a:1', lastUsed: 3 }, { uri: 'spice://b:2', title: 'VM b', lastUsed: 2 }]);
    assert.ok(!readFileSync(join(dir, SETTINGS_FILE), 'utf8').includes('s3cret'));
    assert.deepEqual(errors, []);
  });
  // a directory that cannot be made (a file is in the way) is reported, not thrown
  await withDir(async (dir) => {
    writeFileSync(join(dir, 'file'), 'x');
    const errors: Error[] = [];
    const store = await openSettingsStore(join(dir, 'file', 'sub'), (e) => errors.push(e));
    store.addRecent('spice://c:3');
    const end = Date.now() + 5000;
    while (!errors.length && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.match(errors[0]?.message ?? '', /ENOTDIR|EEXIST/);
  });
});

test('preferences and the zoom are saved; values out of range or of the wrong type are not', async () => {
  await withDir(async (dir) => {
    const errors: Error[] = [];
    const store = await openSettingsStore(dir, (e) => errors.push(e));
    assert.equal(store.current.autoResize, true);
    assert.equal(store.current.displayWindows, undefined, 'unset: the host decides');
    store.setPreferences({ zoom: 125, autoResize: false, displayWindows: false });
    store.setPreferences({ zoom: 9999 } as never);
    store.setPreferences({ autoResize: 'no' } as never);
    assert.deepEqual([store.current.zoom, store.current.autoResize, store.current.displayWindows], [125, false, false]);
    const deadline = Date.now() + 5000;
    let back = await loadSettings(dir);
    while (back.zoom !== 125 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      back = await loadSettings(dir);
    }
    assert.deepEqual([back.zoom, back.autoResize, back.displayWindows], [125, false, false]);
    assert.deepEqual(errors, []);
  });
});

test('Preferences dialog view: the saved choices, the host default for display windows, what the command line fixed', async () => {
  const { preferenceView } = await import('../../../renderer/ui/preferences');
  const v = preferenceView({ state: 'connected', message: '', app: { autoResize: false, clipboard: { policy: 'to-guest', page: true }, preferences: { autoResize: true, fixed: ['autoResize'] } } }, true);
  assert.deepEqual(v, {
    shareClipboard: { checked: true, fixed: false },
    autoResize: { checked: false, fixed: true },
    displayWindows: { checked: true, fixed: false },
  });
  const w = preferenceView({ state: 'idle', message: '', app: { clipboard: { policy: 'off', page: false }, preferences: { autoResize: true, displayWindows: false, fixed: ['clipboard'] } } }, true);
  assert.deepEqual([w.shareClipboard, w.displayWindows.checked], [{ checked: false, fixed: true }, false]);
});

test('the shared folder is saved (path, read-only, shared); a hand-edited one is sanitised', async () => {
  await withDir(async (dir) => {
    const errors: Error[] = [];
    const store = await openSettingsStore(dir, (e) => errors.push(e));
    assert.deepEqual(store.sharedFolder(), { readOnly: false, shared: false }, 'nothing shared by default (remote-viewer: off)');
    store.setSharedFolder({ dir: '/home/me/Public', readOnly: true, shared: true });
    assert.deepEqual(store.sharedFolder(), { dir: '/home/me/Public', readOnly: true, shared: true });
    store.setSharedFolder({ dir: 'relative/path', readOnly: false, shared: true });
    assert.deepEqual(store.sharedFolder(), { readOnly: false, shared: false }, 'no absolute folder: none, and nothing shared');
    store.setSharedFolder({ dir: '/srv/share', readOnly: false, shared: false });
    const deadline = Date.now() + 5000;
    let back = await loadSettings(dir);
    while (back.sharedFolder !== '/srv/share' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
      back = await loadSettings(dir);
    }
    assert.deepEqual([back.sharedFolder, back.sharedFolderReadOnly, back.shareFolder], ['/srv/share', false, false]);
    assert.deepEqual(errors, []);
  });
  await withDir(async (dir) => {
    writeFileSync(join(dir, SETTINGS_FILE), JSON.stringify({ sharedFolder: 'C:rel', sharedFolderReadOnly: 'yes', shareFolder: true }));
    const s = await loadSettings(dir);
    assert.deepEqual([s.sharedFolder, s.sharedFolderReadOnly, s.shareFolder], [undefined, false, false]);
    writeFileSync(join(dir, SETTINGS_FILE), JSON.stringify({ sharedFolder: '/a\u0000b', shareFolder: true }));
    assert.equal((await loadSettings(dir)).sharedFolder, undefined);
    writeFileSync(join(dir, SETTINGS_FILE), JSON.stringify({ sharedFolder: `/${'x'.repeat(5000)}` }));
    assert.equal((await loadSettings(dir)).sharedFolder, undefined);
  });
});
