// Measures a test tone in captured samples: where it is (first/last sample
// above a threshold), its frequency from interpolated rising zero crossings
// over a steady window, and the longest run of near-silence inside it (a gap:
// a sine of amplitude 1/2 is near zero for at most a sample or two per crossing).

export interface ToneReport {
  /** Samples from the first to the last loud sample. */
  span: number;
  /** Frequency over the span minus `trim` samples at each end (Hz), from its gap-free segments. */
  hz: number;
  /** Longest run of quiet samples inside the span. */
  longestQuiet: number;
  rms: number;
}

/** `samples` normalised to -1..1; `loud`: the threshold for "tone present". */
export function measureTone(samples: ArrayLike<number>, rate: number, trim: number, loud = 0.03): ToneReport | null {
  let first = -1;
  let last = -1;
  for (let i = 0; i < samples.length; i++) {
    if (Math.abs(samples[i]) > loud) {
      if (first < 0) first = i;
      last = i;
    }
  }
  if (first < 0) return null;
  let longestQuiet = 0;
  let run = 0;
  let sq = 0;
  for (let i = first; i <= last; i++) {
    const v = samples[i];
    sq += v * v;
    run = Math.abs(v) > loud ? 0 : run + 1;
    if (run > longestQuiet) longestQuiet = run;
  }
  // crossings counted per gap-free segment, so a gap does not bend the frequency
  let t0 = -1;
  let t1 = -1;
  let crossings = 0;
  let covered = 0;
  let quiet = 0;
  for (let i = first + trim + 1; i <= last - trim; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    quiet = Math.abs(b) > loud ? 0 : quiet + 1;
    if (quiet > 3 && t0 >= 0) {
      covered += t1 - t0;
      t0 = -1;
    }
    if (a < 0 && b >= 0) {
      const t = i - 1 + -a / (b - a);
      if (t0 < 0) t0 = t;
      else crossings++;
      t1 = t;
    }
  }
  if (t0 >= 0) covered += t1 - t0;
  const hz = crossings > 0 ? (crossings * rate) / covered : 0;
  return { span: last - first + 1, hz, longestQuiet, rms: Math.sqrt(sq / (last - first + 1)) };
}

/** Duration of an Opus packet from its TOC byte (RFC 6716 3.1), in samples at 48 kHz. */
export function opusSamples(p: Uint8Array): number {
  const config = p[0] >> 3;
  const frame = config < 12 ? [480, 960, 1920, 2880][config & 3] : config < 16 ? [480, 960][config & 1] : [120, 240, 480, 960][config & 3];
  const code = p[0] & 3;
  const frames = code === 0 ? 1 : code === 3 ? p[1] & 0x3f : 2;
  return frame * frames;
}

/**
 * How late packets arrived against real-time playback started at the first
 * one (ms): the buffer a player needs so that it never runs dry.
 */
export function arrivalLateness(packets: { at: number; samples: number }[], rate: number): number {
  if (!packets.length) return 0;
  const t0 = packets[0].at;
  let played = 0;
  let worst = 0;
  for (const p of packets) {
    worst = Math.max(worst, p.at - t0 - (played / rate) * 1000);
    played += p.samples;
  }
  return worst;
}
