// Pure helpers of the audio player (no Web Audio here, so they are unit tested
// in Node): sample conversion, the guest's volume as a gain, and the jitter
// buffer's scheduling rule.

/** Interleaved S16 LE (the playback channel's raw mode) → one Float32Array per channel, -1..1. */
export function s16ToPlanar(bytes: Uint8Array, channels: number): Float32Array<ArrayBuffer>[] {
  const frames = Math.floor(bytes.length / (2 * channels));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Float32Array<ArrayBuffer>[] = [];
  for (let c = 0; c < channels; c++) out.push(new Float32Array(frames));
  for (let f = 0, off = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++, off += 2) out[c][f] = view.getInt16(off, true) / 32768;
  }
  return out;
}

/** Float32 planar → interleaved S16 LE (the record channel's raw mode), clamped. */
export function planarToS16(planes: Float32Array[]): Uint8Array {
  const channels = planes.length;
  const frames = channels ? planes[0].length : 0;
  const out = new Uint8Array(frames * channels * 2);
  const view = new DataView(out.buffer);
  for (let f = 0, off = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++, off += 2) {
      const v = Math.max(-1, Math.min(1, planes[c][f]));
      view.setInt16(off, Math.round(v * 32767), true);
    }
  }
  return out;
}

/**
 * The gain for the guest's volume (u16 per channel, 0..65535; the mean is
 * used) and mute, and the user's mute. Linear, as spice-gtk's GStreamer
 * backend sets its volume element.
 */
export function outputGain(volume: readonly number[], guestMute: boolean, userMute: boolean): number {
  if (guestMute || userMute) return 0;
  if (!volume.length) return 1;
  return volume.reduce((a, b) => a + b, 0) / volume.length / 65535;
}

/**
 * The jitter buffer, seconds of audio queued ahead of the output: it starts
 * at JITTER_START_S and grows ×1.5 on each underrun up to JITTER_MAX_TARGET_S
 * (a loaded host or network delivers in bursts; once the target covers them
 * playback stays gap-free); more than JITTER_DROP_S queued is dropped.
 */
export const JITTER_START_S = 0.08;
export const JITTER_MAX_TARGET_S = 0.3;
export const JITTER_DROP_S = 0.6;

export function grownTarget(target: number): number {
  return Math.min(JITTER_MAX_TARGET_S, target * 1.5);
}

/**
 * Where the next chunk starts on the output clock. Chunks follow each other
 * sample-exactly while the queue is healthy; at a stream's start or after an
 * underrun (the queue ran dry) playback (re)starts `target` ahead; with more
 * than JITTER_DROP_S queued (the server's clock runs ahead of ours) the chunk
 * is dropped ('drop') to keep latency bounded.
 */
export function scheduleChunk(next: number, now: number, target: number): { at: number; underrun: boolean } | 'drop' {
  if (next < now + 0.005) return { at: now + target, underrun: next > 0 };
  if (next > now + JITTER_DROP_S) return 'drop';
  return { at: next, underrun: false };
}
