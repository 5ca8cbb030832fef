// The web host's display link without a browser: a page's bridge socket gets
// a page id in its hello and no display events; the worker's socket with that
// id (and the token) gets the batches, queued until it attaches, and its
// "painted" becomes displayAck; garbage closes it; it dies with its page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { startWebHost } from '../../main/web-host';
import { decodeFrame, encodeFrame } from '../../preload/codec';
import { DISPLAY_WS_PATH } from '../../preload/display-link';
import { displayEngine } from '../helpers/display-engine';

const frames = (ws: WebSocket) => {
  const got: { kind?: string; type?: string; batch?: number; name?: string; display?: string }[] = [];
  ws.on('message', (d: Buffer) => got.push(decodeFrame(new Uint8Array(d)) as (typeof got)[number]));
  return got;
};
const until = async (cond: () => boolean, what: string) => {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};
const opened = (ws: WebSocket) => new Promise<void>((ok, fail) => (ws.once('open', () => ok()), ws.once('error', fail)));
const closed = (ws: WebSocket) => new Promise<number>((ok) => ws.once('close', (code) => ok(code)));

test('web host display link: batches go to the worker socket only, painted comes back as displayAck', async () => {
  const eng = displayEngine();
  const host = await startWebHost({ engine: () => eng.api });
  try {
    const u = new URL(host.url);
    const page = new WebSocket(`ws://${u.host}/bridge?token=${host.token}`);
    const pageFrames = frames(page);
    await until(() => pageFrames.some((f) => f.kind === 'hello'), 'hello');
    const id = pageFrames.find((f) => f.kind === 'hello')!.display!;
    assert.match(id, /^[\w-]{16,}$/);

    eng.emit(1); // before the worker is there: queued
    const worker = new WebSocket(`ws://${u.host}${DISPLAY_WS_PATH}?token=${host.token}&page=${encodeURIComponent(id)}`);
    const got = frames(worker);
    await opened(worker);
    eng.emit(2);
    await until(() => got.length === 2, 'two batches on the worker socket');
    assert.deepEqual(
      got.map((f) => [f.type, f.batch]),
      [['batch', 1], ['batch', 2]],
    );
    assert.ok(!pageFrames.some((f) => f.name === 'display'), 'no display event on the page bridge');

    worker.send(encodeFrame({ type: 'painted', batch: 2 }));
    await until(() => eng.acks.length === 1, 'displayAck');
    assert.deepEqual(eng.acks, [2]);

    // a second worker socket for the same page is refused while the first is open
    const second = new WebSocket(`ws://${u.host}${DISPLAY_WS_PATH}?token=${host.token}&page=${encodeURIComponent(id)}`);
    const refused = await new Promise<number>((ok) => second.on('unexpected-response', (_q, res) => ok(res.statusCode ?? 0)));
    assert.equal(refused, 403);

    // garbage from the worker closes its socket (1008), nothing is acked
    const bye = closed(worker);
    worker.send(encodeFrame({ type: 'painted', batch: 'x' }));
    assert.equal(await bye, 1008);
    assert.deepEqual(eng.acks, [2]);

    // a new worker socket may attach; it goes when its page goes
    const again = new WebSocket(`ws://${u.host}${DISPLAY_WS_PATH}?token=${host.token}&page=${encodeURIComponent(id)}`);
    await opened(again);
    const gone = closed(again);
    page.close();
    assert.equal(await gone, 1001);
  } finally {
    await host.close();
  }
});
