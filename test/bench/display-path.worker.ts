// The display worker's end of the display-path benchmark (display-path.bench.ts):
// receives batches by the path under test and answers each with "painted"
// (no decoding or painting: the path is measured, not the compositor).
import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { WebSocket } from 'ws';
import { openLink } from '../../renderer/display/worker';

// a browser worker's WebSocket (Node 20 has none without a flag; ws has the same surface)
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

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
} else if (mode === 'link') {
  // after: the display worker's own link end (renderer/display/worker.ts), a port or its WebSocket
  page.once('message', (m: { port?: MessagePort; url?: string }) => {
    const link = openLink(
      m.port ? { port: m.port as unknown as globalThis.MessagePort } : { url: m.url! },
      (b) => link.send({ type: 'painted', batch: b.batch }),
      (why) => page.postMessage({ type: 'error', why }),
    );
  });
}
