// The shared folder end to end: QEMU 7.2 with the webdav spiceport
// (org.spice-space.webdav.0), Debian's spice-webdavd in the guest (webdav
// flavour, GUEST_WEBDAV=1), our Session with the WebdavShare manager serving a
// real folder. The guest's "dav" command makes plain HTTP requests to
// spice-webdavd's port 9843: it lists the folder, reads a 1.5 MiB file (md5),
// cannot leave the folder (a symlink, raw and encoded ..),
// is refused every write while the share is read-only, and after reconnecting
// read-write writes a file whose md5 on this machine is the one it sent; a
// frame no spice-webdavd writes, slipped into the real stream, costs the channel alone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QemuVm } from '../harness/qemu';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';
import { WebdavShare } from '../../main/devices/webdav/manager';
import { SpiceError } from '../../main/spice/wire/errors';
import { Channel as ChannelType } from '../../main/spice/protocol/enums';
import type { SpicevmcChannel } from '../../main/spice/channels/spicevmc-channel';
import { until } from '../helpers/fake-spice-server';
import { injectingTransport } from '../helpers/inject-transport';
import { Bytes, miniMsg } from '../helpers/spice-bytes';
import { MsgSpicevmc } from '../../main/spice/protocol/enums';

let vm: QemuVm;
let s: Session | null = null;
let share: WebdavShare | null = null;
let dir: string;
let bigMd5: string;
const errors: SpiceError[] = [];
const BIG = 1536 * 1024;
const tap = injectingTransport(defaultTransportFactory);

async function connect(readOnly: boolean): Promise<void> {
  s?.disconnect();
  share?.close();
  share = new WebdavShare({ dir, readOnly, onError: (e) => errors.push(e) });
  s = new Session({ endpoint: { host: '127.0.0.1', port: vm.spicePort }, transport: tap.factory, devices: [share] });
  await s.connect();
  const mine = share;
  await until(() => mine.entries()[0].state === 'shared', 'the webdav channel bound to the share', 30000);
}

/** The guest's "dav" reply line, split; its GUEST DAV lines before it. */
async function dav(args: string, timeoutMs = 180000): Promise<{ words: string[]; lines: string[] }> {
  const from = vm.serialLines().length;
  const line = await vm.command(`dav ${args}`, /^GUEST (OK|ERR) dav\b/, timeoutMs);
  if (line.startsWith('GUEST ERR')) {
    await vm.command('dav log', /^GUEST (OK|ERR) dav log/, 20000).catch(() => '');
    assert.fail(`dav ${args}: ${line}\n${vm.serialLines().slice(from).filter((l) => l.startsWith('GUEST DAVLOG')).join('\n')}`);
  }
  return { words: line.split(' ').slice(3), lines: vm.serialLines().slice(from).filter((l) => l.startsWith('GUEST DAV ')).map((l) => l.slice('GUEST DAV '.length)) };
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webdav-guest-'));
  const big = crypto.randomBytes(BIG);
  bigMd5 = crypto.createHash('md5').update(big).digest('hex');
  fs.writeFileSync(path.join(dir, 'big.bin'), big);
  fs.mkdirSync(path.join(dir, 'sub'));
  fs.writeFileSync(path.join(dir, 'sub', 'notes.txt'), 'shared through SPICE webdav\n');
  // a folder beside the share with a symlink to it inside: never reachable from the guest
  fs.mkdirSync(`${dir}-outside`);
  fs.writeFileSync(`${dir}-outside/secret.txt`, 'not shared\n');
  fs.symlinkSync(`${dir}-outside`, path.join(dir, 'link'));
  vm = await QemuVm.start({ name: 'webdav-guest', webdav: true });
  await connect(true);
  await vm.command('dav start', /^GUEST OK dav started/, 60000);
});

after(async () => {
  s?.disconnect();
  share?.close();
  await vm?.stop();
  if (dir) for (const d of [dir, `${dir}-outside`]) fs.rmSync(d, { recursive: true, force: true });
});

test('read-only share: the guest lists the folder through spice-webdavd, reads a 1.5 MiB file with the right md5, cannot leave the folder', async () => {
  const ls = await dav('ls /');
  assert.equal(ls.words[1], '207', ls.words.join(' '));
  const names = ls.lines.map((h) => new URL(h, 'http://x').pathname).sort();
  assert.deepEqual(names, ['/', '/big.bin', '/sub/']);
  const sub = await dav('ls /sub/');
  assert.deepEqual(sub.lines.map((h) => new URL(h, 'http://x').pathname).sort(), ['/sub/', '/sub/notes.txt']);
  const t0 = performance.now();
  const got = await dav('md5 /big.bin');
  assert.deepEqual(got.words.slice(1), ['200', String(BIG), bigMd5]);
  const ch = s!.channel(ChannelType.WEBDAV, 0) as SpicevmcChannel;
  console.log(`# GET of ${BIG} bytes in ${((performance.now() - t0) / 1000).toFixed(1)} s; producer pauses ${ch.flowStats.pauses}; share ${JSON.stringify(share!.stats)}`);
  // out of the folder: through the symlink (not listed above), .. raw and encoded
  for (const p of ['/link/secret.txt', '/../' + path.basename(dir) + '-outside/secret.txt', '/sub/%2e%2e/%2e%2e/' + path.basename(dir) + '-outside/secret.txt']) {
    const r = await dav(`md5 ${p}`);
    assert.equal(r.words[1], '403', `${p}: ${r.words.join(' ')}`);
  }
  assert.ok(share!.stats.clientsSeen >= 6, `${share!.stats.clientsSeen} guest connections`);
  assert.deepEqual(errors, []);
});

test('read-only share: PUT, DELETE, MKCOL, MOVE, COPY are refused (403) and nothing changes here', async () => {
  const put = await dav('put /new.bin 100000 7');
  assert.equal(put.words[1], '403', put.words.join(' '));
  for (const m of ['DELETE /big.bin', 'MKCOL /d', 'MOVE /big.bin', 'COPY /big.bin', 'PROPPATCH /big.bin', 'LOCK /big.bin']) {
    const r = await dav(`req ${m}`);
    assert.equal(r.words[1], '403', `${m}: ${r.words.join(' ')}`);
  }
  assert.deepEqual(fs.readdirSync(dir).sort(), ['big.bin', 'link', 'sub']);
  assert.equal(crypto.createHash('md5').update(fs.readFileSync(path.join(dir, 'big.bin'))).digest('hex'), bigMd5);
});

test('read-write share (after reconnecting): the guest writes a 1.2 MB file and it lands here with the md5 it sent', async () => {
  await connect(false);
  // spice-webdavd ends its service run when the client goes away and starts the next one a second later
  await dav('ready 2');
  const put = await dav('put /new.bin 1200000 7');
  assert.ok(put.words[1] === '201' || put.words[1] === '200', put.words.join(' '));
  const [, , bytes, sent] = put.words;
  assert.equal(bytes, '1200000');
  const onDisk = fs.readFileSync(path.join(dir, 'new.bin'));
  assert.equal(onDisk.length, 1200000);
  assert.equal(crypto.createHash('md5').update(onDisk).digest('hex'), sent);
  // and reads back the same through the share
  const back = await dav('md5 /new.bin');
  assert.deepEqual(back.words.slice(1), ['200', '1200000', sent]);
  assert.equal(s!.state, 'connected');
});

test('a frame no spice-webdavd writes (client id outside a C int), slipped into the real channel stream: BAD_MESSAGE, the webdav channel alone is lost, the session lives', async () => {
  const link = tap.links.filter((l) => l.type === ChannelType.WEBDAV).at(-1)!;
  const before = errors.length;
  link.inject(miniMsg(MsgSpicevmc.DATA, new Bytes().u64(1n << 40n).u16(3).raw([1, 2, 3]).build()));
  await until(() => errors.slice(before).some((e) => e.code === 'BAD_MESSAGE'), 'BAD_MESSAGE from the manager', 20000);
  await until(() => share!.entries()[0].state === 'waiting', 'the share without its channel', 20000);
  assert.match(share!.entries()[0].error ?? '', /^BAD_MESSAGE: .*webdav: client id 1099511627776 is no spice-webdavd id/);
  assert.equal(s!.state, 'connected');
  // the rest of the session still answers: the guest's console is reached through QEMU, the display channel is up
  assert.ok(s!.displays.size >= 1);
  await vm.command('ping', /^GUEST OK ping/, 20000);
});
