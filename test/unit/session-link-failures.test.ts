// Issue 9 finding 1: bytes that arrive in the same chunk as the auth result
// are framed before the channel listens. A framing error there must still
// reach the channel and the session: connect() settles with the coded error,
// and a session is never left "connected" with a dead channel — for the first
// link, the channels main lists, a seamless migration's destination links and
// a switch-host's new main link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../main/spice/session';
import { SpiceError } from '../../main/spice/wire/errors';
import { Channel as ChannelType, MainCap, MsgcMain, MsgMain } from '../../main/spice/protocol/enums';
import type { MigrationStatus } from '../../preload/contract';
import { FakeSpiceServer, settleWithin, until } from '../helpers/fake-spice-server';
import { Bytes, miniMsg } from '../helpers/spice-bytes';

/** A mini header announcing a body over the framer's limit: LIMIT as soon as it is framed. */
const oversized = () => new Bytes().u16(103).u32(0xfffffff0).build();

function session(srv: FakeSpiceServer): Session {
  return new Session({ endpoint: { host: '127.0.0.1', port: 5900 }, transport: srv.factory, linkTimeoutMs: 3000 });
}

test('a bad header in the auth result chunk of main fails connect() with LIMIT (no hang)', async () => {
  const srv = new FakeSpiceServer();
  srv.afterAuth = (l) => (l.type === ChannelType.MAIN ? oversized() : undefined);
  const s = session(srv);
  const out = await settleWithin(s.connect(), 4000);
  assert.notEqual(out, 'pending', 'connect() settled');
  assert.ok(typeof out === 'object' && 'err' in out && out.err instanceof SpiceError, JSON.stringify(out));
  assert.equal((out as { err: SpiceError }).err.code, 'LIMIT');
  assert.equal(s.state, 'disconnected');
});

test('the same bad header on a listed display link fails the session instead of leaving it connected', async () => {
  const srv = new FakeSpiceServer();
  srv.channels = [{ type: ChannelType.DISPLAY, id: 0 }];
  srv.afterAuth = (l) => (l.type === ChannelType.DISPLAY ? oversized() : undefined);
  const s = session(srv);
  const out = await settleWithin(s.connect(), 4000);
  assert.ok(typeof out === 'object' && 'err' in out, `connect() must fail, got ${JSON.stringify(out)}`);
  assert.equal((out as { err: SpiceError }).err.code, 'LIMIT');
  assert.equal(s.state, 'disconnected');
  assert.match(s.error!.message, /display 0/);
});

test('a device channel that fails that way is lost alone, with its reason; the session connects', async () => {
  const srv = new FakeSpiceServer();
  srv.channels = [
    { type: ChannelType.INPUTS, id: 0 },
    { type: ChannelType.SMARTCARD, id: 0 },
  ];
  srv.afterAuth = (l) => (l.type === ChannelType.SMARTCARD ? oversized() : undefined);
  const s = session(srv);
  const out = await settleWithin(s.connect(), 4000);
  assert.ok(typeof out === 'object' && 'ok' in out, JSON.stringify(out));
  await until(() => s.linkFailures.length > 0, 'the smartcard failure reported');
  assert.equal(s.state, 'connected');
  assert.deepEqual(
    s.linkFailures.map((f) => [f.name, f.error.code]),
    [['smartcard 0', 'LIMIT']],
  );
  assert.equal(s.channel(ChannelType.SMARTCARD, 0), undefined, 'forgotten');
  assert.ok(s.inputs?.connection?.isOpen);
  s.disconnect();
});

test('switch-host: a new main link failing in its auth result chunk fails the session with a reason', async () => {
  const srv = new FakeSpiceServer();
  const s = session(srv);
  await s.connect();
  // the destination (same fake server, new port) frames a bad header with its auth result
  srv.afterAuth = (l) => (l.type === ChannelType.MAIN && l.dial.port === 5901 ? oversized() : undefined);
  const host = new TextEncoder().encode('127.0.0.1\0');
  const dst = new Bytes().u16(5901).u16(0).u32(host.length).u32(20).u32(0).u32(0).raw(host).build();
  srv.link(ChannelType.MAIN)!.send(miniMsg(MsgMain.MIGRATE_SWITCH_HOST, dst));
  await until(() => s.state === 'disconnected', 'the session to fail', 4000);
  assert.equal(s.error?.code, 'LIMIT');
  assert.equal(s.migration.last?.phase, 'failed');
});

test('seamless migration: a destination link failing in its auth result chunk fails the migration, the session stays on the source', async () => {
  const srv = new FakeSpiceServer();
  srv.channels = [{ type: ChannelType.INPUTS, id: 0 }];
  srv.serverCaps = (type) => (type === ChannelType.MAIN ? [1 << MainCap.SEAMLESS_MIGRATE] : []);
  const statuses: MigrationStatus[] = [];
  const s = new Session({ endpoint: { host: '127.0.0.1', port: 5900 }, transport: srv.factory, onMigration: (m) => statuses.push(m) });
  await s.connect();
  // the destination (port 5901) answers DO_SEAMLESS with ACK, but its inputs link brings a bad header with its auth result
  srv.afterAuth = (l) => (l.type === ChannelType.INPUTS && l.dial.port === 5901 ? oversized() : undefined);
  srv.onMessage = (l, type) => {
    if (l.dial.port === 5901 && type === MsgcMain.MIGRATE_DST_DO_SEAMLESS) l.send(miniMsg(MsgMain.MIGRATE_DST_SEAMLESS_ACK));
  };
  const host = new TextEncoder().encode('127.0.0.1\0');
  const dst = new Bytes().u16(5901).u16(0).u32(host.length).u32(24).u32(0).u32(0).u32(1).raw(host).build();
  const srcMain = srv.links.find((l) => l.type === ChannelType.MAIN)!;
  srcMain.send(miniMsg(MsgMain.MIGRATE_BEGIN_SEAMLESS, dst));
  await until(() => statuses.some((m) => ['failed', 'done'].includes(m.phase)) || srcMain.messages.some((m) => m.type === MsgcMain.MIGRATE_CONNECTED_SEAMLESS), 'the migration to settle', 4000);
  assert.equal(statuses.at(-1)?.phase, 'failed', statuses.map((m) => `${m.phase}: ${m.message}`).join('; '));
  assert.match(statuses.at(-1)!.message, /inputs 0 \(destination\).*announces/);
  const sent = srcMain.messages.map((m) => m.type);
  assert.ok(sent.includes(MsgcMain.MIGRATE_CONNECT_ERROR), 'the source is told to keep the VM');
  assert.ok(!sent.includes(MsgcMain.MIGRATE_CONNECTED_SEAMLESS), 'never told the destination was ready');
  assert.equal(s.state, 'connected');
  assert.ok(s.inputs?.connection?.isOpen, 'inputs still on the source');
  s.disconnect();
});
