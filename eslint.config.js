// ESLint flat config: light general rules plus the layering rules that keep
// the protocol engine and display pipeline free of platform APIs.
import tseslint from 'typescript-eslint';

const PLATFORM_MODULES = ['electron', 'electron/*', 'node:*', 'ws', 'usb', 'pcsclite'];
const NODE_NET = ['node:net', 'node:tls', 'net', 'tls'];
/** Native device packages: confined to the device layer (main/devices). */
const NATIVE_DEVICE_MODULES = ['usb', 'usb/*', 'pcsclite', 'pcsclite/*'];

/** Bare Node built-in names (without node:) are blocked too. */
const NODE_BARE = ['fs', 'fs/*', 'path', 'os', 'child_process', 'crypto', 'http', 'https', 'net', 'tls', 'dgram', 'url', 'worker_threads', 'stream', 'events', 'buffer', 'zlib', 'util'];

const noPlatformImports = (extra = []) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: [...PLATFORM_MODULES, ...NODE_BARE, ...extra], message: 'platform modules are not allowed in this layer (see eslint.config.js)' }] }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '**/*.d.ts', 'test/vectors/**'] },
  ...tseslint.configs.recommended,
  // Native device packages only in main/devices (a rule of its own name, so it
  // and the layer blocks' no-restricted-imports settings never replace each other).
  {
    files: ['**/*.ts'],
    ignores: ['main/devices/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: NATIVE_DEVICE_MODULES, message: 'native device packages (usb, pcsclite) may be imported only under main/devices/**' }] }],
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
  // Renderer: browser code, no Electron or Node.
  {
    files: ['renderer/**/*.ts'],
    rules: noPlatformImports(),
  },
  // Protocol engine and display pipeline: pure TypeScript, no platform, no DOM.
  {
    files: ['main/spice/**/*.ts', 'renderer/display/**/*.ts'],
    rules: {
      ...noPlatformImports(),
      'no-restricted-globals': [
        'error',
        { name: 'document', message: 'no DOM in the engine/display layers' },
        { name: 'window', message: 'no DOM in the engine/display layers' },
      ],
    },
  },
);
