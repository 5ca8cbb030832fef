// The shared folder over a Session and a fake spice-server: the webdav channel
// (a port channel: PORT_INIT first), guest clients multiplexed as spice-webdavd
// does (frames written here with the test's own byte builder), real files in a
// temporary folder. Reads, writes, read-only refusals, paths that try to leave
// the folder, hostile streams and the channel's flow control.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Session } from '../../../main/spice/session';
import { WebdavShare, webdavSharesFor } from '../../../main/devices/webdav/manager';
import { SharedFolder } from '../../../main/devices/webdav/shared-folder';
import { WRITE_METHODS } from '../../../main/devices/webdav/folder-server';
import type { SpicevmcChannel } from '../../../main/spice/channels/spicevmc-channel';
import { SpiceError } from '../../../main/spice/wire/errors';
import { Channel as ChannelType, MsgcSpicevmc, MsgPort, MsgSpicevmc } from '../../../main/spice/protocol/enums';
import { FakeSpiceServer, until } from '../../helpers/fake-spice-server';
import { Bytes, concat, miniMsg } from '../../helpers/spice-bytes';

const md5 = (b: Uint8Array) => crypto.createHash('md5').update(b).digest('hex');
const frame = (id: bigint, data: Uint8Array) => new Bytes().u64(BigInt.asUintN(64, id)).u16(data.length).raw(data).build();
const portInit = (name: string) => {
  const n = new TextEncoder().encode(`${name}\0`);
  return miniMsg(MsgPort.INIT, new Bytes().u32(n.length).u32(9).u8(1).raw(n).build());
};

/** A folder with a file, a sub folder, an outside folder and symlinks that point out. */
function makeFolders(): { dir: string; outside: string; big: Uint8Array; cleanup: () => void } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'webdav-'));
  const dir = path.join(base, 'share');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'secret\n');
  const big = crypto.randomBytes(300_000);
  fs.writeFileSync(path.join(dir, 'big.bin'), big);
  fs.writeFileSync(path.join(dir, 'sub', 'a.txt'), 'a\n');
  fs.symlinkSync(outside, path.join(dir, 'link'));
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'slink.txt'));
  return { dir, outside, big, cleanup: () => fs.rmSync(base, { recursive: true, force: true }) };
}

interface Resp { status: number; headers: Record<string, string>; body: Buffer }

/** One HTTP response at the start of buf, or null while incomplete. */
function parseResponse(buf: Buffer): { resp: Resp; used: number } | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(lines[0])![1]);
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
  }
  let pos = end + 4;
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = buf.indexOf('\r\n', pos);
      if (eol < 0) return null;
      const n = parseInt(buf.subarray(pos, eol).toString('latin1'), 16);
      if (buf.length < eol + 2 + n + 2) return null;
      parts.push(buf.subarray(eol + 2, eol + 2 + n));
      pos = eol + 2 + n + 2;
      if (n === 0) return { resp: { status, headers, body: Buffer.concat(parts) }, used: pos };
    }
  }
  const n = Number(headers['content-length'] ?? 0);
  if (buf.length < pos + n) return null;
  return { resp: { status, headers, body: buf.subarray(pos, pos + n) }, used: pos + n };
}

/** The guest side: spice-webdavd's frames in, our frames out, per client. */
class Guest {
  readonly out = new Map<bigint, Buffer>();
  readonly closed = new Set<bigint>();
  /** Sizes of the SPICEVMC_DATA messages we sent and the frames in each. */
  readonly messages: { size: number; frames: number }[] = [];
  private seen = 0;
  private rx = Buffer.alloc(0);

  constructor(private readonly srv: FakeSpiceServer) {}

  send(bytes: Uint8Array): void {
    this.srv.link(ChannelType.WEBDAV)!.send(miniMsg(MsgSpicevmc.DATA, bytes));
  }

  request(id: bigint, raw: string | Uint8Array): void {
    const b = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
    for (let off = 0; off < b.length; off += 65535) this.send(frame(id, b.subarray(off, off + 65535)));
  }

  /** Reads what the client sent so far. */
  poll(): void {
    const msgs = this.srv.link(ChannelType.WEBDAV)?.messages ?? [];
    for (; this.seen < msgs.length; this.seen++) {
      const m = msgs[this.seen];
      if (m.type !== MsgcSpicevmc.DATA) continue;
      this.rx = Buffer.concat([this.rx, m.body]);
      let frames = 0;
      while (this.rx.length >= 10) {
        const id = this.rx.readBigInt64LE(0);
        const size = this.rx.readUInt16LE(8);
        if (this.rx.length < 10 + size) break;
        const data = this.rx.subarray(10, 10 + size);
        this.rx = this.rx.subarray(10 + size);
        frames++;
        if (!size) this.closed.add(id);
        else this.out.set(id, Buffer.concat([this.out.get(id) ?? Buffer.alloc(0), data]));
      }
      this.messages.push({ size: m.body.length, frames });
    }
  }

  /** The next whole response for client id. */
  async response(id: bigint, what = `response for client ${id}`): Promise<Resp> {
    let got: ReturnType<typeof parseResponse> = null;
    await until(() => {
      this.poll();
      const b = this.out.get(id);
      got = b ? parseResponse(b) : null;
      return got !== null;
    }, what, 10000);
    const { resp, used } = got!;
    this.out.set(id, this.out.get(id)!.subarray(used));
    return resp;
  }

  async call(id: bigint, raw: string | Uint8Array): Promise<Resp> {
    this.request(id, raw);
    return this.response(id, raw.toString().split('\r\n')[0]);
  }
}

async function setup(o: { readOnly: boolean; maxClients?: number; maxClientBuffer?: number; make?: (dir: string) => WebdavShare }) {
  const f = makeFolders();
  const srv = new FakeSpiceServer();
  srv.channels = [{ type: ChannelType.WEBDAV, id: 0 }];
  // spice-server's first message on a port channel
  srv.afterAuth = (l) => (l.type === ChannelType.WEBDAV ? portInit('org.spice-space.webdav.0') : undefined);
  const errors: SpiceError[] = [];
  const share = o.make?.(f.dir) ?? new WebdavShare({ dir: f.dir, readOnly: o.readOnly, onError: (e) => errors.push(e), ...(o.maxClients ? { maxClients: o.maxClients } : {}), ...(o.maxClientBuffer ? { maxClientBuffer: o.maxClientBuffer } : {}) });
  assert.ok(await share.whenReady());
  const s = new Session({ endpoint: { host: '127.0.0.1', port: 5900 }, transport: srv.factory, devices: [share] });
  await s.connect();
  await until(() => share.entries()[0].state === 'shared', 'the webdav channel bound');
  const ch = s.channel(ChannelType.WEBDAV, 0) as SpicevmcChannel;
  return { ...f, srv, s, share, ch, errors, guest: new Guest(srv), done: () => { s.disconnect(); share.close(); f.cleanup(); } };
}

const get = (p: string) => `GET ${p} HTTP/1.1\r\nHost: localhost:9843\r\n\r\n`;

test('read: PROPFIND lists the folder (no symlinks), GET returns a file exactly; each message one frame of at most 64 KiB', async () => {
  const t = await setup({ readOnly: true });
  try {
    assert.equal(t.s.state, 'connected');
    const list = await t.guest.call(1n, 'PROPFIND / HTTP/1.1\r\nHost: localhost:9843\r\nDepth: 1\r\nContent-Length: 0\r\n\r\n');
    assert.equal(list.status, 207);
    const hrefs = [...list.body.toString().matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((m) => new URL(m[1]).pathname).sort();
    assert.deepEqual(hrefs, ['/', '/big.bin', '/sub/']);
    // a second request on the same guest connection, and another client at once
    const [a, b] = await Promise.all([t.guest.call(1n, get('/big.bin')), t.guest.call(-7n, get('/sub/a.txt'))]);
    assert.equal(a.status, 200);
    assert.equal(md5(a.body), md5(t.big));
    assert.equal(b.body.toString(), 'a\n');
    assert.ok(t.guest.messages.every((m) => m.size <= 65536 && m.frames === 1), 'one frame per SPICEVMC_DATA message');
    assert.deepEqual(t.errors, []);
    // the guest program closes: our side of that client closes too
    t.guest.send(frame(-7n, new Uint8Array(0)));
    await until(() => (t.guest.poll(), t.guest.closed.has(-7n)), 'our close frame');
    assert.equal(t.share.stats.clients, 1);
    assert.equal(t.share.entries()[0].detail, 'read-only · 1 guest connection');
  } finally {
    t.done();
  }
});

test('read-only: every write method is 403 and nothing changes on disk', async () => {
  const t = await setup({ readOnly: true });
  try {
    const before = fs.readdirSync(t.dir).sort();
    let id = 100n;
    for (const m of WRITE_METHODS) {
      const body = m === 'PUT' ? 'new data' : '';
      const r = await t.guest.call(id++, `${m} /big.bin HTTP/1.1\r\nHost: x\r\nDestination: /copy.bin\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      assert.equal(r.status, 403, m);
    }
    const mk = await t.guest.call(id++, 'MKCOL /newdir HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    assert.equal(mk.status, 403);
    assert.deepEqual(fs.readdirSync(t.dir).sort(), before);
    assert.equal(md5(fs.readFileSync(path.join(t.dir, 'big.bin'))), md5(t.big));
  } finally {
    t.done();
  }
});

test('read-write: PUT writes the bytes (over 64 KiB, several frames), MKCOL, MOVE and DELETE work', async () => {
  const t = await setup({ readOnly: false });
  try {
    const data = crypto.randomBytes(200_000);
    const put = await t.guest.call(1n, concat(new TextEncoder().encode(`PUT /up.bin HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length}\r\n\r\n`), data));
    assert.ok(put.status === 201 || put.status === 200, `PUT ${put.status}`);
    assert.equal(md5(fs.readFileSync(path.join(t.dir, 'up.bin'))), md5(data));
    assert.equal((await t.guest.call(2n, 'MKCOL /d HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')).status, 201);
    const mv = await t.guest.call(3n, 'MOVE /up.bin HTTP/1.1\r\nHost: x\r\nDestination: http://localhost:9843/d/up.bin\r\nContent-Length: 0\r\n\r\n');
    assert.ok(mv.status === 201 || mv.status === 204, `MOVE ${mv.status}`);
    assert.ok(fs.existsSync(path.join(t.dir, 'd', 'up.bin')));
    assert.ok([200, 204].includes((await t.guest.call(4n, 'DELETE /d/up.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')).status));
    assert.ok(!fs.existsSync(path.join(t.dir, 'd', 'up.bin')));
  } finally {
    t.done();
  }
});

test('paths never leave the folder: .., encoded dots and slashes, symlinks, MOVE/PUT destinations', async () => {
  const t = await setup({ readOnly: false });
  try {
    let id = 1n;
    for (const p of ['/../outside/secret.txt', '/%2e%2e/outside/secret.txt', '/sub/..%2F..%2Foutside%2Fsecret.txt', '/..%5Coutside%5Csecret.txt',
      '/link/secret.txt', '/slink.txt', '/sub/%2e%2e/%2e%2e/outside/secret.txt', '/%00', '/%252e%252e/outside/secret.txt', '/sub/%252e%252e%252f%252e%252e%252foutside%252fsecret.txt']) {
      const r = await t.guest.call(id++, get(p));
      assert.ok(r.status === 403 || r.status === 404 || r.status === 400, `${p}: ${r.status}`);
      assert.ok(!r.body.toString().includes('secret'), p);
    }
    const put = await t.guest.call(id++, 'PUT /link/evil.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nevil');
    assert.equal(put.status, 403);
    const mv = await t.guest.call(id++, 'MOVE /sub/a.txt HTTP/1.1\r\nHost: x\r\nDestination: /..%2Foutside%2Fa.txt\r\nContent-Length: 0\r\n\r\n');
    assert.equal(mv.status, 403);
    const mv2 = await t.guest.call(id++, 'COPY /sub/a.txt HTTP/1.1\r\nHost: x\r\nDestination: http://localhost/link/a.txt\r\nContent-Length: 0\r\n\r\n');
    assert.equal(mv2.status, 403);
    assert.deepEqual(fs.readdirSync(t.outside), ['secret.txt']);
    assert.ok(fs.existsSync(path.join(t.dir, 'sub', 'a.txt')));
    // PROPFIND through a symlinked folder is refused as well
    assert.equal((await t.guest.call(id++, 'PROPFIND /link/ HTTP/1.1\r\nHost: x\r\nDepth: 1\r\nContent-Length: 0\r\n\r\n')).status, 403);
  } finally {
    t.done();
  }
});

test('hostile streams: too many clients and an over-full client are coded errors for that client; an id no spice-webdavd writes fails the channel alone', async () => {
  const t = await setup({ readOnly: true, maxClients: 2, maxClientBuffer: 100_000 });
  try {
    t.guest.request(1n, 'GET /big.bin HTTP/1.1\r\nHost: x\r\n');
    t.guest.request(2n, 'GET /big.bin HTTP/1.1\r\nHost: x\r\n');
    t.guest.request(3n, get('/sub/a.txt'));
    await until(() => (t.guest.poll(), t.guest.closed.has(3n)), 'client 3 refused with a close frame');
    assert.equal(t.errors[0]?.code, 'LIMIT');
    assert.match(t.errors[0].message, /at most 2/);
    // a close for a client that does not exist is ignored
    t.guest.send(frame(99n, new Uint8Array(0)));
    // client 1 finishes its request normally
    t.guest.request(1n, '\r\n');
    assert.equal((await t.guest.response(1n)).status, 200);
    // client 2 sends a body the server does not read (a GET's): past maxClientBuffer it is closed
    t.guest.request(2n, 'Content-Length: 1000000\r\n\r\n');
    t.guest.request(2n, new Uint8Array(300_000).fill(0x41));
    await until(() => (t.guest.poll(), t.guest.closed.has(2n)), 'client 2 closed');
    assert.ok(t.errors.some((e) => e.code === 'LIMIT' && /not read/.test(e.message)), t.errors.map((e) => e.message).join('; '));
    assert.equal(t.s.state, 'connected');
    // an id outside a C int: the stream is out of step; the channel fails, the session lives
    t.guest.send(frame(1n << 40n, new Uint8Array([1])));
    await until(() => t.errors.some((e) => e.code === 'BAD_MESSAGE'), 'BAD_MESSAGE');
    assert.equal(t.s.state, 'connected');
    assert.equal(t.share.entries()[0].state, 'waiting');
    assert.match(t.share.entries()[0].error ?? '', /BAD_MESSAGE/);
  } finally {
    t.done();
  }
});

test('flow control: with the channel held, a large GET stops at the high-water mark instead of queueing the file; resumed it completes exactly', async () => {
  const t = await setup({ readOnly: true });
  try {
    const big = crypto.randomBytes(6 * 1024 * 1024);
    fs.writeFileSync(path.join(t.dir, 'huge.bin'), big);
    t.ch.pauseOutput();
    t.guest.request(1n, get('/huge.bin'));
    await until(() => t.ch.flowStats.paused, 'producer paused');
    // give the file reader every chance to run on
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 100));
    const held = t.ch.queueStats.bytes;
    assert.ok(held < t.ch.highWaterBytes + 256 * 1024, `queued ${held} bytes while paused`);
    assert.ok(t.share.stats.held > 0);
    t.ch.resumeOutput();
    const r = await t.guest.response(1n);
    assert.equal(r.status, 200);
    assert.equal(md5(r.body), md5(big));
    assert.ok(t.ch.queueStats.peakBytes < t.ch.highWaterBytes + 256 * 1024, `peak ${t.ch.queueStats.peakBytes}`);
  } finally {
    t.done();
  }
});

test('configuration: --spice-shared-dir gives one share (read-only with --spice-shared-dir-ro); none without it or with webdav disabled', async () => {
  const { parseCommandLine } = await import('../../../main/config/cli');
  const { resolveConfig } = await import('../../../main/config/effective');
  const { parseVvFile } = await import('../../../main/config/vv');
  const { webdavSharesFor } = await import('../../../main/devices/webdav/manager');
  const f = makeFolders();
  const cfg = (args: string[], vv?: string) => {
    const r = parseCommandLine(args);
    assert.ok(!('help' in r) && !('version' in r));
    return resolveConfig(r, vv ? { vv: parseVvFile(vv) } : {});
  };
  try {
    const ro = webdavSharesFor(cfg([`--spice-shared-dir=${f.dir}`, '--spice-shared-dir-ro', 'spice://h:1']));
    assert.equal(ro.length, 1);
    assert.ok(await ro[0].whenReady());
    assert.deepEqual(ro[0].entries().map((e) => [e.kind, e.label, e.state, e.detail.split(' · ')[0]]), [['folder', fs.realpathSync(f.dir), 'waiting', 'read-only']]);
    ro[0].close();
    const rw = webdavSharesFor(cfg([`--spice-shared-dir=${f.dir}`, 'spice://h:1']));
    assert.equal(rw[0].entries()[0].detail.split(' · ')[0], 'read-write');
    rw[0].close();
    assert.deepEqual(webdavSharesFor(cfg(['spice://h:1'])), []);
    // a .vv's disable-channels=webdav
    assert.equal(webdavSharesFor(cfg([`--spice-shared-dir=${f.dir}`, 'x.vv'], '[virt-viewer]\ntype=spice\nhost=h\nport=1\ndisable-channels=webdav\n')).length, 0);
    // a folder that is not there: a CONFIG error on the panel line, no server
    const gone = webdavSharesFor(cfg([`--spice-shared-dir=${f.dir}/nope`, 'spice://h:1']))[0];
    assert.equal(await gone.whenReady(), false);
    assert.match(gone.entries()[0].error ?? '', /^CONFIG: shared folder/);
    gone.close();
  } finally {
    f.cleanup();
  }
});

test('safeSegments: the raw path (not URL-normalised) decoded once; dot segments, slashes, backslashes, NUL and bad escapes refused', async () => {
  const { safeSegments } = await import('../../../main/devices/webdav/folder-server');
  assert.deepEqual(safeSegments('/'), []);
  assert.deepEqual(safeSegments('/a%20b/c.txt?x=1#f'), ['a b', 'c.txt']);
  assert.deepEqual(safeSegments('http://localhost:9843/d/e'), ['d', 'e']);
  assert.deepEqual(safeSegments('/%252e%252e/x'), ['%2e%2e', 'x'], 'decoded once: a name, not a dot segment');
  for (const bad of ['/../x', '/a/../../x', '/./x', '/%2e%2e/x', '/%2E./x', '/a%2Fb', '/a%5Cb', '/a%00b', '/%zz', 'x', '*', 'http://h/a/../../b']) {
    assert.equal(safeSegments(bad), null, bad);
  }
});

test('the folder changes at runtime (File → Preferences): the same guest connection sees the new folder on its next request; read-only and stop follow at once', async () => {
  let folder: SharedFolder | undefined;
  const saved: unknown[] = [];
  const t = await setup({
    readOnly: false,
    make: (dir) => {
      folder = new SharedFolder({ saved: { dir, readOnly: false, shared: true }, save: (f) => saved.push(f) });
      return webdavSharesFor({ channels: { disabledTypes: [] } } as never, { folder })[0];
    },
  });
  const other = fs.mkdtempSync(path.join(os.tmpdir(), 'webdav-other-'));
  try {
    const b = crypto.randomBytes(70_000);
    fs.writeFileSync(path.join(other, 'b.bin'), b);
    const propfind = 'PROPFIND / HTTP/1.1\r\nHost: x\r\nDepth: 1\r\nContent-Length: 0\r\n\r\n';
    const hrefs = (r: Resp) => [...r.body.toString().matchAll(/<D:href>([^<]*)<\/D:href>/g)].map((m) => new URL(m[1]).pathname).sort();
    assert.deepEqual(hrefs(await t.guest.call(1n, propfind)), ['/', '/big.bin', '/sub/']);

    await folder!.set({ dir: other });
    await until(() => t.share.folder === fs.realpathSync(other), 'the share follows the new folder');
    // the same client (guest connection), no channel change
    assert.deepEqual(hrefs(await t.guest.call(1n, propfind)), ['/', '/b.bin']);
    assert.equal(md5((await t.guest.call(1n, get('/b.bin'))).body), md5(b));
    assert.equal((await t.guest.call(1n, get('/big.bin'))).status, 404, 'the old folder is gone');
    assert.equal(t.share.entries()[0].label, fs.realpathSync(other));

    // read-only at runtime: a write is refused, then allowed again
    await folder!.set({ readOnly: true });
    await until(() => t.share.entries()[0].detail.startsWith('read-only'), 'read-only shown');
    const put = (id: bigint) => t.guest.call(id, 'PUT /w.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi');
    assert.equal((await put(2n)).status, 403);
    assert.ok(!fs.existsSync(path.join(other, 'w.txt')));
    await folder!.set({ readOnly: false });
    await until(() => t.share.entries()[0].detail.startsWith('read-write'), 'read-write shown');
    assert.equal((await put(3n)).status, 201);
    assert.equal(fs.readFileSync(path.join(other, 'w.txt'), 'utf8'), 'hi');

    // a bad folder is refused in words; the one shared stays
    await folder!.set({ dir: path.join(other, 'b.bin') });
    assert.match(folder!.state().error ?? '', /is a file, not a folder/);
    assert.equal(t.share.folder, fs.realpathSync(other));

    // stop: the panel's tick box goes through the run's choice; later requests are 503, in words
    await t.share.setShared('shared-dir', false);
    await until(() => t.share.entries()[0].state === 'stopped', 'stopped');
    const stopped = await t.guest.call(4n, get('/b.bin'));
    assert.equal(stopped.status, 503);
    assert.match(stopped.body.toString(), /no longer shared/);
    assert.equal(folder!.state().shared, false);
    await folder!.set({ shared: true });
    await until(() => t.share.entries()[0].state === 'shared', 'shared again');
    assert.equal((await t.guest.call(5n, get('/b.bin'))).status, 200);
    assert.deepEqual(saved.at(-1), { dir: fs.realpathSync(other), readOnly: false, shared: true });
    assert.deepEqual(t.errors, []);
  } finally {
    t.done();
    fs.rmSync(other, { recursive: true, force: true });
  }
});

test('no folder chosen yet: the share lists nothing and answers 503 in words; a folder chosen later is served on the channel already up', async () => {
  const f = makeFolders();
  const srv = new FakeSpiceServer();
  srv.channels = [{ type: ChannelType.WEBDAV, id: 0 }];
  srv.afterAuth = (l) => (l.type === ChannelType.WEBDAV ? portInit('org.spice-space.webdav.0') : undefined);
  const folder = new SharedFolder({});
  const share = webdavSharesFor({ channels: { disabledTypes: [] } } as never, { folder })[0];
  const s = new Session({ endpoint: { host: '127.0.0.1', port: 5900 }, transport: srv.factory, devices: [share] });
  try {
    await s.connect();
    await until(() => srv.link(ChannelType.WEBDAV) !== undefined && (s.channel(ChannelType.WEBDAV, 0) as SpicevmcChannel | undefined)?.onData != null, 'the webdav channel bound');
    assert.deepEqual(share.entries(), []);
    const guest = new Guest(srv);
    const none = await guest.call(1n, get('/'));
    assert.equal(none.status, 503);
    assert.match(none.body.toString(), /no folder is shared/, JSON.stringify(none));
    await folder.set({ dir: f.dir, shared: true });
    await until(() => share.entries()[0]?.state === 'shared', 'the chosen folder shared');
    assert.equal(md5((await guest.call(1n, get('/big.bin'))).body), md5(f.big));
  } finally {
    s.disconnect();
    share.close();
    f.cleanup();
  }
});
