// Playback/record codecs against byte vectors written by hand from spice.proto
// (PlaybackChannel, RecordChannel, AudioVolume, AudioMute), and both channels
// driven by those bytes through a linked connection, every stream split at
// every byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as m from '../../main/spice/messages/sound';
import { PlaybackChannel } from '../../main/spice/channels/playback-channel';
import { RecordChannel, type RecordEvent } from '../../main/spice/channels/record-channel';
import { CHANNEL_TABLE } from '../../main/spice/channels/channel-table';
import { quietLogger } from '../../main/spice/session';
import type { AudioEvent } from '../../preload/contract';
import { tick } from '../helpers/fake-transport';
import { linkFake } from '../helpers/linked-channel';
import { fromHex, hex, miniMsg } from '../helpers/spice-bytes';
import { assertShortAtEveryOffset, isSpiceError } from '../helpers/truncation';

// ---- golden vectors (little endian)
const START = fromHex('02000000' + '0100' + '80bb0000' + '39300000'); // channels 2, S16, 48000 Hz, time 12345
const MODE_OPUS = fromHex('10000000' + '0300'); // time 16, mode OPUS, no data
const MODE_RAW = fromHex('10000000' + '0100');
const DATA = fromHex('64000000' + '0100ffff' + '0200feff'); // time 100, two stereo S16 frames
const VOLUME = fromHex('02' + 'ff7f' + '0080'); // 2 channels: 0x7fff, 0x8000
const MUTE = fromHex('01');
const LATENCY = fromHex('c8000000'); // 200 ms
const REC_START = fromHex('02000000' + '0100' + '44ac0000'); // 2 channels, S16, 44100 Hz

test('PLAYBACK_START: u32 channels, u16 format, u32 frequency, u32 time; cut anywhere → SHORT_READ', () => {
  assert.deepEqual(m.decodePlaybackStart(START), { channels: 2, format: 1, frequency: 48000, time: 12345 });
  assertShortAtEveryOffset(m.decodePlaybackStart, START);
});

test('PLAYBACK_START outside sane bounds is a coded LIMIT error', () => {
  assert.throws(() => m.decodePlaybackStart(fromHex('00000000' + '0100' + '80bb0000' + '00000000')), isSpiceError('LIMIT'));
  assert.throws(() => m.decodePlaybackStart(fromHex('02000000' + '0100' + 'ffffffff' + '00000000')), isSpiceError('LIMIT'));
  assert.throws(() => m.decodeRecordStart(fromHex('09000000' + '0100' + '80bb0000')), isSpiceError('LIMIT'));
});

test('PLAYBACK_MODE: u32 time, u16 mode, data to the end', () => {
  assert.deepEqual(m.decodePlaybackMode(MODE_OPUS), { time: 16, mode: 3, data: new Uint8Array(0) });
  const withData = fromHex('10000000' + '0300' + 'aabb');
  assert.deepEqual([...m.decodePlaybackMode(withData).data], [0xaa, 0xbb]);
  assertShortAtEveryOffset(m.decodePlaybackMode, MODE_OPUS);
});

test('PLAYBACK_DATA: u32 time, the packet to the end (a view, no copy)', () => {
  const d = m.decodePlaybackData(DATA);
  assert.equal(d.time, 100);
  assert.equal(hex(d.data), '0100ffff0200feff');
  assert.equal(d.data.buffer, DATA.buffer);
  assertShortAtEveryOffset(m.decodePlaybackData, DATA, 4);
  assert.equal(m.decodePlaybackData(DATA.slice(0, 4)).data.length, 0);
});

test('AudioVolume, AudioMute, PLAYBACK_LATENCY, RECORD_START', () => {
  assert.deepEqual(m.decodeAudioVolume(VOLUME), [0x7fff, 0x8000]);
  assertShortAtEveryOffset(m.decodeAudioVolume, VOLUME);
  assert.deepEqual(m.decodeAudioVolume(fromHex('00')), []);
  assert.equal(m.decodeAudioMute(MUTE), true);
  assert.equal(m.decodeAudioMute(fromHex('00')), false);
  assertShortAtEveryOffset(m.decodeAudioMute, MUTE);
  assert.equal(m.decodePlaybackLatency(LATENCY), 200);
  assertShortAtEveryOffset(m.decodePlaybackLatency, LATENCY);
  assert.deepEqual(m.decodeRecordStart(REC_START), { channels: 2, format: 1, frequency: 44100 });
  assertShortAtEveryOffset(m.decodeRecordStart, REC_START);
});

test('client record messages: DATA, MODE, START_MARK bytes', () => {
  assert.equal(hex(m.encodeRecordData(0x01020304, fromHex('aabbccdd'))), '04030201' + 'aabbccdd');
  assert.equal(hex(m.encodeRecordMode(7, 1)), '07000000' + '0100');
  assert.equal(hex(m.encodeRecordMode(7, 3, fromHex('ee'))), '07000000' + '0300' + 'ee');
  assert.equal(hex(m.encodeRecordStartMark(0xfffffffe)), 'feffffff');
});

// ---- channels

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

async function linkedPlayback(opus = true) {
  const { t, conn } = await linkFake(5);
  const out: AudioEvent[] = [];
  const ch = new PlaybackChannel(0, quietLogger, (e) => out.push(e), { opus });
  const errors: string[] = [];
  ch.onFailure = (e) => errors.push(e.code);
  ch.attach(conn);
  return { t, ch, out, errors };
}

test('playback caps: VOLUME and LATENCY always, OPUS unless turned off, never CELT', () => {
  assert.deepEqual(new PlaybackChannel(0, quietLogger, () => {}).channelCaps().sort(), [1, 2, 3]);
  assert.deepEqual(new PlaybackChannel(0, quietLogger, () => {}, { opus: false }).channelCaps().sort(), [1, 2]);
  assert.deepEqual(new RecordChannel(0, quietLogger).channelCaps(), [1]);
});

test('the channel table builds the sound channels, not the generic one', () => {
  const ctx = { log: quietLogger };
  assert.ok(CHANNEL_TABLE.get(5)!.create(5, 0, ctx) instanceof PlaybackChannel);
  assert.ok(CHANNEL_TABLE.get(6)!.create(6, 0, ctx) instanceof RecordChannel);
  assert.equal(CHANNEL_TABLE.get(5)!.essential, false);
  assert.deepEqual(CHANNEL_TABLE.get(5)!.create(5, 0, { ...ctx, playbackOpus: false }).channelCaps().sort(), [1, 2]);
});

const PLAYBACK_STREAM = concat([
  miniMsg(106, MUTE),
  miniMsg(105, VOLUME),
  miniMsg(102, MODE_OPUS),
  miniMsg(103, START),
  miniMsg(101, fromHex('20000000' + 'fc0102')), // an Opus packet of 3 bytes
  miniMsg(107, LATENCY),
  miniMsg(104),
]);
const PLAYBACK_EVENTS: AudioEvent[] = [
  { t: 'mute', mute: true },
  { t: 'volume', volume: [0x7fff, 0x8000] },
  { t: 'start', mode: 'opus', channels: 2, frequency: 48000, time: 12345 },
  { t: 'data', time: 32, data: fromHex('fc0102') },
  { t: 'latency', ms: 200 },
  { t: 'stop' },
];

test('playback channel: MODE, START, DATA, VOLUME, MUTE, LATENCY, STOP become audio events, split at every byte', async () => {
  for (let cut = 0; cut <= PLAYBACK_STREAM.length; cut++) {
    const { t, ch, out, errors } = await linkedPlayback();
    const wire = PLAYBACK_STREAM.slice();
    t.deliver(wire.subarray(0, cut));
    t.deliver(wire.subarray(cut));
    await tick();
    wire.fill(0xee); // the data forwarded is a copy, not a view into the socket's chunk
    assert.deepEqual(errors, [], `cut ${cut}`);
    assert.deepEqual(out, PLAYBACK_EVENTS, `cut ${cut}`);
    assert.deepEqual(ch.stats, { packets: 1, bytes: 3, outsideStream: 0 });
    assert.equal(ch.started, null);
    ch.close();
  }
});

test('playback channel: raw PCM is forwarded in whole frames; a torn frame is a coded error of this channel', async () => {
  const { t, out, errors } = await linkedPlayback(false);
  t.deliver(concat([miniMsg(102, MODE_RAW), miniMsg(103, START), miniMsg(101, DATA)]));
  await tick();
  assert.deepEqual(errors, []);
  assert.deepEqual(out[0], { t: 'start', mode: 'raw', channels: 2, frequency: 48000, time: 12345 });
  assert.equal(hex((out[1] as { data: Uint8Array }).data), '0100ffff0200feff');
  t.deliver(miniMsg(101, fromHex('64000000' + '010002'))); // 3 bytes: not whole S16 stereo frames
  await tick();
  assert.deepEqual(errors, ['BAD_MESSAGE']);
});

test('playback channel: Opus when it was not offered, and a cut START, fail the channel with a code', async () => {
  const a = await linkedPlayback(false);
  a.t.deliver(miniMsg(102, MODE_OPUS));
  await tick();
  assert.deepEqual(a.errors, ['PROTOCOL']);
  const b = await linkedPlayback();
  b.t.deliver(miniMsg(103, START.slice(0, 9)));
  await tick();
  assert.deepEqual(b.errors, ['SHORT_READ']);
  assert.deepEqual(b.out, []);
});

test('playback channel: DATA before START is counted and dropped, the channel lives', async () => {
  const { t, ch, out, errors } = await linkedPlayback();
  t.deliver(miniMsg(101, DATA));
  await tick();
  assert.deepEqual(errors, []);
  assert.deepEqual(out, []);
  assert.equal(ch.stats.outsideStream, 1);
});

test('record channel: START is answered with MODE(raw) and START_MARK; DATA flows only while started', async () => {
  const stream = concat([miniMsg(104, fromHex('00')), miniMsg(103, VOLUME), miniMsg(101, REC_START)]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const { t, conn } = await linkFake(6);
    const events: RecordEvent[] = [];
    const ch = new RecordChannel(0, quietLogger, (e) => events.push(e));
    ch.clock = () => 0x01020304;
    const errors: string[] = [];
    ch.onFailure = (e) => errors.push(e.code);
    ch.attach(conn);
    ch.sendData(fromHex('01000200')); // not started: dropped
    t.deliver(stream.subarray(0, cut));
    t.deliver(stream.subarray(cut));
    await tick();
    assert.deepEqual(errors, []);
    assert.deepEqual(events, [
      { t: 'mute', mute: false },
      { t: 'volume', volume: [0x7fff, 0x8000] },
      { t: 'start', channels: 2, frequency: 44100 },
    ]);
    ch.sendData(fromHex('01000200'));
    assert.equal(
      hex(t.allWritten()),
      // mini headers: u16 type, u32 size
      '6600' + '06000000' + '04030201' + '0100' + // MODE time, RAW
        '6700' + '04000000' + '04030201' + // START_MARK
        '6500' + '08000000' + '04030201' + '01000200', // DATA
    );
    assert.throws(() => ch.sendData(fromHex('010002')), isSpiceError('BAD_MESSAGE'));
    t.deliver(miniMsg(102)); // STOP
    await tick();
    ch.sendData(fromHex('01000200'));
    assert.deepEqual(ch.stats, { packets: 1, bytes: 4, dropped: 2 });
    assert.deepEqual(events.at(-1), { t: 'stop' });
    ch.close();
  }
});

test('malformed audio through a real session: the playback channel fails with a code, the session lives', async () => {
  const { Session } = await import('../../main/spice/session');
  const { FakeSpiceServer, until } = await import('../helpers/fake-spice-server');
  const srv = new FakeSpiceServer();
  srv.channels = [
    { type: 3, id: 0 }, // inputs
    { type: 5, id: 0 }, // playback
  ];
  const audio: AudioEvent[] = [];
  const s = new Session({ endpoint: { host: '127.0.0.1', port: 5900 }, transport: srv.factory, onAudio: (_id, e) => audio.push(e) });
  await s.connect();
  const link = srv.link(5)!;
  assert.equal(link.channelCaps, (1 << 1) | (1 << 2) | (1 << 3), 'VOLUME, LATENCY, OPUS announced');
  link.send(miniMsg(102, MODE_RAW));
  link.send(miniMsg(103, START));
  link.send(miniMsg(101, DATA));
  await until(() => audio.length === 2, 'start and data');
  link.send(miniMsg(103, START.slice(0, 7))); // a START cut short
  await until(() => s.channel(5, 0) === undefined, 'the playback channel lost');
  assert.equal(s.state, 'connected', 'an audio fault does not end the session');
  assert.ok(link.closedByClient);
  s.disconnect();
});
