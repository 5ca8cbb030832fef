// electron-builder.yml without packaging: parsed with the js-yaml that ships
// with electron-builder, validated against electron-builder's own JSON schema,
// and checked for what the installed app needs — targets, the .vv association
// and MIME type (glob + "[virt-viewer]" magic), the spice:// scheme, the
// desktop entry, icons that exist at the sizes Linux wants, shipped files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const require = createRequire(import.meta.url);
const yaml = require('js-yaml') as { load(text: string): unknown };
const { validateSchema } = require('app-builder-lib/out/util/config/schemaValidator') as { validateSchema(schema: unknown, data: unknown, cfg?: { name?: string }): void };

type Cfg = Record<string, any>;
const cfg = yaml.load(readFileSync(`${ROOT}electron-builder.yml`, 'utf8')) as Cfg;

test('electron-builder.yml matches electron-builder\'s schema', () => {
  const scheme = JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8'));
  assert.doesNotThrow(() => validateSchema(scheme, cfg, { name: 'electron-builder.yml' }));
  // the validator does reject nonsense (so the check above means something)
  assert.throws(() => validateSchema(scheme, { ...cfg, linux: { ...cfg.linux, target: 42, bogus: true } }), /Invalid configuration object/);
});

test('targets: Linux AppImage/deb/rpm, Windows NSIS, macOS dmg', () => {
  assert.deepEqual(cfg.linux.target, ['AppImage', 'deb', 'rpm']);
  assert.deepEqual(cfg.win.target, ['nsis']);
  assert.deepEqual(cfg.mac.target, ['dmg']);
  assert.equal(cfg.executableName, 'spice-viewer');
});

test('.vv association, MIME type and spice:// scheme', () => {
  const vv = (cfg.fileAssociations as Cfg[]).find((f) => f.ext === 'vv');
  assert.ok(vv, 'a .vv file association');
  assert.equal(vv.mimeType, 'application/x-virt-viewer');
  const schemes = (cfg.protocols as Cfg[]).flatMap((p) => p.schemes as string[]);
  assert.ok(schemes.includes('spice'));
  for (const m of ['application/x-virt-viewer', 'x-scheme-handler/spice']) assert.ok(cfg.linux.mimeTypes.includes(m), m);
  const entry = cfg.linux.desktop.entry as Record<string, string>;
  assert.match(entry.Categories, /^(?:[A-Za-z]+;)+$/);
  assert.ok(entry.Categories.split(';').includes('Network'));
  const mime = entry.MimeType.split(';');
  assert.ok(mime.includes('application/x-virt-viewer') && mime.includes('x-scheme-handler/spice'), entry.MimeType);
  assert.ok(entry.MimeType.endsWith(';'));

  // the shared-mime-info definition installed by the deb/rpm
  for (const target of ['deb', 'rpm']) {
    const maps = (cfg[target].fpm as string[]).map((s) => s.split('='));
    const xmlMap = maps.find(([, dst]) => dst.startsWith('/usr/share/mime/packages/'));
    assert.ok(xmlMap, `${target} installs a MIME xml`);
    assert.ok(existsSync(`${ROOT}${xmlMap[0]}`), xmlMap[0]);
    const xml = readFileSync(`${ROOT}${xmlMap[0]}`, 'utf8');
    assert.match(xml, /<mime-type type="application\/x-virt-viewer">/);
    assert.match(xml, /<glob pattern="\*\.vv"\/>/);
    assert.match(xml, /<match type="string" value="\[virt-viewer\]" offset="0"\/>/);
  }
});

function pngSize(path: string): [number, number] {
  const b = readFileSync(path);
  assert.deepEqual([...b.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${path} is a PNG`);
  assert.equal(b.toString('latin1', 12, 16), 'IHDR');
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

test('icons exist at the sizes named by their files', () => {
  const dir = `${ROOT}${cfg.linux.icon}`;
  for (const s of [16, 32, 48, 64, 128, 256, 512]) assert.deepEqual(pngSize(`${dir}/${s}x${s}.png`), [s, s]);
  for (const p of [cfg.win.icon, cfg.mac.icon]) assert.deepEqual(pngSize(`${ROOT}${p}`), [512, 512]);
});

test('shipped files: the bundles package.json points at', () => {
  const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { main: string };
  assert.equal(cfg.extraMetadata.main, pkg.main);
  const files = cfg.files as string[];
  for (const d of ['dist/main/**/*', 'dist/preload/**/*', 'dist/renderer/**/*', 'package.json']) assert.ok(files.includes(d), d);
  assert.ok(files.includes('!**/*.map'));
  assert.ok(!files.some((f) => /^(test|node_modules|\.cache)\b/.test(f)), 'no tests, caches or raw node_modules');
  assert.equal(cfg.asar, true);
});
