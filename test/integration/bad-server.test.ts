// Misbehaving servers over real loopback TCP: every case must end in a coded,
// readable error and a closed socket — never a crash or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';
import { Bytes, concat, linkReply, miniMsg } from '../helpers/spice-bytes';

const spki = new Uint8Array(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }));

async function withServer(onConn: (s: Socket) => void, run: (port: number) => Promise<void>) {
  const sockets: Socket[] = [];
  const srv = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    onConn(s);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  try {
    await run(port);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => srv.close(r));
  }
  return sockets;
}

async function connectExpectingFailure(port: number) {
  const s = new Session({ endpoint: { host: '127.0.0.1', port }, transport: defaultTransportFactory, linkTimeoutMs: 3000 });
  const t0 = Date.now();
  const err = await s.connect().then(
    () => assert.fail('connect should fail'),
    (e) => e,
  );
  assert.equal(s.state, 'disconnected');
  return { err, ms: Date.now() - t0, s };
}

/** Completes the link like a server would, after reading the client's link mess + auth + ticket. */
function linkOk(s: Socket, after: (s: Socket) => void) {
  let got = 0;
  let replied = false;
  s.on('data', (d) => {
    got += d.length;
    if (!replied) {
      replied = true;
      s.write(linkReply({ pubKey: spki, common: [0xb] }));
    }
    // link mess (16+18+8) + auth (4) + ticket (128)
    if (got >= 42 + 4 + 128 && replied) {
      s.removeAllListeners('data');
      s.write(new Bytes().u32(0).build());
      after(s);
    }
  });
}

test('wrong magic → BAD_MAGIC, not a hang', async () => {
  const socks = await withServer(
    (s) => s.write(Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian\r\n')),
    async (port) => {
      const { err } = await connectExpectingFailure(port);
      assert.equal(err.code, 'BAD_MAGIC');
      assert.match(err.message, /not a SPICE server/);
    },
  );
  assert.equal(socks.length, 1);
});

test('truncated link reply then close → CLOSED during link', async () => {
  await withServer(
    (s) => s.end(linkReply({ pubKey: spki }).subarray(0, 50)),
    async (port) => {
      const { err } = await connectExpectingFailure(port);
      assert.equal(err.code, 'CLOSED');
      assert.match(err.message, /during link/);
    },
  );
});

test('truncated link reply and silence → TIMEOUT (bounded), socket closed', async () => {
  let closed = false;
  await withServer(
    (s) => {
      s.write(linkReply({ pubKey: spki }).subarray(0, 50));
      s.resume(); // read (and drop) the client's bytes so its FIN is seen
      s.on('close', () => (closed = true));
    },
    async (port) => {
      const { err, ms } = await connectExpectingFailure(port);
      assert.equal(err.code, 'TIMEOUT');
      assert.ok(ms < 10_000);
      // the server sees the client's FIN a moment later: poll with a deadline
      const end = Date.now() + 5000;
      while (!closed && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      assert.ok(closed, 'client closed its socket');
    },
  );
});

test('oversized message size after link → LIMIT and clean disconnect', async () => {
  await withServer(
    (s) => linkOk(s, (x) => x.write(new Bytes().u16(103).u32(0xfffffff0).build())),
    async (port) => {
      const { err } = await connectExpectingFailure(port);
      assert.equal(err.code, 'LIMIT');
      assert.match(err.message, /announces 4294967280 bytes/);
    },
  );
});

test('unknown message type on main → UNKNOWN_MESSAGE naming the type and channel', async () => {
  await withServer(
    (s) => linkOk(s, (x) => x.write(miniMsg(999, new Uint8Array(3)))),
    async (port) => {
      const { err } = await connectExpectingFailure(port);
      assert.equal(err.code, 'UNKNOWN_MESSAGE');
      assert.match(err.message, /unknown message type 999 on the main channel/);
    },
  );
});

test('truncated MAIN_INIT body → SHORT_READ naming the field', async () => {
  await withServer(
    (s) => linkOk(s, (x) => x.write(concat(miniMsg(103, new Bytes().u32(1).u32(1).build())))),
    async (port) => {
      const { err } = await connectExpectingFailure(port);
      assert.equal(err.code, 'SHORT_READ');
      assert.match(err.message, /supported_mouse_modes/);
    },
  );
});

test('nothing listening → TRANSPORT error', async () => {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  const { err } = await connectExpectingFailure(port);
  assert.equal(err.code, 'TRANSPORT');
  assert.match(err.message, /cannot connect/);
});
