// Connection quality against a real QEMU 7.2 / spice-server 0.15.1: the
// inputs channel times each 4th pointer message to its MOTION_ACK. Direct on
// loopback, then through a proxy that holds every chunk 40 ms each way: the
// measured round trip grows by at least those 80 ms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QemuVm } from '../harness/qemu';
import { createClient, type TestClient } from '../helpers/client';
import { startDelayProxy, type DelayProxy } from '../helpers/delay-proxy';

const DELAY_MS = 40;
let vm: QemuVm;
let client: TestClient | undefined;
let proxy: DelayProxy | undefined;

before(async () => {
  vm = await QemuVm.start({ name: 'latency', spiceExtra: 'streaming-video=off' });
});

after(async () => {
  client?.session.disconnect();
  await proxy?.close();
  await vm?.stop();
});

/** Moves the pointer until `n` round trips were measured; their median. */
async function measure(c: TestClient, n: number): Promise<{ median: number; samples: number[] }> {
  const inputs = c.session.inputs;
  assert.ok(inputs, 'inputs channel linked');
  const samples: number[] = [];
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`only ${samples.length} of ${n} round trips in 60 s`)), 60_000);
    inputs.onRoundTrip = (ms) => {
      samples.push(ms);
      if (samples.length >= n) {
        clearTimeout(timer);
        done();
      } else move();
    };
    // one bunch (4 messages) at a time: each is timed on its own ACK
    const move = () => {
      for (let i = 0; i < 4; i++) inputs.mouseMotion(1, 0, 0);
    };
    move();
  });
  return { median: inputs.roundTripMs!, samples };
}

test('direct: round trips are measured from MOTION_ACKs', async () => {
  client = createClient({ host: '127.0.0.1', port: vm.spicePort });
  await client.session.connect();
  const direct = await measure(client, 8);
  console.log(`  direct round trip: median ${direct.median.toFixed(1)} ms, samples ${direct.samples.map((s) => s.toFixed(1)).join(' ')}`);
  assert.ok(direct.median >= 0 && direct.median < 1000, String(direct.median));
  client.session.disconnect();
  client = undefined;

  proxy = await startDelayProxy(vm.spicePort, DELAY_MS);
  client = createClient({ host: '127.0.0.1', port: proxy.port });
  await client.session.connect();
  const slow = await measure(client, 8);
  console.log(`  through ${DELAY_MS} ms each way: median ${slow.median.toFixed(1)} ms, samples ${slow.samples.map((s) => s.toFixed(1)).join(' ')}`);
  assert.ok(slow.median >= 2 * DELAY_MS, `${slow.median} ms < ${2 * DELAY_MS} ms added by the proxy`);
  assert.ok(slow.median < 2 * DELAY_MS + 1000, `${slow.median} ms`);
  assert.ok(slow.median > direct.median, 'the slower link measures slower');
});
