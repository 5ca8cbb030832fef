// Channels we link (so the server sees a complete client) but whose payload
// features land in later work: playback, record, port, usbredir, smartcard,
// webdav. They answer the common messages and count the rest.
import { Channel, type Logger } from './base-channel';
import { Channel as ChannelType, MsgSpicevmc, PlaybackCap, RecordCap } from '../protocol/enums';

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

  /** spicevmc device data (usbredir, smartcard, webdav): read from the device only while the VM runs. */
  protected override provesGuestRunning(type: number): boolean {
    return type === MsgSpicevmc.DATA && (this.type === ChannelType.USBREDIR || this.type === ChannelType.SMARTCARD || this.type === ChannelType.WEBDAV);
  }

  override dispatch(msg: { type: number; body: Uint8Array; serial: bigint }): void {
    // channel-specific messages start at 101; the base handles the common ones
    if (msg.type >= 101 && msg.type < 400) {
      this.dataMessages++;
      this.dataBytes += msg.body.length;
      this.checkGuestRunning(msg.type);
      return;
    }
    super.dispatch(msg);
  }
}
