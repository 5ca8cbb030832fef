// Soak: the shared-CD migration scenario (test/helpers/usb-migration.ts) with
// *live* seamless migrations. Under QEMU 7.2 TCG a guest reading a USB disk
// during a live migration can corrupt its kernel (list_add corruption in page
// cache code, with QEMU's own usb-storage and no client too): such a run fails
// naming the guest oops, apart from client failures. MIGRATIONS=n (default 5).
import { test, after } from 'node:test';
import { cleanupScenario, sharedCdAcrossMigrations, type ScenarioResources } from '../helpers/usb-migration';

const MIGRATIONS = Number(process.env.MIGRATIONS ?? 5);
const r: ScenarioResources = { vms: [], session: null, dir: '' };
after(() => cleanupScenario(r));

test(`shared CD read in a loop across ${MIGRATIONS} live seamless migrations`, async () => {
  await sharedCdAcrossMigrations(r, { migrations: MIGRATIONS, stopped: false });
});
