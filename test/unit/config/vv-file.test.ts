// readVvFile on real temporary files: delete-this-file with and without
// VIRT_VIEWER_KEEP_FILE, stdin (`-`), remote-viewer's error prefix, and the
// version gate running after the deletion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readVvFile } from '../../../main/config/vv-file';

const dir = mkdtempSync(join(tmpdir(), 'vv-file-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const PROXMOX = readFileSync(join(import.meta.dirname, '../../vectors/vv/proxmox.vv'));

test('delete-this-file=1 removes the file after parsing; the config stays in memory', async () => {
  const p = join(dir, 'a.vv');
  writeFileSync(p, PROXMOX);
  const r = await readVvFile(p, {});
  assert.equal(r.deleted, true);
  assert.equal(existsSync(p), false);
  assert.equal(r.config.tlsPort, 61000);
  assert.deepEqual(r.config.debug, [`delete-this-file: removed ${p}`]);
});

test('VIRT_VIEWER_KEEP_FILE (even empty) keeps the file', async () => {
  const p = join(dir, 'b.vv');
  writeFileSync(p, PROXMOX);
  const r = await readVvFile(p, { VIRT_VIEWER_KEEP_FILE: '' });
  assert.equal(r.deleted, false);
  assert.equal(existsSync(p), true);
  assert.deepEqual(r.config.debug, ['delete-this-file: kept because VIRT_VIEWER_KEEP_FILE is set']);
});

test('without delete-this-file the file stays', async () => {
  const p = join(dir, 'c.vv');
  writeFileSync(p, '[virt-viewer]\ntype=spice\nhost=h\nport=5900\ndelete-this-file=0\n');
  const r = await readVvFile(p, {});
  assert.equal(r.deleted, false);
  assert.equal(existsSync(p), true);
});

test('a file that does not parse is not deleted; errors carry "Invalid file <path>: "', async () => {
  const p = join(dir, 'd.vv');
  writeFileSync(p, '[virt-viewer]\ndelete-this-file=1\nport=5900\n');
  await assert.rejects(readVvFile(p, {}), { message: `Invalid file ${p}: [virt-viewer] (line 1) has no "type" key` });
  assert.equal(existsSync(p), true);
  await assert.rejects(readVvFile(join(dir, 'missing.vv'), {}), { message: `Invalid file ${join(dir, 'missing.vv')}: no such file` });
  mkdirSync(join(dir, 'sub.vv'));
  await assert.rejects(readVvFile(join(dir, 'sub.vv'), {}), { message: `Invalid file ${join(dir, 'sub.vv')}: not a regular file` });
});

test('the version gate runs after the deletion, like remote-viewer', async () => {
  const p = join(dir, 'e.vv');
  writeFileSync(p, '[virt-viewer]\ntype=spice\nhost=h\nport=1\ndelete-this-file=1\nversion=12.0\n');
  await assert.rejects(readVvFile(p, {}), { message: 'At least remote-viewer version 12.0 is required to setup this connection' });
  assert.equal(existsSync(p), false);
});

test('oversized files are refused from stat, before reading', async () => {
  const p = join(dir, 'f.vv');
  writeFileSync(p, Buffer.alloc(2048, 0x23));
  await assert.rejects(readVvFile(p, {}, { limits: { maxBytes: 1024 } }), { message: `Invalid file ${p}: file is too large (2048 bytes; the limit is 1024)` });
});

test('`-` reads stdin and never deletes anything', async () => {
  let asked = 0;
  const r = await readVvFile('-', {}, {
    readStdin: async (max) => {
      asked = max;
      return new Uint8Array(PROXMOX);
    },
  });
  assert.equal(asked, 1024 * 1024);
  assert.equal(r.source, '-');
  assert.equal(r.deleted, false);
  assert.equal(r.config.host?.startsWith('pvespiceproxy:'), true);
  await assert.rejects(readVvFile('-', {}, { readStdin: async () => { throw new Error('EIO'); } }), { message: 'Failed to read stdin: EIO' });
});
