// ClipboardSync: the agent's by-demand clipboard against a host clipboard.
// The agent side is the real AgentChannel fed the bytes spice-vdagentd sends
// (its capabilities: selections, grab serials, MAX_CLIPBOARD); what we send is
// read back from the link. The host clipboard here is a map (the real ones,
// Electron's module and the page's Clipboard API, are exercised in e2e).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentChannel } from '../../../main/spice/agent/agent-channel';
import { chunkAgentMessage } from '../../../main/spice/agent/agent-stream';
import { ClipboardSync, type ClipboardTransfer, type ClipKind, type HostClipboard } from '../../../main/spice/agent/clipboard';
import {
  AgentMsg,
  ClipboardType,
  Selection,
  decodeClipboard,
  decodeClipboardGrab,
  decodeClipboardRequest,
  decodeMaxClipboard,
  encodeClipboardGrab,
  encodeClipboardPrefix,
  encodeClipboardRequest,
} from '../../../main/spice/agent/protocol';
import { concat, fromHex } from '../../helpers/spice-bytes';

const DAEMON_CAPS = fromHex('01000000' + '06000000' + '0000000000000000' + '08000000' + '00000000' + 'e78d0300');
const L = { selection: true, serial: true };

class MapClipboard implements HostClipboard {
  readonly selections = [Selection.CLIPBOARD, Selection.PRIMARY];
  readonly items = new Map<string, Uint8Array>();
  failRead: Error | null = null;
  async write(selection: number, kind: ClipKind, data: Uint8Array): Promise<void> {
    this.items.set(`${selection}/${kind}`, data.slice());
  }
  async read(selection: number, kind: ClipKind): Promise<Uint8Array | null> {
    if (this.failRead) throw this.failRead;
    return this.items.get(`${selection}/${kind}`) ?? null;
  }
  kinds(selection: number): ClipKind[] {
    return (['text', 'png'] as const).filter((k) => this.items.has(`${selection}/${k}`));
  }
}

function rig(opts: ConstructorParameters<typeof ClipboardSync>[2] = {}) {
  const sent: Uint8Array[] = [];
  const agent = new AgentChannel({ start() {}, token() {}, data: (c) => sent.push(c.slice()) });
  const host = new MapClipboard();
  const transfers: ClipboardTransfer[] = [];
  const sync = new ClipboardSync(agent, host, { onTransfer: (t) => transfers.push(t), ...opts });
  agent.listen({ onState: (s) => sync.agentState(s), onMessage: (m) => sync.agentMessage(m) });
  agent.setServerTokens(1000);
  agent.connected();
  agent.receive(DAEMON_CAPS);
  sent.length = 0;
  /** our agent messages since the last call, reassembled from the chunks */
  const out = () => {
    const all = concat(...sent.splice(0));
    const msgs: { type: number; body: Uint8Array }[] = [];
    for (let o = 0; o < all.length; ) {
      const v = new DataView(all.buffer, all.byteOffset + o);
      const size = v.getUint32(16, true);
      msgs.push({ type: v.getUint32(4, true), body: all.subarray(o + 20, o + 20 + size) });
      o += 20 + size;
    }
    return msgs;
  };
  const fromAgent = (type: number, body: Uint8Array) => {
    for (const c of chunkAgentMessage(type, [body])) agent.receive(c);
  };
  const settle = () => new Promise((r) => setImmediate(r));
  return { agent, host, sync, transfers, out, fromAgent, settle };
}

const text = (s: string) => new TextEncoder().encode(s);
const PNG = fromHex('89504e470d0a1a0a0000000d49484452');

test('ready: our limit goes to an agent that takes one (MAX_CLIPBOARD), and a host clipboard that was there is grabbed', () => {
  const sent: Uint8Array[] = [];
  const agent = new AgentChannel({ start() {}, token() {}, data: (c) => sent.push(c.slice()) });
  const host = new MapClipboard();
  host.items.set('0/text', text('there before the agent'));
  const sync = new ClipboardSync(agent, host, { maxBytes: 1 << 20 });
  agent.listen({ onState: (s) => sync.agentState(s), onMessage: (m) => sync.agentMessage(m) });
  sync.hostChanged(Selection.CLIPBOARD);
  agent.setServerTokens(100);
  agent.connected();
  agent.receive(DAEMON_CAPS);
  const types = sent.slice(1).map((c) => new DataView(c.buffer, c.byteOffset).getUint32(4, true));
  assert.deepEqual(types, [AgentMsg.MAX_CLIPBOARD, AgentMsg.CLIPBOARD_GRAB]);
  assert.equal(decodeMaxClipboard(sent[1].subarray(20)), 1 << 20);
  assert.deepEqual(decodeClipboardGrab(L, sent[2].subarray(20)).types, [ClipboardType.UTF8_TEXT]);
});

test('guest → client: the grab is answered with a request for text, the answer lands on the host clipboard', async () => {
  const { host, out, fromAgent, transfers, settle } = rig();
  fromAgent(AgentMsg.CLIPBOARD_GRAB, encodeClipboardGrab(L, { selection: Selection.CLIPBOARD, serial: 0, types: [ClipboardType.IMAGE_PNG, ClipboardType.UTF8_TEXT] }));
  const [req] = out();
  assert.equal(req.type, AgentMsg.CLIPBOARD_REQUEST);
  assert.deepEqual(decodeClipboardRequest(L, req.body), { selection: Selection.CLIPBOARD, type: ClipboardType.UTF8_TEXT });
  fromAgent(AgentMsg.CLIPBOARD, concat(encodeClipboardPrefix(L, Selection.CLIPBOARD, ClipboardType.UTF8_TEXT), text('héllo')));
  await settle();
  assert.deepEqual(host.items.get('0/text'), text('héllo'));
  assert.deepEqual(transfers, [{ direction: 'to-client', selection: 0, kind: 'text', bytes: 6 }]);
});

test('guest → client: a PNG-only grab (an image copied in the guest) is requested as PNG; PRIMARY too', async () => {
  const { host, out, fromAgent, settle } = rig();
  fromAgent(AgentMsg.CLIPBOARD_GRAB, encodeClipboardGrab(L, { selection: Selection.PRIMARY, serial: 0, types: [ClipboardType.IMAGE_BMP, ClipboardType.IMAGE_PNG] }));
  assert.deepEqual(decodeClipboardRequest(L, out()[0].body), { selection: Selection.PRIMARY, type: ClipboardType.IMAGE_PNG });
  fromAgent(AgentMsg.CLIPBOARD, concat(encodeClipboardPrefix(L, Selection.PRIMARY, ClipboardType.IMAGE_PNG), PNG));
  await settle();
  assert.deepEqual(host.items.get('1/png'), PNG);
});

test('client → guest: a host change is grabbed with its kinds; the paste request gets the host data', async () => {
  const { host, sync, out, fromAgent, transfers, settle } = rig();
  host.items.set('0/png', PNG);
  sync.hostChanged(Selection.CLIPBOARD);
  const [grab] = out();
  assert.equal(grab.type, AgentMsg.CLIPBOARD_GRAB);
  assert.deepEqual(decodeClipboardGrab(L, grab.body), { selection: 0, serial: 0, types: [ClipboardType.IMAGE_PNG] });
  fromAgent(AgentMsg.CLIPBOARD_REQUEST, encodeClipboardRequest(L, { selection: 0, type: ClipboardType.IMAGE_PNG }));
  await settle();
  const [data] = out();
  assert.equal(data.type, AgentMsg.CLIPBOARD);
  assert.deepEqual(decodeClipboard(L, data.body), { selection: 0, type: ClipboardType.IMAGE_PNG, data: PNG });
  assert.deepEqual(transfers, [{ direction: 'to-guest', selection: 0, kind: 'png', bytes: PNG.length }]);
});

test('policy to-guest blocks guest → client: no request, the block is reported; client → guest still works', async () => {
  const { host, sync, out, fromAgent, transfers, settle } = rig({ policy: 'to-guest' });
  fromAgent(AgentMsg.CLIPBOARD_GRAB, encodeClipboardGrab(L, { selection: 0, serial: 0, types: [ClipboardType.UTF8_TEXT] }));
  assert.deepEqual(out(), [], 'nothing requested');
  assert.equal(transfers[0]?.blocked, 'clipboard sharing from the guest is off');
  host.items.set('0/text', text('to the guest'));
  sync.hostChanged(0);
  assert.equal(out()[0].type, AgentMsg.CLIPBOARD_GRAB);
  fromAgent(AgentMsg.CLIPBOARD_REQUEST, encodeClipboardRequest(L, { selection: 0, type: ClipboardType.UTF8_TEXT }));
  await settle();
  assert.deepEqual(decodeClipboard(L, out()[0].body).data, text('to the guest'));
});

test('policy to-client blocks client → guest: no grab; a paste request anyway gets NONE at once, never silence', async () => {
  const { host, sync, out, fromAgent, transfers, settle } = rig({ policy: 'to-client' });
  host.items.set('0/text', text('secret'));
  sync.hostChanged(0);
  assert.deepEqual(out(), [], 'no grab');
  fromAgent(AgentMsg.CLIPBOARD_REQUEST, encodeClipboardRequest(L, { selection: 0, type: ClipboardType.UTF8_TEXT }));
  await settle();
  const [none] = out();
  assert.deepEqual(decodeClipboard(L, none.body), { selection: 0, type: ClipboardType.NONE, data: new Uint8Array(0) });
  assert.equal(transfers[0]?.blocked, 'clipboard sharing to the guest is off');
  // turned on: what the host holds is offered at once
  sync.setPolicy('both');
  assert.equal(out()[0]?.type, AgentMsg.CLIPBOARD_GRAB);
});

test('off blocks both ways', async () => {
  const { host, sync, out, fromAgent, settle } = rig({ policy: 'off' });
  fromAgent(AgentMsg.CLIPBOARD_GRAB, encodeClipboardGrab(L, { selection: 0, serial: 0, types: [ClipboardType.UTF8_TEXT] }));
  host.items.set('0/text', text('x'));
  sync.hostChanged(0);
  fromAgent(AgentMsg.CLIPBOARD, concat(encodeClipboardPrefix(L, 0, ClipboardType.UTF8_TEXT), text('from guest')));
  await settle();
  assert.deepEqual(out(), []);
  assert.equal(host.items.get('0/text')?.length, 1, 'host clipboard untouched');
});

test('size limit: a bigger host item is answered NONE, a bigger guest item is not written; both reported', async () => {
  const { host, sync, out, fromAgent, transfers, settle } = rig({ maxBytes: 8 });
  host.items.set('0/text', text('123456789'));
  sync.hostChanged(0);
  out();
  fromAgent(AgentMsg.CLIPBOARD_REQUEST, encodeClipboardRequest(L, { selection: 0, type: ClipboardType.UTF8_TEXT }));
  await settle();
  assert.equal(decodeClipboard(L, out()[0].body).type, ClipboardType.NONE);
  fromAgent(AgentMsg.CLIPBOARD_GRAB, encodeClipboardGrab(L, { selection: 0, serial: 0, types: [ClipboardType.UTF8_TEXT] }));
  out();
  fromAgent(AgentMsg.CLIPBOARD, concat(encodeClipboardPrefix(L, 0, ClipboardType.UTF8_TEXT), text('abcdefghij')));
  await settle();
  assert.deepEqual(host.items.get('0/text'), text('123456789'), 'not overwritten');
  assert.deepEqual(
    transfers.map((t) => [t.direction, t.bytes, t.blocked]),
    [
      ['to-guest', 9, 'larger than the 8-byte clipboard limit'],
      ['to-client', 10, 'larger than the 8-byte clipboard limit'],
    ],
  );
});

test('a host clipboard that refuses (no permission) answers NONE and reports why; an unrequested CLIPBOARD is ignored', async () => {
  const { host, sync, out, fromAgent, transfers, settle } = rig();
  host.items.set('0/text', text('x'));
  sync.hostChanged(0);
  out();
  host.items.clear();
  host.failRead = new Error('the browser does not allow reading the clipboard');
  fromAgent(AgentMsg.CLIPBOARD_REQUEST, encodeClipboardRequest(L, { selection: 0, type: ClipboardType.UTF8_TEXT }));
  await settle();
  assert.equal(decodeClipboard(L, out()[0].body).type, ClipboardType.NONE);
  assert.equal(transfers[0]?.blocked, 'the browser does not allow reading the clipboard');
  fromAgent(AgentMsg.CLIPBOARD, concat(encodeClipboardPrefix(L, 0, ClipboardType.UTF8_TEXT), text('unasked')));
  await settle();
  assert.equal(host.items.size, 0);
});
