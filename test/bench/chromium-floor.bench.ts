// npm run bench:floor — what Chromium alone costs to show canvas updates here,
// with no SPICE, no engine and no decoding (issue 13): the floor under any
// Chromium-based client (the web host's browser, the Electron app) on this
// machine. The same Chromium, switches and screen as bench:e2e's "ours": headful
// in an Xvfb 1280x800x24, --kiosk, --disable-gpu (software compositing), the
// app's process-model switches. The page comes from a small HTTP server on
// 127.0.0.1; each case runs WINDOW_S seconds after WARM_S:
//  - blank: the page shows a black 1024x768 canvas and changes nothing (idle
//    cost, and the memory any page costs);
//  - pixel: a worker that owns the canvas (OffscreenCanvas, as the display
//    worker) has a WebSocket to this process, which sends it a 16-byte message
//    RATE times a second; on each, the worker changes one pixel (the fixed cost
//    of a frame, from the wire to the X server);
//  - ticker: the same with a 960x160 putImageData (the size of the light
//    workload's redraw in bench:e2e), from two prepared images (no decoding, no
//    conversion);
//  - full: the whole 1024x768, HEAVY_RATE times a second (bench:e2e's heavy
//    workload).
// Figures per case (medians of RUNS): visible updates/s (X DAMAGE probe, as
// bench:e2e), render latency (each message's send → the next screen change, both
// CLOCK_MONOTONIC as in bench:e2e), CPU per visible update summed over
// Chromium's tree and split by process, and PSS. Figures only, no assertions. Env: RUNS (3), WINDOW_S (10),
// WARM_S (3), RATE (9.3), HEAVY_RATE (50), CASES (blank,pixel,ticker,full),
// APP_SWITCHES (1), CHROMIUM_FLAGS, MAX_OTHERS_PCT (15).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import { chromiumArgs } from '../../main/windows/chromium-switches';
import { CLIENT_ENV, buildProbe, killTree, procs, quiet, startScreen, treeUsage, updates, type Screen } from './x-screen';

const RUNS = Number(process.env.RUNS ?? 3);
const WINDOW_S = Number(process.env.WINDOW_S ?? 10);
const WARM_S = Number(process.env.WARM_S ?? 3);
const RATE = Number(process.env.RATE ?? 9.3);
const HEAVY_RATE = Number(process.env.HEAVY_RATE ?? 50);
const MAX_OTHERS = Number(process.env.MAX_OTHERS_PCT ?? 15);
const APP_SWITCHES = process.env.APP_SWITCHES !== '0';
const COALESCE_MS = 4;
const CASES = (process.env.CASES ?? 'blank,pixel,ticker,full').split(',').filter(Boolean);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

// The worker draws on each WebSocket message: the page thread does nothing after the transfer.
const WORKER = `
let ctx;
onmessage = ({ data }) => {
  ctx = data.canvas.getContext('2d', { alpha: false });
  ctx.fillStyle = '#000'; ctx.fillRect(0, 0, 1024, 768);
  const [w, h] = { pixel: [1, 1], ticker: [960, 160], full: [1024, 768] }[data.mode] ?? [0, 0];
  if (!w) return;
  const imgs = [0, 1].map((k) => {
    const im = new ImageData(w, h);
    for (let i = 0; i < im.data.length; i += 4) { im.data[i] = (i >> 4) * (k + 1); im.data[i + 1] = k * 200; im.data[i + 2] = 255 - (i & 255); im.data[i + 3] = 255; }
    return im;
  });
  let n = 0;
  const ws = new WebSocket(data.ws);
  ws.onmessage = () => ctx.putImageData(imgs[n++ & 1], 32, 300);
};`;
const PAGE = (mode: string, ws: string) => `<!doctype html><html><head><style>html,body{margin:0;background:#000;overflow:hidden}canvas{display:block;margin:40px auto 0}</style></head>
<body><canvas width="1024" height="768"></canvas><script>
const off = document.querySelector('canvas').transferControlToOffscreen();
new Worker('/worker.js').postMessage({ canvas: off, mode: ${JSON.stringify(mode)}, ws: ${JSON.stringify(ws)} }, [off]);
</script></body></html>`;

interface Sample { ups: number; latMed: number; cpuPerUp: number; cpuMsPerS: number; pssMb: number; split: Map<string, { cpuMs: number; pssMb: number }> }

async function measure(scr: Screen, root: number, sent: number[]): Promise<Sample> {
  const t0 = now();
  const before = procs();
  await sleep(WINDOW_S * 1000);
  const after = procs();
  const t1 = now();
  const ups = updates(scr.changes, t0, t1, COALESCE_MS).length;
  const { cpuMs, pssMb: pss, split } = treeUsage([root], before, after);
  // each message's send → the first screen change after it (none before the next send: not shown alone)
  const lat: number[] = [];
  const win = sent.filter((t) => t >= t0 && t < t1);
  for (let i = 0; i < win.length; i++) {
    const shown = scr.changes.find((t) => t > win[i]);
    if (shown !== undefined && (i + 1 === win.length || shown < win[i + 1])) lat.push(shown - win[i]);
  }
  const per = Math.max(ups, 1);
  for (const v of split.values()) v.cpuMs /= per;
  const secs = (t1 - t0) / 1000;
  return { ups: ups / secs, latMed: median(lat), cpuPerUp: cpuMs / per, cpuMsPerS: cpuMs / secs, pssMb: pss, split };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-floor-'));
const server = http.createServer((req, res) => {
  const u = new URL(req.url ?? '/', 'http://x');
  if (u.pathname === '/worker.js') {
    res.writeHead(200, { 'content-type': 'text/javascript' }).end(WORKER);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE(u.searchParams.get('mode') ?? 'blank', `ws://127.0.0.1:${port}/ws`));
});
const wss = new WebSocketServer({ server, path: '/ws' });
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const port = (server.address() as { port: number }).port;
/** Sends the open page a message RATE times a second, stamping each. */
function ticker(rate: number): { sent: number[]; stop: () => void } {
  const sent: number[] = [];
  const msg = Buffer.alloc(16);
  const t = setInterval(() => {
    for (const c of wss.clients) {
      sent.push(now());
      c.send(msg);
    }
  }, 1000 / rate);
  return { sent, stop: () => clearInterval(t) };
}
const results = new Map<string, Sample[]>();
let scr: Screen | undefined;
try {
  scr = await startScreen(95, buildProbe(tmp));
  const mine = [process.pid, scr.xvfb.pid!, scr.probe.pid!];
  for (let run = 0; run < RUNS; run++) {
    for (const mode of CASES) {
      await quiet(mine, MAX_OTHERS);
      const chrome = spawn('/usr/bin/chromium', ['--kiosk', `--app=http://127.0.0.1:${port}/?mode=${mode}`, '--disable-gpu', '--force-device-scale-factor=1', '--no-first-run',
        `--user-data-dir=${fs.mkdtempSync(path.join(tmp, 'chromium-'))}`, '--no-sandbox', '--window-position=0,0', '--window-size=1280,800',
        '--disable-background-networking', '--disable-component-update', '--disable-sync', '--password-store=basic', '--no-default-browser-check',
        ...(APP_SWITCHES ? chromiumArgs(process.platform) : []), ...(process.env.CHROMIUM_FLAGS ?? '').split(' ').filter(Boolean)],
      { detached: true, stdio: 'ignore', env: { ...process.env, ...CLIENT_ENV, DISPLAY: scr.display } });
      const tick = ticker(mode === 'full' ? HEAVY_RATE : RATE);
      try {
        // shown: the screen changed after the start (the page's first paint)
        const started = now();
        while (!scr.changes.some((t) => t > started + 300)) {
          if (now() - started > 60_000) throw new Error(`${mode}: Chromium showed nothing within 60 s`);
          await sleep(100);
        }
        await sleep(WARM_S * 1000);
        const s = await measure(scr, chrome.pid!, tick.sent);
        results.set(mode, [...(results.get(mode) ?? []), s]);
        console.error(`run ${run + 1} ${mode}: ${s.ups.toFixed(1)} updates/s, latency ${s.latMed.toFixed(1)} ms, ${s.cpuPerUp.toFixed(2)} ms CPU/update (${s.cpuMsPerS.toFixed(1)} ms/s), ${s.pssMb.toFixed(0)} MiB PSS`);
      } finally {
        tick.stop();
        await killTree(chrome);
      }
    }
  }
  console.log(`\nChromium ${APP_SWITCHES ? `with the app's switches (${chromiumArgs(process.platform).join(' ')})` : 'with its defaults'}, --disable-gpu, Xvfb 1280x800x24; medians of ${RUNS} runs × ${WINDOW_S} s`);
  console.log('| case | visible updates/s | render latency median (ms) | CPU per visible update, tree (ms) | CPU, tree (ms/s) | PSS, tree (MiB) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const mode of CASES) {
    const rs = results.get(mode) ?? [];
    const m = (f: (s: Sample) => number, d: number) => { const v = median(rs.map(f)); return Number.isFinite(v) ? v.toFixed(d) : '-'; };
    console.log(`| ${mode} | ${m((s) => s.ups, 1)} | ${m((s) => s.latMed, 1)} | ${mode === 'blank' ? '-' : m((s) => s.cpuPerUp, 2)} | ${m((s) => s.cpuMsPerS, 1)} | ${m((s) => s.pssMb, 0)} |`);
  }
  for (const mode of CASES) {
    const rs = results.get(mode) ?? [];
    const labels = [...new Set(rs.flatMap((s) => [...s.split.keys()]))].sort();
    // blank has no updates: its CPU is per second
    const blank = mode === 'blank';
    console.log(`\n${mode}, by process (medians): CPU ${blank ? 'ms/s' : 'per visible update (ms)'}, PSS (MiB)`);
    for (const l of labels) {
      const cpu = median(rs.map((s) => (s.split.get(l)?.cpuMs ?? 0) * (blank ? Math.max(s.ups * WINDOW_S, 1) / WINDOW_S : 1)));
      console.log(`| ${l} | ${cpu.toFixed(2)} | ${median(rs.map((s) => s.split.get(l)?.pssMb ?? 0)).toFixed(0)} |`);
    }
  }
} finally {
  wss.close();
  server.close();
  scr?.probe.kill();
  scr?.xvfb.kill();
  fs.rmSync(tmp, { recursive: true, force: true });
}
