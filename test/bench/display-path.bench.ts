// npm run bench (part): the display path from the engine to the display
// worker. Batches of DisplayCommands captured from a real spice-server
// (test/vectors/captured, one batch per displayed frame) go from "main" to a
// real worker thread by each path, with at most WINDOW batches unpainted (the
// worker answers each with "painted"), as the app runs them:
//   web, page relay (before issue 8): host encodes → WebSocket → page decodes →
//     postMessage to the worker (structured clone) → painted → page → host
//   web, worker socket (after): host encodes → WebSocket owned by the worker → decodes
//   electron, 3 clones (before): IPC (serialize + deserialize) → contextBridge
//     clone → postMessage to the worker (clone)
//   electron, port (after): one MessagePort from main straight to the worker (one clone)
// Process hops are emulated in one Node process (v8 serialize/deserialize for
// IPC); the WebSocket is real (loopback). Figures only, no asserts.
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { serialize, deserialize } from 'node:v8';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { CAPTURED_CODECS, loadCaptured } from '../helpers/captured';
import { decodeFrame, encodeFrame } from '../../preload/codec';
import type { DisplayCommand } from '../../preload/contract';
import { DISPLAY_WS_PATH } from '../../preload/display-link';
import { startWebHost } from '../../main/web-host';
import { attachDisplayPort } from '../../main/ipc/display-port';
import { displayEngine } from '../helpers/display-engine';
import { FakeChannelMain, fakeContents, nodePort } from '../helpers/electron-port';

const WINDOW = 8;
const ROUNDS = Number(process.env.DISPLAY_PATH_ROUNDS ?? 60);
const WORKER = new URL('./display-path.worker.ts', import.meta.url);

/** One batch per displayed frame of every captured session. */
function capturedBatches(): DisplayCommand[][] {
  const out: DisplayCommand[][] = [];
  for (const codec of CAPTURED_CODECS) {
    const cap = loadCaptured(codec);
    let from = 0;
    for (const f of cap.frames) {
      if (f.after > from) out.push(cap.commands.slice(from, f.after));
      from = f.after;
    }
    if (from < cap.commands.length) out.push(cap.commands.slice(from));
  }
  return out;
}

function payloadBytes(v: unknown): number {
  if (v instanceof Uint8Array || v instanceof Uint32Array) return v.byteLength;
  if (Array.isArray(v)) return v.reduce((n: number, x) => n + payloadBytes(x), 0);
  if (v && typeof v === 'object') return Object.values(v).reduce((n: number, x) => n + payloadBytes(x), 0);
  return 0;
}

function startWorker(mode: string, extra: Record<string, unknown> = {}): Worker {
  // a worker does not inherit tsx's loader: register it, then load the TypeScript module
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(WORKER.href)}); })`;
  return new Worker(boot, { eval: true, workerData: { mode, ...extra } });
}

/** Runs `total` batches through `send`, at most WINDOW unpainted; `onPainted` is wired by the path. */
async function pump(batches: DisplayCommand[][], send: (n: number, cmds: DisplayCommand[]) => void, wire: (painted: (n: number) => void) => void): Promise<{ ms: number; cpuMs: number; n: number }> {
  const total = batches.length * ROUNDS;
  let sent = 0;
  let painted = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise<void>((done) => {
    const fill = (): void => {
      while (sent < total && sent - painted < WINDOW) {
        sent++;
        send(sent, batches[(sent - 1) % batches.length]);
      }
    };
    wire((n) => {
      painted = Math.max(painted, n);
      if (painted >= total) done();
      else fill();
    });
    fill();
  });
  const ms = performance.now() - t0;
  const c = process.cpuUsage(cpu0);
  return { ms, cpuMs: (c.user + c.system) / 1000, n: total };
}

async function wsServer(): Promise<{ wss: WebSocketServer; url: string; conn: Promise<WebSocket> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((ok) => wss.once('listening', ok));
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/display`;
  const conn = new Promise<WebSocket>((ok) => wss.once('connection', ok));
  return { wss, url, conn };
}

const displayFrame = (n: number, cmds: DisplayCommand[]): Uint8Array => encodeFrame({ kind: 'event', name: 'display', payload: cmds, batch: n });

const PATHS: { name: string; copies: string; run: (b: DisplayCommand[][]) => Promise<{ ms: number; cpuMs: number; n: number }> }[] = [
  {
    name: 'web, page relay (before)',
    copies: '3: encode, page decode, postMessage clone',
    async run(batches) {
      const { wss, url, conn } = await wsServer();
      const page = new WebSocket(url);
      page.binaryType = 'arraybuffer';
      const host = await conn;
      const worker = startWorker('page-relay');
      page.on('message', (data: ArrayBuffer) => {
        const f = decodeFrame(new Uint8Array(data)) as { payload: DisplayCommand[]; batch: number };
        worker.postMessage({ type: 'batch', batch: f.batch, commands: f.payload });
      });
      worker.on('message', (m: { batch: number }) => page.send(encodeFrame({ kind: 'request', name: 'displayAck', args: [m.batch] })));
      try {
        return await pump(
          batches,
          (n, cmds) => host.send(displayFrame(n, cmds)),
          (painted) => host.on('message', (d: Buffer) => painted((decodeFrame(new Uint8Array(d)) as { args: number[] }).args[0])),
        );
      } finally {
        page.close();
        await worker.terminate();
        wss.close();
      }
    },
  },
  {
    name: 'web, worker socket (after)',
    copies: '2: encode, worker decode',
    async run(batches) {
      // the real web host and the real worker link end
      let painted: (n: number) => void = () => {};
      const eng = displayEngine((n) => painted(n));
      const host = await startWebHost({ engine: () => eng.api });
      const u = new URL(host.url);
      const page = new WebSocket(`ws://${u.host}/bridge?token=${host.token}`);
      const pageId = await new Promise<string>((ok) =>
        page.on('message', (d: Buffer) => {
          const hello = decodeFrame(new Uint8Array(d)) as { kind: string; display?: string };
          if (hello.kind === 'hello' && hello.display) ok(hello.display);
        }),
      );
      const worker = startWorker('link');
      worker.postMessage({ url: `ws://${u.host}${DISPLAY_WS_PATH}?token=${host.token}&page=${pageId}` });
      try {
        return await pump(batches, (n, cmds) => eng.emit(n, cmds), (cb) => (painted = cb));
      } finally {
        page.close();
        await worker.terminate();
        await host.close();
      }
    },
  },
  {
    name: 'electron, 3 clones (before)',
    copies: '3: IPC, contextBridge, postMessage to the worker',
    async run(batches) {
      const worker = startWorker('page-relay');
      let onPainted: (n: number) => void = () => {};
      worker.on('message', (m: { batch: number }) => onPainted((deserialize(serialize([m.batch])) as number[])[0]));
      try {
        return await pump(
          batches,
          (n, cmds) => {
            const viaIpc = deserialize(serialize({ name: 'display', payload: cmds, batch: n })) as { payload: DisplayCommand[]; batch: number };
            const inPage = structuredClone(viaIpc);
            worker.postMessage({ type: 'batch', batch: inPage.batch, commands: inPage.payload });
          },
          (painted) => (onPainted = painted),
        );
      } finally {
        await worker.terminate();
      }
    },
  },
  {
    name: 'electron, port to the worker (after)',
    copies: '1: MessagePort main → worker',
    async run(batches) {
      // the real display port plumbing (main/ipc/display-port.ts) over Node's MessageChannel
      let painted: (n: number) => void = () => {};
      const eng = displayEngine((n) => painted(n));
      const win = fakeContents();
      const detach = attachDisplayPort({ MessageChannelMain: FakeChannelMain }, win.c, eng.api);
      win.load();
      const worker = startWorker('link');
      const port = nodePort(win.sent[0].ports[0]);
      worker.postMessage({ port }, [port]);
      try {
        return await pump(batches, (n, cmds) => eng.emit(n, cmds), (cb) => (painted = cb));
      } finally {
        detach();
        await worker.terminate();
      }
    },
  },
];

const batches = capturedBatches();
const bytes = batches.reduce((n, b) => n + payloadBytes(b), 0);
console.log(
  `\nDisplay path, engine → display worker: ${batches.length} captured batches × ${ROUNDS} rounds, ` +
    `${(bytes / batches.length / 1024).toFixed(1)} KiB compressed payload per batch, ≤ ${WINDOW} batches unpainted:`,
);
console.log('path | batches/s | payload MB/s | CPU ms per batch (all threads) | copies of a batch, socket → worker');
console.log('---- | --------- | ------------ | ------------------------------ | ----------------------------------');
for (const p of PATHS) {
  await p.run(batches.slice(0, 20)); // warm-up (JIT, worker start)
  const r = await p.run(batches);
  const perSec = r.n / (r.ms / 1000);
  console.log(`${p.name} | ${perSec.toFixed(0)} | ${((bytes * ROUNDS) / 1e6 / (r.ms / 1000)).toFixed(0)} | ${(r.cpuMs / r.n).toFixed(3)} | ${p.copies}`);
}
