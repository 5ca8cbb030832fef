// Guest audio in the page: the playback channel's stream (AudioEvent) played
// through Web Audio. Raw S16 is converted here; Opus is decoded by the
// platform (WebCodecs AudioDecoder). Decoded chunks are queued back to back on
// the output clock with a small jitter buffer (see scheduleChunk). The guest's
// volume/mute and the user's mute set one gain node, the last node before the
// speakers (tests tap it).
import type { AudioEvent } from '../../preload/contract';
import { JITTER_START_S, grownTarget, outputGain, s16ToPlanar, scheduleChunk } from './pcm';
import { epochNow, mmDiff } from '../display/stream-schedule';

export interface AudioStats {
  chunks: number;
  frames: number;
  underruns: number;
  dropped: number;
  decodeErrors: number;
  /** The jitter buffer's current target, ms. */
  targetMs: number;
}

type Stream = { mode: 'raw' | 'opus'; channels: number; frequency: number };

/** A new clock anchor goes to the display worker when the last one is this old, or off by more than CLOCK_SLIP_MS. */
const CLOCK_REFRESH_MS = 500;
const CLOCK_SLIP_MS = 4;

export class AudioPlayer {
  private ctx: AudioContext | null = null;
  private gain: GainNode | null = null;
  private decoder: AudioDecoder | null = null;
  private stream: Stream | null = null;
  private next = 0;
  private opusTimestamp = 0;
  private volume: number[] = [];
  private guestMute = false;
  private userMute = false;
  private target = JITTER_START_S;
  readonly stats: AudioStats = { chunks: 0, frames: 0, underruns: 0, dropped: 0, decodeErrors: 0, targetMs: JITTER_START_S * 1000 };
  /** Playing or not, muted or not: the page's mute toggle follows this. */
  onState: ((s: { playing: boolean; muted: boolean }) => void) | null = null;
  /** Test hook: called with the gain node whenever a new output graph is built. */
  onOutput: ((ctx: AudioContext, out: AudioNode) => void) | null = null;
  /**
   * Lip sync: the server's multimedia time `mm` (ms) comes out of the
   * speakers at `at` (ms since the epoch: performance.timeOrigin + now());
   * mm null when no audio plays. Sent when playback starts, shifts (an
   * underrun) or every CLOCK_REFRESH_MS; the display worker schedules stream
   * frames against it (renderer/display/stream-schedule.ts).
   */
  onClock: ((mm: number | null, at: number) => void) | null = null;
  private clockSent: { mm: number; at: number; sentAt: number } | null = null;
  /** Opus packets' mm times by the decoder timestamp we gave them (the decoder's output is asynchronous). */
  private readonly opusTimes = new Map<number, number>();

  constructor() {
    // autoplay policy: a page's AudioContext may start suspended until the user interacts
    const resume = (): void => void this.ctx?.resume().catch(() => {});
    addEventListener('pointerdown', resume, true);
    addEventListener('keydown', resume, true);
  }

  get muted(): boolean {
    return this.userMute;
  }

  setUserMute(mute: boolean): void {
    this.userMute = mute;
    this.applyGain();
  }

  apply(events: AudioEvent[]): void {
    for (const ev of events) {
      switch (ev.t) {
        case 'start':
          this.start({ mode: ev.mode, channels: ev.channels, frequency: ev.frequency });
          break;
        case 'data':
          this.data(ev.data, ev.time);
          break;
        case 'stop':
          this.stop();
          break;
        case 'volume':
          this.volume = ev.volume;
          this.applyGain();
          break;
        case 'mute':
          this.guestMute = ev.mute;
          this.applyGain();
          break;
        case 'latency':
          break; // lip sync with video streams uses it (later); the jitter buffer is ours
        case 'recordStart':
        case 'recordStop':
          break; // the microphone's (audio/mic.ts)
      }
    }
  }

  private start(s: Stream): void {
    this.stopDecoder();
    this.stream = s;
    this.next = 0;
    if (!this.ctx || this.ctx.sampleRate !== s.frequency) {
      void this.ctx?.close();
      // the server's rate: no resampling in the page (the platform mixes to the device)
      this.ctx = new AudioContext({ sampleRate: s.frequency, latencyHint: 'interactive' });
      this.gain = this.ctx.createGain();
      this.gain.connect(this.ctx.destination);
      this.onOutput?.(this.ctx, this.gain);
    }
    void this.ctx.resume().catch(() => {});
    this.applyGain();
    if (s.mode === 'opus') {
      this.decoder = new AudioDecoder({
        output: (d) => this.decoded(d),
        error: (e) => {
          this.stats.decodeErrors++;
          console.error(`audio: opus decoder failed: ${e.message}`);
          this.decoder = null;
        },
      });
      this.decoder.configure({ codec: 'opus', sampleRate: s.frequency, numberOfChannels: s.channels });
    }
    this.onState?.({ playing: true, muted: this.userMute });
  }

  private data(bytes: Uint8Array, time: number): void {
    const s = this.stream;
    if (!s) return;
    if (s.mode === 'raw') {
      this.play(s16ToPlanar(bytes, s.channels), time);
      return;
    }
    const dec = this.decoder;
    if (!dec || dec.state !== 'configured') return;
    // a running timestamp: the decoder only needs them increasing
    const chunk = new EncodedAudioChunk({ type: 'key', timestamp: this.opusTimestamp, data: bytes });
    if (this.opusTimes.size > 256) this.opusTimes.clear(); // outputs that never came
    this.opusTimes.set(this.opusTimestamp, time);
    this.opusTimestamp += 10_000;
    try {
      dec.decode(chunk);
    } catch (e) {
      this.stats.decodeErrors++;
      console.error(`audio: opus packet rejected: ${(e as Error).message}`);
    }
  }

  private decoded(d: AudioData): void {
    try {
      const planes: Float32Array<ArrayBuffer>[] = [];
      for (let c = 0; c < d.numberOfChannels; c++) {
        const p = new Float32Array(d.numberOfFrames);
        d.copyTo(p, { planeIndex: c, format: 'f32-planar' });
        planes.push(p);
      }
      const time = this.opusTimes.get(d.timestamp);
      this.opusTimes.delete(d.timestamp);
      if (this.stream) this.play(planes, time);
    } finally {
      d.close();
    }
  }

  private play(planes: Float32Array<ArrayBuffer>[], time?: number): void {
    const ctx = this.ctx;
    const gain = this.gain;
    const frames = planes[0]?.length ?? 0;
    if (!ctx || !gain || !frames) return;
    const slot = scheduleChunk(this.next, ctx.currentTime, this.target);
    if (slot === 'drop') {
      this.stats.dropped++;
      return;
    }
    if (slot.underrun) {
      this.stats.underruns++;
      // the target (kept across streams) grows until it covers the bursts this host delivers
      this.target = grownTarget(this.target);
      this.stats.targetMs = Math.round(this.target * 1000);
    }
    const buf = ctx.createBuffer(planes.length, frames, ctx.sampleRate);
    planes.forEach((p, c) => buf.copyToChannel(p, c));
    const src = ctx.createBufferSource();
    src.buffer = buf;
    src.connect(gain);
    src.start(slot.at);
    this.next = slot.at + frames / ctx.sampleRate;
    this.stats.chunks++;
    this.stats.frames += frames;
    if (time !== undefined && this.onClock) this.clock(time, this.heardAt(ctx, slot.at));
  }

  /** When a sample at context time t comes out of the speakers, in ms since the epoch. */
  private heardAt(ctx: AudioContext, t: number): number {
    // the output's own pairing of context and performance time (it includes the output latency)
    const ts = ctx.getOutputTimestamp?.();
    if (ts && ts.contextTime !== undefined && ts.performanceTime !== undefined && ts.performanceTime > 0) {
      return performance.timeOrigin + ts.performanceTime + (t - ts.contextTime) * 1000;
    }
    const latency = ctx.outputLatency || ctx.baseLatency || 0;
    return epochNow() + (t - ctx.currentTime + latency) * 1000;
  }

  private clock(mm: number, at: number): void {
    const c = this.clockSent;
    const now = epochNow();
    // the anchor the worker has predicts this chunk: nothing to tell, unless it is getting old
    if (c && now - c.sentAt < CLOCK_REFRESH_MS && Math.abs(mmDiff(mm, c.mm) - (at - c.at)) <= CLOCK_SLIP_MS) return;
    this.clockSent = { mm, at, sentAt: now };
    this.onClock?.(mm, at);
  }

  private stop(): void {
    this.stopDecoder();
    this.stream = null;
    this.next = 0;
    if (this.clockSent) this.onClock?.(null, 0);
    this.clockSent = null;
    this.opusTimes.clear();
    this.onState?.({ playing: false, muted: this.userMute });
  }

  private stopDecoder(): void {
    if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
    this.decoder = null;
  }

  private applyGain(): void {
    if (this.gain && this.ctx) this.gain.gain.setValueAtTime(outputGain(this.volume, this.guestMute, this.userMute), this.ctx.currentTime);
  }
}
