// Guest audio end to end at the engine level: the test guest (sound flavour)
// plays a 1 kHz sine with aplay through QEMU's SPICE audio backend (HDA);
// our playback channel receives it. Raw PCM (Opus not announced): the tone's
// frequency within 1 % and no gap inside it. Opus (announced, so
// spice-server encodes): the stream is Opus at 48 kHz and its packets cover
// the tone's length; decoding is the page's (WebCodecs, test/e2e/sound.test.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QemuVm } from '../harness/qemu';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';
import type { AudioEvent } from '../../preload/contract';
import { until } from '../helpers/fake-spice-server';
import { measureTone } from '../helpers/tone';

const TONE_HZ = 1000;
const TONE_MS = 2000;
const RATE = 48000;

let vm: QemuVm;
before(async () => {
  vm = await QemuVm.start({ name: 'sound', sound: true });
});
after(async () => {
  await vm?.stop();
});

async function playTone(opus: boolean): Promise<{ events: AudioEvent[]; session: Session }> {
  const events: AudioEvent[] = [];
  const session = new Session({
    endpoint: { host: '127.0.0.1', port: vm.spicePort },
    transport: defaultTransportFactory,
    playbackOpus: opus,
    onAudio: (_id, ev) => events.push(ev),
  });
  await session.connect();
  await until(() => session.channels().some((c) => c.name === 'playback 0'), 'playback channel linked', 10000);
  await vm.command(`tone ${TONE_HZ} ${TONE_MS}`, undefined, 60000);
  // QEMU stops the stream when the guest's voice goes idle
  await until(() => events.some((e) => e.t === 'stop'), 'playback STOP after the tone', 10000);
  session.disconnect();
  return { events, session };
}

function streamAfterStart(events: AudioEvent[]) {
  const i = events.findIndex((e) => e.t === 'start');
  assert.ok(i >= 0, `a START (${events.map((e) => e.t).join(',')})`);
  const start = events[i] as Extract<AudioEvent, { t: 'start' }>;
  const data = events.slice(i).filter((e): e is Extract<AudioEvent, { t: 'data' }> => e.t === 'data');
  return { start, data };
}

test('raw PCM: the guest tone arrives at 1 kHz within 1 %, whole and without gaps', async () => {
  const { events } = await playTone(false);
  const { start, data } = streamAfterStart(events);
  assert.deepEqual({ mode: start.mode, channels: start.channels, frequency: start.frequency }, { mode: 'raw', channels: 2, frequency: RATE });
  const bytes = Buffer.concat(data.map((d) => Buffer.from(d.data)));
  const left = new Float32Array(bytes.length / 4);
  for (let i = 0; i < left.length; i++) left[i] = bytes.readInt16LE(i * 4) / 32768;
  const r = measureTone(left, RATE, RATE / 5);
  assert.ok(r, 'the tone is in the stream');
  console.log(`raw: ${data.length} packets, tone span ${r.span} samples (${((r.span / RATE) * 1000).toFixed(1)} ms), ${r.hz.toFixed(2)} Hz, rms ${r.rms.toFixed(3)}, longest quiet run ${r.longestQuiet}`);
  assert.ok(Math.abs(r.hz - TONE_HZ) <= TONE_HZ * 0.01, `frequency ${r.hz} Hz`);
  // every sample the guest wrote, and nothing inserted: the span is the tone's length (± one period at the ends)
  assert.ok(Math.abs(r.span - (RATE * TONE_MS) / 1000) <= RATE / TONE_HZ, `span ${r.span} samples`);
  assert.ok(r.longestQuiet <= 3, `longest quiet run ${r.longestQuiet} samples`);
  assert.ok(Math.abs(r.rms - 0.5 / Math.SQRT2) < 0.02, `rms ${r.rms} (a sine of amplitude 1/2)`);
});

/** Duration of an Opus packet from its TOC byte (RFC 6716 3.1), in 1/48000 s. */
function opusSamples(p: Uint8Array): number {
  const config = p[0] >> 3;
  const frame = config < 12 ? [480, 960, 1920, 2880][config & 3] : config < 16 ? [480, 960][config & 1] : [120, 240, 480, 960][config & 3];
  const code = p[0] & 3;
  const frames = code === 0 ? 1 : code === 3 ? p[1] & 0x3f : 2;
  return frame * frames;
}

test('Opus: announced, spice-server sends Opus at 48 kHz stereo, packets covering the whole tone', async () => {
  const { events } = await playTone(true);
  const { start, data } = streamAfterStart(events);
  assert.deepEqual({ mode: start.mode, channels: start.channels, frequency: start.frequency }, { mode: 'opus', channels: 2, frequency: RATE });
  assert.ok(data.every((d) => d.data.length > 0 && d.data.length < 1500), 'every packet one non-empty Opus packet');
  const samples = data.reduce((n, d) => n + opusSamples(d.data), 0);
  const sizes = data.map((d) => d.data.length);
  console.log(`opus: ${data.length} packets, ${samples} samples (${((samples / RATE) * 1000).toFixed(0)} ms), sizes ${Math.min(...sizes)}..${Math.max(...sizes)} bytes`);
  assert.ok(samples >= (RATE * TONE_MS) / 1000, `packets cover ${samples} samples`);
});
