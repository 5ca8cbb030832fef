// A Connection linked over a FakeTransport (the server's link reply and auth
// result delivered by hand), for tests that drive one channel with bytes.
import { generateKeyPairSync } from 'node:crypto';
import { Connection } from '../../main/spice/connection';
import { FakeTransport } from './fake-transport';
import { Bytes, concat, linkReply } from './spice-bytes';

let spki: Uint8Array | null = null;

export async function linkFake(channelType: number, channelCaps: number[] = []): Promise<{ t: FakeTransport; conn: Connection }> {
  spki ??= new Uint8Array(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }));
  const t = new FakeTransport();
  const p = Connection.link(t, { connectionId: 1, channelType, channelId: 0, channelCaps: [], password: '', name: `type ${channelType}` });
  t.deliver(concat(linkReply({ pubKey: spki, channel: channelCaps }), new Bytes().u32(0).build()));
  const conn = await p;
  t.written = [];
  return { t, conn };
}
