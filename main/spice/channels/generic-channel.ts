// Channels we link (so the server sees a complete client) but whose payload
// we do not use (tunnel, types newer than us). They answer the common
// messages and count the rest, through the handler table like every channel
// (so the base's migration guards apply).
import { Channel, type Logger } from './base-channel';
import { Channel as ChannelType, PlaybackCap, RecordCap } from '../protocol/enums';

const FIRST_CHANNEL_MESSAGE = 101;

export class GenericChannel extends Channel {
  dataMessages = 0;
  dataBytes = 0;

  constructor(type: number, id: number, log: Logger) {
    super(type, id, log);
    // channel-specific messages start at 101 (playback: MsgPlayback, record: MsgRecord; others unknown to us)
    for (let t = FIRST_CHANNEL_MESSAGE; t < 400; t++) {
      this.on(t, (_r, msg) => {
        this.dataMessages++;
        this.dataBytes += msg.body.length;
      });
    }
  }

  channelCaps(): number[] {
    // advertise volume so servers do not wait for format negotiation we cannot do yet
    if (this.type === ChannelType.PLAYBACK) return [PlaybackCap.VOLUME];
    if (this.type === ChannelType.RECORD) return [RecordCap.VOLUME];
    return [];
  }

  protected onLinked(): void {}
}
