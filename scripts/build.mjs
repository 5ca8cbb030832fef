// Build: esbuild bundles for the renderer page + display worker, the Electron
// preload and main process, and the web host CLI, into dist/.
import { build } from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWasm } from './build-wasm.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const r = (p) => join(root, p);

const common = { bundle: true, sourcemap: 'linked', logLevel: 'warning', target: 'es2022', absWorkingDir: root };
// Native add-ons and Electron stay outside the bundles.
const nodeExternal = ['electron', 'usb', 'pcsclite', 'bufferutil', 'utf-8-validate'];

// C decoders → WebAssembly, embedded as generated TS modules the bundles import.
buildWasm();
await rm(dist, { recursive: true, force: true });
await mkdir(join(dist, 'renderer'), { recursive: true });

await Promise.all([
  build({ ...common, entryPoints: [r('renderer/main.ts')], outfile: join(dist, 'renderer/main.js'), platform: 'browser', format: 'iife' }),
  build({ ...common, entryPoints: [r('renderer/display/worker.ts')], outfile: join(dist, 'renderer/worker.js'), platform: 'browser', format: 'iife' }),
  build({ ...common, entryPoints: [r('preload/index.ts')], outfile: join(dist, 'preload/index.cjs'), platform: 'node', format: 'cjs', external: ['electron'] }),
  build({ ...common, entryPoints: [r('main/electron.ts')], outfile: join(dist, 'main/electron.cjs'), platform: 'node', format: 'cjs', external: nodeExternal }),
  build({
    ...common,
    entryPoints: [r('main/web.ts')],
    outfile: join(dist, 'main/web.js'),
    platform: 'node',
    format: 'esm',
    external: nodeExternal,
    // ws is CommonJS and requires Node built-ins: give the ESM bundle a real require.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  }),
  copyFile(r('renderer/index.html'), join(dist, 'renderer/index.html')),
  copyFile(r('renderer/style.css'), join(dist, 'renderer/style.css')),
]);
console.log('built dist/');
