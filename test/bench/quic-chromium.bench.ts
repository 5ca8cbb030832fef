// QUIC decode, JavaScript vs WebAssembly, in a headless Chromium dedicated
// worker served with the web host's script CSP ('self' 'wasm-unsafe-eval'):
// what the display worker pays per frame. Bundles quic-chromium.worker.ts
// with esbuild, serves it on 127.0.0.1 and prints ms/frame.
// Run directly: node --import tsx test/bench/quic-chromium.bench.ts
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../helpers/web-page';

const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'";

const bundle = await build({
  entryPoints: [new URL('./quic-chromium.worker.ts', import.meta.url).pathname],
  bundle: true, write: false, format: 'iife', platform: 'browser', target: 'es2022', logLevel: 'error',
  // quic.bench.ts's run-directly check reads process.argv
  define: { 'process.argv': '[]' },
});
const js = bundle.outputFiles[0].text;
const server = createServer((req, res) => {
  const headers = { 'content-security-policy': CSP };
  if (req.url === '/w.js') res.writeHead(200, { ...headers, 'content-type': 'text/javascript' }).end(js);
  else res.writeHead(200, { ...headers, 'content-type': 'text/html' }).end('<!doctype html><title>quic bench</title>');
});
await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
const port = (server.address() as AddressInfo).port;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
try {
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${port}/`);
  const out = await page.evaluate(
    () =>
      new Promise<{ wasm: boolean; identical: boolean; rows: { label: string; js: number; wasm: number }[] }>((ok, fail) => {
        const w = new Worker('/w.js');
        w.onmessage = (e) => ok(e.data);
        w.onerror = (e) => fail(new Error(e.message));
        w.postMessage(null);
      }),
  );
  console.log(`chromium worker: wasm ${out.wasm ? 'available' : 'UNAVAILABLE'}, JS and wasm pixels ${out.identical ? 'identical' : 'DIFFER'}`);
  for (const r of out.rows) {
    console.log(`quic rgb32 ${r.label}: js ${r.js.toFixed(3)} ms, wasm ${r.wasm.toFixed(3)} ms (x${(r.js / r.wasm).toFixed(2)})`);
  }
} finally {
  await browser.close();
  server.close();
}
