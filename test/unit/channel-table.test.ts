// Issue 8 acceptance: a new spicevmc device channel is its own class plus one
// table entry — the session links it, routes its messages through the
// handler table, holds its output for a migration, tells the device manager
// about it, and loses it alone when it fails. Nothing else is edited.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../main/spice/session';
import { SpicevmcChannel } from '../../main/spice/channels/spicevmc-channel';
import { CHANNEL_TABLE, type ChannelKind } from '../../main/spice/channels/channel-table';
import type { Logger } from '../../main/spice/channels/base-channel';
import type { DeviceManager } from '../../main/spice/devices';
import type { SpiceError } from '../../main/spice/wire/errors';
import { Channel as ChannelType, MsgcSpicevmc, MsgSpicevmc } from '../../main/spice/protocol/enums';
import { FakeSpiceServer, until } from '../helpers/fake-spice-server';
import { Bytes, miniMsg } from '../helpers/spice-bytes';

// ---- the new channel's own file would hold just this
const FAKE_TYPE = 42;
const FAKE_CAP = 3;
const MSG_FAKE_HELLO = 201;
class FakeDeviceChannel extends SpicevmcChannel {
  hello: number | null = null;
  constructor(id: number, log: Logger) {
    super(FAKE_TYPE, id, log);
    this.on(MSG_FAKE_HELLO, (r) => (this.hello = r.u32('hello version')));
  }
  override channelCaps(): number[] {
    return [FAKE_CAP];
  }
  protected onLinked(): void {
    this.write(new TextEncoder().encode('client hello'));
  }
}
const fakeKind: ChannelKind = { create: (_type, id, ctx) => new FakeDeviceChannel(id, ctx.log), essential: false };
// ---- and the table entry
const table = new Map(CHANNEL_TABLE).set(FAKE_TYPE, fakeKind);

class RecordingManager implements DeviceManager {
  readonly channelTypes = [FAKE_TYPE];
  events: string[] = [];
  data: string[] = [];
  channelUp(ch: SpicevmcChannel): void {
    this.events.push(`up ${ch.name}`);
    ch.onData = (b) => this.data.push(new TextDecoder().decode(b));
  }
  channelDown(ch: SpicevmcChannel, err: SpiceError | null): void {
    this.events.push(`down ${ch.name} ${err?.code ?? 'clean'}`);
  }
  close(): void {
    this.events.push('close');
  }
}

test('a fake spicevmc device channel added through the channel table is linked, served and held like the built-in ones', async () => {
  const srv = new FakeSpiceServer();
  srv.channels = [
    { type: ChannelType.INPUTS, id: 0 },
    { type: FAKE_TYPE, id: 0 },
  ];
  const devices = new RecordingManager();
  const s = new Session({ endpoint: { host: '127.0.0.1', port: 5900 }, transport: srv.factory, channelTable: table, devices: [devices] });
  await s.connect();
  const ch = s.channel(FAKE_TYPE, 0);
  assert.ok(ch instanceof FakeDeviceChannel);
  assert.equal(ch.name, 'channel-42 0');
  const link = srv.link(FAKE_TYPE)!;
  assert.equal(link.channelCaps, 1 << FAKE_CAP, 'its own caps in its link message');
  assert.equal(link.connectionId, srv.sessionId);
  assert.deepEqual(devices.events, ['up channel-42 0']);
  await until(() => link.messages.length === 1, 'the client hello');
  assert.equal(link.messages[0].type, MsgcSpicevmc.DATA);
  assert.equal(new TextDecoder().decode(link.messages[0].body), 'client hello');

  // its own message through the handler table, DATA through the spicevmc base
  link.send(miniMsg(MSG_FAKE_HELLO, new Bytes().u32(7).build()));
  link.send(miniMsg(MsgSpicevmc.DATA, new TextEncoder().encode('device says hi')));
  await until(() => devices.data.length === 1, 'device data');
  assert.equal(ch.hello, 7);
  assert.deepEqual(devices.data, ['device says hi']);
  assert.equal(ch.holdsOutputForSwitch, true, 'the migration holds its output like every spicevmc channel');

  // the base's guards apply: MIGRATE_DATA without MIGRATE is a protocol error, lost alone
  link.send(miniMsg(2 /* SPICE_MSG_MIGRATE_DATA */));
  await until(() => devices.events.length === 2, 'the channel lost');
  assert.deepEqual(devices.events, ['up channel-42 0', 'down channel-42 0 PROTOCOL']);
  assert.equal(s.state, 'connected', 'a device channel failure does not end the session');
  assert.equal(s.channel(FAKE_TYPE, 0), undefined);
  assert.ok(link.closedByClient);
  s.disconnect();
  assert.deepEqual(devices.events.at(-1), 'close');
});

test('the default table serves every channel type spice-server offers; unknown ones fall back to a counting channel', () => {
  for (const t of [ChannelType.DISPLAY, ChannelType.CURSOR, ChannelType.INPUTS, ChannelType.PLAYBACK, ChannelType.RECORD, ChannelType.PORT, ChannelType.USBREDIR, ChannelType.SMARTCARD, ChannelType.WEBDAV]) {
    assert.ok(CHANNEL_TABLE.has(t), `type ${t}`);
  }
  for (const t of [ChannelType.PORT, ChannelType.USBREDIR, ChannelType.SMARTCARD, ChannelType.WEBDAV]) {
    const ch = CHANNEL_TABLE.get(t)!.create(t, 0, { log: { debug() {}, info() {}, warn() {} } });
    assert.ok(ch instanceof SpicevmcChannel, `type ${t} is a spicevmc channel`);
    assert.equal(CHANNEL_TABLE.get(t)!.essential, false);
  }
  for (const t of [ChannelType.DISPLAY, ChannelType.CURSOR, ChannelType.INPUTS]) assert.equal(CHANNEL_TABLE.get(t)!.essential, true);
});
