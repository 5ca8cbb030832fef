// Electron's display port (main/ipc/display-port.ts) without an Electron
// binary: MessageChannelMain's shape over Node's MessageChannel (a real port
// pair, structured clone between them). Batches reach the port handed to the
// page, "painted" comes back as displayAck, a reload gets a new port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessagePort } from 'node:worker_threads';
import { attachDisplayPort } from '../../main/ipc/display-port';
import { FakeChannelMain, fakeContents, nodePort } from '../helpers/electron-port';
import { DISPLAY_PORT_IPC, type DisplayLinkBatch } from '../../preload/display-link';
import { displayEngine } from '../helpers/display-engine';

const next = (p: MessagePort) => new Promise<unknown>((ok) => p.once('message', ok));
const until = async (cond: () => boolean) => {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) assert.fail('timed out');
    await new Promise((r) => setImmediate(r));
  }
};

test('display port: batches go to the port handed to the page; painted comes back as displayAck; a reload gets a new port', async () => {
  const eng = displayEngine();
  const win = fakeContents();
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
