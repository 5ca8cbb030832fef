// Playback and record channel message codecs (spice.proto PlaybackChannel,
// RecordChannel, AudioVolume, AudioMute). Pure functions; which mode is in
// force and what to do with the samples is channel state.
import { ByteReader } from '../wire/byte-reader';
import { ByteWriter } from '../wire/byte-writer';
import { SpiceError } from '../wire/errors';

/** Sanity bounds for START: spice-server sends 2 channels at 48 kHz (44.1 kHz without Opus). */
export const MAX_AUDIO_CHANNELS = 8;
export const MAX_AUDIO_FREQUENCY = 192_000;

export interface AudioPacket {
  /** Multimedia time (ms) the server stamped the packet with. */
  time: number;
  /** The samples (RAW: interleaved S16 LE) or one Opus packet; a view into the message. */
  data: Uint8Array;
}

export interface AudioModePacket extends AudioPacket {
  /** SpiceAudioDataMode. */
  mode: number;
}

export interface AudioFormat {
  channels: number;
  /** SpiceAudioFmt (S16 is the only one defined). */
  format: number;
  frequency: number;
}

export interface PlaybackStart extends AudioFormat {
  time: number;
}

// ---- server → client

/** SPICE_MSG_PLAYBACK_DATA: u32 time, then the data to the end of the message. */
export function decodePlaybackData(body: Uint8Array): AudioPacket {
  const r = new ByteReader(body);
  return { time: r.u32('time'), data: r.rest() };
}

/** SPICE_MSG_PLAYBACK_MODE: u32 time, u16 mode (SpiceAudioDataMode), data to the end. */
export function decodePlaybackMode(body: Uint8Array): AudioModePacket {
  const r = new ByteReader(body);
  const time = r.u32('time');
  const mode = r.u16('mode');
  return { time, mode, data: r.rest() };
}

function checkFormat(f: AudioFormat): void {
  if (f.channels < 1 || f.channels > MAX_AUDIO_CHANNELS) throw new SpiceError('LIMIT', `audio START with ${f.channels} channels (1..${MAX_AUDIO_CHANNELS})`);
  if (f.frequency < 1 || f.frequency > MAX_AUDIO_FREQUENCY) throw new SpiceError('LIMIT', `audio START at ${f.frequency} Hz (1..${MAX_AUDIO_FREQUENCY})`);
}

/** SPICE_MSG_PLAYBACK_START: u32 channels, u16 format (SpiceAudioFmt), u32 frequency, u32 time. */
export function decodePlaybackStart(body: Uint8Array): PlaybackStart {
  const r = new ByteReader(body);
  const channels = r.u32('channels');
  const format = r.u16('format');
  const frequency = r.u32('frequency');
  const time = r.u32('time');
  const start = { channels, format, frequency, time };
  checkFormat(start);
  return start;
}

/** SPICE_MSG_RECORD_START: u32 channels, u16 format, u32 frequency. */
export function decodeRecordStart(body: Uint8Array): AudioFormat {
  const r = new ByteReader(body);
  const channels = r.u32('channels');
  const format = r.u16('format');
  const frequency = r.u32('frequency');
  const start = { channels, format, frequency };
  checkFormat(start);
  return start;
}

/** AudioVolume (PLAYBACK_VOLUME, RECORD_VOLUME): u8 nchannels, u16 volume[nchannels] (0..65535). */
export function decodeAudioVolume(body: Uint8Array): number[] {
  const r = new ByteReader(body);
  const n = r.u8('nchannels');
  const volume: number[] = [];
  for (let i = 0; i < n; i++) volume.push(r.u16('volume'));
  return volume;
}

/** AudioMute (PLAYBACK_MUTE, RECORD_MUTE): u8 mute. */
export function decodeAudioMute(body: Uint8Array): boolean {
  return new ByteReader(body).u8('mute') !== 0;
}

/** SPICE_MSG_PLAYBACK_LATENCY: u32 latency_ms (the delay the server wants the client to keep). */
export function decodePlaybackLatency(body: Uint8Array): number {
  return new ByteReader(body).u32('latency_ms');
}

// ---- client → server (record)

/** SPICE_MSGC_RECORD_DATA: u32 time, then the data. */
export function encodeRecordData(time: number, data: Uint8Array): Uint8Array {
  return new ByteWriter(4 + data.length).u32(time).bytes(data).finish();
}

/** SPICE_MSGC_RECORD_MODE: u32 time, u16 mode, data (empty for RAW and OPUS). */
export function encodeRecordMode(time: number, mode: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  return new ByteWriter(6 + data.length).u32(time).u16(mode).bytes(data).finish();
}

/** SPICE_MSGC_RECORD_START_MARK: u32 time. */
export function encodeRecordStartMark(time: number): Uint8Array {
  return new ByteWriter(4).u32(time).finish();
}
