// The audio player's pure parts: S16 ⇄ float conversion, the guest volume as a
// gain, and the jitter buffer's scheduling rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JITTER_DROP_S, JITTER_MAX_TARGET_S, JITTER_START_S, grownTarget, outputGain, planarToS16, s16ToPlanar, scheduleChunk } from '../../renderer/audio/pcm';
import { fromHex, hex } from '../helpers/spice-bytes';

test('s16ToPlanar: interleaved S16 LE to one plane per channel, full scale to ±1', () => {
  // frames: (1, -1), (32767, -32768); a trailing odd byte is not a frame
  const planes = s16ToPlanar(fromHex('0100ffff' + 'ff7f0080' + '00'), 2);
  assert.equal(planes.length, 2);
  assert.deepEqual([...planes[0]], [1 / 32768, 32767 / 32768]);
  assert.deepEqual([...planes[1]], [-1 / 32768, -1]);
  // an odd offset into a larger buffer works too (a view from the bridge)
  const buf = fromHex('ee' + '0200' + 'feff');
  assert.deepEqual([...s16ToPlanar(buf.subarray(1), 1)[0]], [2 / 32768, -2 / 32768]);
});

test('planarToS16: clamps and interleaves; round trip through s16ToPlanar is exact', () => {
  assert.equal(hex(planarToS16([Float32Array.of(1, -2), Float32Array.of(0, 0.5)])), 'ff7f' + '0000' + '0180' + '0040');
  const pcm = fromHex('0100ffff' + '34127856');
  assert.equal(hex(planarToS16(s16ToPlanar(pcm, 2).map((p) => p.map((v) => (v * 32768) / 32767)))), hex(pcm));
});

test('outputGain: mean guest volume, linear; any mute silences', () => {
  assert.equal(outputGain([], false, false), 1);
  assert.equal(outputGain([65535, 65535], false, false), 1);
  assert.equal(outputGain([65535, 0], false, false), 0.5);
  assert.equal(outputGain([65535], true, false), 0);
  assert.equal(outputGain([65535], false, true), 0);
});

test('scheduleChunk: back to back while queued, restart the target ahead after an underrun, drop past the bound', () => {
  const t = JITTER_START_S;
  assert.deepEqual(scheduleChunk(0, 10, t), { at: 10 + t, underrun: false }); // first chunk
  assert.deepEqual(scheduleChunk(10.05, 10, t), { at: 10.05, underrun: false });
  assert.deepEqual(scheduleChunk(9.9, 10, 0.2), { at: 10.2, underrun: true });
  assert.equal(scheduleChunk(10 + JITTER_DROP_S + 0.01, 10, t), 'drop');
});

test('grownTarget: ×1.5 per underrun, capped', () => {
  assert.equal(grownTarget(0.1), 0.15000000000000002);
  let t = JITTER_START_S;
  for (let i = 0; i < 20; i++) t = grownTarget(t);
  assert.equal(t, JITTER_MAX_TARGET_S);
  assert.ok(JITTER_MAX_TARGET_S < JITTER_DROP_S);
});

test('measureTone (the sound tests\' meter): exact frequency across a gap, the gap measured', async () => {
  const { measureTone } = await import('../helpers/tone');
  const x = new Float32Array(96000);
  for (let i = 0; i < x.length; i++) x[i] = i > 40000 && i < 45000 ? 0 : 0.5 * Math.sin((2 * Math.PI * 997 * i) / 48000 + 0.3);
  const r = measureTone(x, 48000, 9600)!;
  assert.ok(Math.abs(r.hz - 997) < 0.1, `${r.hz}`); // 0.01 %: far inside the tests' 1 %
  assert.equal(r.longestQuiet, 4999);
  assert.equal(r.span, 96000);
  assert.equal(measureTone(new Float32Array(100), 48000, 0), null);
});
