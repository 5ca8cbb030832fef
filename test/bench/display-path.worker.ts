// The display worker's end of the display-path benchmark (display-path.bench.ts):
// receives batches by the path under test and answers each with "painted".
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { WebSocket } from 'ws';
import { decodeFrame, encodeFrame } from '../../preload/codec';

interface Batch {
  type: 'batch';
  batch: number;
  commands: unknown[];
}

const mode = (workerData as { mode: string }).mode;
const page = parentPort!;

if (mode === 'page-relay') {
  // today: the page's main thread relays each batch with postMessage (one structured clone)
  page.on('message', (m: Batch) => page.postMessage({ type: 'painted', batch: m.batch }));
} else if (mode === 'port') {
  // a MessagePort handed to the worker: batches arrive straight from main
  page.once('message', (m: { port: MessagePort }) => {
    const port = m.port;
    port.on('message', (b: Batch) => port.postMessage({ type: 'painted', batch: b.batch }));
  });
} else if (mode === 'ws') {
  // the worker owns the WebSocket to the web host
  const ws = new WebSocket((workerData as { url: string }).url);
  ws.binaryType = 'arraybuffer';
  ws.on('message', (data: ArrayBuffer) => {
    const f = decodeFrame(new Uint8Array(data)) as { batch: number };
    ws.send(encodeFrame({ kind: 'painted', batch: f.batch }));
  });
  ws.on('open', () => page.postMessage({ type: 'open' }));
}
