// Electron's display port (main/ipc/display-port.ts) without an Electron
// binary: MessageChannelMain's shape over Node's MessageChannel (a real port
// pair, structured clone between them). Batches reach the port handed to the
// page, "painted" comes back as displayAck, a reload gets a new port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { MessagePortMain } from 'electron';
import { attachDisplayPort, type DisplayPortContents } from '../../main/ipc/display-port';
import { DISPLAY_PORT_IPC, type DisplayLinkBatch } from '../../preload/display-link';
import type { DisplayCommand, ViewerApi, ViewerEvents } from '../../preload/contract';

/** Electron's MessagePortMain delivers { data, ports }; Node's port delivers the value. */
function portMain(p: MessagePort): MessagePortMain {
  const e = new EventEmitter() as EventEmitter & Partial<MessagePortMain>;
  p.on('message', (data: unknown) => e.emit('message', { data, ports: [] }));
  return Object.assign(e, {
    postMessage: (m: unknown) => p.postMessage(m),
    start: () => {},
    close: () => p.close(),
    node: p,
  }) as unknown as MessagePortMain;
}
class FakeChannelMain {
  port1: MessagePortMain;
  port2: MessagePortMain;
  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port1 = portMain(port1);
    this.port2 = portMain(port2);
  }
}

/** The engine side the hosts see: display events out, displayAck in. */
function engine() {
  const acks: number[] = [];
  const display = new Set<(p: DisplayCommand[], b: number) => void>();
  const api: ViewerApi = {
    connect() {},
    disconnect() {},
    input() {},
    displayAck: (n) => acks.push(n),
    on<K extends keyof ViewerEvents>(event: K, cb: (p: ViewerEvents[K], b: number) => void) {
      if (event !== 'display') return () => {};
      const f = cb as unknown as (p: DisplayCommand[], b: number) => void;
      display.add(f);
      return () => display.delete(f);
    },
  };
  return { api, acks, emit: (n: number) => display.forEach((cb) => cb([{ t: 'mark' }], n)), listeners: () => display.size };
}

function contents() {
  const e = new EventEmitter();
  const sent: { channel: string; ports: MessagePortMain[] }[] = [];
  const c: DisplayPortContents = {
    on: (ev, cb) => e.on(ev, cb),
    off: (ev, cb) => e.off(ev, cb),
    postMessage: (channel, _m, ports = []) => sent.push({ channel, ports }),
    isDestroyed: () => false,
  };
  return { c, sent, load: () => e.emit('did-finish-load') };
}

const nodePort = (p: MessagePortMain) => (p as unknown as { node: MessagePort }).node;
const next = (p: MessagePort) => new Promise<unknown>((ok) => p.once('message', ok));
const until = async (cond: () => boolean) => {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) assert.fail('timed out');
    await new Promise((r) => setImmediate(r));
  }
};

test('display port: batches go to the port handed to the page; painted comes back as displayAck; a reload gets a new port', async () => {
  const eng = engine();
  const win = contents();
  const detach = attachDisplayPort({ MessageChannelMain: FakeChannelMain }, win.c, eng.api);
  eng.emit(1); // before the page loaded: queued for the port
  win.load();
  assert.equal(win.sent.length, 1);
  assert.equal(win.sent[0].channel, DISPLAY_PORT_IPC);
  assert.equal(win.sent[0].ports.length, 1);
  const worker = nodePort(win.sent[0].ports[0]);
  const first = (await next(worker)) as DisplayLinkBatch;
  assert.deepEqual(first, { type: 'batch', batch: 1, commands: [{ t: 'mark' }] });
  const second = next(worker);
  eng.emit(2);
  assert.equal(((await second) as DisplayLinkBatch).batch, 2);

  worker.postMessage({ type: 'painted', batch: 2 });
  await until(() => eng.acks.length > 0);
  assert.deepEqual(eng.acks, [2]);
  worker.postMessage({ type: 'painted', batch: 'all' });
  worker.postMessage({ type: 'batch', batch: 3, commands: [] });
  worker.postMessage({ type: 'painted', batch: 3 });
  await until(() => eng.acks.length > 1);
  assert.deepEqual(eng.acks, [2, 3], 'anything but a valid painted is ignored');

  // reload: the old worker is gone with what it had; a new port goes to the new page
  eng.emit(4);
  win.load();
  assert.equal(win.sent.length, 2);
  assert.deepEqual(eng.acks, [2, 3, 4], 'batches sent to the old worker count as painted');
  const again = nodePort(win.sent[1].ports[0]);
  const fifth = next(again);
  eng.emit(5);
  assert.equal(((await fifth) as DisplayLinkBatch).batch, 5);
  detach();
  assert.equal(eng.listeners(), 0, 'detached from the engine');
  again.close();
});
