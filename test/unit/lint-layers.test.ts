// The layering rules in eslint.config.js, exercised through ESLint's API on
// small snippets placed (virtually) at paths in each layer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../..', import.meta.url));
const eslint = new ESLint({ cwd: root });

async function problems(path: string, code: string): Promise<string[]> {
  const [res] = await eslint.lintText(code, { filePath: join(root, path) });
  return res.messages.filter((m) => m.severity === 2).map((m) => `${m.ruleId}: ${m.message}`);
}

test('main/spice may not import electron, node:*, ws, usb, pcsclite', async () => {
  for (const mod of ['electron', 'node:net', 'node:fs', 'fs', 'ws', 'usb', 'pcsclite']) {
    const p = await problems('main/spice/channels/fixture.ts', `import x from '${mod}';\nexport const y = x;\n`);
    assert.ok(p.some((m) => m.startsWith('no-restricted-imports')), `${mod}: ${p.join('; ')}`);
  }
  const ok = await problems('main/spice/channels/fixture.ts', "import { ByteReader } from '../wire/byte-reader';\nexport const y = ByteReader;\n");
  assert.deepEqual(ok, []);
});

test('main/spice and renderer/display may not touch document/window', async () => {
  for (const path of ['main/spice/fixture.ts', 'renderer/display/fixture.ts']) {
    const p = await problems(path, 'export const t = document.title + window.name;\n');
    assert.equal(p.filter((m) => m.startsWith('no-restricted-globals')).length, 2, `${path}: ${p.join('; ')}`);
  }
  // The page itself may.
  assert.deepEqual(await problems('renderer/ui/fixture.ts', 'export const t = document.title;\n'), []);
});

test('renderer may not import electron or node built-ins', async () => {
  for (const mod of ['electron', 'node:path', 'node:net']) {
    const p = await problems('renderer/ui/fixture.ts', `import * as x from '${mod}';\nexport const y = x;\n`);
    assert.ok(p.some((m) => m.startsWith('no-restricted-imports')), `${mod}: ${p.join('; ')}`);
  }
});

test('native device packages (usb, pcsclite) only under main/devices', async () => {
  for (const mod of ['usb', 'pcsclite']) {
    for (const path of ['main/app/fixture.ts', 'main/fixture.ts', 'main/ipc/fixture.ts', 'test/unit/fixture.ts', 'preload/fixture.ts']) {
      const p = await problems(path, `import x from '${mod}';\nexport const y = x;\n`);
      assert.ok(p.some((m) => m.includes('may be imported only under main/devices')), `${mod} in ${path}: ${p.join('; ')}`);
    }
    // a type-only import is a dependency too
    const typeOnly = await problems('main/app/fixture.ts', `import type { X } from '${mod}';\nexport type Y = X;\n`);
    assert.ok(typeOnly.some((m) => m.includes('main/devices')), `type import of ${mod}: ${typeOnly.join('; ')}`);
    assert.deepEqual(await problems('main/devices/usb/fixture.ts', `import x from '${mod}';\nexport const y = x;\n`), [], `${mod} in main/devices`);
  }
  // subpaths of the packages too, but not our own main/devices/usb modules
  assert.ok((await problems('main/app/fixture.ts', "import x from 'usb/dist/usb';\nexport const y = x;\n")).some((m) => m.includes('main/devices')));
  assert.deepEqual(await problems('test/unit/fixture.ts', "import { x } from '../../main/devices/usb/backend';\nexport const y = x;\n"), []);
  // the device layer is still no place for raw sockets
  assert.ok((await problems('main/devices/fixture.ts', "import { connect } from 'node:net';\nexport const c = connect;\n")).some((m) => m.startsWith('no-restricted-imports')));
});

test('only main/transport may import node:net / node:tls', async () => {
  const code = "import { connect } from 'node:net';\nexport const c = connect;\n";
  assert.ok((await problems('main/session/fixture.ts', code)).some((m) => m.startsWith('no-restricted-imports')));
  assert.ok((await problems('main/fixture.ts', "import { connect } from 'node:tls';\nexport const c = connect;\n")).some((m) => m.startsWith('no-restricted-imports')));
  assert.deepEqual(await problems('main/transport/fixture.ts', code), []);
  // Other node modules are fine in main/.
  assert.deepEqual(await problems('main/fixture.ts', "import { readFile } from 'node:fs/promises';\nexport const r = readFile;\n"), []);
});

test('the renderer may not import main/; main/spice may not import the renderer; the shared files neither', async () => {
  const cases: [string, string][] = [
    ['renderer/display/draw/fixture.ts', '../../../main/spice/protocol/enums'],
    ['renderer/ui/fixture.ts', '../../main/spice/wire/errors'],
    ['renderer/fixture.ts', '../main/config/hotkeys'],
    ['main/spice/channels/fixture.ts', '../../../renderer/display/surface'],
    ['preload/spice-enums.ts', '../main/spice/session'],
    ['preload/contract.ts', '../renderer/display/types'],
  ];
  for (const [path, mod] of cases) {
    const p = await problems(path, `import { x } from '${mod}';\nexport const y = x;\n`);
    assert.ok(p.some((m) => m.startsWith('no-restricted-imports')), `${path} → ${mod}: ${p.join('; ')}`);
  }
  // Both sides share through preload/.
  assert.deepEqual(await problems('renderer/display/draw/fixture.ts', "import { SpiceError } from '../../../preload/spice-errors';\nexport const y = SpiceError;\n"), []);
  assert.deepEqual(await problems('main/spice/channels/fixture.ts', "import { SpiceError } from '../../../preload/spice-errors';\nexport const y = SpiceError;\n"), []);
});

test('the shared files are pure: no platform modules, no DOM', async () => {
  for (const path of ['preload/spice-enums.ts', 'preload/spice-errors.ts', 'preload/codec.ts', 'preload/contract.ts']) {
    assert.ok((await problems(path, "import x from 'node:fs';\nexport const y = x;\n")).some((m) => m.startsWith('no-restricted-imports')), path);
    assert.equal((await problems(path, 'export const t = document.title;\n')).filter((m) => m.startsWith('no-restricted-globals')).length, 1, path);
  }
  // The preload script itself is Electron code.
  assert.deepEqual(await problems('preload/index.ts', "import { contextBridge } from 'electron';\nexport const c = contextBridge;\n"), []);
});

test('raw IPC (ipcMain, ipcRenderer, webContents.send) only in main/ipc/** and the preload wrappers', async () => {
  const raw = [
    "import { ipcMain } from 'electron';\nipcMain.on('x', () => {});\n",
    "import { ipcRenderer } from 'electron';\nexport const s = () => ipcRenderer.send('x');\n",
    "import * as electron from 'electron';\nelectron.ipcMain.handle('x', () => 1);\n",
    "export function f(win: { webContents: { send(c: string): void } }) {\n  win.webContents.send('x');\n}\n",
    "export function f(contents: { send(c: string): void }) {\n  contents.send('x');\n}\n",
  ];
  for (const path of ['main/electron.ts', 'main/app/fixture.ts', 'main/windows/fixture.ts', 'preload/fixture.ts']) {
    for (const code of raw) {
      const p = await problems(path, code);
      assert.ok(p.some((m) => m.startsWith('no-restricted-syntax') && m.includes('preload/requests.ts')), `${path}: ${code}: ${p.join('; ')}`);
    }
  }
  // The wrappers may.
  for (const path of ['main/ipc/fixture.ts', 'preload/index.ts', 'preload/api.ts']) {
    for (const code of raw) assert.deepEqual((await problems(path, code)).filter((m) => m.startsWith('no-restricted-syntax')), [], `${path}: ${code}`);
  }
  // Other Electron imports and unrelated send() calls are fine.
  assert.deepEqual(await problems('main/fixture.ts', "import { app } from 'electron';\nexport const a = app;\nexport function g(ws: { send(x: string): void }) {\n  ws.send('x');\n}\n"), []);
});

test('main/transport may not import config, app or ipc', async () => {
  for (const mod of ['../config/endpoint', '../app/settings', '../ipc/bridge-ipc']) {
    const p = await problems('main/transport/fixture.ts', `import { x } from '${mod}';\nexport const y = x;\n`);
    assert.ok(p.some((m) => m.startsWith('no-restricted-imports') && m.includes('main/transport')), `${mod}: ${p.join('; ')}`);
  }
  assert.deepEqual(await problems('main/transport/fixture.ts', "import type { Endpoint } from '../spice/transport';\nimport net from 'node:net';\nexport const y = (e: Endpoint) => net.connect(e.port);\n"), []);
});
