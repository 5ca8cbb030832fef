// Issue 9 finding 1: bytes that arrive in the same chunk as the auth result
// are framed before the channel listens. A framing error there must still
// reach the channel and the session: connect() settles with the coded error,
// and a session is never left "connected" with a dead channel — for the first
// link, the channels main lists, and a switch-host's new main link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../main/spice/session';
import { SpiceError } from '../../main/spice/wire/errors';
import { Channel as ChannelType, MsgMain } from '../../main/spice/protocol/enums';
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
