// ESLint flat config: light general rules plus the layering rules that keep
// the protocol engine and display pipeline free of platform APIs.
import tseslint from 'typescript-eslint';

const PLATFORM_MODULES = ['electron', 'electron/*', 'node:*', 'ws', 'usb', 'pcsclite'];
const NODE_NET = ['node:net', 'node:tls', 'net', 'tls'];
/** Native device packages: confined to the device layer (main/devices). */
// a regex, not gitignore globs: 'usb/*' would also match our own ../devices/usb/x
const NATIVE_DEVICE_MODULES = '^(usb|pcsclite)(/.*)?$';

/** Bare Node built-in names (without node:) are blocked too. */
const NODE_BARE = ['fs', 'fs/*', 'path', 'os', 'child_process', 'crypto', 'http', 'https', 'net', 'tls', 'dgram', 'url', 'worker_threads', 'stream', 'events', 'buffer', 'zlib', 'util'];

/**
 * Raw Electron IPC is confined to the wrappers over the request table
 * (preload/requests.ts): main/ipc/** and the preload (index.ts, api.ts).
 * Anywhere else a request would bypass the table's validation.
 */
const IPC_WRAPPERS = ['main/ipc/**', 'preload/index.ts', 'preload/api.ts'];
const IPC_MESSAGE = 'raw IPC only in main/ipc/** and preload/{index,api}.ts: add a request to preload/requests.ts instead';
const noRawIpc = [
  { selector: "ImportDeclaration[source.value=/^electron(\\/.*)?$/] ImportSpecifier[imported.name=/^(ipcMain|ipcRenderer)$/]", message: IPC_MESSAGE },
  { selector: 'MemberExpression[property.name=/^(ipcMain|ipcRenderer)$/]', message: IPC_MESSAGE },
  { selector: "CallExpression[callee.property.name=/^(send|sendToFrame|postMessage)$/][callee.object.property.name='webContents']", message: IPC_MESSAGE },
  { selector: "CallExpression[callee.property.name=/^(send|sendToFrame|postMessage)$/][callee.object.name=/^(webContents|contents|wc)$/]", message: IPC_MESSAGE },
];

const noPlatformImports = (...layers) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: [...PLATFORM_MODULES, ...NODE_BARE], message: 'platform modules are not allowed in this layer (see eslint.config.js)' }, ...layers] }],
});

// What main and the renderer both use (types, SPICE constants, SpiceError, the
// frame codec) lives in these pure files; neither side imports the other.
const SHARED = ['preload/contract.ts', 'preload/codec.ts', 'preload/spice-enums.ts', 'preload/spice-errors.ts', 'preload/requests.ts', 'preload/hotkey-keys.ts', 'preload/status-text.ts'];
const NO_MAIN = { group: ['**/main/**'], message: 'the renderer may not import main/: share it through preload/ (see SHARED in eslint.config.js)' };
const NO_RENDERER = { group: ['**/renderer/**'], message: 'main may not import the renderer: share it through preload/ (see SHARED in eslint.config.js)' };
const NO_DOM = [
  'error',
  { name: 'document', message: 'no DOM in the engine/display layers' },
  { name: 'window', message: 'no DOM in the engine/display layers' },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '**/*.d.ts', 'test/vectors/**'] },
  ...tseslint.configs.recommended,
  // Native device packages only in main/devices (a rule of its own name, so it
  // and the layer blocks' no-restricted-imports settings never replace each other).
  {
    files: ['**/*.ts'],
    ignores: ['main/devices/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ regex: NATIVE_DEVICE_MODULES, message: 'native device packages (usb, pcsclite) may be imported only under main/devices/**' }] }],
    },
  },
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-empty-function': 'off',
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-require-imports': 'off',
      'no-constant-condition': 'off',
      'no-empty': ['error', { allowEmptyCatch: true }],
      'prefer-const': 'warn',
    },
  },
  // Everything outside main/transport: no raw sockets.
  {
    files: ['**/*.ts'],
    ignores: ['main/transport/**', 'test/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: NODE_NET, message: 'only main/transport/** may open sockets' }] }],
    },
  },
  // Transports get their types from the engine seam (main/spice/transport.ts),
  // never from config, the app or IPC: a transport is dialled, not configured.
  {
    files: ['main/transport/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/config', '**/config/**', '**/app', '**/app/**', '**/ipc', '**/ipc/**'], message: 'main/transport may not import config, app or ipc: take what a dial needs from main/spice/transport.ts' }] }],
    },
  },
  // Raw IPC only in the wrappers.
  {
    files: ['**/*.ts'],
    ignores: [...IPC_WRAPPERS, 'test/**'],
    rules: { 'no-restricted-syntax': ['error', ...noRawIpc] },
  },
  // Renderer: browser code, no Electron or Node.
  {
    files: ['renderer/**/*.ts'],
    rules: noPlatformImports(NO_MAIN),
  },
  // Protocol engine, display pipeline and the shared files: pure TypeScript, no platform, no DOM.
  { files: ['main/spice/**/*.ts'], rules: { ...noPlatformImports(NO_RENDERER), 'no-restricted-globals': NO_DOM } },
  { files: ['renderer/display/**/*.ts'], rules: { ...noPlatformImports(NO_MAIN), 'no-restricted-globals': NO_DOM } },
  { files: SHARED, rules: { ...noPlatformImports(NO_MAIN, NO_RENDERER), 'no-restricted-globals': NO_DOM } },
);
