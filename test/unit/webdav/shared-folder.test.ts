// The shared folder a user names (File → Preferences: the Electron picker's
// answer or the web page's text field): checkFolder's verdicts in words, and
// SharedFolder's rules — what the command line fixed stays, refusals keep the
// folder shared, what is saved and when.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SharedFolder, checkFolder } from '../../../main/devices/webdav/shared-folder';

const tmp = (): { base: string; done: () => void } => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'shared-folder-'));
  return { base, done: () => fs.rmSync(base, { recursive: true, force: true }) };
};

test('checkFolder: an existing readable folder by its real path; anything else refused with why, in words', async () => {
  const { base, done } = tmp();
  try {
    const dir = path.join(base, 'share');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(base, 'file.txt'), 'x');
    fs.symlinkSync(dir, path.join(base, 'link'));
    assert.deepEqual(await checkFolder(dir), { ok: true, dir: fs.realpathSync(dir) });
    assert.deepEqual(await checkFolder(path.join(base, 'link')), { ok: true, dir: fs.realpathSync(dir) }, 'a symlink to a folder: the folder it names');
    assert.deepEqual(await checkFolder(`${dir}/`), { ok: true, dir: fs.realpathSync(dir) });
    const why = async (p: string): Promise<string> => {
      const r = await checkFolder(p);
      assert.equal(r.ok, false, p);
      return (r as { why: string }).why;
    };
    assert.equal(await why(path.join(base, 'nope')), `There is no folder "${path.join(base, 'nope')}" on this machine.`);
    assert.equal(await why(path.join(base, 'file.txt')), `"${path.join(base, 'file.txt')}" is a file, not a folder.`);
    assert.match(await why(path.join(base, 'file.txt', 'sub')), /a part of the path is a file/);
    assert.match(await why('share'), /is not a full path: start it with \//);
    assert.match(await why('~/Public'), /is not a full path/);
    assert.equal(await why(''), 'Type the full path of a folder on this machine.');
    assert.equal(await why('   '), 'Type the full path of a folder on this machine.');
    assert.match(await why(`${dir}\0x`), /NUL/);
    assert.match(await why(`/${'a'.repeat(5000)}`), /longer than 4096/);
    // a long path is shown cut, never whole in the message
    assert.equal(await why(`/${'b'.repeat(300)}`), `A name in "/${'b'.repeat(199)}…" is too long for this machine.`);
  } finally {
    done();
  }
});

test('checkFolder: a folder this user may not read is refused (permission denied)', async () => {
  const { base, done } = tmp();
  const locked = path.join(base, 'locked');
  try {
    fs.mkdirSync(locked, { mode: 0o000 });
    if (process.getuid?.() !== 0) {
      assert.match(((await checkFolder(locked)) as { why: string }).why, /may not read the folder/);
      return;
    }
    // root reads every folder: ask as nobody (setpriv, util-linux), as a user without root would
    fs.chmodSync(base, 0o755);
    const mod = path.resolve('main/devices/webdav/shared-folder.ts');
    const script = `import(${JSON.stringify(mod)}).then(async (m) => console.log(JSON.stringify(await m.checkFolder(${JSON.stringify(locked)}))))`;
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, HOME: base },
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `setpriv … node: ${r.stderr}`);
    assert.match((JSON.parse(r.stdout.trim().split('\n').pop()!) as { why: string }).why, /may not read the folder/);
  } finally {
    fs.chmodSync(locked, 0o700);
    done();
  }
});

test('SharedFolder: the saved choice at start; a change is checked, applied, told and saved; a refusal keeps the folder shared and says why', async () => {
  const { base, done } = tmp();
  try {
    const a = fs.mkdirSync(path.join(base, 'a'), { recursive: true })!;
    const b = path.join(base, 'b');
    fs.mkdirSync(b);
    const saved: unknown[] = [];
    const f = new SharedFolder({ saved: { dir: a, readOnly: true, shared: true }, save: (s) => saved.push(s) });
    assert.deepEqual(f.state(), { dir: a, readOnly: true, shared: true, fixed: [], picker: false });
    let told = 0;
    f.onChange(() => told++);
    await f.set({ dir: b, readOnly: false });
    assert.deepEqual(f.state(), { dir: fs.realpathSync(b), readOnly: false, shared: true, fixed: [], picker: false });
    assert.deepEqual(saved, [{ dir: fs.realpathSync(b), readOnly: false, shared: true }]);
    await f.set({ dir: path.join(base, 'missing') });
    assert.equal(f.state().dir, fs.realpathSync(b), 'still sharing b');
    assert.equal(f.state().error, `There is no folder "${path.join(base, 'missing')}" on this machine.`);
    assert.equal(saved.length, 1, 'a refusal saves nothing');
    await f.set({ shared: false });
    assert.deepEqual([f.state().shared, f.state().error], [false, undefined], 'the next change clears the error');
    assert.deepEqual(saved.at(-1), { dir: fs.realpathSync(b), readOnly: false, shared: false });
    assert.equal(told, 3);
    // changes run in the order asked, a slow check included
    await Promise.all([f.set({ dir: a }), f.set({ dir: b })]);
    assert.equal(f.state().dir, fs.realpathSync(b));
  } finally {
    done();
  }
});

test('SharedFolder: nothing chosen is nothing shared; sharing needs a folder', async () => {
  const f = new SharedFolder({ saved: { readOnly: false, shared: true } });
  assert.deepEqual(f.state(), { readOnly: false, shared: false, fixed: [], picker: false });
  await f.set({ shared: true });
  assert.equal(f.state().error, 'Choose a folder to share first.');
  assert.equal(f.state().shared, false);
});

test('SharedFolder: --spice-shared-dir and --spice-shared-dir-ro are fixed (shown, not changeable, never saved); stopping still works for the run', async () => {
  const { base, done } = tmp();
  try {
    const saved: unknown[] = [];
    const f = new SharedFolder({ cliDir: base, cliReadOnly: true, saved: { dir: '/elsewhere', readOnly: false, shared: false }, save: (s) => saved.push(s) });
    assert.deepEqual(f.state(), { dir: base, readOnly: true, shared: true, fixed: ['dir', 'readOnly'], picker: false });
    await f.set({ dir: os.tmpdir() });
    assert.match(f.state().error ?? '', /set on the command line \(--spice-shared-dir\)/);
    await f.set({ readOnly: false });
    assert.match(f.state().error ?? '', /--spice-shared-dir-ro/);
    assert.equal(f.state().readOnly, true);
    await f.set({ shared: false });
    assert.equal(f.state().shared, false);
    assert.deepEqual(saved, [], 'the command line\'s folder is not saved');
  } finally {
    done();
  }
});

test('SharedFolder.choose: the host\'s picker shares the folder picked; cancel changes nothing; without a picker, why in words', async () => {
  const { base, done } = tmp();
  try {
    let answer: string | null = base;
    const f = new SharedFolder({ pick: async () => answer });
    assert.equal(f.state().picker, true);
    await f.choose();
    assert.deepEqual([f.state().dir, f.state().shared], [fs.realpathSync(base), true]);
    answer = null;
    await f.set({ shared: false });
    await f.choose();
    assert.deepEqual([f.state().dir, f.state().shared, f.state().error], [fs.realpathSync(base), false, undefined]);
    const web = new SharedFolder({});
    await web.choose();
    assert.match(web.state().error ?? '', /cannot browse folders: type the folder's path/);
    const broken = new SharedFolder({ pick: () => Promise.reject(new Error('no display')) });
    await broken.choose();
    assert.equal(broken.state().error, 'The folder picker failed: no display');
  } finally {
    done();
  }
});

test('Preferences: what the shared-folder controls show (Stop sharing / Share, greyed when the command line fixed it, the refusal)', async () => {
  const { folderView } = await import('../../../renderer/ui/preferences');
  assert.deepEqual(folderView({ readOnly: false, shared: false, fixed: [], picker: false }), {
    offered: true, now: 'No folder chosen.', picker: false, dirFixed: false,
    readOnly: { checked: false, fixed: false }, toggle: { label: 'Share', share: true, disabled: true }, error: '',
  });
  const shared = folderView({ dir: '/srv/a', readOnly: true, shared: true, fixed: [], picker: true, error: 'There is no folder "/x" on this machine.' });
  assert.deepEqual([shared.now, shared.picker, shared.toggle, shared.error], ['Sharing /srv/a (read-only).', true, { label: 'Stop sharing', share: false, disabled: false }, 'There is no folder "/x" on this machine.']);
  const cli = folderView({ dir: '/srv/a', readOnly: true, shared: false, fixed: ['dir', 'readOnly'], picker: false });
  assert.deepEqual([cli.now, cli.dirFixed, cli.readOnly, cli.toggle.label], ['Not sharing /srv/a. Set by the command line for this run.', true, { checked: true, fixed: true }, 'Share']);
  assert.equal(folderView(undefined).offered, false);
});
