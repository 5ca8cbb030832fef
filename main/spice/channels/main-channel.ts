// Main channel (SPICE_CHANNEL_MAIN): session id, channel list, mouse modes,
// name/uuid, multimedia time, agent presence and tokens. Migration messages
// are recognised here and handed to the session's migration logic when it
// lands; until then they are ignored with a log line.
import { ByteWriter } from '../wire/byte-writer';
import { decodeDstInfo, type DstInfo } from '../messages/main';
import { Channel, type Logger } from './base-channel';
import { Channel as ChannelType, MainCap, MouseMode, MsgMain, MsgcMain } from '../protocol/enums';

export interface MainInit {
  sessionId: number;
  displayChannelsHint: number;
  supportedMouseModes: number;
  currentMouseMode: number;
  agentConnected: boolean;
  agentTokens: number;
  multiMediaTime: number;
  ramHint: number;
}

export interface ChannelRef {
  type: number;
  id: number;
}

export interface MainEvents {
  onInit(init: MainInit): void;
  onChannelsList(list: ChannelRef[]): void;
  onMouseMode(supported: number, current: number): void;
  onName(name: string): void;
  onUuid(uuid: string): void;
  onAgent(connected: boolean): void;
  /** MIGRATE_BEGIN (semi-seamless) or MIGRATE_BEGIN_SEAMLESS. */
  onMigrateBegin(dst: DstInfo, seamless: boolean): void;
  onMigrateCancel(): void;
  onMigrateEnd(): void;
  onSwitchHost(dst: DstInfo): void;
  /** MULTI_MEDIA_TIME: spice-server sends it when the VM (re)starts. */
  onMultiMediaTime(): void;
}

/** Tokens we grant the agent (what spice-gtk uses: VD_AGENT_CLIENT_TOKENS). */
export const AGENT_CLIENT_TOKENS = 10;

export class MainChannel extends Channel {
  init: MainInit | null = null;
  mouseMode = { supported: 0, current: 0 };
  /** Server → client agent tokens we may still use, kept across migration. */
  agentTokens = 0;
  agentConnected = false;
  multiMediaTime = 0;
  name_: string | null = null;
  uuid: string | null = null;
  /** When true, we ask for client mouse mode whenever the server supports it. */
  preferClientMouse = true;
  /** False while a semi-seamless destination re-inits main: the channels are already linked. */
  attachOnInit = true;

  constructor(
    log: Logger,
    private readonly events: MainEvents,
  ) {
    super(ChannelType.MAIN, 0, log);
    this.on(MsgMain.INIT, (r) => {
      const init: MainInit = {
        sessionId: r.u32('session_id'),
        displayChannelsHint: r.u32('display_channels_hint'),
        supportedMouseModes: r.u32('supported_mouse_modes'),
        currentMouseMode: r.u32('current_mouse_mode'),
        agentConnected: r.u32('agent_connected') !== 0,
        agentTokens: r.u32('agent_tokens'),
        multiMediaTime: r.u32('multi_media_time'),
        ramHint: r.u32('ram_hint'),
      };
      this.init = init;
      this.agentTokens = init.agentTokens;
      this.multiMediaTime = init.multiMediaTime;
      this.setAgent(init.agentConnected);
      this.setMouseMode(init.supportedMouseModes, init.currentMouseMode);
      if (this.attachOnInit) this.send(MsgcMain.ATTACH_CHANNELS);
      this.events.onInit(init);
    });
    this.on(MsgMain.CHANNELS_LIST, (r) => {
      const n = r.u32('num_of_channels');
      if (n > 256) throw new Error(`channel list of ${n} entries`);
      const list: ChannelRef[] = [];
      for (let i = 0; i < n; i++) list.push({ type: r.u8('channel type'), id: r.u8('channel id') });
      this.events.onChannelsList(list);
    });
    this.on(MsgMain.MOUSE_MODE, (r) => this.setMouseMode(r.u16('supported_modes'), r.u16('current_mode')));
    this.on(MsgMain.MULTI_MEDIA_TIME, (r) => {
      this.multiMediaTime = r.u32('time');
      this.events.onMultiMediaTime();
    });
    this.on(MsgMain.AGENT_CONNECTED, () => this.setAgent(true));
    this.on(MsgMain.AGENT_CONNECTED_TOKENS, (r) => {
      this.agentTokens = r.u32('num_tokens');
      this.setAgent(true);
    });
    this.on(MsgMain.AGENT_DISCONNECTED, (r) => {
      r.u32('error_code');
      this.setAgent(false);
    });
    this.on(MsgMain.AGENT_TOKEN, (r) => {
      this.agentTokens += r.u32('num_tokens');
    });
    this.on(MsgMain.NAME, (r) => {
      const len = r.u32('name_len');
      const bytes = r.bytesView(Math.min(len, r.remaining), 'name');
      this.name_ = new TextDecoder().decode(bytes).replace(/\0.*$/s, '');
      this.events.onName(this.name_);
    });
    this.on(MsgMain.UUID, (r) => {
      const b = r.bytesView(16, 'uuid');
      const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
      this.uuid = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
      this.events.onUuid(this.uuid);
    });
    this.on(MsgMain.MIGRATE_BEGIN, (_r, msg) => this.events.onMigrateBegin(decodeDstInfo(msg.body, false), false));
    this.on(MsgMain.MIGRATE_BEGIN_SEAMLESS, (_r, msg) => this.events.onMigrateBegin(decodeDstInfo(msg.body, true), true));
    this.on(MsgMain.MIGRATE_CANCEL, () => this.events.onMigrateCancel());
    this.on(MsgMain.MIGRATE_END, () => this.events.onMigrateEnd());
    this.on(MsgMain.MIGRATE_SWITCH_HOST, (_r, msg) => this.events.onSwitchHost(decodeDstInfo(msg.body, false)));
    // ACK/NACK are read off the destination connection by the migration controller before
    // it is handed to this channel; arriving here they are stale and harmless.
    this.ignore(MsgMain.MIGRATE_DST_SEAMLESS_ACK, MsgMain.MIGRATE_DST_SEAMLESS_NACK);
    // Agent data (clipboard, resolution) is a later work item.
    this.ignore(MsgMain.AGENT_DATA);
  }

  /** What a seamless-capable client advertises (semi-seamless, tokens, seamless, name/uuid). */
  channelCaps(): number[] {
    return [MainCap.SEMI_SEAMLESS_MIGRATE, MainCap.NAME_AND_UUID, MainCap.AGENT_CONNECTED_TOKENS, MainCap.SEAMLESS_MIGRATE];
  }

  protected onLinked(): void {
    // nothing: the server speaks first (MAIN_INIT)
  }

  protected override resetForNewServer(): void {
    // a new server knows nothing of our agent session: re-learn it from its MAIN_INIT
    this.agentConnected = false;
    this.agentTokens = 0;
  }

  private setAgent(connected: boolean): void {
    const was = this.agentConnected;
    this.agentConnected = connected;
    if (connected && !was) {
      this.send(MsgcMain.AGENT_START, new ByteWriter(4).u32(AGENT_CLIENT_TOKENS).finish());
    }
    if (connected !== was) this.events.onAgent(connected);
  }

  private setMouseMode(supported: number, current: number): void {
    this.mouseMode = { supported, current };
    this.events.onMouseMode(supported, current);
    if (this.preferClientMouse && supported & MouseMode.CLIENT && current !== MouseMode.CLIENT) {
      this.requestMouseMode(MouseMode.CLIENT);
    }
  }

  requestMouseMode(mode: number): void {
    this.send(MsgcMain.MOUSE_MODE_REQUEST, new ByteWriter(2).u16(mode).finish());
  }
}
