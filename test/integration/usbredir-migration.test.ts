// Zero loss for a shared CD across seamless migration (issue 10): the guest
// reads the whole --spice-share-cd drive pass after pass while the VM migrates
// ping-pong with our Session and USB manager attached, every migration in the
// middle of a pass; every md5 exact, no USB disconnect / I/O error / reset /
// re-enumeration in the guest (test/helpers/usb-migration.ts). Stopped mode:
// the source is stopped just before `migrate` and the destination continued
// after it, because QEMU 7.2 TCG corrupts a guest reading a USB disk during a
// live migration even with no client (the live variant is in npm run test:soak).
// MIGRATIONS=n changes the count (default 5).
import { test, after } from 'node:test';
import { cleanupScenario, sharedCdAcrossMigrations, type ScenarioResources } from '../helpers/usb-migration';

const MIGRATIONS = Number(process.env.MIGRATIONS ?? 5);
const r: ScenarioResources = { vms: [], session: null, dir: '' };
after(() => cleanupScenario(r));

test(`shared CD read in a loop across ${MIGRATIONS} seamless migrations (stopped mode): every pass exact, no USB disconnect`, async () => {
  await sharedCdAcrossMigrations(r, { migrations: MIGRATIONS, stopped: true });
});
