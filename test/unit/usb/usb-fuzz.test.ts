// Bad input never crashes or hangs: seeded random mutations of a valid usbredir
// stream either parse or fail with a coded SpiceError; random CBWs and random
// SCSI commands against the emulated CD always end in a CSW or a stall.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsbRedirParser } from '../../../main/devices/usb/usbredir-parser';
import { UsbRedirCaps, encodePacket, type UsbRedirPacket } from '../../../main/devices/usb/usbredir-proto';
import { SpiceError } from '../../../main/spice/wire/errors';
import { EmulatedCdrom } from '../../../main/devices/usb/emulated-cdrom';

/** xorshift32: reproducible without a dependency. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

function validStream(): Uint8Array {
  const guest = UsbRedirCaps.fromNames(['connect_device_version', 'filter', 'device_disconnect_ack', 'ep_info_max_packet_size', '64bits_ids', '32bits_bulk_length'], 'guest');
  const host = UsbRedirCaps.fromNames(['connect_device_version', 'filter', 'device_disconnect_ack', 'ep_info_max_packet_size', '64bits_ids', '32bits_bulk_length'], 'host');
  guest.peerCaps = host.ourCaps;
  const pk: UsbRedirPacket[] = [
    { id: 1n, msg: { type: 'set_configuration', configuration: 1 } },
    { id: 2n, msg: { type: 'control_packet', endpoint: 0x80, request: 6, requestType: 0x80, status: 0, value: 0x100, index: 0, length: 18, data: new Uint8Array(0) } },
    { id: 3n, msg: { type: 'bulk_packet', endpoint: 0x02, status: 0, length: 31, streamId: 0, data: new Uint8Array(31).fill(7) } },
    { id: 4n, msg: { type: 'filter_filter', rules: '-1,-1,-1,-1,1' } },
    { id: 5n, msg: { type: 'cancel_data_packet' } },
  ];
  const hello = encodePacket({ id: 0n, msg: { type: 'hello', version: 'fuzz', caps: guest.ourCaps } }, guest);
  return Uint8Array.from(Buffer.concat([hello, ...pk.map((p) => encodePacket(p, guest))]));
}

test('usbredir parser: 3000 mutated streams parse or fail with a coded SpiceError', () => {
  const base = validStream();
  const next = rng(0x5eed);
  const codes = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const b = base.slice();
    const flips = 1 + (next() % 4);
    for (let k = 0; k < flips; k++) b[next() % b.length] = next() & 0xff;
    const cut = next() % 3 === 0 ? next() % b.length : b.length;
    const p = new UsbRedirParser(UsbRedirCaps.fromNames(['connect_device_version', 'filter', 'device_disconnect_ack', 'ep_info_max_packet_size', '64bits_ids', '32bits_bulk_length'], 'host'), 1 << 20);
    try {
      let off = 0;
      while (off < cut) {
        const n = 1 + (next() % 40);
        for (const _ of p.push(b.subarray(off, Math.min(cut, off + n)))) { /* drain */ }
        off += n;
      }
      p.end();
      codes.set('ok', (codes.get('ok') ?? 0) + 1);
    } catch (e) {
      assert.ok(e instanceof SpiceError, `mutation ${i}: ${String(e)}`);
      codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
    }
  }
  // the mutations reach several distinct failure paths, and some streams still parse
  assert.ok(codes.size >= 4, JSON.stringify([...codes]));
});

test('emulated CD: 2000 random CBWs / commands each end in a CSW or a stall, and the drive recovers', async () => {
  const image = new Uint8Array(16 * 2048);
  const dev = new EmulatedCdrom({ size: image.length, read: async (o, n) => image.slice(o, o + n), close: async () => {} }, { index: 1 });
  const next = rng(42);
  let id = 1n;
  const ops = [0x00, 0x03, 0x12, 0x1a, 0x1b, 0x1e, 0x23, 0x25, 0x28, 0x2a, 0x43, 0x46, 0x4a, 0x51, 0x52, 0x5a, 0xa8, 0xac, 0xbd, 0xbe, 0xff];
  for (let i = 0; i < 2000; i++) {
    const cbw = new Uint8Array(31);
    const v = new DataView(cbw.buffer);
    v.setUint32(0, next() % 50 === 0 ? next() : 0x43425355, true);
    v.setUint32(4, i, true);
    const len = next() % 4 === 0 ? next() % 70000 : next() % 300;
    v.setUint32(8, len, true);
    cbw[12] = next() % 8 === 0 ? 0 : 0x80;
    cbw[13] = next() % 20 === 0 ? 1 : 0;
    cbw[14] = 6 + (next() % 11);
    cbw[15] = ops[next() % ops.length];
    for (let k = 16; k < 31; k++) cbw[k] = next() % 3 === 0 ? next() & 0xff : 0;
    const r = await dev.bulk(id++, 0x02, 31, cbw);
    if (r.status === 'stall') {
      assert.equal((await dev.control(id++, { requestType: 0x21, request: 0xff, value: 0, index: 0, length: 0 }, new Uint8Array(0))).status, 'success');
      continue;
    }
    if (!(cbw[12] & 0x80) && len > 0) {
      const o = await dev.bulk(id++, 0x02, len, new Uint8Array(len));
      if (o.status === 'stall') { await dev.reset(); continue; }
    } else if (len > 0) {
      let got = 0;
      for (;;) {
        const n = Math.min(len - got, 65536);
        const d = await dev.bulk(id++, 0x81, n, new Uint8Array(0));
        assert.equal(d.status, 'success');
        assert.ok(d.data.length <= n);
        got += d.data.length;
        if (d.data.length < n || got === len) break;
      }
    }
    const csw = await dev.bulk(id++, 0x81, 13, new Uint8Array(0));
    assert.equal(csw.status, 'success', `command ${i} op ${cbw[15].toString(16)}`);
    assert.equal(Buffer.from(csw.data).toString('latin1', 0, 4), 'USBS');
    assert.equal(new DataView(csw.data.buffer, csw.data.byteOffset).getUint32(4, true), i);
  }
  // still a working drive
  const tur = new Uint8Array(31);
  new DataView(tur.buffer).setUint32(0, 0x43425355, true);
  tur[14] = 6;
  await dev.reset();
  assert.equal((await dev.bulk(id++, 0x02, 31, tur)).status, 'success');
  const c = await dev.bulk(id++, 0x81, 13, new Uint8Array(0));
  assert.equal(c.data.length, 13);
});
