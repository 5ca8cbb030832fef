// The one place that knows which class serves which channel type. The session
// creates every channel the server lists through this table; a new channel
// kind (a device channel, say) is one entry here and its own file.
import type { Channel, Logger } from './base-channel';
import { DisplayChannel, type DisplayVideoOptions } from './display-channel';
import { CursorChannel } from './cursor-channel';
import { InputsChannel } from './inputs-channel';
import { GenericChannel } from './generic-channel';
import { PortChannel } from './port-channel';
import { SpicevmcDeviceChannel } from './spicevmc-channel';
import { PlaybackChannel } from './playback-channel';
import { RecordChannel, type RecordEvent } from './record-channel';
import { Channel as ChannelType } from '../protocol/enums';
import type { AudioEvent, CursorCommand, DisplayCommand } from '../../../preload/contract';

/** What a channel may need from its session when it is built. */
export interface ChannelContext {
  log: Logger;
  onDisplay?: (channelId: number, cmd: DisplayCommand) => void;
  onCursor?: (cmd: CursorCommand) => void;
  /** Display channels defer their ACKs to the session's owner (SessionOptions.onDisplayReceived). */
  onDisplayReceived?: (ch: DisplayChannel) => void;
  preferredCompression?: number;
  onAudio?: (channelId: number, ev: AudioEvent) => void;
  onRecord?: (channelId: number, ev: RecordEvent) => void;
  /** Announce Opus on the playback channel (default true). */
  playbackOpus?: boolean;
  /** Video stream codecs, preference and clocks for display channels. */
  video?: DisplayVideoOptions;
}

export interface ChannelKind {
  /** Builds the logical channel (its class advertises its own caps: Channel.channelCaps). */
  create(type: number, id: number, ctx: ChannelContext): Channel;
  /**
   * A failure of an essential channel ends the session; any other channel is
   * lost alone (a device or audio fault never takes the session down).
   */
  essential: boolean;
}

export type ChannelTable = ReadonlyMap<number, ChannelKind>;

const generic: ChannelKind = { create: (type, id, ctx) => new GenericChannel(type, id, ctx.log), essential: false };
const device: ChannelKind = { create: (type, id, ctx) => new SpicevmcDeviceChannel(type, id, ctx.log), essential: false };

export const CHANNEL_TABLE: ChannelTable = new Map<number, ChannelKind>([
  [
    ChannelType.DISPLAY,
    {
      create: (_type, id, ctx) => {
        const ch = new DisplayChannel(id, ctx.log, (cmd) => ctx.onDisplay?.(id, cmd));
        if (ctx.preferredCompression !== undefined) ch.preferredCompression = ctx.preferredCompression;
        if (ctx.video) ch.video = ctx.video;
        const received = ctx.onDisplayReceived;
        if (received) ch.ackDeferred = () => received(ch);
        return ch;
      },
      essential: true,
    },
  ],
  [ChannelType.CURSOR, { create: (_type, id, ctx) => new CursorChannel(id, ctx.log, (cmd) => ctx.onCursor?.(cmd)), essential: true }],
  [ChannelType.INPUTS, { create: (_type, id, ctx) => new InputsChannel(id, ctx.log), essential: true }],
  [
    ChannelType.PLAYBACK,
    {
      create: (_type, id, ctx) => new PlaybackChannel(id, ctx.log, (ev) => ctx.onAudio?.(id, ev), ctx.playbackOpus === undefined ? {} : { opus: ctx.playbackOpus }),
      essential: false,
    },
  ],
  [ChannelType.RECORD, { create: (_type, id, ctx) => new RecordChannel(id, ctx.log, (ev) => ctx.onRecord?.(id, ev)), essential: false }],
  [ChannelType.PORT, { create: (_type, id, ctx) => new PortChannel(id, ctx.log), essential: false }],
  [ChannelType.USBREDIR, device],
  [ChannelType.SMARTCARD, device],
  // a port channel to spice-server (PORT_INIT names org.spice-space.webdav.0); its manager reads the data
  [ChannelType.WEBDAV, { create: (_type, id, ctx) => new PortChannel(id, ctx.log, ChannelType.WEBDAV), essential: false }],
]);

/** Channel types not in the table (tunnel, future ones) are linked and their messages counted. */
export const FALLBACK_KIND: ChannelKind = generic;
