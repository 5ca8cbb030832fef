// Playback channel: the guest's audio, as raw S16 or Opus packets, with the
// guest's volume and mute. Samples are not decoded here: the engine forwards
// each packet with the mode announced before it (the renderer plays them
// through Web Audio, Opus through WebCodecs), like spice-gtk's
// channel-playback.c hands them to its audio backend.
import * as m from '../messages/sound';
import { SpiceError } from '../wire/errors';
import type { Logger } from './base-channel';
import { SoundChannel } from './sound-channel';
import { AudioDataMode, AudioFmt, Channel as ChannelType, MsgPlayback, PlaybackCap } from '../protocol/enums';
import type { AudioEvent } from '../../../preload/contract';

export interface PlaybackOptions {
  /** Announce SPICE_PLAYBACK_CAP_OPUS (the server then sends Opus at 48 kHz). Default true. */
  opus?: boolean;
}

export class PlaybackChannel extends SoundChannel {
  /** SpiceAudioDataMode in force (the server sends MODE before START). */
  mode: number = AudioDataMode.RAW;
  started: m.PlaybackStart | null = null;
  /** The latency the server asked the client to keep (LATENCY), ms. */
  latencyMs = 0;
  /** DATA packets and payload bytes forwarded; packets that came outside START..STOP (dropped). */
  readonly stats = { packets: 0, bytes: 0, outsideStream: 0 };
  private readonly opus: boolean;

  constructor(
    id: number,
    log: Logger,
    private readonly sink: (ev: AudioEvent) => void,
    opts: PlaybackOptions = {},
  ) {
    super(ChannelType.PLAYBACK, id, log);
    this.opus = opts.opus ?? true;
    this.on(MsgPlayback.MODE, (_r, msg) => {
      const { mode } = m.decodePlaybackMode(msg.body);
      if (mode !== AudioDataMode.RAW && !(mode === AudioDataMode.OPUS && this.opus)) {
        throw new SpiceError('PROTOCOL', `playback mode ${mode} was not offered (raw${this.opus ? ', opus' : ''})`);
      }
      this.mode = mode;
    });
    this.on(MsgPlayback.START, (_r, msg) => {
      const start = m.decodePlaybackStart(msg.body);
      if (start.format !== AudioFmt.S16) throw new SpiceError('BAD_MESSAGE', `playback format ${start.format} (only S16 is defined)`);
      this.started = start;
      const { channels, frequency, time } = start;
      this.sink({ t: 'start', mode: this.mode === AudioDataMode.OPUS ? 'opus' : 'raw', channels, frequency, time });
    });
    this.on(MsgPlayback.DATA, (_r, msg) => {
      const { time, data } = m.decodePlaybackData(msg.body);
      const s = this.started;
      if (!s) {
        // spice-server never does this; dropped and counted, not fatal
        if (this.stats.outsideStream++ === 0) this.log.warn(`${this.name}: audio data outside START..STOP dropped`);
        return;
      }
      if (this.mode === AudioDataMode.RAW && data.length % (2 * s.channels) !== 0) {
        throw new SpiceError('BAD_MESSAGE', `raw audio packet of ${data.length} bytes is not whole S16 frames of ${s.channels} channels`);
      }
      this.stats.packets++;
      this.stats.bytes += data.length;
      // a copy: the body is a view into a socket chunk it would keep alive
      this.sink({ t: 'data', time, data: data.slice() });
    });
    this.on(MsgPlayback.STOP, () => {
      this.started = null;
      this.sink({ t: 'stop' });
    });
    this.onVolumeAndMute(MsgPlayback.VOLUME, MsgPlayback.MUTE, sink);
    this.on(MsgPlayback.LATENCY, (_r, msg) => {
      this.latencyMs = m.decodePlaybackLatency(msg.body);
      this.sink({ t: 'latency', ms: this.latencyMs });
    });
  }

  channelCaps(): number[] {
    // no CELT_0_5_1: nothing decodes it any more (spice-server dropped it too)
    return [PlaybackCap.VOLUME, PlaybackCap.LATENCY, ...(this.opus ? [PlaybackCap.OPUS] : [])];
  }

  protected onLinked(): void {}

  protected override resetForNewServer(): void {
    // a new server starts its own stream (MODE, START) if its guest plays
    if (this.started) this.sink({ t: 'stop' });
    this.started = null;
    this.mode = AudioDataMode.RAW;
  }
}
