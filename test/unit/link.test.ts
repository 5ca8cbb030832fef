// Link phase: golden bytes of our SpiceLinkMess, reply parsing, the RSA-OAEP
// ticket (decrypted here with node:crypto's private key, independently), and
// the whole handshake + data phase fed split at every byte boundary.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, privateDecrypt, constants } from 'node:crypto';
import { Connection } from '../../main/spice/connection';
import { encodeLinkMess, decodeLinkReply, capsToWords, wordsToCaps } from '../../main/spice/link';
import { SpiceError } from '../../main/spice/wire/errors';
import { FakeTransport, tick } from '../helpers/fake-transport';
import { linkFake } from '../helpers/linked-channel';
import { Bytes, concat, fromHex, hex, linkReply, miniMsg, fullMsg } from '../helpers/spice-bytes';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));

test('RSA-1024 SPKI is the 162 bytes SPICE expects', () => {
  assert.equal(spki.length, 162);
});

test('SpiceLinkMess golden bytes (main channel, caps 0,1,3 common; 0,2,3 main)', () => {
  const got = encodeLinkMess({ connectionId: 0x11223344, channelType: 1, channelId: 0, commonCaps: [0, 1, 3], channelCaps: [0, 2, 3] });
  const expected =
    '52454451' + '02000000' + '02000000' + '1a000000' + // header: REDQ 2.2 size 26
    '44332211' + '01' + '00' + '01000000' + '01000000' + '12000000' + // mess: conn id, type, id, 1 common word, 1 channel word, caps_offset 18
    '0b000000' + '0d000000';
  assert.equal(hex(got), expected);
});

test('caps words round trip, high caps go into later words', () => {
  assert.deepEqual(capsToWords([0, 31, 32, 70]), [0x80000001, 1, 64]);
  assert.deepEqual(wordsToCaps([0x80000001, 1, 64]), [0, 31, 32, 70]);
});

test('link reply parsing reads caps via caps_offset', () => {
  const r = linkReply({ pubKey: spki, common: [0xb], channel: [0xf] });
  const parsed = decodeLinkReply(r.subarray(16));
  assert.equal(parsed.error, 0);
  assert.deepEqual(parsed.commonCaps, [0, 1, 3]);
  assert.deepEqual(parsed.channelCaps, [0, 1, 2, 3]);
  assert.equal(hex(parsed.pubKey), hex(spki));
});

function serverStream(opts: { mini: boolean }): Uint8Array {
  const reply = linkReply({ pubKey: spki, common: [opts.mini ? 0xb : 0x3] });
  const result = new Bytes().u32(0).build();
  const setAck = new Bytes().u32(7).u32(20).build();
  const ping = new Bytes().u32(5).u64(0x0102030405060708n).raw([9, 9, 9]).build();
  const msgs = opts.mini
    ? [miniMsg(3, setAck), miniMsg(4, ping), miniMsg(103, new Uint8Array(32).fill(0x5a))]
    : [fullMsg(1, 3, setAck), fullMsg(2, 4, ping), fullMsg(3, 103, new Uint8Array(32).fill(0x5a))];
  return concat(reply, result, ...msgs);
}

async function runSplit(stream: Uint8Array, splits: number[]) {
  const t = new FakeTransport();
  const pending = Connection.link(t, { connectionId: 0, channelType: 1, channelId: 0, channelCaps: [], password: 'secret', name: 'main' });
  const got: { type: number; body: string }[] = [];
  let conn: Connection | null = null;
  void pending.then((c) => {
    conn = c;
    c.onMessage = (m) => got.push({ type: m.type, body: hex(m.body) });
  });
  let prev = 0;
  for (const s of [...splits, stream.length]) {
    t.deliver(stream.subarray(prev, s));
    prev = s;
    await tick();
  }
  await pending;
  await tick();
  return { t, got, conn: conn! };
}

for (const mini of [true, false]) {
  test(`handshake + messages split at every byte boundary (${mini ? 'mini' : 'full'} header)`, async () => {
    const stream = serverStream({ mini });
    const reference = await runSplit(stream, []);
    assert.equal(reference.got.length, 3);
    assert.deepEqual(reference.got.map((m) => m.type), [3, 4, 103]);
    assert.equal(reference.conn.miniHeader, mini);
    // what the client wrote: link mess, auth mechanism (SPICE = 1), 128-byte ticket
    const w = reference.t.written;
    assert.equal(hex(w[1]), '01000000');
    assert.equal(w[2].length, 128);
    const plain = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, w[2]);
    assert.equal(plain.toString('latin1'), 'secret\0');
    for (let i = 1; i < stream.length; i++) {
      const r = await runSplit(stream, [i]);
      assert.deepEqual(r.got, reference.got, `split at ${i}`);
    }
    // and byte by byte
    const bytewise = await runSplit(stream, Array.from({ length: stream.length - 1 }, (_, i) => i + 1));
    assert.deepEqual(bytewise.got, reference.got);
  });
}

test('an empty password is still encrypted (server always decrypts the ticket)', async () => {
  const t = new FakeTransport();
  const p = Connection.link(t, { connectionId: 0, channelType: 1, channelId: 0, channelCaps: [], password: '', name: 'main' });
  t.deliver(concat(linkReply({ pubKey: spki }), new Bytes().u32(0).build()));
  await p;
  const plain = privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, t.written[2]);
  assert.equal(plain.toString('latin1'), '\0');
});

async function linkFailure(bytes: Uint8Array, close = false): Promise<SpiceError> {
  const t = new FakeTransport();
  const p = Connection.link(t, { connectionId: 0, channelType: 1, channelId: 0, channelCaps: [], password: 'x', name: 'main', timeoutMs: 2000 });
  const settled = p.then(
    () => assert.fail('link should fail'),
    (e: unknown) => e as SpiceError,
  );
  t.deliver(bytes);
  await tick();
  if (close) t.onClose?.();
  const err = await settled;
  assert.ok(err instanceof SpiceError);
  assert.ok(t.closed || close, 'transport closed on failure');
  return err;
}

test('wrong magic → BAD_MAGIC', async () => {
  const e = await linkFailure(fromHex('485454502f312e31203230300d0a0d0a')); // "HTTP/1.1 200\r\n\r\n"
  assert.equal(e.code, 'BAD_MAGIC');
  assert.match(e.message, /not a SPICE server/);
});

test('server link error PERMISSION_DENIED → AUTH_FAILED with a clear text', async () => {
  const e = await linkFailure(concat(linkReply({ pubKey: spki }), new Bytes().u32(7).build()));
  assert.equal(e.code, 'AUTH_FAILED');
  assert.match(e.message, /authentication failed/);
});

test('link reply error CHANNEL_NOT_AVAILABLE / NEED_SECURED are named', async () => {
  let e = await linkFailure(linkReply({ error: 9 }));
  assert.equal(e.code, 'LINK_ERROR');
  assert.match(e.message, /channel not available/);
  e = await linkFailure(linkReply({ error: 5 }));
  assert.match(e.message, /TLS/);
});

test('truncated link reply then close → CLOSED during link', async () => {
  const full = linkReply({ pubKey: spki });
  const e = await linkFailure(full.subarray(0, 40), true);
  assert.equal(e.code, 'CLOSED');
  assert.match(e.message, /during link/);
});

test('oversized link reply size → BAD_LINK_REPLY before allocating', async () => {
  const e = await linkFailure(new Bytes().u32(0x51444552).u32(2).u32(2).u32(0x7fffffff).build());
  assert.equal(e.code, 'BAD_LINK_REPLY');
});

test('data phase: oversized message header fails the connection with LIMIT', async () => {
  const t = new FakeTransport();
  const p = Connection.link(t, { connectionId: 0, channelType: 1, channelId: 0, channelCaps: [], password: '', name: 'main' });
  t.deliver(concat(linkReply({ pubKey: spki }), new Bytes().u32(0).build()));
  const c = await p;
  const closed = new Promise<SpiceError | null>((r) => (c.onClose = r));
  t.deliver(new Bytes().u16(103).u32(0xffffffff).build());
  const err = await closed;
  assert.equal(err?.code, 'LIMIT');
  assert.ok(t.closed);
});

test('messages that arrive with the auth result wait for a late handler, in order (no drop)', async () => {
  const t = new FakeTransport();
  const p = Connection.link(t, { connectionId: 0, channelType: 1, channelId: 0, channelCaps: [], password: '', name: 'main' });
  t.deliver(serverStream({ mini: true })); // link reply, result and 3 messages in one chunk
  const c = await p;
  for (let i = 0; i < 5; i++) await tick(); // the session attaches its channel a few ticks later
  const got: number[] = [];
  c.onMessage = (m) => got.push(m.type);
  t.deliver(miniMsg(104, new Uint8Array(4)));
  await tick();
  assert.deepEqual(got, [3, 4, 103, 104]);
});

test('close(linger) of a connection that heard nothing keeps the socket until the first bytes, delivers none of them; one that heard a message closes at once', async () => {
  // spice-server 0.15.1 drops the next client when one leaves before its display worker created
  // the display/cursor client (first message not yet sent); the display/cursor channels linger
  const { t, conn } = await linkFake(4);
  const got: number[] = [];
  conn.onMessage = (m) => got.push(m.type);
  conn.close(60_000);
  assert.equal(t.closed, false, 'socket kept while the server has not spoken');
  t.deliver(miniMsg(101, new Uint8Array(4)));
  assert.equal(t.closed, true, 'closed on the first bytes');
  assert.deepEqual(got, [], 'nothing delivered after close');

  const heard = await linkFake(4);
  heard.conn.onMessage = () => {};
  heard.t.deliver(miniMsg(101, new Uint8Array(4)));
  heard.conn.close(60_000);
  assert.equal(heard.t.closed, true, 'a connection that has heard a message closes at once');

  const silent = await linkFake(4);
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    silent.conn.close(1000);
    mock.timers.tick(999);
    assert.equal(silent.t.closed, false);
    mock.timers.tick(1);
    assert.equal(silent.t.closed, true, 'closed when the linger is over');
  } finally {
    mock.timers.reset();
  }
});
