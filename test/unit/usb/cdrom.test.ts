// Emulated CD-ROM (USB mass storage BOT + SCSI/MMC): every command driven by a
// hand-built CBW through the same bulk/control calls the usbredir host makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmulatedCdrom } from '../../../main/devices/usb/emulated-cdrom';
import { openFileBlockSource } from '../../../main/devices/usb/file-block-source';
import type { BlockSource } from '../../../main/devices/usb/backend';
import { concat, hex } from '../../helpers/spice-bytes';

const BLOCKS = 40;
const image = Uint8Array.from({ length: BLOCKS * 2048 }, (_, i) => (i * 31 + (i >> 11)) & 0xff);
function memSource(bytes = image, failAt = -1): BlockSource {
  return {
    size: bytes.length,
    read: async (o, n) => {
      if (failAt >= 0 && o <= failAt && failAt < o + n) throw new Error('EIO');
      return bytes.slice(o, o + n);
    },
    close: async () => {},
  };
}

/** CBW as usbmassbulk_10 5.1 lays it out: 'USBC', tag, length, flags, LUN, CB length, 16 CB bytes. */
function cbw(tag: number, length: number, dirIn: boolean, cdb: number[], lun = 0): Uint8Array {
  const b = Buffer.alloc(31);
  b.write('USBC', 0, 'latin1');
  b.writeUInt32LE(tag, 4);
  b.writeUInt32LE(length, 8);
  b[12] = dirIn ? 0x80 : 0;
  b[13] = lun;
  b[14] = cdb.length;
  Buffer.from(cdb).copy(b, 15);
  return new Uint8Array(b);
}
function parseCsw(b: Uint8Array): { tag: number; residue: number; status: number } {
  assert.equal(b.length, 13);
  const v = Buffer.from(b);
  assert.equal(v.toString('latin1', 0, 4), 'USBS');
  return { tag: v.readUInt32LE(4), residue: v.readUInt32LE(8), status: v[12] };
}

let nextId = 1n;
/** One SCSI command: CBW out, data in (in `pieces` requests), CSW in. */
async function cmd(dev: EmulatedCdrom, cdb: number[], length = 0, opts: { pieces?: number[]; out?: Uint8Array; lun?: number } = {}) {
  const tag = 0x1000 + Number(nextId);
  const dirIn = !opts.out;
  const r1 = await dev.bulk(nextId++, 0x02, 31, cbw(tag, length, dirIn, cdb, opts.lun));
  assert.equal(r1.status, 'success');
  let data = new Uint8Array(0);
  if (opts.out) {
    const r = await dev.bulk(nextId++, 0x02, opts.out.length, opts.out);
    assert.equal(r.status, 'success');
  } else if (length) {
    for (const n of opts.pieces ?? [length]) {
      const r = await dev.bulk(nextId++, 0x81, n, new Uint8Array(0));
      assert.equal(r.status, 'success');
      data = Uint8Array.from([...data, ...r.data]);
      if (r.data.length < n) break;
    }
  }
  const c = await dev.bulk(nextId++, 0x81, 13, new Uint8Array(0));
  const csw = parseCsw(c.data);
  assert.equal(csw.tag, tag);
  return { data, ...csw };
}
async function sense(dev: EmulatedCdrom): Promise<string> {
  const r = await cmd(dev, [0x03, 0, 0, 0, 18, 0], 18);
  assert.equal(r.status, 0);
  return [r.data[2], r.data[12], r.data[13]].map((x) => x.toString(16).padStart(2, '0')).join('/');
}
const control = (dev: EmulatedCdrom, requestType: number, request: number, value: number, index: number, length: number) =>
  dev.control(nextId++, { requestType, request, value, index, length }, new Uint8Array(0));
const newDev = (m: BlockSource | null = memSource()) => new EmulatedCdrom(m, { index: 1 });

test('descriptors: device, configuration (mass storage / SCSI / BOT, bulk 0x81 + 0x02), strings, qualifier', async () => {
  const dev = newDev();
  const d = await control(dev, 0x80, 6, 0x0100, 0, 64);
  assert.equal(hex(d.data), '120100020000004023' + '2bcdcd000101020301');
  const c = await control(dev, 0x80, 6, 0x0200, 0, 255);
  assert.equal(hex(c.data), '0902200001010080fa' + '090400000208065000' + '0705810200020' + '0' + '0705020200020' + '0');
  assert.equal(hex((await control(dev, 0x80, 6, 0x0200, 0, 9)).data), '0902200001010080fa');
  assert.equal(hex((await control(dev, 0x80, 6, 0x0300, 0, 255)).data), '04030904');
  assert.equal(Buffer.from((await control(dev, 0x80, 6, 0x0302, 0x409, 255)).data.subarray(2)).toString('utf16le'), 'Shared CD-ROM');
  assert.equal(Buffer.from((await control(dev, 0x80, 6, 0x0303, 0x409, 255)).data.subarray(2)).toString('utf16le'), 'SPICECD0001');
  assert.equal((await control(dev, 0x80, 6, 0x0304, 0x409, 255)).status, 'stall');
  assert.equal((await control(dev, 0x80, 6, 0x0f00, 0, 255)).status, 'stall'); // no BOS on a USB 2.0 device
  assert.equal(hex((await control(dev, 0x80, 6, 0x0600, 0, 10)).data), '0a060002000000400100');
  assert.equal(hex((await control(dev, 0xa1, 0xfe, 0, 0, 1)).data), '00'); // Get Max LUN
  assert.equal(hex((await control(dev, 0x80, 0, 0, 0, 2)).data), '0000');
  assert.equal((await control(dev, 0x40, 0x99, 0, 0, 0)).status, 'stall');
  assert.equal(dev.info.vendorId, 0x2b23);
  assert.deepEqual(dev.info.interfaces[0].endpoints.map((e) => e.address), [0x81, 0x02]);
});

test('INQUIRY, TEST UNIT READY, READ CAPACITY(10), READ FORMAT CAPACITIES', async () => {
  const dev = newDev();
  const inq = await cmd(dev, [0x12, 0, 0, 0, 36, 0], 36);
  assert.equal(inq.status, 0);
  assert.equal(hex(inq.data.subarray(0, 8)), '058005021f000000');
  assert.equal(Buffer.from(inq.data.subarray(8, 36)).toString('latin1'), 'SPICE   Shared CD-ROM   0.1 ');
  // VPD: supported pages and the serial number
  assert.equal(hex((await cmd(dev, [0x12, 1, 0, 0, 255, 0], 255)).data), '050000020080');
  assert.equal(Buffer.from((await cmd(dev, [0x12, 1, 0x80, 0, 255, 0], 255)).data.subarray(4)).toString(), 'SPICECD0001');
  assert.equal((await cmd(dev, [0x12, 1, 0x83, 0, 255, 0], 255)).status, 1);
  assert.equal(await sense(dev), '05/24/00');
  assert.equal((await cmd(dev, [0, 0, 0, 0, 0, 0])).status, 0);
  const cap = await cmd(dev, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8);
  assert.equal(hex(cap.data), '00000027' + '00000800');
  const fc = await cmd(dev, [0x23, 0, 0, 0, 0, 0, 0, 0, 252, 0], 252);
  assert.equal(hex(fc.data), '00000008' + '00000028' + '02000800');
  assert.equal(fc.residue, 240);
});

test('READ(10) / READ(12) return the image bytes, in whatever transfer pieces the host asks', async () => {
  const dev = newDev();
  const r10 = await cmd(dev, [0x28, 0, 0, 0, 0, 3, 0, 0, 2, 0], 4096, { pieces: [1000, 3096] });
  assert.equal(r10.status, 0);
  assert.equal(r10.residue, 0);
  assert.equal(hex(r10.data), hex(image.subarray(3 * 2048, 5 * 2048)));
  const r12 = await cmd(dev, [0xa8, 0, 0, 0, 0, 37, 0, 0, 0, 3, 0, 0], 3 * 2048);
  assert.equal(hex(r12.data), hex(image.subarray(37 * 2048)));
  // past the end: no data, CHECK CONDITION, LBA out of range
  const bad = await cmd(dev, [0x28, 0, 0, 0, 0, 39, 0, 0, 2, 0], 4096);
  assert.deepEqual([bad.status, bad.residue, bad.data.length], [1, 4096, 0]);
  assert.equal(await sense(dev), '05/21/00');
  // a medium read error fails the command (CSW status 1) instead of returning garbage
  const failing = newDev(memSource(image, 5 * 2048 + 7));
  const err = await cmd(failing, [0x28, 0, 0, 0, 0, 5, 0, 0, 1, 0], 2048);
  assert.equal(err.status, 1);
  // WRITE is refused: the medium is read-only
  assert.equal((await cmd(dev, [0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0], 2048, { out: new Uint8Array(2048) })).status, 1);
  assert.equal(await sense(dev), '07/27/00');
});

test('unknown opcode → CHECK CONDITION, REQUEST SENSE reports ILLEGAL REQUEST / invalid opcode once', async () => {
  const dev = newDev();
  const r = await cmd(dev, [0xd8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 2352);
  assert.deepEqual([r.status, r.residue, r.data.length], [1, 2352, 0]);
  assert.equal(await sense(dev), '05/20/00');
  assert.equal(await sense(dev), '00/00/00');
  // LUN 1 does not exist
  assert.equal((await cmd(dev, [0, 0, 0, 0, 0, 0], 0, { lun: 1 })).status, 1);
  assert.equal(await sense(dev), '05/25/00');
});

test('MODE SENSE(6/10): capabilities page 2A shows the lock; all pages; bad page → invalid field', async () => {
  const dev = newDev();
  const m10 = await cmd(dev, [0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 255, 0], 255);
  assert.equal(m10.status, 0);
  assert.equal(hex(m10.data.subarray(0, 8)), '001c000000000000'); // 22-byte page + 6
  assert.equal(m10.data[8], 0x2a);
  assert.equal(m10.data[9], 0x14);
  assert.equal(m10.data.length, 30);
  assert.equal(m10.data[8 + 6], 0x29); // tray, eject, lock supported, not locked
  assert.equal((await cmd(dev, [0x1e, 0, 0, 0, 1, 0])).status, 0); // PREVENT
  assert.equal((await cmd(dev, [0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 255, 0], 255)).data[8 + 6], 0x2b);
  const all = await cmd(dev, [0x1a, 0, 0x3f, 0, 255, 0], 255);
  assert.equal(all.data[0], all.data.length - 1);
  assert.deepEqual([all.data[4], all.data[16], all.data[28]], [0x01, 0x1a, 0x2a]);
  assert.equal((await cmd(dev, [0x1a, 0, 0x05, 0, 255, 0], 255)).status, 1);
  assert.equal(await sense(dev), '05/24/00');
  // MODE SELECT's parameter list is taken and accepted
  assert.equal((await cmd(dev, [0x15, 0x10, 0, 0, 12, 0], 12, { out: new Uint8Array(12) })).status, 0);
});

test('eject: PREVENT blocks it, ALLOW + START STOP UNIT ejects; media events and unit attention on re-insert', async () => {
  const dev = newDev();
  let ejected = 0;
  dev.scsi.onEject = () => ejected++;
  // GET EVENT STATUS NOTIFICATION (polled, media class): nothing pending, medium present
  const gesn = () => cmd(dev, [0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0], 8);
  assert.equal(hex((await gesn()).data), '0006041000020000');
  assert.equal((await cmd(dev, [0x1e, 0, 0, 0, 1, 0])).status, 0);
  assert.equal((await cmd(dev, [0x1b, 0, 0, 0, 2, 0])).status, 1);
  assert.equal(await sense(dev), '05/53/02');
  assert.equal(ejected, 0);
  assert.equal((await cmd(dev, [0x1e, 0, 0, 0, 0, 0])).status, 0);
  assert.equal((await cmd(dev, [0x1b, 0, 0, 0, 2, 0])).status, 0);
  assert.equal(ejected, 1);
  assert.equal(hex((await gesn()).data), '0006041003010000'); // media removal, tray open, no medium
  assert.equal(hex((await gesn()).data), '0006041000010000');
  assert.equal((await cmd(dev, [0, 0, 0, 0, 0, 0])).status, 1);
  assert.equal(await sense(dev), '02/3a/00');
  assert.equal((await cmd(dev, [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8)).status, 1);
  // the user shares an image again
  dev.scsi.insert(memSource());
  assert.equal(hex((await gesn()).data), '0006041002020000'); // new media
  assert.equal((await cmd(dev, [0, 0, 0, 0, 0, 0])).status, 1);
  assert.equal(await sense(dev), '06/28/00');
  assert.equal((await cmd(dev, [0, 0, 0, 0, 0, 0])).status, 0);
  // a GESN without the polled bit or without the media class
  assert.equal((await cmd(dev, [0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8, 0], 8)).status, 1);
  assert.equal(hex((await cmd(dev, [0x4a, 1, 0, 0, 0x04, 0, 0, 0, 8, 0], 8)).data), '00028010');
});

test('READ TOC formats 0 (LBA and MSF), 1, 2; READ DISC / TRACK INFORMATION; MECHANISM STATUS', async () => {
  const dev = newDev();
  const toc = await cmd(dev, [0x43, 0, 0, 0, 0, 0, 0, 0, 100, 0], 100);
  assert.equal(hex(toc.data), '0012' + '0101' + '00140100' + '00000000' + '0014aa00' + '00000028');
  const tocMsf = await cmd(dev, [0x43, 2, 0, 0, 0, 0, 0, 0, 100, 0], 100);
  // lead-out at LBA 40 = 40 + 150 frames = 00:02:40
  assert.equal(hex(tocMsf.data), '0012' + '0101' + '00140100' + '00000200' + '0014aa00' + '00000228');
  assert.equal(hex((await cmd(dev, [0x43, 0, 0, 0, 0, 0, 0xaa, 0, 100, 0], 100)).data), '000a01010014aa0000000028');
  assert.equal((await cmd(dev, [0x43, 0, 0, 0, 0, 0, 2, 0, 100, 0], 100)).status, 1);
  assert.equal(hex((await cmd(dev, [0x43, 0, 1, 0, 0, 0, 0, 0, 12, 0], 12)).data), '000a0101' + '00140100' + '00000000');
  const full = await cmd(dev, [0x43, 2, 2, 0, 0, 0, 0, 0, 255, 0], 255);
  assert.equal(full.data.length, 4 + 4 * 11);
  assert.equal(hex(full.data.subarray(4 + 22, 4 + 33)), '011400a200000000' + '000228');
  assert.equal((await cmd(dev, [0x43, 0, 5, 0, 0, 0, 0, 0, 12, 0], 12)).status, 1);
  const di = await cmd(dev, [0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0], 34);
  assert.equal(hex(di.data.subarray(0, 8)), '00200e0101010120');
  const ti = await cmd(dev, [0x52, 1, 0, 0, 0, 1, 0, 0, 36, 0], 36);
  assert.equal(hex(ti.data.subarray(24, 32)), '00000028' + '00000027');
  assert.equal(hex((await cmd(dev, [0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0], 8)).data), '0000000000000000');
});

test('GET CONFIGURATION (profiles, core, removable medium, current flags) and GET PERFORMANCE', async () => {
  const dev = newDev();
  const all = await cmd(dev, [0x46, 0, 0, 0, 0, 0, 0, 0x01, 0, 0], 256);
  const d = all.data;
  assert.equal(Buffer.from(d).readUInt32BE(0), d.length - 4);
  assert.equal(hex(d.subarray(6, 8)), '0008'); // current profile CD-ROM
  // profile list: DVD-ROM (not current), CD-ROM (current)
  assert.equal(hex(d.subarray(8, 20)), '0000030800100000' + '00080100');
  const codes: string[] = [];
  for (let o = 8; o < d.length; o += 4 + d[o + 3]) codes.push(hex(d.subarray(o, o + 2)));
  assert.deepEqual(codes, ['0000', '0001', '0002', '0003', '0010', '001e', '001f', '0100']);
  // RT=2: just the one feature; RT=1: current ones only (DVD read is not)
  const one = await cmd(dev, [0x46, 2, 0, 3, 0, 0, 0, 0, 255, 0], 255);
  assert.equal(hex(one.data), '0000000c00000008' + '000303042900' + '0000');
  const cur = await cmd(dev, [0x46, 1, 0, 0x1f, 0, 0, 0, 0, 255, 0], 255);
  assert.equal(hex(cur.data.subarray(8)), '01000300');
  const perf = await cmd(dev, [0xac, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0], 24);
  assert.equal(hex(perf.data), '00000014' + '00000000' + '00000000' + '00005840' + '00000027' + '00005840');
  assert.equal((await cmd(dev, [0xbb, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0])).status, 0);
});

test('BOT reads the data phase ahead: the medium read starts with the CBW, pieces are served from it, a failed read-ahead fails the command', async () => {
  const reads: [number, number][] = [];
  const src = memSource();
  const counting: BlockSource = { ...src, read: (o, n) => { reads.push([o, n]); return src.read(o, n); } };
  const dev = newDev(counting);
  const tag = 0x77;
  assert.equal((await dev.bulk(nextId++, 0x02, 31, cbw(tag, 3 * 2048, true, [0x28, 0, 0, 0, 0, 2, 0, 0, 3, 0]))).status, 'success');
  assert.deepEqual(reads, [[2 * 2048, 3 * 2048]], 'read before any bulk IN asked for it');
  const a = await dev.bulk(nextId++, 0x81, 1000, new Uint8Array(0));
  const b = await dev.bulk(nextId++, 0x81, 3 * 2048 - 1000, new Uint8Array(0));
  assert.equal(hex(concat(a.data, b.data)), hex(image.subarray(2 * 2048, 5 * 2048)));
  assert.equal(reads.length, 1, 'both pieces came from the one read');
  assert.deepEqual(parseCsw((await dev.bulk(nextId++, 0x81, 13, new Uint8Array(0))).data), { tag, residue: 0, status: 0 });
  // the read ahead fails: the bulk IN gets no data and the CSW says failed
  const failing = newDev(memSource(image, 2048 + 3));
  const err = await cmd(failing, [0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0], 2048);
  assert.deepEqual([err.status, err.data.length], [1, 0]);
  // a reset mid data phase drops the read ahead: the next command reads its own blocks
  reads.length = 0;
  await dev.bulk(nextId++, 0x02, 31, cbw(0x78, 2048, true, [0x28, 0, 0, 0, 0, 7, 0, 0, 1, 0]));
  await dev.reset();
  const r = await cmd(dev, [0x28, 0, 0, 0, 0, 9, 0, 0, 1, 0], 2048);
  assert.equal(hex(r.data), hex(image.subarray(9 * 2048, 10 * 2048)));
});

test('BOT: short reply → residue; malformed CBW stalls until the class reset; cancel of a queued transfer', async () => {
  const dev = newDev();
  const inq = await cmd(dev, [0x12, 0, 0, 0, 36, 0], 96);
  assert.deepEqual([inq.status, inq.data.length, inq.residue], [0, 36, 60]);
  const bad = await dev.bulk(nextId++, 0x02, 31, Uint8Array.from(Buffer.from('USBX'.padEnd(31, '\0'))));
  assert.equal(bad.status, 'stall');
  assert.equal((await dev.bulk(nextId++, 0x81, 13, new Uint8Array(0))).status, 'stall');
  assert.equal((await control(dev, 0x21, 0xff, 0, 0, 0)).status, 'success');
  assert.equal((await cmd(dev, [0, 0, 0, 0, 0, 0])).status, 0);
  // an IN with no command pending stalls
  assert.equal((await dev.bulk(nextId++, 0x81, 13, new Uint8Array(0))).status, 'stall');
  await dev.reset();
  const a = dev.bulk(100n, 0x02, 31, cbw(7, 0, false, [0, 0, 0, 0, 0, 0]));
  const b = dev.bulk(101n, 0x81, 13, new Uint8Array(0));
  dev.cancel(101n);
  assert.equal((await a).status, 'success');
  assert.equal((await b).status, 'cancelled');
  assert.equal(parseCsw((await dev.bulk(102n, 0x81, 13, new Uint8Array(0))).data).tag, 7);
});

test('the file BlockSource reads an ISO through node:fs', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cd-'));
  try {
    const f = path.join(dir, 'x.iso');
    fs.writeFileSync(f, image);
    const src = await openFileBlockSource(f);
    assert.equal(src.size, image.length);
    const dev = newDev(src);
    const r = await cmd(dev, [0x28, 0, 0, 0, 0, 38, 0, 0, 2, 0], 4096);
    assert.equal(hex(r.data), hex(image.subarray(38 * 2048)));
    assert.equal((await src.read(image.length - 2, 10)).length, 2);
    await src.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an image larger than a CD is a DVD-ROM: profile 0x0010, READ DVD STRUCTURE physical format / copyright; a CD refuses it', async () => {
  const blocks = 80 * 60 * 75 + 10;
  const dvd = newDev({ size: blocks * 2048, read: async (_o, n) => new Uint8Array(n), close: async () => {} });
  const conf = await cmd(dvd, [0x46, 0, 0, 0, 0, 0, 0, 0, 64, 0], 64);
  assert.equal(hex(conf.data.subarray(6, 8)), '0010');
  assert.equal(hex(conf.data.subarray(8, 20)), '0000030800100100' + '00080000');
  const pf = await cmd(dvd, [0xad, 0, 0, 0, 0, 0, 0, 0x00, 0x08, 0x04, 0, 0], 2052);
  assert.equal(pf.data.length, 2052);
  assert.equal(hex(pf.data.subarray(0, 20)), '08020000' + '010f0100' + '00030000' + (0x30000 + blocks - 1).toString(16).padStart(8, '0') + '00000000');
  assert.equal(hex((await cmd(dvd, [0xad, 0, 0, 0, 0, 0, 0, 0x01, 0, 8, 0, 0], 8)).data), '0006000000000000');
  assert.equal((await cmd(dvd, [0xad, 0, 0, 0, 0, 0, 0, 0x02, 0, 8, 0, 0], 8)).status, 1);
  assert.equal(await sense(dvd), '05/24/00');
  assert.equal(hex((await cmd(dvd, [0xad, 0, 0, 0, 0, 0, 0, 0xff, 0, 16, 0, 0], 16)).data), '000e0000' + '00400804' + '01400008' + 'ff400010');
  const cd = newDev();
  assert.equal((await cmd(cd, [0xad, 0, 0, 0, 0, 0, 0, 0x00, 0x08, 0x04, 0, 0], 2052)).status, 1);
  assert.equal(await sense(cd), '05/30/02');
});
