// The request table (preload/requests.ts): its validators, and that the
// Electron preload, the web page's bridge and both hosts expose and carry
// exactly its requests — each sample request goes page → host → engine
// through the real wrappers (Electron's ipcMain/ipcRenderer replaced by an
// in-process pair, the web host over a real WebSocket).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import type { HostEngine, ViewerEvents } from '../../preload/contract';
import { BadRequestError, REQUEST_NAMES, VIEWER_REQUESTS, dispatchRequest, requestClient, validInputEvent, type RequestArgs, type RequestName } from '../../preload/requests';
import { createPreloadApi } from '../../preload/api';
import { attachBridgeIpc } from '../../main/ipc/bridge-ipc';
import { IPC_REQUEST } from '../../main/ipc/channels';
import { APP_URL, permissionAllowed } from '../../main/windows/app-window';
import { startWebHost } from '../../main/web-host';
import { openWsBridge } from '../../renderer/bridge/ws-bridge';

/** One valid call per request (a new request without a sample does not compile). */
const SAMPLES: { [K in RequestName]: RequestArgs<K> } = {
  connect: ['spice://127.0.0.1:5999', 'pw'],
  disconnect: [],
  input: [[{ t: 'key', scancode: 0x153, down: true }, { t: 'mousePosition', x: 10, y: 20, buttons: 1, displayId: 0 }, { t: 'releaseAllKeys' }]],
  recordData: [new Uint8Array([1, 0, 2, 0])],
  setProxyCredentials: ['user', 'secret'],
  sendScancodes: [[0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5]],
  saveScreenshot: [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])],
  setDeviceShared: ['usb', 'emulated:cd1', false],
  openVv: [new TextEncoder().encode('[virt-viewer]\ntype=spice\nhost=127.0.0.1\nport=5999\n')],
  clipboardContent: [0, [{ kind: 'text', data: new TextEncoder().encode('copied') }, { kind: 'png', data: Uint8Array.from([0x89, 0x50]) }]],
  setClipboardPolicy: ['to-guest'],
  resizeGuest: [1280, 800, 1],
  setSmartcardInserted: [false],
  setDisplayShown: [1, false],
  setPreferences: [{ autoResize: false, displayWindows: true, zoom: 125 }],
  setSharedFolder: [{ dir: '/home/me/Public', readOnly: true, shared: true }],
  chooseSharedFolder: [],
  fileXferStart: [1, 'report.pdf', 20 << 20],
  fileXferData: [1, 65536, new Uint8Array(65536)],
  fileXferCancel: [1],
  videoCodecs: [[2, 4, 3]],
};

type Call = [string, unknown[]];

/** An engine that records the requests it gets (the hosts' only dependency here). */
function recordingEngine(calls: Call[]): HostEngine {
  const api: Record<string, unknown> = {};
  for (const n of REQUEST_NAMES) api[n] = (...a: unknown[]) => calls.push([n, a]);
  api.on = <K extends keyof ViewerEvents>(event: K, cb: (p: ViewerEvents[K], b: number) => void) => {
    if (event === 'status') (cb as (p: ViewerEvents['status'], b: number) => void)({ state: 'idle', message: '' }, 0);
    return () => {};
  };
  api.displayAck = () => {};
  return api as unknown as HostEngine;
}

const waitFor = async (cond: () => boolean, what: string, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

test('validators: typed arguments back, BadRequestError for anything else', () => {
  for (const n of REQUEST_NAMES) assert.deepEqual(VIEWER_REQUESTS[n](SAMPLES[n] as unknown[]), SAMPLES[n], n);
  assert.deepEqual(VIEWER_REQUESTS.connect(['spice://h:1']), ['spice://h:1'], 'no password: no second argument');
  const bad: [RequestName, unknown[]][] = [
    ['connect', []],
    ['connect', [42]],
    ['connect', ['x'.repeat(5000)]],
    ['connect', ['spice://h:1', 7]],
    ['setDeviceShared', ['floppy', 'x', true]],
    ['setSharedFolder', ['/tmp']],
    ['setSharedFolder', [{ dir: 42 }]],
    ['setSharedFolder', [{ dir: '/'.repeat(4097) }]],
    ['setSharedFolder', [{ readOnly: 'yes' }]],
    ['setSharedFolder', [{ path: '/tmp' }]],
    ['setDeviceShared', ['usb', 'x'.repeat(600), true]],
    ['setDeviceShared', ['smartcard', 'Reader 00', 'yes']],
    ['input', ['not a list']],
    ['input', [new Array(5000).fill({ t: 'releaseAllKeys' })]],
    ['input', [[{ t: 'key', scancode: 30 }]]],
    ['input', [[{ t: 'key', scancode: 0x200, down: true }]]],
    ['input', [[{ t: 'key', scancode: 1.5, down: true }]]],
    ['input', [[{ t: 'mousePosition', x: -1, y: 0, buttons: 0, displayId: 0 }]]],
    ['input', [[{ t: 'mousePosition', x: 0, y: 2 ** 32, buttons: 0, displayId: 0 }]]],
    ['input', [[{ t: 'mousePosition', x: 0, y: 0, buttons: 0, displayId: 256 }]]],
    ['input', [[{ t: 'mouseMotion', dx: Infinity, dy: 0, buttons: 0 }]]],
    ['input', [[{ t: 'mouseButton', button: 1, down: 'yes', buttons: 0 }]]],
    ['input', [[{ t: 'modifiers', flags: 0x10000 }]]],
    ['input', [[{ t: 'exec', cmd: 'rm' }]]],
    ['input', [[null]]],
    ['setProxyCredentials', ['u']],
    ['setProxyCredentials', ['u', 'p'.repeat(2000)]],
    ['sendScancodes', [[]]],
    ['sendScancodes', [[0x100]]],
    ['sendScancodes', [[-1]]],
    ['sendScancodes', [new Array(257).fill(0x1d)]],
    ['sendScancodes', ['\x1d']],
    ['saveScreenshot', [Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9])]],
    ['saveScreenshot', [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]]],
    ['saveScreenshot', ['not bytes']],
    ['openVv', ['[virt-viewer]']],
    ['clipboardContent', [2, []]],
    ['clipboardContent', [0, [{ kind: 'html', data: new Uint8Array(1) }]]],
    ['clipboardContent', [0, [{ kind: 'text', data: 'a string' }]]],
    ['clipboardContent', [0, [{ kind: 'text', data: new Uint8Array(1) }, { kind: 'text', data: new Uint8Array(1) }]]],
    ['clipboardContent', [0, [{ kind: 'text', data: new Uint8Array((64 << 20) + 1) }]]],
    ['setClipboardPolicy', ['sometimes']],
    ['resizeGuest', [100, 800, 0]],
    ['resizeGuest', [1280, 20000, 0]],
    ['resizeGuest', [1280.5, 800, 0]],
    ['resizeGuest', [1280, 800]],
    ['resizeGuest', [1280, 800, 16]],
    ['setSmartcardInserted', ['yes']],
    ['setDisplayShown', [0, false]],
    ['setDisplayShown', [16, true]],
    ['setPreferences', [{ zoom: 1000 }]],
    ['setPreferences', [{ autoResize: 'no' }]],
    ['setPreferences', [{ password: 'x' }]],
    ['setPreferences', [null]],
    ['fileXferStart', [0, 'a', 1]],
    ['fileXferStart', [1, 'a'.repeat(2000), 1]],
    ['fileXferStart', [1, 'a', -1]],
    ['fileXferData', [1, 0, new Uint8Array((1 << 20) + 1)]],
    ['fileXferData', [1, -5, new Uint8Array(1)]],
    ['fileXferCancel', ['1']],
    ['openVv', [new Uint8Array((1 << 20) + 1)]],
  ];
  const shown = (a: unknown[]) => JSON.stringify(a, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v)).slice(0, 80);
  for (const [n, a] of bad) assert.throws(() => VIEWER_REQUESTS[n](a), BadRequestError, `${n} ${shown(a)}`);
  // extra properties do not travel on
  assert.deepEqual(validInputEvent({ t: 'key', scancode: 30, down: false, evil: { deep: 1 } }), { t: 'key', scancode: 30, down: false });
  // unknown names and non-list arguments
  const calls: Call[] = [];
  const engine = recordingEngine(calls);
  for (const [name, args] of [['proxyCredentials', ['u', 'p']], ['on', []], ['__proto__', []], ['constructor', []], ['connect', 'spice://h:1']] as const) {
    assert.throws(() => dispatchRequest(engine, name, args), BadRequestError, String(name));
  }
  assert.deepEqual(calls, []);
});

test('the Electron preload, the web bridge and the table expose the same requests', () => {
  const table = [...REQUEST_NAMES].sort();
  assert.deepEqual(table, ['chooseSharedFolder', 'clipboardContent', 'connect', 'disconnect', 'fileXferCancel', 'fileXferData', 'fileXferStart', 'input', 'openVv', 'recordData', 'resizeGuest', 'saveScreenshot', 'sendScancodes', 'setClipboardPolicy', 'setDeviceShared', 'setDisplayShown', 'setPreferences', 'setProxyCredentials', 'setSharedFolder', 'setSmartcardInserted', 'videoCodecs']);
  const fakeIpc = { invoke: async () => undefined, on: () => {}, removeListener: () => {} };
  assert.deepEqual(Object.keys(createPreloadApi(fakeIpc)).sort(), [...table, 'on'].sort(), 'preload');
  assert.deepEqual(Object.keys(requestClient(() => {})).sort(), table, 'requestClient');
});

test('Electron: every request goes preload → ipcMain.handle → engine; bad ones and foreign frames are refused', async () => {
  const calls: Call[] = [];
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => unknown>();
  const ipcMain = {
    handle: (ch: string, h: (event: unknown, ...args: unknown[]) => unknown) => {
      assert.ok(!handlers.has(ch), 'one handler per channel');
      handlers.set(ch, h);
    },
    removeHandler: (ch: string) => handlers.delete(ch),
  };
  const mainFrame = { url: APP_URL };
  const contents = { mainFrame, isDestroyed: () => false, send: () => {} };
  const win = { webContents: contents };
  const detach = attachBridgeIpc(ipcMain as never, win, recordingEngine(calls));
  let frame: { url: string } = mainFrame;
  // ipcRenderer.invoke → the registered handle, as Electron does (rejections carry the thrown error)
  const ipcRenderer = {
    invoke: async (ch: string, ...args: unknown[]) => handlers.get(ch)!({ sender: contents, senderFrame: frame }, ...args),
    on: () => {},
    removeListener: () => {},
  };
  const refused: string[] = [];
  const api = createPreloadApi(ipcRenderer, (m) => refused.push(m));
  for (const n of REQUEST_NAMES) (api[n] as (...a: unknown[]) => void)(...SAMPLES[n]);
  await waitFor(() => calls.length === REQUEST_NAMES.length, 'all requests');
  assert.deepEqual(calls, REQUEST_NAMES.map((n) => [n, SAMPLES[n]]));
  assert.deepEqual(refused, []);

  // a page bypassing the preload's checks (raw invoke) is refused by main's validator
  await assert.rejects(ipcRenderer.invoke(IPC_REQUEST, 'input', [[{ t: 'key', scancode: -1, down: true }]]), BadRequestError);
  await assert.rejects(ipcRenderer.invoke(IPC_REQUEST, 'shutdown', []), BadRequestError);
  // another frame (a subframe or a navigated-away page) may not ask at all
  frame = { url: 'https://example.invalid/' };
  await assert.rejects(ipcRenderer.invoke(IPC_REQUEST, 'disconnect', []), /not the viewer page/);
  frame = { url: APP_URL }; // same URL, not the main frame
  await assert.rejects(ipcRenderer.invoke(IPC_REQUEST, 'disconnect', []), /not the viewer page/);
  assert.equal(calls.length, REQUEST_NAMES.length);
  detach();
  assert.equal(handlers.size, 0);
});

test('Electron permissions: pointer lock, full screen and keyboard lock for the app origin only (request and check handlers)', () => {
  assert.equal(permissionAllowed('pointerLock', 'app://viewer'), true);
  assert.equal(permissionAllowed('fullscreen', APP_URL), true);
  assert.equal(permissionAllowed('keyboardLock', APP_URL), true);
  assert.equal(permissionAllowed('keyboardLock', 'https://example.com'), false);
  for (const p of ['media', 'geolocation', 'notifications', 'clipboard-read', 'hid', 'usb', 'serial']) assert.equal(permissionAllowed(p, 'app://viewer'), false, p);
  assert.equal(permissionAllowed('pointerLock', 'https://example.invalid'), false);
  assert.equal(permissionAllowed('pointerLock', undefined), false);
});

test('web host: every request goes page bridge → WebSocket → engine; a bad one closes the page', async () => {
  const calls: Call[] = [];
  const host = await startWebHost({ engine: () => recordingEngine(calls) });
  const g = globalThis as unknown as { WebSocket?: unknown };
  const had = g.WebSocket;
  g.WebSocket = WebSocket; // the page's WebSocket, in Node
  try {
    const u = new URL(host.url);
    const bridge = openWsBridge({ protocol: u.protocol, host: u.host, search: u.search });
    for (const n of REQUEST_NAMES) (bridge.api[n] as (...a: unknown[]) => void)(...SAMPLES[n]);
    await waitFor(() => calls.length === REQUEST_NAMES.length, 'all requests');
    assert.deepEqual(calls, REQUEST_NAMES.map((n) => [n, SAMPLES[n]]));
    assert.deepEqual(Object.keys(bridge.api).sort(), [...REQUEST_NAMES, 'on'].sort());

    // a request the table refuses: the host drops the page with 1008
    const closed = new Promise<string>((ok) => bridge.onClose(ok));
    const { encodeFrame } = await import('../../preload/codec');
    const raw = new WebSocket(`ws://${u.host}/bridge?token=${host.token}`);
    await new Promise((ok) => raw.once('open', ok));
    const rawClosed = new Promise<[number, string]>((ok) => raw.once('close', (code, reason) => ok([code, reason.toString()])));
    raw.send(encodeFrame({ kind: 'request', name: 'input', args: [[{ t: 'key', scancode: 'x', down: true }]] }));
    assert.deepEqual(await rawClosed, [1008, 'bad input request']);
    assert.equal(calls.length, REQUEST_NAMES.length, 'nothing reached the engine');
    await host.close();
    assert.match(await closed, /\S/);
  } finally {
    g.WebSocket = had;
    await host.close();
  }
});

test('recordData takes bytes only, bounded', () => {
  const pcm = new Uint8Array([1, 0, 2, 0]);
  assert.deepEqual(VIEWER_REQUESTS.recordData([pcm]), [pcm]);
  assert.throws(() => VIEWER_REQUESTS.recordData([[1, 0]]), BadRequestError);
  assert.throws(() => VIEWER_REQUESTS.recordData([new Uint8Array(256 * 1024 + 1)]), BadRequestError);
});
