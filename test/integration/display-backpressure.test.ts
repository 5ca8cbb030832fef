// A slow renderer slows the server, not memory: a real QEMU 7.2 /
// spice-server 0.15.1 with the guest redrawing its ticker every 20 ms, the
// real session controller, and a painter that takes PAINT_MS per batch. The
// controller ACKs the server's display messages only for painted batches, so
// spice-server stops at its ACK window (it sends while fewer than two
// windows are unacknowledged): messages waiting for their paint stay bounded
// by the window, batches in flight by MAX_BATCHES_IN_FLIGHT, gathered commands
// by the window; and the server's message rate falls far below the rate a
// prompt painter gets from the same guest.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { QemuVm } from '../harness/qemu';
import { configForUri, createSessionController, type SessionController } from '../../main/app/session-controller';
import { MAX_BATCHES_IN_FLIGHT, type DisplayFlowStats } from '../../main/app/display-flow';
import { defaultTransportFactory } from '../../main/transport/index';
import { DisplayState } from '../../renderer/display/display-state';
import type { DisplayCommand } from '../../preload/contract';

/** The ACK window spice-server asks a display client for (CLIENT_ACK_WINDOW; the wide one is for low bandwidth). */
const SERVER_ACK_WINDOW = 20;
const PAINT_MS = 2000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let vm: QemuVm | null = null;
let engine: SessionController | null = null;
after(async () => {
  engine?.close();
  await vm?.stop();
});

/** Display messages the server sent on display 0 so far (every type, as the ACK window counts them). */
function serverMessages(e: SessionController): number {
  const ch = e.session()?.displays.get(0);
  let n = 0;
  for (const v of ch?.received.values() ?? []) n += v;
  return n;
}

test('slow painter: the ACK window holds the server; queues and memory stay bounded', { timeout: 240_000 }, async () => {
  const prev = process.env.GUEST_APPEND;
  process.env.GUEST_APPEND = [prev, 'guest.tick_ms=20'].filter(Boolean).join(' ');
  try {
    vm = await QemuVm.start({ name: 'backpressure' });
  } finally {
    if (prev === undefined) delete process.env.GUEST_APPEND;
    else process.env.GUEST_APPEND = prev;
  }
  const uri = `spice://127.0.0.1:${vm.spicePort}`;
  const e = createSessionController({ config: configForUri(uri, undefined), transport: defaultTransportFactory });
  engine = e;

  // the renderer: applies every batch; paints at once, or PAINT_MS per batch one after another
  const state = new DisplayState();
  let slow = false;
  const queue: number[] = [];
  let maxQueue = 0;
  let painting = false;
  const paintNext = (): void => {
    const n = queue.shift();
    if (n === undefined) {
      painting = false;
      return;
    }
    painting = true;
    setTimeout(() => {
      e.displayAck(n);
      paintNext();
    }, slow ? PAINT_MS : 0);
  };
  e.on('display', (cmds: DisplayCommand[], n) => {
    for (const c of cmds) state.apply(c);
    queue.push(n);
    maxQueue = Math.max(maxQueue, queue.length);
    if (!painting) paintNext();
  });
  e.connect(uri);
  const deadline = Date.now() + 60_000;
  while (!(e.session()?.state === 'connected' && state.primary())) {
    if (Date.now() > deadline) assert.fail('no primary surface within 60 s');
    await sleep(100);
  }
  await vm.command('tick', /GUEST OK tick/);

  // prompt painter: the rate the guest's ticker makes the server send at
  await sleep(1000);
  let m0 = serverMessages(e);
  let t0 = Date.now();
  await sleep(4000);
  const fastRate = ((serverMessages(e) - m0) * 1000) / (Date.now() - t0);

  slow = true;
  await sleep(PAINT_MS * (MAX_BATCHES_IN_FLIGHT + 2)); // the pipeline fills up
  const samples: DisplayFlowStats[] = [];
  const heap: number[] = [];
  m0 = serverMessages(e);
  t0 = Date.now();
  for (let i = 0; i < 50; i++) {
    await sleep(200);
    samples.push(e.displayStats());
    heap.push(process.memoryUsage().heapUsed);
  }
  const slowRate = ((serverMessages(e) - m0) * 1000) / (Date.now() - t0);
  const most = (k: keyof DisplayFlowStats) => Math.max(...samples.map((s) => s[k]));
  console.log(
    `server display messages/s: prompt painter ${fastRate.toFixed(1)}, painter at ${PAINT_MS} ms/batch ${slowRate.toFixed(1)}; ` +
      `max unpainted messages ${most('messagesUnpainted')}, batches in flight ${most('batchesInFlight')}, commands waiting ${most('commandsWaiting')}, ` +
      `painter queue ${maxQueue}; heap ${(heap[0] / 2 ** 20).toFixed(1)} → ${(heap.at(-1)! / 2 ** 20).toFixed(1)} MiB`,
  );

  assert.ok(fastRate > 5, `the guest keeps drawing (${fastRate.toFixed(1)} messages/s with a prompt painter)`);
  // held by the window: never more than two windows (+ the message that crosses it) waiting for a paint
  assert.ok(most('messagesUnpainted') <= 2 * SERVER_ACK_WINDOW + 1, `unpainted messages ${most('messagesUnpainted')} within two ACK windows`);
  assert.ok(most('messagesUnpainted') >= SERVER_ACK_WINDOW, 'the slow painter did fill the window (the server waited for it)');
  assert.ok(most('batchesInFlight') <= MAX_BATCHES_IN_FLIGHT);
  assert.ok(maxQueue <= MAX_BATCHES_IN_FLIGHT, `the painter never had more than ${MAX_BATCHES_IN_FLIGHT} batches queued (${maxQueue})`);
  assert.ok(most('commandsWaiting') <= 2 * SERVER_ACK_WINDOW + 1, 'commands gathered are bounded by the window too');
  // at most two windows per painted batch: the server cannot outrun the painter
  const bound = ((2 * SERVER_ACK_WINDOW + 1) * 1000) / PAINT_MS;
  assert.ok(slowRate <= bound, `server rate ${slowRate.toFixed(1)}/s with a slow painter stays within ${bound.toFixed(1)}/s`);
  assert.ok(slowRate < fastRate / 2, `the server slowed down (${slowRate.toFixed(1)}/s vs ${fastRate.toFixed(1)}/s)`);

  // a prompt painter again: everything in flight is painted and ACKed, the server resumes
  slow = false;
  const end = Date.now() + 20_000;
  while (e.displayStats().batchesInFlight > 0 && Date.now() < end) await sleep(50);
  m0 = serverMessages(e);
  t0 = Date.now();
  await sleep(2000);
  const resumed = ((serverMessages(e) - m0) * 1000) / (Date.now() - t0);
  assert.ok(resumed > slowRate, `the server speeds up again (${resumed.toFixed(1)}/s)`);
  assert.equal(e.session()?.state, 'connected');
});
