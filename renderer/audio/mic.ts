// The microphone for the guest's record channel. Capture starts only when the
// guest records (record START) and the user allows it (getUserMedia asks: the
// browser's prompt in the web host; Electron's permission handler decides
// there) and stops with record STOP. Samples leave as interleaved S16 LE at
// the channel count and rate the server asked for (the AudioContext runs at
// that rate, so the platform resamples the device).
import { planarToS16 } from './pcm';

/** Frames per chunk sent to the engine (~85 ms at 48 kHz). */
const CHUNK_FRAMES = 4096;

export class MicCapture {
  private live: { stream: MediaStream; ctx: AudioContext } | null = null;
  private wanted = 0;

  constructor(
    private readonly send: (pcm: Uint8Array) => void,
    /** The indicator: true while the microphone is live. */
    private readonly onLive: (live: boolean) => void,
  ) {}

  async start(channels: number, frequency: number): Promise<void> {
    this.stop();
    const gen = ++this.wanted;
    let stream: MediaStream;
    try {
      // raw: the guest gets what the microphone hears (no voice processing on a test tone or music)
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: channels, sampleRate: frequency, echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
    } catch (e) {
      console.warn(`microphone not available or not allowed: ${(e as Error).message}`);
      return;
    }
    if (gen !== this.wanted) {
      stream.getTracks().forEach((t) => t.stop()); // STOP came while the user was asked
      return;
    }
    const ctx = new AudioContext({ sampleRate: frequency });
    const src = ctx.createMediaStreamSource(stream);
    // a ScriptProcessor, not a worklet: a worklet needs its own script file, and chunks of ~85 ms are fine here
    const proc = ctx.createScriptProcessor(CHUNK_FRAMES, channels, channels);
    proc.onaudioprocess = (e) => {
      const planes: Float32Array[] = [];
      for (let c = 0; c < channels; c++) planes.push(e.inputBuffer.getChannelData(Math.min(c, e.inputBuffer.numberOfChannels - 1)));
      this.send(planarToS16(planes));
    };
    src.connect(proc);
    proc.connect(ctx.destination); // a processor runs only when pulled; its output is silence
    this.live = { stream, ctx };
    this.onLive(true);
  }

  stop(): void {
    this.wanted++;
    const l = this.live;
    if (!l) return;
    this.live = null;
    l.stream.getTracks().forEach((t) => t.stop());
    void l.ctx.close();
    this.onLive(false);
  }
}
