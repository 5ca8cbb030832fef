// UsbDeviceManager over a real Session and a scripted SPICE server whose
// usbredir channels speak the guest side of usbredir (our codec in the guest
// role, golden-tested in usbredir-proto.test.ts): hellos at link, shared CDs
// placed one per channel, "the VM needs more usb-redir devices", a freed
// channel taken by a waiting drive, the channel's backpressure stopping device
// reads, and malformed usbredir failing that channel only. The same manager
// runs against QEMU in test/integration/usbredir-spice.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../../main/spice/session';
import { UsbDeviceManager, NO_FREE_CHANNEL, type UsbDeviceState } from '../../../main/devices/usb/manager';
import { UsbRedirParser } from '../../../main/devices/usb/usbredir-parser';
import { UsbRedirCaps, encodePacket, type UsbRedirMessage, type UsbRedirPacket } from '../../../main/devices/usb/usbredir-proto';
import { UsbBackendError, type BlockSource, type UsbBackend, type UsbDeviceInfo, type UsbHotplugEvent } from '../../../main/devices/usb/backend';
import { EmulatedCdrom } from '../../../main/devices/usb/emulated-cdrom';
import { parseUsbFilter } from '../../../main/config/vv';
import { DEFAULT_USB_AUTO_FILTER } from '../../../main/config/effective';
import type { SpicevmcChannel } from '../../../main/spice/channels/spicevmc-channel';
import { SpiceError } from '../../../main/spice/wire/errors';
import { Channel as ChannelType, MsgSpicevmc, MsgcSpicevmc } from '../../../main/spice/protocol/enums';
import { FakeSpiceServer, until } from '../../helpers/fake-spice-server';
import { miniMsg } from '../../helpers/spice-bytes';

const GUEST_CAPS = ['connect_device_version', 'filter', 'device_disconnect_ack', 'ep_info_max_packet_size', '64bits_ids', '32bits_bulk_length'] as const;

/** The guest end of one usbredir channel: parses what the client sends, sends packets as QEMU would. */
class GuestPeer {
  readonly caps = UsbRedirCaps.fromNames([...GUEST_CAPS], 'guest');
  readonly parser = new UsbRedirParser(this.caps);
  readonly got: UsbRedirPacket[] = [];
  constructor(private readonly srv: FakeSpiceServer, readonly id: number) {}
  push(body: Uint8Array): void {
    for (const p of this.parser.push(body)) this.got.push(structuredClone(p));
  }
  send(id: bigint, msg: UsbRedirMessage): void {
    this.srv.link(ChannelType.USBREDIR, this.id)!.send(miniMsg(MsgSpicevmc.DATA, encodePacket({ id, msg }, this.caps)));
  }
  types(): string[] {
    return this.got.map((p) => p.msg.type);
  }
}

const image = new Uint8Array(64 * 2048).map((_, i) => (i * 7) & 0xff);

function cbwRead10(tag: number, lba: number, blocks: number): Uint8Array {
  const cbw = new Uint8Array(31);
  const v = new DataView(cbw.buffer);
  v.setUint32(0, 0x43425355, true);
  v.setUint32(4, tag, true);
  v.setUint32(8, blocks * 2048, true);
  cbw.set([0x80, 0, 10, 0x28, 0, lba >> 24, lba >> 16, lba >> 8, lba, 0, blocks >> 8, blocks, 0], 12);
  return cbw;
}

async function setup() {
  const srv = new FakeSpiceServer();
  srv.channels = [
    { type: ChannelType.USBREDIR, id: 0 },
    { type: ChannelType.USBREDIR, id: 1 },
    { type: ChannelType.SMARTCARD, id: 0 },
  ];
  const guests = [new GuestPeer(srv, 0), new GuestPeer(srv, 1)];
  srv.onMessage = (l, type, body) => {
    if (l.type === ChannelType.USBREDIR && type === MsgcSpicevmc.DATA) guests[l.id].push(body);
  };
  const reads: string[] = [];
  const closed: string[] = [];
  const openImage = async (path: string): Promise<BlockSource> => {
    if (path === 'missing.iso') throw new Error('ENOENT: no such file');
    return {
      size: image.length,
      read: async (o, n) => { reads.push(`${path}@${o}`); return image.slice(o, o + n); },
      close: async () => { closed.push(path); },
    };
  };
  let states: UsbDeviceState[] = [];
  const mgr = new UsbDeviceManager({ shareCd: ['a.iso', 'b.iso', 'c.iso'], openImage, onChange: (d) => { states = d; } });
  const s = new Session({ endpoint: { host: '127.0.0.1', port: 5900 }, transport: srv.factory, devices: [mgr] });
  await s.connect();
  const ch = (id: number) => s.channel(ChannelType.USBREDIR, id) as SpicevmcChannel;
  const state = (label: string) => states.find((d) => d.label === label);
  return { srv, s, mgr, guests, reads, closed, ch, state, states: () => states };
}

test('usb manager: hellos at link, shared CDs one per channel, no free channel, a freed channel taken by the waiting drive, unshare', async () => {
  const { s, mgr, guests, closed, state, states } = await setup();
  await until(() => guests.every((g) => g.types()[0] === 'hello'), 'our hello on both usbredir channels');
  for (const g of guests) g.send(0n, { type: 'hello', version: 'qemu usb-redir guest (test)', caps: g.caps.ourCaps });
  await until(() => guests.every((g) => g.types().includes('device_connect')), 'a drive on each channel');
  for (const g of guests) assert.deepEqual(g.types(), ['hello', 'interface_info', 'ep_info', 'device_connect']);
  // one drive per channel; which channel a drive gets depends on which one links first
  const aChannel = state('a.iso')!.channel!;
  const k = aChannel === 'usbredir 0' ? 0 : 1;
  assert.deepEqual(states().map((d) => [d.label, d.state, d.channel ?? '-']), [
    ['a.iso', 'redirected', `usbredir ${k}`], ['b.iso', 'redirected', `usbredir ${1 - k}`], ['c.iso', 'error', '-'],
  ]);
  assert.equal(state('c.iso')!.error!.code, 'CONFIG');
  assert.match(state('c.iso')!.error!.message, new RegExp(`${NO_FREE_CHANNEL}.*all 2 usbredir channels are in use`));
  assert.equal(mgr.freeChannels, 0);

  // a share asked for at runtime with no channel left: rejected with the coded error, listed as such
  await assert.rejects(mgr.shareCd('d.iso'), (e: unknown) => e instanceof SpiceError && e.code === 'CONFIG' && e.message.includes(NO_FREE_CHANNEL));
  assert.equal(state('d.iso')!.state, 'error');
  // an image that cannot be opened
  await assert.rejects(mgr.shareCd('missing.iso'), (e: unknown) => e instanceof SpiceError && e.code === 'CONFIG' && /ENOENT/.test(e.message));

  // unshare a: device_disconnect, done once the guest acks; c (from the command line) takes a's channel
  const a = state('a.iso')!.id;
  const gone = mgr.unshareCd(a);
  await until(() => guests[k].types().includes('device_disconnect'), 'device_disconnect');
  assert.equal(state('a.iso')?.state, 'redirected', 'still redirected until the guest acknowledges');
  guests[k].send(0n, { type: 'device_disconnect_ack' });
  await gone;
  assert.equal(state('a.iso'), undefined);
  assert.deepEqual(closed, ['a.iso']);
  await until(() => guests[k].types().filter((t) => t === 'device_connect').length === 2, `c connected on ${aChannel}`);
  assert.deepEqual([state('c.iso')!.state, state('c.iso')!.channel, state('c.iso')!.error], ['redirected', aChannel, undefined]);
  assert.equal(s.state, 'connected');

  s.disconnect();
  await until(() => closed.length === 4, 'every medium closed at the end of the session');
  assert.deepEqual(closed.sort(), ['a.iso', 'b.iso', 'c.iso', 'd.iso']);
});

test('usb manager: the channel\'s backpressure stops device reads (write() false → paused, onResume → the held requests run)', async () => {
  const { s, guests, reads, ch } = await setup();
  await until(() => guests.every((g) => g.types()[0] === 'hello'), 'hellos');
  for (const g of guests) g.send(0n, { type: 'hello', version: 'g', caps: g.caps.ourCaps });
  await until(() => guests.every((g) => g.types().includes('device_connect')), 'drives connected');
  const c1 = ch(1);
  const g = guests[1];
  c1.highWaterBytes = 8 * 1024;
  c1.lowWaterBytes = 1024;
  // a migration hold: nothing leaves the channel, its queue grows
  c1.pauseOutput();
  const before = g.got.length;
  g.send(1n, { type: 'bulk_packet', endpoint: 0x02, status: 0, length: 31, streamId: 0, data: cbwRead10(1, 0, 8) });
  g.send(2n, { type: 'bulk_packet', endpoint: 0x81, status: 0, length: 8 * 2048, streamId: 0, data: new Uint8Array(0) });
  g.send(3n, { type: 'bulk_packet', endpoint: 0x81, status: 0, length: 13, streamId: 0, data: new Uint8Array(0) });
  await until(() => c1.flowStats.paused, 'producer paused at the high-water mark');
  const readsAtPause = reads.filter((r) => r.startsWith('b.iso')).length;
  assert.ok(readsAtPause > 0);
  // the guest asks for more: nothing is read from the device while the pipe is full
  g.send(4n, { type: 'bulk_packet', endpoint: 0x02, status: 0, length: 31, streamId: 0, data: cbwRead10(2, 8, 8) });
  g.send(5n, { type: 'bulk_packet', endpoint: 0x81, status: 0, length: 8 * 2048, streamId: 0, data: new Uint8Array(0) });
  g.send(6n, { type: 'bulk_packet', endpoint: 0x81, status: 0, length: 13, streamId: 0, data: new Uint8Array(0) });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(reads.filter((r) => r.startsWith('b.iso')).length, readsAtPause, 'no device read while paused');
  assert.equal(g.got.length, before);

  c1.resumeOutput();
  await until(() => g.got.length === before + 6, 'every request answered once the pipe drained');
  assert.deepEqual(g.got.slice(before).map((p) => p.id), [1n, 2n, 3n, 4n, 5n, 6n], 'in order');
  const data = g.got.slice(before).filter((p) => p.msg.type === 'bulk_packet' && p.msg.endpoint === 0x81 && p.msg.data.length === 8 * 2048)
    .map((p) => (p.msg as Extract<UsbRedirMessage, { type: 'bulk_packet' }>).data);
  assert.deepEqual(data, [image.slice(0, 8 * 2048), image.slice(8 * 2048, 16 * 2048)]);
  assert.equal(c1.flowStats.paused, false);
  s.disconnect();
});

test('usb manager: malformed usbredir from the server fails that channel only (coded), the other drive and the session live', async () => {
  const { s, srv, guests, state } = await setup();
  await until(() => guests.every((g) => g.types()[0] === 'hello'), 'hellos');
  for (const g of guests) g.send(0n, { type: 'hello', version: 'g', caps: g.caps.ourCaps });
  await until(() => guests.every((g) => g.types().includes('device_connect')), 'drives connected');
  // which drive took usbredir 0 depends on which channel linked first
  const [lost, kept] = state('a.iso')!.channel === 'usbredir 0' ? ['a.iso', 'b.iso'] : ['b.iso', 'a.iso'];
  // a packet header of an unknown type with a body far above any limit
  const bad = new Uint8Array(16);
  new DataView(bad.buffer).setUint32(0, 0xdead, true);
  new DataView(bad.buffer).setUint32(4, 0x7fffffff, true);
  srv.link(ChannelType.USBREDIR, 0)!.send(miniMsg(MsgSpicevmc.DATA, bad));
  await until(() => s.linkFailures.length === 1, 'usbredir 0 lost');
  assert.equal(s.linkFailures[0].name, 'usbredir 0');
  assert.ok(['BAD_MESSAGE', 'LIMIT', 'UNKNOWN_MESSAGE'].includes(s.linkFailures[0].error.code), s.linkFailures[0].error.code);
  assert.equal(state(lost)!.state, 'error');
  assert.equal(state(lost)!.error!.code, s.linkFailures[0].error.code);
  assert.match(state(lost)!.error!.message, /^usbredir 0: /);
  assert.equal(s.state, 'connected');
  // the drive on usbredir 1 still answers
  const g = guests[1];
  const n = g.got.length;
  g.send(42n, { type: 'get_configuration' });
  await until(() => g.got.length === n + 1, 'answer on usbredir 1');
  assert.deepEqual(g.got[n], { id: 42n, msg: { type: 'configuration_status', status: 0, configuration: 0 } });
  assert.equal(state(kept)!.state, 'redirected');
  s.disconnect();
});

test('usb manager with a device backend: redirect-on-connect rules at connect, auto-redirect on hotplug (never a HID device), unplug while redirected, a busy device', async () => {
  const srv = new FakeSpiceServer();
  srv.channels = [{ type: ChannelType.USBREDIR, id: 0 }, { type: ChannelType.USBREDIR, id: 1 }];
  const guests = [new GuestPeer(srv, 0), new GuestPeer(srv, 1)];
  srv.onMessage = (l, type, body) => {
    if (l.type === ChannelType.USBREDIR && type === MsgcSpicevmc.DATA) guests[l.id].push(body);
  };
  const medium: BlockSource = { size: image.length, read: async (o, n) => image.slice(o, o + n), close: async () => {} };
  // the devices of this backend are emulated drives; 'kbd' is listed as a HID keyboard
  const drives = new Map<string, EmulatedCdrom>();
  const infos = new Map<string, UsbDeviceInfo>();
  const plug = (name: string, index: number, hid = false): UsbDeviceInfo => {
    const cd = new EmulatedCdrom(medium, { index, label: name });
    const info: UsbDeviceInfo = { ...cd.info, id: name, product: name,
      ...(hid ? { interfaces: [{ number: 0, alt: 0, class: 3, subclass: 1, protocol: 1, endpoints: [] }] } : {}) };
    drives.set(name, cd);
    infos.set(name, info);
    return info;
  };
  plug('stick', 1);
  plug('other', 2);
  const opened: string[] = [];
  const closedHandles: string[] = [];
  let hotplug: ((e: UsbHotplugEvent) => void) | null = null;
  const backend: UsbBackend = {
    list: async () => [...infos.values()],
    onHotplug: (l) => { hotplug = l; return () => { hotplug = null; }; },
    open: async (id) => {
      if (id === 'busy') throw new UsbBackendError('BUSY', 'busy: the device is in use by another driver or program');
      opened.push(id);
      const cd = drives.get(id)!;
      const close = cd.close.bind(cd);
      cd.close = async () => { closedHandles.push(id); await close(); };
      return cd;
    },
  };
  let states: UsbDeviceState[] = [];
  const mgr = new UsbDeviceManager({
    openImage: async () => medium, backend, onChange: (d) => { states = d; },
    redirectOnConnectRules: parseUsbFilter('-1,0x2b23,0xcdcd,-1,1|-1,-1,-1,-1,0'),
    autoRedirectRules: parseUsbFilter(DEFAULT_USB_AUTO_FILTER),
  });
  // 'other' must not match the redirect-on-connect rule: it gets another product id
  infos.set('other', { ...infos.get('other')!, productId: 0x1234 });
  const s = new Session({ endpoint: { host: '127.0.0.1', port: 5900 }, transport: srv.factory, devices: [mgr] });
  await s.connect();
  await until(() => guests.every((g) => g.types()[0] === 'hello'), 'hellos');
  for (const g of guests) g.send(0n, { type: 'hello', version: 'g', caps: g.caps.ourCaps });
  const st = (id: string) => states.find((d) => d.id === id);
  await until(() => st('stick')?.state === 'redirected', 'redirect-on-connect: stick');
  assert.equal(st('other')!.state, 'free', 'a device the rules do not name stays with the client');
  assert.deepEqual(opened, ['stick']);

  // hotplug: a keyboard is never auto-redirected by the default filter, a drive is
  hotplug!({ kind: 'attach', device: plug('kbd', 3, true) });
  hotplug!({ kind: 'attach', device: plug('cam', 4) });
  await until(() => st('cam')?.state === 'redirected', 'auto-redirect: cam');
  assert.equal(st('kbd')!.state, 'free');
  const camGuest = guests.find((g) => g.id === Number(st('cam')!.channel!.split(' ')[1]))!;

  // cam unplugged while redirected: device_disconnect to the guest, then gone from the list, handle closed
  drives.get('cam')!.unplug();
  hotplug!({ kind: 'detach', id: 'cam' });
  await until(() => camGuest.types().includes('device_disconnect'), 'device_disconnect');
  camGuest.send(0n, { type: 'device_disconnect_ack' });
  await until(() => st('cam') === undefined, 'cam gone');
  assert.deepEqual(closedHandles, ['cam']);
  assert.equal(mgr.freeChannels, 1);

  // the user redirects a busy device: coded error, the channel stays free
  infos.set('busy', { ...infos.get('other')!, id: 'busy' });
  hotplug!({ kind: 'attach', device: { ...infos.get('busy')!, interfaces: [{ number: 0, alt: 0, class: 3, subclass: 0, protocol: 0, endpoints: [] }] } });
  await assert.rejects(mgr.redirect('busy'), (e: unknown) => e instanceof UsbBackendError && e.code === 'BUSY');
  assert.deepEqual([st('busy')!.state, st('busy')!.error!.code], ['error', 'BUSY']);
  assert.equal(mgr.freeChannels, 1);
  // and a free one by hand: the keyboard, when the user asks
  await mgr.redirect('kbd');
  assert.equal(st('kbd')!.state, 'redirected');
  s.disconnect();
  assert.equal(hotplug, null, 'hotplug unsubscribed at the end of the session');
});
