// Channels we link (so the server sees a complete client) but whose payload
// features land in later work: playback, record, port, usbredir, smartcard,
// webdav. They answer the common messages and count the rest.
import { Channel, type Logger } from './base-channel';
import { Channel as ChannelType, PlaybackCap, RecordCap } from '../protocol/enums';

export class GenericChannel extends Channel {
  dataMessages = 0;
  dataBytes = 0;

  constructor(type: number, id: number, log: Logger) {
    super(type, id, log);
  }

  channelCaps(): number[] {
    // advertise volume so servers do not wait for format negotiation we cannot do yet
    if (this.type === ChannelType.PLAYBACK) return [PlaybackCap.VOLUME];
    if (this.type === ChannelType.RECORD) return [RecordCap.VOLUME];
    return [];
  }

  protected onLinked(): void {}

  override dispatch(msg: { type: number; body: Uint8Array; serial: bigint }): void {
    // channel-specific messages start at 101; the base handles the common ones
    if (msg.type >= 101 && msg.type < 400) {
      this.dataMessages++;
      this.dataBytes += msg.body.length;
      return;
    }
    super.dispatch(msg);
  }
}
