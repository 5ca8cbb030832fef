// Record channel: the guest's capture device, fed from the client's
// microphone. The server says when the guest records (START with the format
// it wants, STOP); the client answers each START with MODE (raw: we encode
// nothing) and START_MARK, then sends DATA — like spice-gtk's
// channel-record.c. Nothing is captured unless the app, after the user
// allowed the microphone, calls sendData().
import * as m from '../messages/sound';
import { SpiceError } from '../wire/errors';
import type { Logger } from './base-channel';
import { SoundChannel } from './sound-channel';
import { AudioDataMode, AudioFmt, Channel as ChannelType, MsgcRecord, MsgRecord, RecordCap } from '../protocol/enums';

export type RecordEvent =
  | { t: 'start'; channels: number; frequency: number }
  | { t: 'stop' }
  | { t: 'volume'; volume: number[] }
  | { t: 'mute'; mute: boolean };

export class RecordChannel extends SoundChannel {
  started: m.AudioFormat | null = null;
  readonly stats = { packets: 0, bytes: 0, dropped: 0 };
  /** The client's clock for the packets' time stamps (ms). */
  clock: () => number = () => Math.floor(performance.now());

  constructor(
    id: number,
    log: Logger,
    private readonly sink: (ev: RecordEvent) => void = () => {},
  ) {
    super(ChannelType.RECORD, id, log);
    this.on(MsgRecord.START, (_r, msg) => {
      const start = m.decodeRecordStart(msg.body);
      if (start.format !== AudioFmt.S16) throw new SpiceError('BAD_MESSAGE', `record format ${start.format} (only S16 is defined)`);
      this.started = start;
      const now = this.clock() >>> 0;
      this.send(MsgcRecord.MODE, m.encodeRecordMode(now, AudioDataMode.RAW));
      this.send(MsgcRecord.START_MARK, m.encodeRecordStartMark(now));
      this.sink({ t: 'start', channels: start.channels, frequency: start.frequency });
    });
    this.on(MsgRecord.STOP, () => {
      this.started = null;
      this.sink({ t: 'stop' });
    });
    this.onVolumeAndMute(MsgRecord.VOLUME, MsgRecord.MUTE, sink);
  }

  channelCaps(): number[] {
    return [RecordCap.VOLUME];
  }

  protected onLinked(): void {}

  protected override resetForNewServer(): void {
    if (this.started) this.sink({ t: 'stop' });
    this.started = null;
  }

  /**
   * Sends captured samples: interleaved S16 LE in the channel count and rate
   * the server's START asked for. Outside START..STOP they are dropped (the
   * guest is not recording) and counted.
   */
  sendData(pcm: Uint8Array): void {
    const s = this.started;
    if (!s) {
      this.stats.dropped++;
      return;
    }
    if (pcm.length % (2 * s.channels) !== 0) {
      throw new SpiceError('BAD_MESSAGE', `record data of ${pcm.length} bytes is not whole S16 frames of ${s.channels} channels`);
    }
    this.stats.packets++;
    this.stats.bytes += pcm.length;
    this.send(MsgcRecord.DATA, m.encodeRecordData(this.clock() >>> 0, pcm));
  }
}
