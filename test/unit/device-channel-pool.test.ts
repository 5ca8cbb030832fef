// main/devices' channel pool over a real session: one device per spicevmc
// channel, a CONFIG error naming what the VM lacks, and a device told when
// the channel under it fails or the session ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../main/spice/session';
import { DeviceChannelPool } from '../../main/devices';
import type { SpicevmcChannel } from '../../main/spice/channels/spicevmc-channel';
import { SpiceError } from '../../main/spice/wire/errors';
import { Channel as ChannelType, MsgcSpicevmc } from '../../main/spice/protocol/enums';
import { FakeSpiceServer, until } from '../helpers/fake-spice-server';
import { Bytes, miniMsg } from '../helpers/spice-bytes';

test('usbredir pool: claim, no free channel (CONFIG), release, loss on channel failure and on session end', async () => {
  const srv = new FakeSpiceServer();
  srv.channels = [
    { type: ChannelType.USBREDIR, id: 0 },
    { type: ChannelType.USBREDIR, id: 1 },
    { type: ChannelType.SMARTCARD, id: 0 },
  ];
  const lost: string[] = [];
  const pool = new DeviceChannelPool<string>([ChannelType.USBREDIR], { onLost: (d, ch, err) => lost.push(`${d} on ${ch.name}: ${err?.code ?? 'closed'}`) });
  const s = new Session({ endpoint: { host: '127.0.0.1', port: 5900 }, transport: srv.factory, devices: [pool] });
  await s.connect();
  assert.deepEqual(
    pool.free.map((c) => c.name),
    ['usbredir 0', 'usbredir 1'],
    'only its own kind',
  );

  const a = pool.claim('disk');
  const b = pool.claim('camera');
  assert.deepEqual([a.name, b.name], ['usbredir 0', 'usbredir 1']);
  assert.throws(
    () => pool.claim('keyboard'),
    (e: unknown) => e instanceof SpiceError && e.code === 'CONFIG' && /all 2 are in use/.test(e.message) && /usbredir/.test(e.message),
  );
  // the device uses its channel's pipe
  a.write(new Uint8Array([1, 2, 3]));
  await until(() => srv.link(ChannelType.USBREDIR, 0)!.messages.length === 1, 'device data at the server');
  assert.equal(srv.link(ChannelType.USBREDIR, 0)!.messages[0].type, MsgcSpicevmc.DATA);

  pool.release(b);
  assert.equal(pool.claim('keyboard'), b, 'a released channel is free again');

  // the server breaks usbredir 0: only the device on it is told; the session lives
  srv.link(ChannelType.USBREDIR, 0)!.send(miniMsg(999, new Bytes().u32(0).build()));
  await until(() => lost.length === 1, 'the device told');
  assert.deepEqual(lost, ['disk on usbredir 0: UNKNOWN_MESSAGE']);
  assert.equal(s.state, 'connected');
  assert.deepEqual(
    pool.free.map((c: SpicevmcChannel) => c.name),
    [],
  );

  s.disconnect();
  assert.deepEqual(lost, ['disk on usbredir 0: UNKNOWN_MESSAGE', 'keyboard on usbredir 1: closed']);
  assert.throws(() => pool.claim('x'), /the VM offers none/);
});
