// --spice-share-cd end to end through SPICE: QEMU 7.2 with two usb-redir
// devices on spicevmc usbredir chardevs (qemu-xhci), our engine's Session with
// the USB device manager sharing a real ISO. The guest kernel enumerates the
// drive and reads the whole of it (dd md5 = the file's); a second drive takes
// the second channel and a third gets "the VM needs more usb-redir devices";
// unsharing is a USB disconnect in the guest and re-sharing works; malformed
// usbredir from the server (slipped into the first drive's channel's socket
// stream) fails that channel alone with a coded error while the drive on the
// other channel still reads exactly.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { QemuVm } from '../harness/qemu';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';
import { UsbDeviceManager, NO_FREE_CHANNEL, type UsbDeviceState } from '../../main/devices/usb/manager';
import { openFileBlockSource } from '../../main/devices/usb/file-block-source';
import { Channel as ChannelType, MsgSpicevmc } from '../../main/spice/protocol/enums';
import { SpiceError } from '../../main/spice/wire/errors';
import { injectingTransport } from '../helpers/inject-transport';
import { miniMsg } from '../helpers/spice-bytes';
import { guestLines as guestLinesOf, makeTestIso, md5, pollUntil } from '../helpers/usb-guest';

let vm: QemuVm;
let s: Session;
let mgr: UsbDeviceManager;
let dir: string;
let iso: string;
let fileMd5: string;
let isoSize: number;
let states: UsbDeviceState[] = [];
/** The channel the --spice-share-cd drive got; the other one is left for runtime shares. */
let firstChannel = '';
const otherChannel = () => (firstChannel === 'usbredir 0' ? 'usbredir 1' : 'usbredir 0');
const tap = injectingTransport(defaultTransportFactory);
const BLKMD5 = /^GUEST OK blkmd5 (sr\d+) ([0-9a-f]{32}) (\d+)$/;

const guestLines = (cmd: string, re: RegExp) => guestLinesOf(vm, cmd, re);
const until = <T>(what: string, query: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 90000) => pollUntil(what, query, ok, timeoutMs);

const usbdevs = () => guestLines('usbdevs', /^GUEST USBDEV /);
const drive = (serial: string) => (l: string[]) => l.some((x) => new RegExp(`2b23:cdcd 'SPICE' '.*' serial='${serial}' speed=480 drivers=usb-storage,`).test(x));
/** The sr device of the drive with this serial: its USB path → scsi host (usb-storage) → sr (the newest binding of each). */
async function srOf(serial: string): Promise<string> {
  const usbPath = (await usbdevs()).find((x) => x.includes(`serial='${serial}'`))?.split(' ')[2];
  assert.ok(usbPath, `no USB device with serial ${serial}`);
  const find = (lines: string[]): string | null => {
    const host = lines.map((l) => new RegExp(`scsi host(\\d+): usb-storage ${usbPath.replace('.', '\\.')}:`).exec(l)?.[1]).filter(Boolean).at(-1);
    if (host === undefined) return null;
    return lines.map((l) => new RegExp(`sr ${host}:0:0:0: Attached scsi CD-ROM (sr\\d+)`).exec(l)?.[1]).filter(Boolean).at(-1) ?? null;
  };
  const lines = await until(`sr device of ${serial}`, () => guestLines('dmesg usb-storage|Attached scsi CD-ROM', /^GUEST DMESG /), (l) => find(l) !== null);
  return find(lines)!;
}
const state = (label: string) => states.find((d) => d.label === label);

before(async () => {
  const t = makeTestIso({ prefix: 'usbredir-spice-', name: 'test.iso', volume: 'SPICETEST', dataBytes: 1536 * 1024, hello: 'shared through SPICE usbredir\n' });
  ({ dir, iso, md5: fileMd5, size: isoSize } = t);
  fs.copyFileSync(iso, path.join(dir, 'second.iso'));
  fs.copyFileSync(iso, path.join(dir, 'third.iso'));

  vm = await QemuVm.start({ name: 'usbredir-spice', usbRedirChannels: 2 });
  // what --spice-share-cd=test.iso gives the app (usbDevicesFor), with the state listener the picker uses
  mgr = new UsbDeviceManager({ shareCd: [iso], openImage: openFileBlockSource, onChange: (d) => { states = d; } });
  s = new Session({ endpoint: { host: '127.0.0.1', port: vm.spicePort }, transport: tap.factory, devices: [mgr] });
  await s.connect();
});

after(async () => {
  s?.disconnect();
  await vm?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('--spice-share-cd through SPICE: the guest enumerates the drive (usb-storage, sr) and dd of the whole drive equals the ISO', async () => {
  await until('drive redirected', () => state('test.iso')?.state, (st) => st === 'redirected');
  // channels link in parallel: the drive takes whichever usbredir channel came up first
  firstChannel = state('test.iso')!.channel!;
  assert.match(firstChannel, /^usbredir [01]$/);
  await until('drive with usb-storage bound in the guest', usbdevs, drive('SPICECD0001'));
  const log = await until('sr attached', () => guestLines('dmesg Attached scsi CD-ROM|CD-ROM +SPICE', /^GUEST DMESG /),
    (l) => l.some((x) => /Attached scsi CD-ROM sr0/.test(x)));
  assert.ok(log.some((x) => /CD-ROM +SPICE +Shared CD-ROM +0.1/.test(x)), log.join('\n'));
  const line = await vm.command('blkmd5 sr0', undefined, 300000);
  assert.deepEqual(BLKMD5.exec(line)?.slice(1), ['sr0', fileMd5, String(isoSize)], line);
  const f = await vm.command('isomd5 sr0 data.bin', undefined, 120000);
  assert.equal(f, `GUEST OK isomd5 sr0 data.bin ${md5(fs.readFileSync(path.join(dir, 'src', 'data.bin')))}`);
  assert.deepEqual(s.linkFailures, []);
});

test('a second drive takes the other usbredir channel; a third: CONFIG "the VM needs more usb-redir devices"', async () => {
  await mgr.shareCd(path.join(dir, 'second.iso'));
  assert.equal(state('second.iso')!.channel, otherChannel());
  await until('second drive in the guest', usbdevs, drive('SPICECD0002'));
  assert.equal(mgr.freeChannels, 0);
  await assert.rejects(mgr.shareCd(path.join(dir, 'third.iso')),
    (e: unknown) => e instanceof SpiceError && e.code === 'CONFIG' && e.message.includes(NO_FREE_CHANNEL) && /all 2 usbredir channels are in use/.test(e.message));
  assert.equal(state('third.iso')!.state, 'error');
  const devs = await usbdevs();
  assert.equal(devs.filter((x) => /2b23:cdcd/.test(x)).length, 2, devs.join('\n'));
});

test('unshare at runtime: the guest sees the USB disconnect; re-sharing puts a drive on the freed channel', async () => {
  const disconnectsBefore = (await guestLines('dmesg USB disconnect', /^GUEST DMESG /)).length;
  await mgr.unshareCd(state('second.iso')!.id); // resolves on QEMU's device_disconnect_ack
  assert.equal(state('second.iso'), undefined);
  assert.equal(mgr.freeChannels, 1);
  await until('USB disconnect in the guest', () => guestLines('dmesg USB disconnect', /^GUEST DMESG /), (l) => l.length === disconnectsBefore + 1);
  await until('second drive gone', usbdevs, (l) => !l.some((x) => x.includes("serial='SPICECD0002'")));

  await mgr.shareCd(path.join(dir, 'second.iso'));
  const again = state('second.iso')!;
  assert.deepEqual([again.state, again.channel], ['redirected', otherChannel()]);
  await until('re-shared drive in the guest', usbdevs, drive('SPICECD0004'));
});

test('malformed usbredir from the server: the first drive\'s channel fails alone with a coded error, the session and the drive on the other channel live', async () => {
  const link = tap.links.find((l) => l.type === ChannelType.USBREDIR && `usbredir ${l.id}` === firstChannel)!;
  const disconnectsBefore = (await guestLines('dmesg USB disconnect', /^GUEST DMESG /)).length;
  // a usbredir packet header (64-bit ids: 16 bytes) of no known type, with an absurd length
  const bad = new Uint8Array(16);
  new DataView(bad.buffer).setUint32(0, 0xdead, true);
  new DataView(bad.buffer).setUint32(4, 0x7fffffff, true);
  link.inject(miniMsg(MsgSpicevmc.DATA, bad));
  await until('the channel lost', () => s.linkFailures.length, (n) => n === 1, 10000);
  const lost = s.linkFailures[0];
  assert.equal(lost.name, firstChannel);
  assert.ok(['LIMIT', 'BAD_MESSAGE', 'UNKNOWN_MESSAGE'].includes(lost.error.code), `${lost.error.code}: ${lost.error.message}`);
  assert.equal(state('test.iso')!.state, 'error');
  assert.equal(state('test.iso')!.error!.code, lost.error.code);
  assert.equal(s.state, 'connected');
  // QEMU sees the channel close: the guest loses that drive only
  await until('USB disconnect of the first drive', () => guestLines('dmesg USB disconnect', /^GUEST DMESG /), (l) => l.length === disconnectsBefore + 1);
  const devs = await until('first drive gone', usbdevs, (l) => !l.some((x) => x.includes("serial='SPICECD0001'")));
  assert.ok(drive('SPICECD0004')(devs), devs.join('\n'));
  const sr = await srOf('SPICECD0004');
  const line = await vm.command(`blkmd5 ${sr}`, undefined, 300000);
  assert.deepEqual(BLKMD5.exec(line)?.slice(1), [sr, fileMd5, String(isoSize)], line);
  assert.equal(state('second.iso')!.state, 'redirected');
  assert.equal(s.linkFailures.length, 1);
});
