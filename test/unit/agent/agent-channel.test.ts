// AgentChannel: token flow both ways, the queue waiting for tokens, capability
// negotiation, clipboard serials, errors that leave the agent usable, and the
// state a seamless switch keeps. The link records what would go on the wire;
// a small token-honouring "server" plays spice-server's side of the flow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AGENT_CLIENT_TOKENS, AgentChannel, type AgentState } from '../../../main/spice/agent/agent-channel';
import { AgentMsg, ClipboardType, Selection } from '../../../main/spice/agent/protocol';
import { chunkAgentMessage, type AgentMessage } from '../../../main/spice/agent/agent-stream';
import { MainChannel } from '../../../main/spice/channels/main-channel';
import { quietLogger } from '../../../main/spice/session';
import { SpiceError } from '../../../main/spice/wire/errors';
import { tick } from '../../helpers/fake-transport';
import { linkFake } from '../../helpers/linked-channel';
import { concat, fromHex, hex, miniMsg } from '../../helpers/spice-bytes';

function rig() {
  const out = { start: [] as number[], tokens: [] as number[], data: [] as Uint8Array[] };
  const got: AgentMessage[] = [];
  const errors: SpiceError[] = [];
  const states: AgentState[] = [];
  const agent = new AgentChannel(
    { start: (n) => out.start.push(n), token: (n) => out.tokens.push(n), data: (c) => out.data.push(c.slice()) },
    { onMessage: (m) => got.push(m), onError: (e) => errors.push(e), onState: (s) => states.push(s) },
  );
  return { agent, out, got, errors, states };
}

// spice-vdagentd's ANNOUNCE_CAPABILITIES (request 0): caps 0x38de7 (selection + grab serial among them)
const DAEMON_CAPS = (request: number) => fromHex('01000000' + '06000000' + '0000000000000000' + '08000000' + `0${request}000000` + 'e78d0300');

function ready() {
  const r = rig();
  r.agent.setServerTokens(10);
  r.agent.connected();
  r.agent.receive(DAEMON_CAPS(0));
  assert.equal(r.agent.state, 'ready');
  r.out.data.length = 0;
  r.got.length = 0;
  return r;
}

/** Agent message bytes as the agent writes them (header + body). */
const agentMsg = (type: number, body: Uint8Array) => concat(...chunkAgentMessage(type, [body]));

test('connect: AGENT_START grants our window, then our capabilities (request=1) wait for a server token', () => {
  const { agent, out, states } = rig();
  agent.connected();
  assert.deepEqual(out.start, [AGENT_CLIENT_TOKENS]);
  assert.equal(out.data.length, 0, 'no server tokens yet');
  assert.equal(agent.migrationState().queuedChunks, 1);
  agent.addServerTokens(1);
  assert.equal(out.data.length, 1);
  assert.equal(hex(out.data[0]), '01000000' + '06000000' + '0000000000000000' + '08000000' + '01000000' + '76500300');
  assert.deepEqual(states, ['starting']);
  agent.receive(DAEMON_CAPS(1));
  assert.equal(agent.state, 'ready');
  agent.addServerTokens(1);
  assert.equal(hex(out.data[1].subarray(20, 24)), '00000000', 'the agent asked: we answer with request=0');
  assert.ok(agent.clipboardLayout.selection && agent.clipboardLayout.serial);
});

test('we return tokens as we consume: 1000 server chunks flow through a 64-token window (the old code stalled after 10)', () => {
  const { agent, out, got } = ready();
  // a server that sends only while it holds tokens, as spice-server does
  let serverHas = AGENT_CLIENT_TOKENS - 1; // one went on the capabilities above
  let given = 0;
  const pending = Array.from({ length: 1000 }, (_, i) => agentMsg(AgentMsg.REPLY, fromHex('02000000' + (i % 2 ? '01' : '02') + '000000')));
  while (pending.length) {
    assert.ok(serverHas > 0 || out.tokens.length > given, `stalled with ${pending.length} left`);
    for (; given < out.tokens.length; given++) serverHas += out.tokens[given];
    serverHas--;
    agent.receive(pending.shift()!);
  }
  assert.equal(got.length, 1000);
  assert.ok(out.tokens.every((n) => n === AGENT_CLIENT_TOKENS / 2), 'batches of half the window');
  for (; given < out.tokens.length; given++) serverHas += out.tokens[given];
  assert.equal(agent.migrationState().clientTokens, serverHas, 'both sides count the same window');
});

test('our 1 MiB clipboard waits for tokens chunk by chunk and arrives whole, nothing sent twice', () => {
  const { agent, out } = ready();
  const data = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 7) & 0xff);
  agent.clipboardData(Selection.CLIPBOARD, ClipboardType.UTF8_TEXT, data);
  const total = Math.ceil((20 + 8 + data.length) / 2048);
  assert.equal(out.data.length, 9, 'one chunk per token (10 granted, 1 spent on our capabilities)');
  assert.equal(agent.migrationState().queuedChunks, total - 9);
  while (agent.migrationState().queuedChunks) agent.addServerTokens(7);
  assert.equal(out.data.length, total);
  assert.ok(out.data.every((c) => c.length <= 2048));
  const all = concat(...out.data);
  assert.equal(hex(all.subarray(0, 28)), '01000000' + '04000000' + '0000000000000000' + hex(Uint8Array.from(Buffer.from(Uint32Array.of(8 + data.length).buffer))) + '00000000' + '01000000');
  assert.deepEqual(all.subarray(28), data);
});

test('seamless switch: tokens, the waiting queue and a half-received message are kept; the rest arrives once', () => {
  const { agent, out, got } = ready();
  agent.clipboardData(Selection.CLIPBOARD, ClipboardType.UTF8_TEXT, new Uint8Array(3 * 2048));
  const inbound = agentMsg(AgentMsg.CLIPBOARD, concat(fromHex('00000000' + '01000000'), new Uint8Array(5000).fill(0x61)));
  agent.receive(inbound.subarray(0, 2048));
  const before = agent.migrationState();
  assert.equal(before.queuedChunks, 0);
  assert.deepEqual(before.partial, { type: AgentMsg.CLIPBOARD, size: 5008, received: 2028, skipping: false });
  // the main channel swaps its connection under the agent: nothing here is reset
  agent.receive(inbound.subarray(2048));
  assert.equal(got.length, 1);
  assert.equal(got[0].data.length, 5008);
  assert.equal(out.data.length, 4, '4 chunks of our message, each once');
  assert.equal(agent.migrationState().partial, null);
  // a server without our state (semi-seamless) resets it
  agent.clipboardRelease(Selection.CLIPBOARD);
  agent.reset();
  assert.deepEqual({ ...agent.migrationState(), serials: [] }, { state: 'absent', serverTokens: 0, clientTokens: 0, tokensToReturn: 0, queuedChunks: 0, queuedBytes: 0, partial: null, serials: [] });
});

test('clipboard serials follow spice-vdagentd: after its grab with serial s, ours carries s+1', () => {
  const { agent, out } = ready();
  // agent grabs PRIMARY with serial 6
  agent.receive(agentMsg(AgentMsg.CLIPBOARD_GRAB, fromHex('01000000' + '06000000' + '01000000')));
  agent.clipboardGrab(Selection.PRIMARY, [ClipboardType.UTF8_TEXT]);
  agent.clipboardGrab(Selection.PRIMARY, [ClipboardType.UTF8_TEXT]);
  agent.clipboardGrab(Selection.CLIPBOARD, [ClipboardType.IMAGE_PNG]);
  assert.deepEqual(out.data.map((c) => hex(c.subarray(20))), [
    '01000000' + '07000000' + '01000000',
    '01000000' + '08000000' + '01000000',
    '00000000' + '00000000' + '02000000',
  ]);
});

test('malformed agent messages are coded errors; the agent keeps working', () => {
  const { agent, got, errors } = ready();
  agent.receive(agentMsg(AgentMsg.CLIPBOARD_GRAB, fromHex('00000000' + '01000000' + '0100'))); // half a type
  agent.receive(agentMsg(AgentMsg.ANNOUNCE_CAPABILITIES, fromHex('0100'))); // short
  agent.receive(fromHex('02000000' + '03000000' + '0000000000000000' + '00000000')); // protocol 2
  agent.receive(agentMsg(AgentMsg.REPLY, fromHex('02000000' + '01000000')));
  assert.deepEqual(errors.map((e) => e.code), ['BAD_MESSAGE', 'SHORT_READ', 'BAD_MESSAGE']);
  assert.deepEqual(got.map((m) => m.type), [AgentMsg.REPLY]);
  assert.equal(agent.state, 'ready');
  assert.throws(() => rig().agent.clipboardRelease(0), (e: unknown) => e instanceof SpiceError && e.code === 'PROTOCOL', 'nothing to send before the agent is ready');
});

test('AGENT_DISCONNECTED drops the queue and the half message; a new AGENT_CONNECTED starts over', () => {
  const { agent, out, states } = ready();
  agent.setServerTokens(0);
  agent.clipboardRelease(0);
  agent.receive(agentMsg(AgentMsg.REPLY, fromHex('0200000001000000')).subarray(0, 10));
  agent.disconnected();
  assert.equal(agent.state, 'absent');
  assert.equal(agent.migrationState().queuedChunks, 0);
  assert.equal(agent.migrationState().partial, null);
  agent.connected();
  assert.deepEqual(out.start, [AGENT_CLIENT_TOKENS, AGENT_CLIENT_TOKENS]);
  assert.deepEqual(states, ['starting', 'ready', 'absent', 'starting']);
});

/** Client messages (mini header: u16 type, u32 size) out of what the main channel wrote. */
function sent(all: Uint8Array): { type: number; body: Uint8Array }[] {
  const msgs = [];
  for (let i = 0; i < all.length; ) {
    const type = all[i] | (all[i + 1] << 8);
    const size = all[i + 2] | (all[i + 3] << 8) | (all[i + 4] << 16) | (all[i + 5] << 24);
    msgs.push({ type, body: all.subarray(i + 6, i + 6 + size) });
    i += 6 + size;
  }
  return msgs;
}

/** A main channel linked over a fake transport, with no-op session hooks and server mouse mode. */
async function linkedMain() {
  const { t, conn } = await linkFake(1);
  const ch = new MainChannel(quietLogger, {
    onInit() {}, onChannelsList() {}, onMouseMode() {}, onName() {}, onUuid() {}, onAgent() {},
    onMigrateBegin() {}, onMigrateCancel() {}, onMigrateEnd() {}, onSwitchHost() {}, onMultiMediaTime() {},
  });
  ch.preferClientMouse = false;
  ch.attach(conn);
  return { t, ch };
}

test('main channel: MAIN_INIT with an agent → AGENT_START and capabilities; AGENT_DATA is consumed and tokens go back', async () => {
  const { t, ch } = await linkedMain();
  const got: AgentMessage[] = [];
  ch.agent.listen({ onMessage: (m) => got.push(m) });
  // MAIN_INIT: session 1, 1 display, modes 1/1, agent connected, 10 agent tokens, time, ram hint
  t.deliver(miniMsg(103, fromHex('01000000' + '01000000' + '01000000' + '01000000' + '01000000' + '0a000000' + '00000000' + '00000000')));
  await tick();
  let msgs = sent(t.allWritten());
  assert.deepEqual(msgs.map((m) => m.type), [106, 107, 104], 'AGENT_START, AGENT_DATA (our capabilities), ATTACH_CHANNELS');
  assert.equal(hex(msgs[0].body), '40000000', 'AGENT_START num_tokens 64');
  t.written = [];
  t.deliver(concat(...Array.from({ length: 40 }, () => miniMsg(109, agentMsg(AgentMsg.REPLY, fromHex('0200000001000000'))))));
  await tick();
  assert.equal(got.length, 40);
  msgs = sent(t.allWritten());
  assert.deepEqual(msgs.map((m) => [m.type, hex(m.body)]), [[108, '20000000']], 'one AGENT_TOKEN of 32');
  assert.equal(ch.agent.migrationState().serverTokens, 9);
  t.deliver(miniMsg(110, fromHex('05000000'))); // AGENT_TOKEN 5
  await tick();
  assert.equal(ch.agent.migrationState().serverTokens, 14);
});

test('main channel: a malformed agent message is logged with its code and the session goes on', async () => {
  const { t, conn } = await linkFake(1);
  const warnings: string[] = [];
  const ch = new MainChannel({ ...quietLogger, warn: (m) => warnings.push(m) }, {
    onInit() {}, onChannelsList() {}, onMouseMode() {}, onName() {}, onUuid() {}, onAgent() {},
    onMigrateBegin() {}, onMigrateCancel() {}, onMigrateEnd() {}, onSwitchHost() {}, onMultiMediaTime() {},
  });
  ch.preferClientMouse = false;
  ch.attach(conn);
  t.deliver(miniMsg(103, fromHex('01000000' + '01000000' + '01000000' + '01000000' + '01000000' + '0a000000' + '00000000' + '00000000')));
  // protocol 7 in the agent header, then a good ANNOUNCE_CAPABILITIES
  t.deliver(concat(miniMsg(109, fromHex('07000000' + '03000000' + '0000000000000000' + '00000000')), miniMsg(109, DAEMON_CAPS(0))));
  await tick();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^agent: BAD_MESSAGE: agent message protocol 7/);
  assert.equal(ch.agent.state, 'ready', 'the next message was read');
  assert.equal(t.closed, false);
});

test('listeners: every listener hears every event; a removed one hears nothing more', () => {
  const { agent } = rig();
  const a: string[] = [];
  const b: string[] = [];
  agent.listen({ onState: (s) => a.push(s), onMessage: (m) => a.push(`msg ${m.type}`) });
  const offB = agent.listen({ onState: (s) => b.push(s), onError: (e) => b.push(e.code) });
  agent.setServerTokens(10);
  agent.connected();
  agent.receive(DAEMON_CAPS(0));
  agent.receive(agentMsg(AgentMsg.CLIPBOARD_GRAB, fromHex('00000000' + '01000000' + '0100')));
  offB();
  agent.disconnected();
  assert.deepEqual(a, ['starting', 'ready', `msg ${AgentMsg.ANNOUNCE_CAPABILITIES}`, 'absent']);
  assert.deepEqual(b, ['starting', 'ready', 'BAD_MESSAGE']);
});

test('send(…, sent): runs once the message\'s last chunk has left the queue, never for a queue dropped with the agent', () => {
  const { agent, out } = ready();
  agent.setServerTokens(0);
  const done: string[] = [];
  agent.send(AgentMsg.CLIPBOARD, [new Uint8Array(5000)], () => done.push('big')); // 3 chunks
  agent.send(AgentMsg.CLIPBOARD_RELEASE, [new Uint8Array(4)], () => done.push('small'));
  assert.equal(agent.queuedBytes, 5020 + 24);
  agent.addServerTokens(2);
  assert.equal(done.length, 0);
  agent.addServerTokens(1);
  assert.deepEqual(done, ['big']);
  assert.equal(out.data.length, 3);
  agent.send(AgentMsg.CLIPBOARD_RELEASE, [new Uint8Array(4)], () => done.push('lost'));
  agent.disconnected();
  agent.connected();
  agent.addServerTokens(10);
  assert.deepEqual(done, ['big'], 'the queue went with the agent');
  assert.equal(agent.queuedBytes, 0);
});

test('main channel: a session that ends (close or failure) takes its agent with it — a file transfer in flight fails with AGENT_GONE', async () => {
  for (const end of ['close', 'fail'] as const) {
    const { t, ch } = await linkedMain();
    t.deliver(miniMsg(103, fromHex('01000000' + '01000000' + '01000000' + '01000000' + '01000000' + '0a000000' + '00000000' + '00000000')));
    await tick();
    t.deliver(miniMsg(109, agentMsg(AgentMsg.ANNOUNCE_CAPABILITIES, fromHex('00000000' + 'e78d0300'))));
    await tick();
    assert.equal(ch.agent.state, 'ready');
    const xfer = ch.files.start({ name: 'a.bin', size: 10, read: async () => new Uint8Array(10) });
    if (end === 'close') ch.close();
    else ch.fail(new SpiceError('CLOSED', 'main: connection closed'));
    const r = await xfer.result;
    assert.equal(ch.agent.state, 'absent', end);
    assert.deepEqual([r.ok, r.ok ? '' : r.error.code], [false, 'AGENT_GONE'], end);
  }
});
