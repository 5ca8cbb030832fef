// Main channel (SPICE_CHANNEL_MAIN): session id, channel list, mouse modes,
// name/uuid, multimedia time, agent presence and tokens. Migration messages
// go to the session's migration logic (MainEvents). Wire formats: messages/main.ts.
import * as m from '../messages/main';
import type { ChannelRef, DstInfo, MainInit } from '../messages/main';
import { Channel, type Logger } from './base-channel';
import { AgentChannel } from '../agent/agent-channel';
import { FileTransfers } from '../agent/file-xfer';
import { Channel as ChannelType, MainCap, MouseMode, MsgMain, MsgcMain } from '../protocol/enums';

export type { ChannelRef, MainInit };

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

export class MainChannel extends Channel {
  init: MainInit | null = null;
  mouseMode = { supported: 0, current: 0 };
  agentConnected = false;
  /** Agent protocol state (tokens, queue, reassembly): kept across a seamless switch. */
  readonly agent: AgentChannel;
  /** Client → guest file transfers over the agent; lives with `agent`, so a seamless switch keeps them. */
  readonly files: FileTransfers;
  multiMediaTime = 0;
  /** Date.now() when multiMediaTime was set (null: never): the clock runs on from there (spice-gtk's session mm-time). */
  multiMediaTimeAt: number | null = null;
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
    this.agent = new AgentChannel({
      start: (n) => this.send(MsgcMain.AGENT_START, m.encodeAgentTokens(n)),
      token: (n) => this.send(MsgcMain.AGENT_TOKEN, m.encodeAgentTokens(n)),
      data: (chunk) => this.send(MsgcMain.AGENT_DATA, chunk),
    }, { onError: (e) => this.log.warn(`agent: ${e.code}: ${e.message}`) });
    this.files = new FileTransfers(this.agent, { onError: (e) => this.log.warn(`agent file transfer: ${e.code}: ${e.message}`) });
    this.on(MsgMain.INIT, (_r, msg) => {
      const init = m.decodeMainInit(msg.body);
      this.init = init;
      this.agent.setServerTokens(init.agentTokens);
      this.multiMediaTime = init.multiMediaTime;
      this.multiMediaTimeAt = Date.now();
      this.setAgent(init.agentConnected);
      this.setMouseMode(init.supportedMouseModes, init.currentMouseMode);
      if (this.attachOnInit) this.send(MsgcMain.ATTACH_CHANNELS);
      this.events.onInit(init);
    });
    this.on(MsgMain.CHANNELS_LIST, (_r, msg) => this.events.onChannelsList(m.decodeChannelsList(msg.body)));
    this.on(MsgMain.MOUSE_MODE, (_r, msg) => {
      const mode = m.decodeMouseMode(msg.body);
      this.setMouseMode(mode.supported, mode.current);
    });
    this.on(MsgMain.MULTI_MEDIA_TIME, (_r, msg) => {
      this.multiMediaTime = m.decodeMainU32(msg.body, 'time');
      this.multiMediaTimeAt = Date.now();
      this.events.onMultiMediaTime();
    });
    this.on(MsgMain.AGENT_CONNECTED, () => this.setAgent(true));
    this.on(MsgMain.AGENT_CONNECTED_TOKENS, (_r, msg) => {
      this.agent.setServerTokens(m.decodeMainU32(msg.body, 'num_tokens'));
      this.setAgent(true);
    });
    this.on(MsgMain.AGENT_DISCONNECTED, (_r, msg) => {
      m.decodeMainU32(msg.body, 'error_code');
      this.setAgent(false);
    });
    this.on(MsgMain.AGENT_TOKEN, (_r, msg) => {
      this.agent.addServerTokens(m.decodeMainU32(msg.body, 'num_tokens'));
    });
    this.on(MsgMain.AGENT_DATA, (_r, msg) => this.agent.receive(msg.body));
    this.on(MsgMain.NAME, (_r, msg) => {
      this.name_ = m.decodeName(msg.body);
      this.events.onName(this.name_);
    });
    this.on(MsgMain.UUID, (_r, msg) => {
      this.uuid = m.decodeUuid(msg.body);
      this.events.onUuid(this.uuid);
    });
    this.on(MsgMain.MIGRATE_BEGIN, (_r, msg) => this.events.onMigrateBegin(m.decodeDstInfo(msg.body, false), false));
    this.on(MsgMain.MIGRATE_BEGIN_SEAMLESS, (_r, msg) => this.events.onMigrateBegin(m.decodeDstInfo(msg.body, true), true));
    this.on(MsgMain.MIGRATE_CANCEL, () => this.events.onMigrateCancel());
    this.on(MsgMain.MIGRATE_END, () => this.events.onMigrateEnd());
    this.on(MsgMain.MIGRATE_SWITCH_HOST, (_r, msg) => this.events.onSwitchHost(m.decodeDstInfo(msg.body, false)));
    // ACK/NACK are read off the destination connection by the migration controller before
    // it is handed to this channel; arriving here they are stale and harmless.
    this.ignore(MsgMain.MIGRATE_DST_SEAMLESS_ACK, MsgMain.MIGRATE_DST_SEAMLESS_NACK);
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
    this.agent.reset();
  }

  protected override onEnded(): void {
    // the session is over: its agent with it (a file transfer fails in words instead of waiting)
    this.agentConnected = false;
    this.agent.reset();
  }

  /** The server's multimedia clock now (ms, wraps at 2^32), null before it was told. */
  mmTimeNow(): number | null {
    return this.multiMediaTimeAt === null ? null : (this.multiMediaTime + (Date.now() - this.multiMediaTimeAt)) >>> 0;
  }

  private setAgent(connected: boolean): void {
    const was = this.agentConnected;
    this.agentConnected = connected;
    if (connected) this.agent.connected();
    else this.agent.disconnected();
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
    this.send(MsgcMain.MOUSE_MODE_REQUEST, m.encodeMouseModeRequest(mode));
  }
}
