// FileTransfers over a real AgentChannel: the link records the AGENT_DATA
// chunks, a reassembler plays the guest agent's reading side, and the agent's
// FILE_XFER_STATUS answers are fed back as AGENT_DATA bytes, as spice-vdagentd
// writes them. Server tokens are given by hand to model a slow guest.
import { test } from 'node:test';
import { formatBytes } from '../../../preload/bytes';
import assert from 'node:assert/strict';
import { AgentChannel } from '../../../main/spice/agent/agent-channel';
import { AgentReassembler, chunkAgentMessage, type AgentMessage } from '../../../main/spice/agent/agent-stream';
import { FILE_XFER_BLOCK, FileTransfers, type FileSource, type FileTransferOptions, type TransferProgress } from '../../../main/spice/agent/file-xfer';
import * as p from '../../../main/spice/agent/protocol';
import { AgentCap, AgentMsg, FileXferStatus } from '../../../main/spice/agent/protocol';
import { SpiceError } from '../../../main/spice/wire/errors';
import { concat, fromHex, hex } from '../../helpers/spice-bytes';

const tick = () => new Promise<void>((r) => setImmediate(r));
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await tick();
}

// spice-vdagentd's ANNOUNCE_CAPABILITIES, optionally with more cap bits
function daemonCaps(...extra: number[]): Uint8Array {
  return concat(...chunkAgentMessage(AgentMsg.ANNOUNCE_CAPABILITIES, [p.encodeAnnounceCapabilities({ request: false, caps: [0x38de7 | extra.reduce((a, b) => a | (1 << b), 0)] })]));
}

function rig(opts: FileTransferOptions & { tokens?: number; caps?: number[] } = {}) {
  const chunks: Uint8Array[] = [];
  const agent = new AgentChannel({ start() {}, token() {}, data: (c) => chunks.push(c.slice()) });
  agent.setServerTokens(opts.tokens ?? 1_000_000);
  agent.connected();
  agent.receive(daemonCaps(...(opts.caps ?? [])));
  assert.equal(agent.state, 'ready');
  const errors: SpiceError[] = [];
  const files = new FileTransfers(agent, { onError: (e) => errors.push(e), ...opts });
  // the guest side: every message we sent, in order
  const reasm = new AgentReassembler(1 << 30);
  /** The messages we sent since the last call. */
  const sent = (): AgentMessage[] => {
    const fresh: AgentMessage[] = [];
    for (const c of chunks.splice(0)) {
      assert.ok(c.length <= 2048, 'AGENT_DATA bodies of at most VD_AGENT_MAX_DATA_SIZE');
      for (const ev of reasm.push(c)) {
        assert.ok('message' in ev);
        fresh.push(ev.message);
      }
    }
    return fresh.filter((m) => m.type !== AgentMsg.ANNOUNCE_CAPABILITIES);
  };
  const status = (id: number, result: number, detail: Uint8Array = new Uint8Array(0)) =>
    agent.receive(concat(...chunkAgentMessage(AgentMsg.FILE_XFER_STATUS, [p.encodeFileXferStatus(id, result), detail])));
  return { agent, files, sent, status, errors };
}

/** A source over bytes; reads resolve at once unless `hold` (then `release()` runs them). */
function mem(name: string, bytes: Uint8Array, hold = false) {
  const progress: TransferProgress[] = [];
  const reads: [number, number][] = [];
  const held: (() => void)[] = [];
  const src: FileSource & { progress: TransferProgress[]; reads: [number, number][]; release(): void; inFlight: () => number } = {
    name,
    size: bytes.length,
    progress,
    reads,
    read(offset, max) {
      reads.push([offset, max]);
      const out = bytes.subarray(offset, offset + max);
      if (!hold) return Promise.resolve(out);
      return new Promise((r) => held.push(() => r(out)));
    },
    onProgress: (x) => progress.push(x),
    release() {
      for (const f of held.splice(0)) f();
    },
    inFlight: () => held.length,
  };
  return src;
}

const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + (i >> 8)) & 0xff);
const dataOf = (ms: AgentMessage[], id: number) => ms.filter((m) => m.type === AgentMsg.FILE_XFER_DATA).map((m) => p.decodeFileXferData(m.data)).filter((d) => d.id === id);
const statusesOf = (ms: AgentMessage[]) => ms.filter((m) => m.type === AgentMsg.FILE_XFER_STATUS).map((m) => p.decodeFileXferStatus(m.data));

function assertMonotonic(progress: TransferProgress[]): void {
  for (let i = 1; i < progress.length; i++) {
    assert.ok(progress[i].sent >= progress[i - 1].sent && progress[i].percent >= progress[i - 1].percent, `progress ${i}`);
  }
}

test('START first; no read and no data before CAN_SEND_DATA; then every byte once, in order, in ≤ 64 KiB messages; 100 % only at SUCCESS', async () => {
  const { files, sent, status } = rig();
  const bytes = pattern(300_000);
  const src = mem('report 1.txt', bytes);
  const t = files.start(src);
  await settle();
  let ms = sent();
  assert.deepEqual(ms.map((m) => m.type), [AgentMsg.FILE_XFER_START]);
  assert.deepEqual(p.decodeFileXferStart(ms[0].data), { id: t.id, name: 'report 1.txt', size: 300_000 });
  assert.equal(src.reads.length, 0, 'nothing read before the agent is ready for it');
  assert.equal(t.state, 'starting');

  status(t.id, FileXferStatus.CAN_SEND_DATA);
  await settle();
  ms = sent();
  const data = dataOf(ms, t.id);
  assert.deepEqual(data.map((d) => d.data.length), [65536, 65536, 65536, 65536, 37856]);
  assert.deepEqual(concat(...data.map((d) => d.data)), bytes);
  assert.equal(t.state, 'finishing');
  assert.equal(t.sent, bytes.length);
  assert.ok(src.progress.every((x) => x.percent < 100), 'all bytes sent is not 100 %: the guest has not confirmed');
  assert.equal(src.progress.at(-1)!.percent, 99);

  status(t.id, FileXferStatus.SUCCESS);
  assert.deepEqual(await t.result, { ok: true, id: t.id, size: bytes.length });
  assert.equal(t.state, 'done');
  assert.deepEqual(src.progress.at(-1), { id: t.id, sent: bytes.length, size: bytes.length, percent: 100 });
  assertMonotonic(src.progress);
  assert.equal(files.list().length, 0);
  assert.deepEqual(statusesOf(sent()), [], 'we send no status on success');
});

test('pacing: a slow guest (no server tokens) stops reads at the window; memory stays bounded through a 20 MiB file', async () => {
  const window = 256 * 1024;
  const { agent, files, sent, status } = rig({ tokens: 0, windowBytes: window });
  const bytes = pattern(20 << 20);
  const src = mem('big.bin', bytes);
  const t = files.start(src);
  agent.addServerTokens(1); // the START
  await settle();
  status(t.id, FileXferStatus.CAN_SEND_DATA);
  await settle();
  assert.equal(src.reads.length, window / FILE_XFER_BLOCK, 'reads stop at the window');
  assert.equal(files.bufferedBytes, window);
  assert.ok(agent.queuedBytes >= window && agent.queuedBytes < window + 4 * 2048, `agent queue ${agent.queuedBytes}`);
  assert.equal(t.sent, 0);
  let peakBuffered = 0;
  let peakQueued = 0;
  let got = 0;
  const out: Uint8Array[] = [];
  while (t.state !== 'finishing' || agent.queuedBytes > 0) {
    agent.addServerTokens(10); // spice-server's window: the guest consumed 10 chunks
    await tick();
    peakBuffered = Math.max(peakBuffered, files.bufferedBytes);
    peakQueued = Math.max(peakQueued, agent.queuedBytes);
    for (const d of dataOf(sent(), t.id)) {
      out.push(d.data);
      got += d.data.length;
    }
  }
  assert.equal(got, bytes.length);
  assert.equal(hex(concat(...out).subarray(-16)), hex(bytes.subarray(-16)));
  assert.ok(peakBuffered <= window + FILE_XFER_BLOCK, `read ahead ${peakBuffered}`);
  assert.ok(peakQueued <= window + FILE_XFER_BLOCK + 4096, `agent queue ${peakQueued}`);
  assert.equal(src.reads.length, 320, 'each block read once');
  assertMonotonic(src.progress);
  status(t.id, FileXferStatus.SUCCESS);
  assert.equal((await t.result).ok, true);
});

test('a window smaller than a block still moves, one block at a time', async () => {
  const { files, sent, status } = rig({ windowBytes: 1000, blockBytes: 4096 });
  const src = mem('w.bin', pattern(10_000), true);
  const t = files.start(src);
  status(t.id, FileXferStatus.CAN_SEND_DATA);
  for (let i = 0; i < 3; i++) {
    assert.equal(src.inFlight(), 1, 'one read at a time');
    src.release();
    await settle();
  }
  assert.deepEqual(dataOf(sent(), t.id).map((d) => d.data.length), [4096, 4096, 1808]);
  status(t.id, FileXferStatus.SUCCESS);
  assert.equal((await t.result).ok, true);
});

test('cancel mid-way: CANCELLED to the agent after the data already queued, nothing after it, a read in flight is dropped, never 100 %', async () => {
  const { files, sent, status } = rig();
  const src = mem('movie.mkv', pattern(1 << 20), true);
  const t = files.start(src);
  status(t.id, FileXferStatus.CAN_SEND_DATA);
  src.release();
  await settle();
  assert.equal(src.reads.length, 2, 'a second read is in flight');
  t.cancel();
  t.cancel(); // twice is harmless
  const r = await t.result;
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.error.code, 'CANCELLED');
  assert.match(!r.ok ? r.error.message : '', /the transfer of movie\.mkv was cancelled/);
  src.release(); // the read in flight completes after the cancel
  await settle();
  const ms = sent().filter((m) => m.type !== AgentMsg.FILE_XFER_START);
  assert.deepEqual(ms.map((m) => m.type), [AgentMsg.FILE_XFER_DATA, AgentMsg.FILE_XFER_STATUS]);
  assert.deepEqual(statusesOf(ms), [{ id: t.id, result: FileXferStatus.CANCELLED }]);
  assert.equal(src.reads.length, 2, 'no read after the cancel');
  assert.ok(src.progress.every((x) => x.percent < 100));
  assert.equal(files.bufferedBytes, 0, 'the window is given back');
  // the agent's late answers for it change nothing
  status(t.id, FileXferStatus.SUCCESS);
  assert.equal(t.state, 'failed');
});

test('cancel before CAN_SEND_DATA: the STATUS follows the START, no read ever', async () => {
  const { files, sent, status } = rig();
  const src = mem('a.txt', pattern(10));
  const t = files.start(src);
  t.cancel();
  status(t.id, FileXferStatus.CAN_SEND_DATA);
  await settle();
  assert.deepEqual(sent().map((m) => m.type), [AgentMsg.FILE_XFER_START, AgentMsg.FILE_XFER_STATUS]);
  assert.equal(src.reads.length, 0);
});

test('every agent status ends the transfer with a code and words; the agent is not answered', async () => {
  const u32 = (n: number) => fromHex(n.toString(16).padStart(8, '0').match(/../g)!.reverse().join(''));
  const cases: [number, Uint8Array, string, RegExp, bigint?][] = [
    [FileXferStatus.CANCELLED, new Uint8Array(0), 'CANCELLED', /cancelled in the guest/],
    [FileXferStatus.ERROR, new Uint8Array(0), 'AGENT_ERROR', /^the guest agent could not save f\.bin$/],
    [FileXferStatus.ERROR, concat(fromHex('00'), u32(31)), 'AGENT_ERROR', /could not save f\.bin: too many transfers at once/],
    [FileXferStatus.ERROR, concat(fromHex('00'), u32(12)), 'AGENT_ERROR', /no space left on the device/],
    [FileXferStatus.NOT_ENOUGH_SPACE, fromHex('0000300000000000'), 'NO_SPACE', /not enough space in the guest for f\.bin \(9\.8 KiB needed, 3\.0 MiB free\)/, 3n << 20n],
    [FileXferStatus.NOT_ENOUGH_SPACE, new Uint8Array(0), 'NO_SPACE', /\(9\.8 KiB needed\)$/],
    [FileXferStatus.SESSION_LOCKED, new Uint8Array(0), 'SESSION_LOCKED', /session is locked/],
    [FileXferStatus.VDAGENT_NOT_CONNECTED, new Uint8Array(0), 'AGENT_GONE', /no user session agent \(spice-vdagent\)/],
    [FileXferStatus.DISABLED, new Uint8Array(0), 'DISABLED', /disabled in the guest agent/],
    [99, new Uint8Array(0), 'AGENT_ERROR', /with status 99/],
  ];
  for (const [result, detail, code, words, free] of cases) {
    const { files, sent, status } = rig();
    const src = mem('f.bin', pattern(10_000));
    const t = files.start(src);
    status(t.id, result, detail);
    const r = await t.result;
    assert.ok(!r.ok);
    assert.equal(r.error.code, code, `status ${result}`);
    assert.match(r.error.message, words);
    assert.equal(r.agentStatus, result);
    assert.equal(r.freeSpace, free);
    assert.deepEqual(statusesOf(sent()), []);
  }
});

test('the agent going away fails every transfer with AGENT_GONE; no agent, a disabled one, too many, a bad name fail at start', async () => {
  const { agent, files } = rig();
  const ts = [files.start(mem('a', pattern(10))), files.start(mem('b', pattern(100_000)))];
  agent.disconnected();
  for (const t of ts) {
    const r = await t.result;
    assert.equal(!r.ok && r.error.code, 'AGENT_GONE');
  }
  const none = await files.start(mem('c', pattern(1))).result;
  assert.equal(!none.ok && none.error.code, 'AGENT_GONE', 'no agent now');

  const off = rig({ caps: [AgentCap.FILE_XFER_DISABLED] });
  const d = await off.files.start(mem('d', pattern(1))).result;
  assert.equal(!d.ok && d.error.code, 'DISABLED');
  assert.deepEqual(off.sent(), [], 'no START to an agent that refuses transfers');

  const few = rig({ maxActive: 2 });
  few.files.start(mem('1', pattern(1)));
  few.files.start(mem('2', pattern(1)));
  const third = await few.files.start(mem('3', pattern(1))).result;
  assert.equal(!third.ok && third.error.code, 'LIMIT');
  assert.equal(few.files.list().length, 2);

  for (const [name, code] of [['a/b', 'PROTOCOL'], ['..', 'PROTOCOL'], ['x'.repeat(70_000), 'LIMIT']] as const) {
    const r = await few.files.start(mem(name, pattern(1))).result;
    assert.equal(!r.ok && r.error.code, code, name.slice(0, 8));
  }
  const neg = await few.files.start({ name: 'n', size: -1, read: () => Promise.resolve(new Uint8Array(0)) }).result;
  assert.equal(!neg.ok && neg.error.code, 'PROTOCOL');
});

test('a failing source: rejected read or early end → IO, too many bytes → LIMIT; the agent hears ERROR (it deletes the partial file)', async () => {
  const sources: [FileSource, string, RegExp][] = [
    [{ name: 'r', size: 100, read: () => Promise.reject(new Error('EIO: disk gone')) }, 'IO', /reading r at 0: EIO: disk gone/],
    [{ name: 's', size: 100, read: () => { throw new Error('sync throw'); } }, 'IO', /sync throw/],
    [{ name: 'e', size: 100, read: (o) => Promise.resolve(new Uint8Array(o === 0 ? 60 : 0)) }, 'IO', /e ended at 60 of 100 bytes/],
    [{ name: 'm', size: 100, read: () => Promise.resolve(new Uint8Array(101)) }, 'LIMIT', /gave 101 bytes for 100 asked/],
  ];
  for (const [src, code, words] of sources) {
    const { files, sent, status } = rig();
    const t = files.start(src);
    status(t.id, FileXferStatus.CAN_SEND_DATA);
    const r = await t.result;
    assert.ok(!r.ok);
    assert.equal(r.error.code, code);
    assert.match(r.error.message, words);
    assert.deepEqual(statusesOf(sent()), [{ id: t.id, result: FileXferStatus.ERROR }]);
    assert.equal(files.bufferedBytes, 0);
  }
});

test('SUCCESS before we sent everything is a PROTOCOL failure; a repeated CAN_SEND_DATA changes nothing', async () => {
  const { files, status } = rig();
  const src = mem('x', pattern(200_000), true);
  const t = files.start(src);
  status(t.id, FileXferStatus.CAN_SEND_DATA);
  status(t.id, FileXferStatus.CAN_SEND_DATA);
  assert.equal(src.inFlight(), 1);
  status(t.id, FileXferStatus.SUCCESS);
  const r = await t.result;
  assert.equal(!r.ok && r.error.code, 'PROTOCOL');
  assert.match(!r.ok ? r.error.message : '', /reported x complete after 0 of 200000 bytes/);
});

test('an empty file: one empty FILE_XFER_DATA (spice-vdagent completes on it), then SUCCESS → 100 %', async () => {
  const { files, sent, status } = rig();
  const src = mem('empty', new Uint8Array(0));
  const t = files.start(src);
  status(t.id, FileXferStatus.CAN_SEND_DATA);
  await settle();
  const data = dataOf(sent(), t.id);
  assert.deepEqual(data.map((d) => d.data.length), [0]);
  assert.equal(src.reads.length, 0);
  status(t.id, FileXferStatus.SUCCESS);
  assert.equal((await t.result).ok, true);
  assert.deepEqual(src.progress.map((x) => x.percent), [0, 100]);
});

test('several transfers share the window round-robin; ids are distinct; statuses go to their own transfer', async () => {
  const { files, sent, status } = rig({ windowBytes: 2 * FILE_XFER_BLOCK });
  const a = mem('a', pattern(4 * FILE_XFER_BLOCK));
  const b = mem('b', pattern(2 * FILE_XFER_BLOCK));
  const ta = files.start(a);
  const tb = files.start(b);
  assert.notEqual(ta.id, tb.id);
  status(ta.id, FileXferStatus.CAN_SEND_DATA);
  status(tb.id, FileXferStatus.CAN_SEND_DATA);
  await settle();
  const order = sent().filter((m) => m.type === AgentMsg.FILE_XFER_DATA).map((m) => p.decodeFileXferData(m.data).id);
  assert.deepEqual(order.slice(0, 4), [ta.id, tb.id, ta.id, tb.id], `interleaved: ${order}`);
  assert.equal(order.length, 6);
  status(tb.id, FileXferStatus.ERROR);
  status(ta.id, FileXferStatus.SUCCESS);
  assert.equal((await ta.result).ok, true);
  assert.equal(((await tb.result) as { error: SpiceError }).error.code, 'AGENT_ERROR');
});

test('the agent\'s STATUS split across AGENT_DATA bodies at every byte still ends the right transfer, free space included', async () => {
  const body = concat(...chunkAgentMessage(AgentMsg.FILE_XFER_STATUS, [p.encodeFileXferStatus(1, FileXferStatus.NOT_ENOUGH_SPACE), fromHex('00f0ffff00000000')]));
  for (let cut = 1; cut < body.length; cut++) {
    const { agent, files } = rig();
    const t = files.start(mem('big', pattern(5)));
    assert.equal(t.id, 1);
    agent.receive(body.subarray(0, cut));
    assert.equal(t.state, 'starting', `cut ${cut}: nothing before the whole message`);
    agent.receive(body.subarray(cut));
    const r = await t.result;
    assert.ok(!r.ok);
    assert.equal(r.error.code, 'NO_SPACE');
    assert.equal(r.freeSpace, 0xfffff000n);
  }
});

test('a malformed FILE_XFER_STATUS is reported (onError) and ends nothing; other agent messages are ignored', async () => {
  const { agent, files, errors } = rig();
  const t = files.start(mem('m', pattern(5)));
  agent.receive(concat(...chunkAgentMessage(AgentMsg.FILE_XFER_STATUS, [fromHex('010000')])));
  agent.receive(concat(...chunkAgentMessage(AgentMsg.REPLY, [fromHex('0200000001000000')])));
  await settle();
  assert.deepEqual(errors.map((e) => e.code), ['SHORT_READ']);
  assert.equal(t.state, 'starting');
});

test('formatBytes: one spelling for the engine and the page', () => {
  assert.equal(formatBytes(0), '0 bytes');
  assert.equal(formatBytes(1023), '1023 bytes');
  assert.equal(formatBytes(1024), '1.0 KiB');
  assert.equal(formatBytes(100_000), '97.7 KiB');
  assert.equal(formatBytes(64n << 20n), '64.0 MiB');
  assert.equal(formatBytes(3n << 40n), '3.0 TiB');
  assert.equal(formatBytes(5 * 2 ** 50), '5120.0 TiB');
});
