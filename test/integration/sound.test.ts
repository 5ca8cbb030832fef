// Guest audio end to end at the engine level: the test guest (sound flavour)
// plays a 1 kHz sine with aplay through QEMU's SPICE audio backend (HDA);
// our playback channel receives it. Raw PCM (Opus not announced): the tone's
// frequency within 1 %, no silence inserted, every DATA message forwarded.
// Opus (announced, so spice-server encodes): the stream is Opus at 48 kHz
// stereo, one packet per message; decoding is the page's (WebCodecs,
// test/e2e/sound.test.ts, which also checks the gaps a user would hear).
//
// How much of the tone arrives is QEMU's, not ours: under TCG on a loaded host
// the guest's aplay can underrun and QEMU's HDA codec drops its whole
// 2048-frame buffer when the audio backend's timer falls behind (trace event
// hda_audio_overrun). The test prints that loss and requires half the tone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QemuVm } from '../harness/qemu';
import { Session } from '../../main/spice/session';
import { PlaybackChannel } from '../../main/spice/channels/playback-channel';
import { defaultTransportFactory } from '../../main/transport/index';
import type { AudioEvent } from '../../preload/contract';
import { until } from '../helpers/fake-spice-server';
import { arrivalLateness, measureTone, opusSamples } from '../helpers/tone';

const TONE_HZ = 1000;
const TONE_MS = 2000;
const RATE = 48000;
const TONE_SAMPLES = (RATE * TONE_MS) / 1000;
/** QEMU hda-codec's output buffer (B_SIZE: 8192 bytes of S16 stereo). */
const HDA_BUFFER_FRAMES = 2048;

type Start = Extract<AudioEvent, { t: 'start' }>;
type Data = Extract<AudioEvent, { t: 'data' }>;
interface Run {
  start: Start;
  data: { ev: Data; at: number }[];
  xruns: number;
  /** DATA messages the channel received / forwarded. */
  received: number;
  forwarded: number;
  volume: number[];
  mute: boolean;
}

let vm: QemuVm;
before(async () => {
  vm = await QemuVm.start({ name: 'sound', sound: true });
});
after(async () => {
  await vm?.stop();
});

async function playOnce(opus: boolean): Promise<Run> {
  const events: { ev: AudioEvent; at: number }[] = [];
  const session = new Session({
    endpoint: { host: '127.0.0.1', port: vm.spicePort },
    transport: defaultTransportFactory,
    playbackOpus: opus,
    onAudio: (_id, ev) => events.push({ ev, at: performance.now() }),
  });
  try {
    await session.connect();
    await until(() => session.channels().some((c) => c instanceof PlaybackChannel), 'playback channel linked', 10000);
    const ch = session.channels().find((c): c is PlaybackChannel => c instanceof PlaybackChannel)!;
    const reply = await vm.command(`tone ${TONE_HZ} ${TONE_MS}`, undefined, 60000);
    // QEMU stops the stream when the guest's voice goes idle
    await until(() => events.some((e) => e.ev.t === 'stop'), 'playback STOP after the tone', 10000);
    const i = events.findIndex((e) => e.ev.t === 'start');
    assert.ok(i >= 0, `a START (${events.map((e) => e.ev.t).join(',')})`);
    return {
      start: events[i].ev as Start,
      data: events.slice(i).filter((e): e is { ev: Data; at: number } => e.ev.t === 'data'),
      xruns: Number(/xruns=(\d+)/.exec(reply)?.[1] ?? NaN),
      received: ch.received.get(101) ?? 0,
      forwarded: ch.stats.packets,
      volume: ch.volume,
      mute: ch.mute,
    };
  } finally {
    session.disconnect();
  }
}

async function playTone(opus: boolean): Promise<Run> {
  const run = await playOnce(opus);
  assert.equal(run.forwarded, run.received, 'every DATA message received is forwarded');
  console.log(`${opus ? 'opus' : 'raw'}: the guest reported ${run.xruns} xruns`);
  return run;
}

test('raw PCM: the guest tone arrives at 1 kHz within 1 %, without inserted silence', async () => {
  const run = await playTone(false);
  assert.deepEqual({ mode: run.start.mode, channels: run.start.channels, frequency: run.start.frequency }, { mode: 'raw', channels: 2, frequency: RATE });
  const bytes = Buffer.concat(run.data.map((d) => Buffer.from(d.ev.data)));
  const left = new Float32Array(bytes.length / 4);
  for (let i = 0; i < left.length; i++) left[i] = bytes.readInt16LE(i * 4) / 32768;
  const r = measureTone(left, RATE, RATE / 5);
  assert.ok(r, 'the tone is in the stream');
  const late = arrivalLateness(run.data.map((d) => ({ at: d.at, samples: d.ev.data.length / 4 })), RATE);
  console.log(
    `raw: ${run.data.length} packets, up to ${late.toFixed(0)} ms late; tone span ${r.span} samples (${((r.span / RATE) * 1000).toFixed(1)} ms of ${TONE_MS}; ` +
      `~${((TONE_SAMPLES - r.span) / HDA_BUFFER_FRAMES).toFixed(1)} HDA buffers lost upstream), ${r.hz.toFixed(2)} Hz, rms ${r.rms.toFixed(3)}, longest quiet run ${r.longestQuiet}; volume ${run.volume.join('/')} mute ${run.mute}`,
  );
  assert.ok(Math.abs(r.hz - TONE_HZ) <= TONE_HZ * 0.01, `frequency ${r.hz} Hz`);
  assert.ok(r.longestQuiet <= 3, `no silence inserted (longest quiet run ${r.longestQuiet})`);
  assert.ok(r.span >= TONE_SAMPLES / 2 && r.span <= TONE_SAMPLES + RATE / TONE_HZ, `span ${r.span} samples`);
  assert.ok(Math.abs(r.rms - 0.5 / Math.SQRT2) < 0.02, `rms ${r.rms} (a sine of amplitude 1/2)`);
  assert.equal(run.mute, false);
});

test('Opus: announced, spice-server sends Opus at 48 kHz stereo, one packet per message', async () => {
  const run = await playTone(true);
  assert.deepEqual({ mode: run.start.mode, channels: run.start.channels, frequency: run.start.frequency }, { mode: 'opus', channels: 2, frequency: RATE });
  assert.ok(run.data.every((d) => d.ev.data.length > 0 && d.ev.data.length < 1500), 'every packet one non-empty Opus packet');
  const samples = run.data.reduce((n, d) => n + opusSamples(d.ev.data), 0);
  const sizes = run.data.map((d) => d.ev.data.length);
  console.log(`opus: ${run.data.length} packets, ${samples} samples (${((samples / RATE) * 1000).toFixed(0)} ms of ${TONE_MS}), sizes ${Math.min(...sizes)}..${Math.max(...sizes)} bytes`);
  assert.ok(samples >= TONE_SAMPLES / 2 && samples <= TONE_SAMPLES * 1.5, `packets cover ${samples} samples`);
});
