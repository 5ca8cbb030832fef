// Installed-app settings: round trip in a temp dir, never a password, atomic
// write, corrupt/hostile files sanitised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_RECENT, SETTINGS_FILE, addRecent, defaultSettings, loadSettings, saveSettings, stripPassword } from '../../../main/app/settings';

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
