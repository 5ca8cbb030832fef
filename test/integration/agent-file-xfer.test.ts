// File transfer client → guest against Debian's real spice-vdagentd +
// spice-vdagent 0.22.1 (the agent flavour of the test guest, see agent.test.ts).
// spice-vdagent saves into /xfer (its -f option), a 48 MiB tmpfs; the guest's
// filemd5/filels commands read back what it wrote.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { QemuVm } from '../harness/qemu';
import { AgentProbe, startAgentClient } from '../harness/agent-probe';
import type { TestClient } from '../helpers/client';
import { fileSource, type RecordingSource } from '../helpers/file-source';
import { DEFAULT_XFER_WINDOW, FILE_XFER_BLOCK, type FileSource, type TransferResult } from '../../main/spice/agent/file-xfer';
import { FileXferStatus } from '../../main/spice/agent/protocol';

let vm: QemuVm;
let client: TestClient;
let probe: AgentProbe;
let dir: string;

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

function writeTemp(name: string, bytes: Uint8Array): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, bytes);
  return f;
}

/** The guest's view of a saved file: [bytes, md5]. */
async function guestFile(name: string): Promise<[number, string]> {
  const m = /OK filemd5 (\d+) ([0-9a-f]{32}) /.exec(await vm.command(`filemd5 ${name}`, undefined, 60000));
  assert.ok(m, `filemd5 ${name}`);
  return [Number(m[1]), m[2]];
}

async function guestFiles(): Promise<string[]> {
  const from = vm.serialLines().length;
  await vm.command('filels');
  return vm.serialLines().slice(from).map((l) => /^GUEST FILE \d+ (.*)$/.exec(l)?.[1]).filter((n): n is string => !!n);
}

function assertProgress(src: RecordingSource, r: TransferResult): void {
  const sent = src.progress.map((p) => p.sent);
  const pct = src.progress.map((p) => p.percent);
  for (let i = 1; i < sent.length; i++) {
    assert.ok(sent[i] >= sent[i - 1] && pct[i] >= pct[i - 1], `progress went back at ${i}: ${sent[i - 1]} → ${sent[i]}`);
  }
  if (r.ok) {
    assert.equal(pct.at(-1), 100, 'ends at 100 %');
    assert.equal(sent.at(-1), src.size);
    assert.equal(pct.filter((p) => p === 100).length, 1, '100 % once, at SUCCESS');
  } else {
    assert.ok(!pct.includes(100), 'a failed transfer never shows 100 %');
  }
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xfer-'));
  ({ vm, client, probe } = await startAgentClient({ name: 'agent-xfer' }));
});

after(async () => {
  client?.session.disconnect();
  await vm?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('a 20 MiB file arrives whole (same md5 and size in the guest); reads are paced, progress is monotonic and ends at 100 %', async () => {
  const bytes = randomBytes(20 << 20);
  const src = await fileSource(writeTemp('big.bin', bytes));
  const files = client.session.main.files;
  const agent = client.session.main.agent;
  let maxBuffered = 0;
  let maxQueued = 0;
  const onProgress = src.onProgress!;
  src.onProgress = (p) => {
    maxBuffered = Math.max(maxBuffered, files.bufferedBytes);
    maxQueued = Math.max(maxQueued, agent.queuedBytes);
    onProgress(p);
  };
  const t0 = Date.now();
  const t = files.start(src);
  const r = await t.result;
  const ms = Date.now() - t0;
  await src.close();
  assert.deepEqual(r, { ok: true, id: t.id, size: bytes.length }, r.ok ? '' : r.error.message);
  assert.equal(t.state, 'done');
  assert.deepEqual(await guestFile('big.bin'), [bytes.length, md5(bytes)]);
  assertProgress(src, r);
  // memory stays bounded: never more than the window (+ one block) read ahead of the channel
  assert.ok(maxBuffered <= DEFAULT_XFER_WINDOW + FILE_XFER_BLOCK, `buffered ${maxBuffered}`);
  assert.ok(maxQueued <= DEFAULT_XFER_WINDOW + FILE_XFER_BLOCK + 4096, `agent queue ${maxQueued}`);
  assert.equal(src.reads.length, Math.ceil(bytes.length / FILE_XFER_BLOCK), 'each block read once');
  assert.deepEqual(probe.errors, []);
  console.log(`# 20 MiB in ${ms} ms: ${((bytes.length / 1e6) / (ms / 1000)).toFixed(1)} MB/s, agent queue peak ${maxQueued} bytes`);
  await vm.command('fileclear');
});

test('cancel mid-way: CANCELLED, the agent deletes the partial file, and the next transfer succeeds', async () => {
  const files = client.session.main.files;
  const big = randomBytes(16 << 20);
  const src = await fileSource(writeTemp('cancel.bin', big));
  const onProgress = src.onProgress!;
  const t = files.start({ ...src, onProgress: (p) => {
    onProgress(p);
    if (p.percent >= 25) t.cancel();
  } });
  const r = await t.result;
  await src.close();
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.error.code, 'CANCELLED');
  assert.equal(t.state, 'failed');
  assert.ok(t.sent > 0 && t.sent < big.length, `cancelled mid-way (${t.sent} of ${big.length})`);
  assertProgress(src, r);
  const small = randomBytes(100_000);
  const after = await fileSource(writeTemp('after-cancel.txt', small));
  const r2 = await files.start(after).result;
  await after.close();
  assert.equal(r2.ok, true, r2.ok ? '' : r2.error.message);
  assert.deepEqual(await guestFile('after-cancel.txt'), [small.length, md5(small)]);
  assert.deepEqual(await guestFiles(), ['after-cancel.txt'], 'the cancelled file is gone');
  assert.equal(files.list().length, 0);
  await vm.command('fileclear');
});

test('several transfers at once, an empty file and a name that exists (saved as "two (1).bin")', async () => {
  const files = client.session.main.files;
  const blobs = [randomBytes(3 << 20), randomBytes(1 << 20), randomBytes(777_777), new Uint8Array(0)];
  const names = ['one.bin', 'two.bin', 'three.bin', 'empty.txt'];
  const srcs = await Promise.all(blobs.map((b, i) => fileSource(writeTemp(names[i], b))));
  const order: string[] = [];
  const results = await Promise.all(srcs.map((s) => files.start({ ...s, read: (o, n) => { order.push(s.name); return s.read(o, n); } }).result));
  for (const [i, r] of results.entries()) {
    assert.equal(r.ok, true, `${names[i]}: ${r.ok ? '' : r.error.message}`);
    assertProgress(srcs[i], r);
    assert.deepEqual(await guestFile(names[i]), [blobs[i].length, md5(blobs[i])]);
  }
  // the data transfers share the window round-robin: the small ones do not wait for the 3 MiB one
  assert.ok(order.indexOf('three.bin') < order.lastIndexOf('one.bin'), `read order ${order.join(' ')}`);
  assert.ok(order.lastIndexOf('two.bin') < order.lastIndexOf('one.bin'));
  const again = await fileSource(writeTemp('two.bin', blobs[2]));
  const r = await files.start(again).result;
  assert.equal(r.ok, true);
  assert.deepEqual(await guestFile('two (1).bin'), [blobs[2].length, md5(blobs[2])]);
  assert.deepEqual(await guestFile('two.bin'), [blobs[1].length, md5(blobs[1])], 'the first two.bin is untouched');
  await Promise.all([...srcs, again].map((s) => s.close()));
  await vm.command('fileclear');
});

test('too big for the guest disk: NO_SPACE with the free space the agent reports, before any data is read', async () => {
  const files = client.session.main.files;
  let reads = 0;
  const src: FileSource = { name: 'huge.iso', size: 64 << 20, read: async () => { reads++; return new Uint8Array(0); } };
  const r = await files.start(src).result;
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.error.code, 'NO_SPACE');
  assert.equal(r.agentStatus, FileXferStatus.NOT_ENOUGH_SPACE);
  assert.ok(r.freeSpace !== undefined && r.freeSpace > 40n << 20n && r.freeSpace <= 48n << 20n, `free ${r.freeSpace}`);
  assert.match(r.error.message, /not enough space in the guest for huge\.iso \(64\.0 MiB needed, 4\d\.\d MiB free\)/);
  assert.equal(reads, 0);
  assert.deepEqual(await guestFiles(), []);
});

test('QEMU with disable-agent-file-xfer=on: spice-server marks the agent FILE_XFER_DISABLED and the transfer fails with DISABLED before START', async () => {
  const { vm: off, client: c } = await startAgentClient({ name: 'agent-xfer-off', spiceExtra: 'disable-agent-file-xfer=on' });
  try {
    let reads = 0;
    const r = await c.session.main.files.start({ name: 'no.txt', size: 10, read: async () => { reads++; return new Uint8Array(10); } }).result;
    assert.equal(!r.ok && r.error.code, 'DISABLED');
    assert.equal(reads, 0);
    assert.deepEqual(await (async () => {
      const from = off.serialLines().length;
      await off.command('filels');
      return off.serialLines().slice(from).filter((l) => l.startsWith('GUEST FILE'));
    })(), []);
  } finally {
    c.session.disconnect();
    await off.stop();
  }
});
