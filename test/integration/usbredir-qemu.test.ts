// usbredir against QEMU 7.2's own usb-redir over a TCP chardev (no SPICE): our
// host side offers the emulated CD-ROM with a real ISO; the guest kernel
// enumerates it (usb-storage + sr), reads the whole drive with dd (md5 equals
// the file's), mounts it, ejects it; re-sharing and unsharing are seen by the guest.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { QemuVm, freePort } from '../harness/qemu';
import type { UsbRedirHost } from '../../main/devices/usb/redir-host';
import { connectUsbRedir, usbRedirQemuArgs } from '../helpers/usbredir-tcp';
import { guestLines as guestLinesOf, makeTestIso, md5, pollUntil } from '../helpers/usb-guest';
import { EmulatedCdrom } from '../../main/devices/usb/emulated-cdrom';
import { openFileBlockSource } from '../../main/devices/usb/file-block-source';
import type { SpiceError } from '../../main/spice/wire/errors';
import type { BlockSource } from '../../main/devices/usb/backend';
import type { UsbRedirCapName, UsbRedirPacket } from '../../main/devices/usb/usbredir-proto';

let vm: QemuVm;
let port: number;
let sock: net.Socket;
let host: UsbRedirHost;
let cd: EmulatedCdrom;
let dir: string;
let iso: string;
let fileMd5: string;
const received: string[] = [];
const media: BlockSource[] = [];
const BLKMD5 = /^GUEST OK blkmd5 sr0 ([0-9a-f]{32}) (\d+)$/;
const errors: SpiceError[] = [];
let onPacket: ((p: UsbRedirPacket) => void) | null = null;

const guestLines = (cmd: string, re: RegExp) => guestLinesOf(vm, cmd, re);
const until = pollUntil;

const connect = (p: number, caps?: UsbRedirCapName[]) => connectUsbRedir(p, {
  packet: (pk) => { received.push(pk.msg.type); onPacket?.(pk); },
  error: (e) => errors.push(e),
}, caps);

before(async () => {
  const t = makeTestIso({ prefix: 'usbredir-', name: 'cd.iso', volume: 'SPICETEST', dataBytes: 1536 * 1024, hello: 'shared through usbredir\n' });
  ({ dir, iso } = t);
  fileMd5 = t.md5;

  port = await freePort();
  vm = await QemuVm.start({
    name: 'usbredir-tcp',
    extraArgs: usbRedirQemuArgs(port),
  });
  const c = await connect(port);
  sock = c.sock;
  host = c.host;
  media.push(await openFileBlockSource(iso));
  cd = new EmulatedCdrom(media[0], { index: 1 });
});

after(async () => {
  sock?.destroy();
  await vm?.stop();
  for (const m of media) await m.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('QEMU usb-redir: hellos exchanged with 64-bit ids, the guest enumerates the drive (usb-storage, sr0)', async () => {
  await host.attach(cd);
  assert.match(host.peerVersion ?? '', /^qemu usb-redir guest 7\.2/);
  assert.ok(host.caps.both('64bits_ids') && host.caps.both('32bits_bulk_length') && host.caps.both('ep_info_max_packet_size'));
  assert.equal(host.caps.headerSize, 16);

  const devs = await until('USB device with usb-storage bound', () => guestLines('usbdevs', /^GUEST USBDEV /),
    (l) => l.some((x) => /2b23:cdcd 'SPICE' 'Shared CD-ROM' serial='SPICECD0001' speed=480 drivers=usb-storage,/.test(x)));
  assert.equal(devs.filter((x) => /2b23:cdcd/.test(x)).length, 1);
  const log = await until('sr0 attached', () => guestLines('dmesg sr[0-9]|scsi|usb-storage', /^GUEST DMESG /),
    (l) => l.some((x) => /Attached scsi CD-ROM sr0/.test(x)));
  assert.ok(log.some((x) => /scsi 0:0:0:0: CD-ROM +SPICE +Shared CD-ROM +0.1/.test(x)), log.join('\n'));
  // what QEMU asked of us on the way: configuration, descriptors over control packets, BOT over bulk
  for (const t of ['hello', 'set_configuration', 'control_packet', 'bulk_packet']) assert.ok(received.includes(t), `no ${t} from QEMU`);
  assert.deepEqual(errors, []);
});

test('dd of the whole drive in the guest: byte count and md5 equal the ISO file\'s; a file on it reads back', async () => {
  const line = await vm.command('blkmd5 sr0', undefined, 120000);
  assert.deepEqual(BLKMD5.exec(line)?.slice(1), [fileMd5, String(fs.statSync(iso).size)], line);
  const f = await vm.command('isomd5 sr0 data.bin', undefined, 60000);
  assert.equal(f, `GUEST OK isomd5 sr0 data.bin ${md5(fs.readFileSync(path.join(dir, 'src', 'data.bin')))}`);
  assert.deepEqual(errors, []);
});

test('eject in the guest reaches the emulation; re-sharing the image is read again by the guest', async () => {
  let ejected = false;
  cd.scsi.onEject = () => { ejected = true; };
  await vm.command('eject sr0');
  assert.ok(ejected);
  assert.equal(cd.scsi.hasMedium, false);
  const gone = await vm.command('blkmd5 sr0', /^GUEST (OK|ERR) blkmd5/, 60000);
  assert.match(gone, /^GUEST ERR blkmd5 .*No medium/);
  const medium = await openFileBlockSource(iso);
  media.push(medium);
  cd.scsi.insert(medium);
  // the guest notices the new medium when it next opens the drive (media change event / unit attention)
  const again = await until('re-shared medium read', () => vm.command('blkmd5 sr0', /^GUEST (OK|ERR) blkmd5/, 120000),
    (l) => BLKMD5.test(l));
  assert.deepEqual(BLKMD5.exec(again)?.slice(1), [fileMd5, String(fs.statSync(iso).size)], again);
});

test('unshare: device_disconnect, the guest logs the USB disconnect and QEMU acknowledges', async () => {
  const acked = host.detach();
  await acked; // device_disconnect_ack from QEMU
  assert.ok(received.includes('device_disconnect_ack'));
  await until('USB disconnect in the guest', () => guestLines('dmesg USB disconnect', /^GUEST DMESG /), (l) => l.length > 0);
  const devs = await guestLines('usbdevs', /^GUEST USBDEV /);
  assert.ok(!devs.some((x) => /2b23:cdcd/.test(x)), devs.join('\n'));
  assert.deepEqual(errors, []);
});

test('unplug mid-read: the guest\'s read fails with an I/O error and a USB disconnect; the stream lives and a re-plugged drive reads exactly', async () => {
  const plug = async (index: number) => {
    const medium = await openFileBlockSource(iso);
    media.push(medium);
    const dev = new EmulatedCdrom(medium, { index });
    await host.attach(dev);
    await until('drive enumerated again', () => guestLines('usbdevs', /^GUEST USBDEV /),
      (l) => l.some((x) => new RegExp(`2b23:cdcd .*serial='SPICECD000${index}' .*drivers=usb-storage,`).test(x)));
    await until('sr0 back', () => vm.command('blkmd5 sr0', /^GUEST (OK|ERR) blkmd5/, 120000), (l) => BLKMD5.test(l));
    return dev;
  };
  const dev = await plug(2);
  const before = (await guestLines('dmesg USB disconnect', /^GUEST DMESG /)).length;
  // withdraw the device at the third READ data transfer of the whole-drive read
  // (the kernel's media polling sends small BOT commands all along: not counted)
  let reads = 0;
  let unplugged = false;
  onPacket = (p) => {
    if (p.msg.type === 'bulk_packet' && p.msg.endpoint === 0x81 && p.msg.length >= 16384 && ++reads === 3) { unplugged = true; dev.unplug(); }
  };
  const line = await vm.command('blkread sr0', /^GUEST (OK|ERR) blkread/, 120000);
  onPacket = null;
  assert.ok(unplugged, 'the read ended before the unplug');
  // the guest's read fails, or (capacity gone to 0 with the device) ends short of the drive
  const ok = /^GUEST OK blkread sr0 \S* (\d+) \d+ (\d+)\+(\d+)$/.exec(line);
  assert.ok(/^GUEST ERR blkread/.test(line) || (ok && Number(ok[2]) * 65536 < fs.statSync(iso).size), line);
  await until('second USB disconnect', () => guestLines('dmesg USB disconnect', /^GUEST DMESG /), (l) => l.length > before);
  // same channel, same stream: a new drive is enumerated and read exactly
  await plug(3);
  const again = await vm.command('blkmd5 sr0', undefined, 120000);
  assert.deepEqual(BLKMD5.exec(again)?.slice(1), [fileMd5, String(fs.statSync(iso).size)], again);
  assert.deepEqual(errors, []);
});

test('QEMU refuses a host without 64-bit ids / 32-bit bulk length on XHCI; a new connection with them works', async () => {
  sock.destroy();
  const weak = await connect(port, ['connect_device_version', 'filter', 'device_disconnect_ack', 'ep_info_max_packet_size']);
  const medium = await openFileBlockSource(iso);
  media.push(medium);
  await weak.host.attach(new EmulatedCdrom(medium, { index: 4 }));
  await until('QEMU refusal', async () => vm.serverLog(), (l) => /lacks capabilities needed for use with XHCI/.test(l), 30000);
  assert.ok(!(await guestLines('usbdevs', /^GUEST USBDEV /)).some((x) => /2b23:cdcd/.test(x)));
  weak.sock.destroy();
  const good = await connect(port);
  sock = good.sock;
  host = good.host;
  await host.attach(new EmulatedCdrom(medium, { index: 5 }));
  await until('drive enumerated over the new connection', () => guestLines('usbdevs', /^GUEST USBDEV /),
    (l) => l.some((x) => /2b23:cdcd .*serial='SPICECD0005' .*drivers=usb-storage,/.test(x)));
  assert.deepEqual(errors, []);
});
