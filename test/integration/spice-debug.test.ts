// --spice-debug against QEMU: the logger the shells build from the command
// line (announcePlan) prints remote-viewer-style protocol steps on stderr —
// each channel's dial and link with caps, and every message both ways by its
// SPICE name; without the switch nothing of it is printed.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { QemuVm } from '../harness/qemu';
import { planLaunch } from '../../main/app/launch';
import { announcePlan, type Terminal } from '../../main/app/terminal';
import { endpointFromConfig } from '../../main/config/endpoint';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';

let vm: QemuVm | undefined;
after(async () => {
  await vm?.stop();
});

async function run(args: string[]): Promise<string> {
  const plan = await planLaunch([...args, `spice://127.0.0.1:${vm!.spicePort}`]);
  assert.equal(plan.kind, 'run');
  if (plan.kind !== 'run') return '';
  let err = '';
  const term: Terminal = { out: () => {}, err: (t) => (err += t) };
  const log = announcePlan(plan, term);
  const { endpoint } = await endpointFromConfig(plan.config);
  let painted!: () => void;
  const firstPicture = new Promise<void>((r) => (painted = r));
  const s = new Session({ endpoint, transport: defaultTransportFactory, log, onDisplay: () => painted() });
  await s.connect();
  await firstPicture; // the display's SURFACE_CREATE has reached us
  s.disconnect();
  return err;
}

test('--spice-debug prints every link step and message by name; without it, none', async () => {
  vm = await QemuVm.start({ name: 'spice-debug' });
  const traced = await run(['--spice-debug']);
  const lines = traced.split('\n').filter((l) => l.startsWith('spice: '));
  for (const want of [
    /^spice: main: dialling 127\.0\.0\.1:\d+; connection id 0, our caps /,
    /^spice: main: linked \(mini header\), server common caps 0x[0-9a-f]+, channel caps 0x[0-9a-f]+$/,
    /^spice: main << INIT \(\d+ bytes\)$/,
    /^spice: main << CHANNELS_LIST \(\d+ bytes\)$/,
    /^spice: main >> ATTACH_CHANNELS \(0 bytes\)$/,
    /^spice: display 0: linked /,
    /^spice: display 0 >> INIT \(\d+ bytes\)$/,
    /^spice: display 0 << SURFACE_CREATE \(\d+ bytes\)$/,
    /^spice: inputs 0 << INIT \(\d+ bytes\)$/,
  ]) {
    assert.ok(lines.some((l) => want.test(l)), `no line like ${want} in:\n${lines.slice(0, 40).join('\n')}`);
  }
  const quiet = await run([]);
  assert.ok(!quiet.includes('spice: '), `no protocol trace without --spice-debug: ${quiet.slice(0, 200)}`);
});
