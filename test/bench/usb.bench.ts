// npm run bench:usb — guest-side read throughput (MB/s) of a shared CD image,
// in one VM on one xhci controller: our emulated CD-ROM (1) through SPICE
// (Session + UsbDeviceManager on a spicevmc usbredir channel, what
// --spice-share-cd does) and (2) through a TCP chardev to QEMU's usb-redir (no
// SPICE), and (3) the same ISO through QEMU's own usb-storage (the TCG
// ceiling). The guest times `dd` of the whole drive with its page cache dropped.
// Env: SIZE_MB (default 32), RUNS (default 3).
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { QemuVm, freePort } from '../harness/qemu';
import { connectUsbRedir, usbRedirQemuArgs } from '../helpers/usbredir-tcp';
import { EmulatedCdrom } from '../../main/devices/usb/emulated-cdrom';
import { openFileBlockSource } from '../../main/devices/usb/file-block-source';
import { UsbDeviceManager, type UsbDeviceState } from '../../main/devices/usb/manager';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';

const SIZE_MB = Number(process.env.SIZE_MB ?? 32);
const RUNS = Number(process.env.RUNS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'usb-bench-'));
let vm: QemuVm | null = null;
let sock: net.Socket | null = null;
let session: Session | null = null;
try {
  fs.mkdirSync(path.join(dir, 'src'));
  fs.writeFileSync(path.join(dir, 'src', 'data.bin'), crypto.randomBytes(SIZE_MB * 1024 * 1024));
  const iso = path.join(dir, 'cd.iso');
  execFileSync('genisoimage', ['-quiet', '-r', '-V', 'BENCH', '-o', iso, path.join(dir, 'src')]);
  const port = await freePort();
  vm = await QemuVm.start({
    name: 'usb-bench',
    extraArgs: [
      ...usbRedirQemuArgs(port),
      '-drive', `if=none,id=qcd,file=${iso},format=raw,media=cdrom,readonly=on`,
      '-device', 'usb-storage,drive=qcd,bus=xhci.0',
      '-chardev', 'spicevmc,name=usbredir,id=usbredirspice', '-device', 'usb-redir,chardev=usbredirspice,id=usbredirdev2,bus=xhci.0',
    ],
  });
  const c = await connectUsbRedir(port, { error: (e) => { throw e; } });
  sock = c.sock;
  const host = c.host;
  const medium = await openFileBlockSource(iso);
  await host.attach(new EmulatedCdrom(medium, { index: 1 }));

  // both drives attached (the guest's kernel log is polled: it is not pushed to us)
  const end = Date.now() + 90000;
  for (;;) {
    const from = vm.serialLines().length;
    await vm.command('dmesg Attached scsi CD-ROM', undefined, 30000);
    if (vm.serialLines().slice(from).filter((l) => l.startsWith('GUEST DMESG')).length >= 2) break;
    if (Date.now() > end) throw new Error('the guest did not attach both CD drives');
    await sleep(500);
  }
  const results = new Map<string, number[]>();
  /** blkread of every CD drive present; the SPICE-vendor one is named `ours`. */
  const measure = async (ours: string): Promise<void> => {
    for (const dev of ['sr0', 'sr1', 'sr2']) {
      const line = await vm!.command(`blkread ${dev}`, /^GUEST (OK|ERR) blkread/, 600000);
      if (line.startsWith('GUEST ERR')) continue;
      const [, , , , vendor, bytes, ms] = line.split(' ');
      const mbps = Number(bytes) / 1e6 / (Number(ms) / 1000);
      const name = vendor === 'SPICE' ? ours : `QEMU usb-storage (${vendor})`;
      if (!results.has(name)) results.set(name, []);
      results.get(name)!.push(mbps);
    }
  };
  for (let run = 0; run < RUNS; run++) await measure('emulated CD over usbredir (TCP chardev)');
  // the same drive through SPICE instead: the TCP one unplugged, --spice-share-cd's path plugged
  await host.detach();
  let states: UsbDeviceState[] = [];
  const mgr = new UsbDeviceManager({ shareCd: [iso], openImage: openFileBlockSource, onChange: (d) => { states = d; } });
  session = new Session({ endpoint: { host: '127.0.0.1', port: vm.spicePort }, transport: defaultTransportFactory, devices: [mgr] });
  await session.connect();
  const until = Date.now() + 90000;
  for (;;) {
    const from = vm.serialLines().length;
    await vm.command('dmesg Attached scsi CD-ROM', undefined, 30000);
    if (states[0]?.state === 'redirected' && vm.serialLines().slice(from).filter((l) => l.startsWith('GUEST DMESG')).length >= 3) break;
    if (Date.now() > until) throw new Error('the guest did not attach the drive shared through SPICE');
    await sleep(500);
  }
  for (let run = 0; run < RUNS; run++) await measure('emulated CD over SPICE usbredir (--spice-share-cd)');
  console.log(`guest dd of a ${fs.statSync(iso).size} byte ISO, ${RUNS} runs, QEMU TCG:`);
  for (const [name, xs] of results) {
    console.log(`  ${name.padEnd(52)} median ${median(xs).toFixed(1)} MB/s  (runs: ${xs.map((x) => x.toFixed(1)).join(', ')})`);
  }
  await medium.close();
} finally {
  session?.disconnect();
  sock?.destroy();
  await vm?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
