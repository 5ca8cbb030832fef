// A linked Connection over a FakeTransport (link reply + auth result
// delivered), and the message types a client wrote (mini headers).
import { generateKeyPairSync } from 'node:crypto';
import { Connection } from '../../main/spice/connection';
import { FakeTransport } from './fake-transport';
import { Bytes, concat, linkReply } from './spice-bytes';

const spki = new Uint8Array(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }));

export async function link(type: number, caps: number[] = []): Promise<{ t: FakeTransport; conn: Connection }> {
  const t = new FakeTransport();
  const p = Connection.link(t, { connectionId: 7, channelType: type, channelId: 0, channelCaps: [], password: '', name: 'x' });
  t.deliver(concat(linkReply({ pubKey: spki, channel: caps }), new Bytes().u32(0).build()));
  const conn = await p;
  t.written = [];
  return { t, conn };
}

/** Message types the client wrote on a transport (mini headers). */
export function types(t: FakeTransport): number[] {
  const all = t.allWritten();
  const out: number[] = [];
  for (let i = 0; i < all.length; ) {
    out.push(all[i] | (all[i + 1] << 8));
    i += 6 + (all[i + 2] | (all[i + 3] << 8) | (all[i + 4] << 16) | (all[i + 5] << 24));
  }
  return out;
}
