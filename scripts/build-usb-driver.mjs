// Bundles the guest-side USB driver (test/guest/usb-driver.ts: our NodeUsbBackend
// driven through the UsbBackend interface) into one CommonJS file for the
// usbgadget guest (GUEST_USB_GADGET=1 scripts/build-guest.sh), as scripts/build.mjs
// bundles the app. usb stays external: the guest has node_modules/usb beside it.
// usage: node scripts/build-usb-driver.mjs OUTFILE
import { build } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/build-usb-driver.mjs OUTFILE');
  process.exit(2);
}
await build({
  entryPoints: [join(root, 'test/guest/usb-driver.ts')],
  outfile: resolve(out),
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['usb'],
  logLevel: 'warning',
  legalComments: 'none',
});
