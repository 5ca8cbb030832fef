// npm run bench:usb — guest-side read throughput (MB/s) of a shared CD image,
// in one VM on one xhci controller: our emulated CD-ROM (1) through SPICE
// (Session + UsbDeviceManager on a spicevmc usbredir channel, what
// --spice-share-cd does) and (2) through a TCP chardev to QEMU's usb-redir (no
// SPICE), and (3) the same ISO through QEMU's own usb-storage (the TCG
// ceiling), and (4) remote-viewer's --spice-share-cd on the same VM when
// virt-viewer and Xvfb are installed (the peer to beat). The guest times `dd`
// of the whole drive with its page cache dropped.
// Env: SIZE_MB (default 32), RUNS (default 3).
import crypto from 'node:crypto';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
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
  const measure = async (ours: string, only?: (vendor: string) => boolean): Promise<void> => {
    for (const dev of ['sr0', 'sr1', 'sr2', 'sr3', 'sr4']) {
      const line = await vm!.command(`blkread ${dev}`, /^GUEST (OK|ERR) blkread/, 600000);
      if (line.startsWith('GUEST ERR')) continue;
      const [, , , , vendor, bytes, ms] = line.split(' ');
      if (only && !only(vendor)) continue;
      const mbps = Number(bytes) / 1e6 / (Number(ms) / 1000);
      const name = vendor === 'SPICE' ? ours : vendor === 'QEMU' ? `QEMU usb-storage (${vendor})` : `${ours} (${vendor})`;
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
  session.disconnect();
  session = null;
  await remoteViewerRuns(iso);
  console.log(`guest dd of a ${fs.statSync(iso).size} byte ISO, ${RUNS} runs, QEMU TCG:`);
  for (const [name, xs] of results) {
    console.log(`  ${name.padEnd(52)} median ${median(xs).toFixed(1)} MB/s  (runs: ${xs.map((x) => x.toFixed(1)).join(', ')})`);
  }
  await medium.close();

  /** remote-viewer --spice-share-cd on its own X server: the guest reads its drive the same way. */
  async function remoteViewerRuns(isoPath: string): Promise<void> {
    const has = (bin: string) => { try { execFileSync('sh', ['-c', `command -v ${bin}`]); return true; } catch { return false; } };
    if (!has('remote-viewer') || !has('Xvfb')) {
      console.log('remote-viewer or Xvfb not installed: no remote-viewer figure');
      return;
    }
    const disp = `:${90 + (process.pid % 9)}`;
    const procs: ChildProcess[] = [];
    try {
      procs.push(spawn('Xvfb', [disp, '-screen', '0', '1024x768x24', '-nolisten', 'tcp'], { stdio: 'ignore' }));
      await sleep(500);
      const attached = async () => {
        const from = vm!.serialLines().length;
        await vm!.command('dmesg Attached scsi CD-ROM', undefined, 30000);
        return vm!.serialLines().slice(from).filter((l) => l.startsWith('GUEST DMESG')).length;
      };
      const before = await attached();
      // redirect-on-connect for the shared CD: remote-viewer attaches it when it connects
      procs.push(spawn('remote-viewer', [`--spice-share-cd=${isoPath}`, '--spice-usbredir-redirect-on-connect=-1,-1,-1,-1,1', `spice://127.0.0.1:${vm!.spicePort}`], { stdio: 'ignore', env: { ...process.env, DISPLAY: disp } }));
      const until = Date.now() + 90000;
      while ((await attached()) <= before) {
        if (Date.now() > until) throw new Error('remote-viewer\'s shared CD never reached the guest');
        await sleep(500);
      }
      for (let run = 0; run < RUNS; run++) await measure('remote-viewer --spice-share-cd', (v) => v !== 'QEMU' && v !== 'SPICE');
    } finally {
      for (const p of procs.reverse()) p.kill('SIGTERM');
    }
  }
} finally {
  session?.disconnect();
  sock?.destroy();
  await vm?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
