// The smartcard rig itself (test/harness/pcsc.ts): isolated, private socket,
// leftovers of dead test processes swept, everything gone after stop().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { PcscRig, READER_NAMES, RIG_SOCKET, VICC_T0_ATR, VICC_T1_ATR, sweepStrayRigs } from '../harness/pcsc';

const netns = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });

test('a stray rig of a dead test process is killed and removed', async () => {
  // a pid that is not running: a child that has exited
  const dead = spawn('true');
  await new Promise((r) => dead.once('exit', r));
  const ns = `pcscrig-${dead.pid}`;
  execFileSync('ip', ['netns', 'add', ns]);
  const sleeper = spawn('ip', ['netns', 'exec', ns, 'sleep', '600'], { stdio: 'ignore' });
  const gone = new Promise((r) => sleeper.once('exit', r));
  fs.mkdirSync(`/tmp/pcsc-rig-${dead.pid}/run`, { recursive: true });
  try {
    for (let i = 0; i < 100 && !execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).trim(); i++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(sweepStrayRigs().includes(ns));
    await gone;
    assert.doesNotMatch(netns(), new RegExp(`^${ns}\\b`, 'm'));
    assert.equal(fs.existsSync(`/tmp/pcsc-rig-${dead.pid}`), false);
  } finally {
    sleeper.kill('SIGKILL');
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {}
  }
});

test('the rig: only lo in its namespace, pcscd socket private, both cards seen, nothing left after stop', async () => {
  assert.equal(process.env.PCSCLITE_CSOCK_NAME, RIG_SOCKET);
  const rig = await PcscRig.start();
  try {
    const links = execFileSync('ip', ['-n', rig.ns, '-o', 'link'], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(links.map((l) => l.split(':')[1].trim()), ['lo']);
    assert.ok(fs.statSync(RIG_SOCKET).isSocket());
    assert.equal(fs.existsSync('/run/pcscd/pcscd.comm'), false, 'the system path stays free');
    const snap = await rig.waitFor((s) => READER_NAMES.every((n) => s[n]?.present), 'both cards');
    assert.deepEqual(READER_NAMES.map((n) => snap[n].atr), [VICC_T1_ATR, VICC_T0_ATR]);
    assert.deepEqual(rig.presented, [VICC_T1_ATR, VICC_T0_ATR]);
  } finally {
    await rig.stop();
  }
  assert.doesNotMatch(netns(), new RegExp(`^${rig.ns}\\b`, 'm'));
  assert.equal(fs.existsSync(rig.dir), false);
});
