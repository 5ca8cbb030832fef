// Lip sync: video stream frames shown against the audio the user hears, as
// spice-gtk does. spice-server stamps both with its multimedia clock (ms):
// a stream frame with the time its drawable reached the server, a playback
// packet with the time its samples did. spice-gtk sets its session clock from
// the audio backend ("mm time now" = the last packet's time minus the output
// delay, channel-playback.c spice_playback_channel_set_delay) and its video
// decoders show a frame when that clock reaches the frame's time, drop a late
// frame when a newer one is waiting, and show the newest late one rather than
// freeze (channel-display-gst.c schedule_frame). Here the page's audio player
// says which mm time comes out of the speakers when (MediaClock, posted to the
// display worker), and FrameScheduler holds decoded frames until then. With no
// audio playing there is nothing to sync to: frames show as soon as decoded.
// Pure TS (worker and Node tests).

/** page → display worker: mm time `mm` is heard at `at` (ms since the epoch, performance.timeOrigin + now()); mm null: no audio plays. */
export interface MediaClockMessage {
  type: 'mediaClock';
  mm: number | null;
  at: number;
}

export function isMediaClockMessage(m: unknown): m is MediaClockMessage {
  const v = m as Partial<MediaClockMessage> | null;
  return typeof v === 'object' && v !== null && v.type === 'mediaClock' && (v.mm === null || (typeof v.mm === 'number' && Number.isFinite(v.mm))) && typeof v.at === 'number' && Number.isFinite(v.at);
}

/** ms since the epoch on this thread's clock (a worker's performance.now() has its own origin). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Signed difference a - b of two mm times (u32 ms, wrapping), as spice_mmtime_diff. */
export function mmDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** The multimedia time the speakers play now, from the last anchor the audio player sent. */
export class MediaClock {
  private anchor: { mm: number; at: number } | null = null;

  set(mm: number | null, at: number): void {
    this.anchor = mm === null ? null : { mm: mm >>> 0, at };
  }

  /** The mm time being heard at `nowMs` (epoch ms), null while no audio plays. */
  now(nowMs: number = epochNow()): number | null {
    const a = this.anchor;
    return a ? (a.mm + Math.round(nowMs - a.at)) >>> 0 : null;
  }
}

/** A frame further ahead than this of the audio clock means the clocks do not belong together (another server after a migration): shown now. */
export const MAX_AHEAD_MS = 2000;
/** Decoded frames held per stream; beyond it the oldest is dropped. */
export const MAX_QUEUED_PER_STREAM = 8;

export interface ScheduleStats {
  /** Frames held for their time. */
  held: number;
  /** Frames shown at once: no audio clock, due or late with nothing newer, or too far ahead. */
  immediate: number;
  /** Late frames dropped because a newer one was there (or the queue was full). */
  dropped: number;
}

/**
 * Per stream, decoded frames waiting for their mm time. offer() says whether
 * a frame shows now or was queued; takeDue() gives the frames to show now
 * (per stream the newest due one; older due ones are dropped, counted).
 */
export class FrameScheduler<T> {
  private readonly queues = new Map<number, { mm: number; item: T }[]>();
  readonly stats: ScheduleStats = { held: 0, immediate: 0, dropped: 0 };

  constructor(
    private readonly clock: () => number | null,
    private readonly maxPerStream = MAX_QUEUED_PER_STREAM,
  ) {}

  /** 'now': the caller shows the frame itself; 'queued': takeDue() returns it when its time comes. */
  offer(streamId: number, mm: number, item: T): 'now' | 'queued' {
    const now = this.clock();
    const q = this.queues.get(streamId);
    const delay = now === null ? 0 : mmDiff(mm, now);
    if (now === null || delay <= 0 || delay > MAX_AHEAD_MS) {
      // shown now: frames of this stream still waiting are older, never to be shown over it
      if (q?.length) {
        this.stats.dropped += q.length;
        this.queues.delete(streamId);
      }
      this.stats.immediate++;
      return 'now';
    }
    const list = q ?? [];
    if (!q) this.queues.set(streamId, list);
    list.push({ mm, item });
    this.stats.held++;
    while (list.length > this.maxPerStream) {
      list.shift();
      this.stats.dropped++;
    }
    return 'queued';
  }

  /** The frames whose time has come (all of them, newest per stream, once the clock stops). */
  takeDue(): { streamId: number; item: T }[] {
    const now = this.clock();
    const out: { streamId: number; item: T }[] = [];
    for (const [streamId, list] of this.queues) {
      let n = 0;
      while (n < list.length && (now === null || mmDiff(list[n].mm, now) <= 0)) n++;
      if (n === 0) continue;
      this.stats.dropped += n - 1;
      out.push({ streamId, item: list[n - 1].item });
      list.splice(0, n);
      if (!list.length) this.queues.delete(streamId);
    }
    return out;
  }

  /** ms until the next queued frame is due (0: now), null when none waits. */
  nextDueMs(): number | null {
    if (!this.queues.size) return null;
    const now = this.clock();
    if (now === null) return 0;
    let best = Infinity;
    for (const list of this.queues.values()) best = Math.min(best, Math.max(0, mmDiff(list[0].mm, now)));
    return best;
  }

  /** A stream ends (or is replaced): its waiting frames go. */
  dropStream(streamId: number): void {
    const q = this.queues.get(streamId);
    if (q) this.stats.dropped += q.length;
    this.queues.delete(streamId);
  }

  get queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }
}
