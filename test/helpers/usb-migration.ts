// The shared-CD migration scenario (test/integration/usbredir-migration.test.ts
// in stopped mode, test/soak/usbredir-live-migration.test.ts live): the guest
// reads the whole --spice-share-cd drive (dd | md5sum) pass after pass while
// the VM migrates ping-pong (a fresh -incoming QEMU each time) with our Session
// and USB manager attached, every migration in the middle of a pass. Every
// pass's md5 must equal the ISO's, the guest must log no USB disconnect, I/O
// error, reset or re-enumeration, and the drive must stay redirected on its channel.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startMigratableVm, startDestination, migrate, finishSource, serialAcross, guestCrash } from '../harness/migration';
import type { QemuVm } from '../harness/qemu';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';
import { UsbDeviceManager, type UsbDeviceState } from '../../main/devices/usb/manager';
import { openFileBlockSource } from '../../main/devices/usb/file-block-source';
import type { SpicevmcChannel } from '../../main/spice/channels/spicevmc-channel';
import { Channel as ChannelType } from '../../main/spice/protocol/enums';
import type { MigrationStatus } from '../../preload/contract';
import { makeTestIso, pollUntil } from './usb-guest';

const BLKMD5 = /^GUEST (OK|ERR) blkmd5\b/;

/** What a scenario started, for the test's after(). */
export interface ScenarioResources {
  vms: QemuVm[];
  session: Session | null;
  dir: string;
}

export async function cleanupScenario(r: ScenarioResources): Promise<void> {
  r.session?.disconnect();
  for (const vm of r.vms) await vm.stop();
  if (r.dir) fs.rmSync(r.dir, { recursive: true, force: true });
}

const until = <T>(what: string, query: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 120000) => pollUntil(what, query, ok, timeoutMs, 100);

/**
 * Runs the scenario; throws on the first failed check. `stopped`: the source is
 * stopped before each `migrate` (QEMU 7.2 TCG corrupts a guest reading a USB
 * disk during a live migration); a guest kernel oops is reported as such.
 */
export async function sharedCdAcrossMigrations(r: ScenarioResources, o: { migrations: number; stopped: boolean }): Promise<void> {
  const MIGRATIONS = o.migrations;
  const vms = r.vms;
  const t = makeTestIso({ prefix: 'usbredir-mig-', name: 'test.iso', volume: 'SPICEMIG', dataBytes: 24 * 1024 * 1024, hello: 'migrates\n' });
  r.dir = t.dir;
  const { iso, md5: isoMd5, size: isoSize } = t;

  let vm = await startMigratableVm({ warmUp: true, usbRedirChannels: 1, name: 'usbmig-a' });
  vms.push(vm);
  const chain = [vm];
  let states: UsbDeviceState[] = [];
  const statuses: MigrationStatus[] = [];
  const mgr = new UsbDeviceManager({ shareCd: [iso], openImage: openFileBlockSource, onChange: (d) => { states = d; } });
  const s = new Session({ endpoint: { host: '127.0.0.1', port: vm.spicePort }, transport: defaultTransportFactory, devices: [mgr], onMigration: (m) => statuses.push(m) });
  r.session = s;
  await s.connect();
  await until('drive redirected', () => states[0]?.state, (st) => st === 'redirected');
  const ch = s.channel(ChannelType.USBREDIR, 0) as SpicevmcChannel;
  const serialFrom = vm.serialLines().length;
  const replies = () => serialAcross(chain, serialFrom).filter((l) => BLKMD5.test(l));
  await until('sr0 in the guest', () => vm.command('dmesg Attached scsi CD-ROM sr0').then(() => vm.serialLines()),
    (l) => l.some((x) => /GUEST DMESG .*Attached scsi CD-ROM sr0/.test(x)));

  const passes: { line: string; ms: number; migratedMidPass: boolean }[] = [];
  for (let i = 0; i <= MIGRATIONS; i++) {
    // the destination boots before the pass starts, so the migration falls inside it
    const next = i < MIGRATIONS ? await startDestination(vm, { name: i % 2 ? 'usbmig-a' : 'usbmig-b' }) : null;
    if (next) vms.push(next);
    const before = replies().length;
    const out0 = ch.bytesOut;
    const t0 = Date.now();
    // the reply may come from the next VM of the chain: it is collected from the joined serial log
    void vm.command('blkmd5 sr0', BLKMD5, 600000).catch(() => { /* answered on the destination */ });
    let migratedMidPass = false;
    if (i < MIGRATIONS) {
      // migrate once the guest is reading the drive (device data flowing to it)
      await until(`pass ${i + 1} reading`, () => ch.bytesOut - out0, (n) => n >= 256 * 1024, 60000);
      const dst = next!;
      await migrate(vm, dst, { stopped: o.stopped, marginMs: 100 });
      chain.push(dst);
      await finishSource(vm);
      vm = dst;
      migratedMidPass = replies().length === before;
      assert.equal(guestCrash(vm), null, `guest kernel oops after ${o.stopped ? 'stopped' : 'live'} migration ${i + 1} (QEMU TCG guest corruption, apart from client failures)`);
    }
    await until(`pass ${i + 1} done`, () => replies().length, (n) => n > before, 600000);
    passes.push({ line: replies()[before], ms: Date.now() - t0, migratedMidPass });
  }
  console.log(`passes: ${passes.map((p) => `${p.ms} ms${p.migratedMidPass ? ' (migrated mid-pass)' : ''}`).join(', ')}; ISO ${isoSize} bytes`);
  console.log(`${statuses.length} migration statuses; usbredir ${ch.bytesIn} bytes in, ${ch.bytesOut} out, producer paused ${ch.flowStats.pauses} times`);

  for (const p of passes) assert.equal(p.line, `GUEST OK blkmd5 sr0 ${isoMd5} ${isoSize}`);
  assert.ok(passes.slice(0, MIGRATIONS).every((p) => p.migratedMidPass), 'every migration happened while a pass was reading');
  const from = vm.serialLines().length;
  await vm.command('dmesg USB disconnect|I/O error|reset high-speed|new high-speed');
  const kernel = vm.serialLines().slice(from).filter((l) => /^GUEST DMESG /.test(l));
  assert.ok(!kernel.some((l) => /USB disconnect|I\/O error/.test(l)), kernel.join('\n'));
  // enumerated once, never reset or re-enumerated
  assert.equal(kernel.filter((l) => /new high-speed USB device/.test(l)).length, 1, kernel.join('\n'));
  assert.ok(!kernel.some((l) => /reset high-speed/.test(l)), kernel.join('\n'));
  assert.deepEqual([states[0].state, states[0].channel], ['redirected', 'usbredir 0']);
  assert.deepEqual(s.linkFailures, []);
  assert.equal(s.state, 'connected');
}
