// The AGENT_DATA stream: our chunking (≤ VD_AGENT_MAX_DATA_SIZE, header in the
// first chunk, one message per chunk) and the reassembly of the agent's
// messages split at every byte boundary, with limits checked on the header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentReassembler, chunkAgentMessage, type ReassemblyEvent } from '../../../main/spice/agent/agent-stream';
import { SpiceError } from '../../../main/spice/wire/errors';
import { concat, fromHex, hex } from '../../helpers/spice-bytes';

/** VDAgentMessage header by hand: u32 protocol, u32 type, u64 opaque, u32 size. */
function header(type: number, size: number, protocol = 1): string {
  const u32 = (v: number) => Buffer.from(Uint32Array.of(v).buffer).toString('hex');
  return u32(protocol) + u32(type) + '0000000000000000' + u32(size);
}

const pattern = (n: number, seed = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

test('a message is cut into ≤ 2048-byte chunks, the 20-byte header at the start of the first', () => {
  const data = pattern(5000);
  const chunks = chunkAgentMessage(4, [data.subarray(0, 8), data.subarray(8)]);
  assert.deepEqual(chunks.map((c) => c.length), [2048, 2048, 5020 - 4096]);
  assert.equal(hex(chunks[0].subarray(0, 20)), header(4, 5000));
  assert.deepEqual(concat(...chunks).subarray(20), data);
  // exactly full: 2028 data bytes fill one chunk, one more starts a second
  assert.equal(chunkAgentMessage(4, [pattern(2028)]).length, 1);
  assert.equal(chunkAgentMessage(4, [pattern(2029)]).length, 2);
  assert.deepEqual(chunkAgentMessage(13, []).map(hex), [header(13, 0)]);
});

function messages(evs: ReassemblyEvent[]): { type: number; data: string }[] {
  return evs.map((e) => {
    if ('error' in e) throw e.error;
    return { type: e.message.type, data: hex(e.message.data) };
  });
}

// three messages back to back as the agent writes them: an empty one, one of
// 5000 bytes (longer than a chunk) and a small one
const big = pattern(5000, 7);
const STREAM = concat(fromHex(header(13, 0)), fromHex(header(4, 5000)), big, fromHex(header(3, 8) + '0200000001000000'));
const WANT = [
  { type: 13, data: '' },
  { type: 4, data: hex(big) },
  { type: 3, data: '0200000001000000' },
];

test('reassembly: the stream split at every byte boundary (two pieces) gives the same messages', () => {
  for (let cut = 0; cut <= STREAM.length; cut++) {
    const r = new AgentReassembler(1 << 20);
    const got = messages([...r.push(STREAM.subarray(0, cut)), ...r.push(STREAM.subarray(cut))]);
    assert.deepEqual(got, WANT, `cut at ${cut}`);
    assert.equal(r.partial, null);
  }
});

test('reassembly: three pieces around every header byte, and one byte at a time', () => {
  const heads = [0, 20, 5040]; // where each header starts
  for (const h of heads) {
    for (let a = h; a <= h + 20; a++) {
      for (const b of [a + 1, a + 7, h + 21, STREAM.length]) {
        if (b > STREAM.length || b < a) continue;
        const r = new AgentReassembler(1 << 20);
        const got = messages([...r.push(STREAM.subarray(0, a)), ...r.push(STREAM.subarray(a, b)), ...r.push(STREAM.subarray(b))]);
        assert.deepEqual(got, WANT, `cuts ${a}, ${b}`);
      }
    }
  }
  const r = new AgentReassembler(1 << 20);
  const evs: ReassemblyEvent[] = [];
  for (let i = 0; i < STREAM.length; i++) evs.push(...r.push(STREAM.subarray(i, i + 1)));
  assert.deepEqual(messages(evs), WANT);
});

test('a half-received message is visible (what a seamless switch keeps) and completes exactly once', () => {
  const r = new AgentReassembler(1 << 20);
  assert.deepEqual(messages(r.push(STREAM.subarray(0, 20 + 20 + 100))), [WANT[0]]);
  assert.deepEqual(r.partial, { type: 4, size: 5000, received: 100, skipping: false });
  assert.deepEqual(messages(r.push(STREAM.subarray(140, 150))), []);
  assert.deepEqual(r.partial, { type: 4, size: 5000, received: 110, skipping: false });
  assert.deepEqual(messages(r.push(STREAM.subarray(150))), WANT.slice(1));
});

test('over the size limit: LIMIT from the header alone, nothing allocated, the body skipped and the next message read', () => {
  const r = new AgentReassembler(4096);
  const evs = r.push(STREAM.subarray(0, 40)); // empty message + the 5000-byte header
  assert.equal(evs.length, 2);
  assert.ok('error' in evs[1] && evs[1].error instanceof SpiceError && evs[1].error.code === 'LIMIT', 'LIMIT before any body byte');
  assert.equal(r.partial?.skipping, true);
  assert.deepEqual(messages(r.push(STREAM.subarray(40))), [WANT[2]]);
  // a declared 4 GiB message is refused the same way (no allocation attempted)
  const huge = new AgentReassembler(4096);
  const e = huge.push(fromHex(header(4, 0xffffffff)));
  assert.ok('error' in e[0] && e[0].error.code === 'LIMIT');
});

test('a wrong protocol number is BAD_MESSAGE; its declared body is skipped and the stream stays in step', () => {
  const r = new AgentReassembler(1 << 20);
  const evs = r.push(concat(fromHex(header(4, 3, 2) + 'aabbcc'), fromHex(header(3, 8) + '0200000001000000')));
  assert.ok('error' in evs[0] && evs[0].error.code === 'BAD_MESSAGE');
  assert.deepEqual(messages(evs.slice(1)), [WANT[2]]);
});
