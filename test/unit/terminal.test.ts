// The shells' net under unobserved rejections: said on the terminal, the process stays up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { surviveUnobservedRejections } from '../../main/app/terminal';
import { SpiceError } from '../../main/spice/wire/errors';

test('an unobserved rejection is reported with its code', () => {
  const proc = new EventEmitter();
  const err: string[] = [];
  surviveUnobservedRejections(proc as unknown as NodeJS.Process, { out: () => {}, err: (t) => err.push(t) });
  proc.emit('unhandledRejection', new SpiceError('CLOSED', 'main (destination): server closed the connection'));
  assert.equal(err.length, 1);
  assert.match(err[0], /internal error, an unobserved failure .*SpiceError: main \(destination\): server closed the connection \(CLOSED\)/);
});

test('a real Node process with the net installed survives an unobserved rejection (without it, exit 1)', () => {
  const mod = new URL('../../main/app/terminal.ts', import.meta.url).pathname;
  const script = (install: boolean) =>
    `${install ? `const { surviveUnobservedRejections } = await import(${JSON.stringify(mod)}); surviveUnobservedRejections();` : ''}
     Promise.reject(new Error('nobody listens'));
     await new Promise((r) => setTimeout(r, 50));
     process.stdout.write('still up');`;
  const run = (install: boolean) => spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(install)], { encoding: 'utf8', timeout: 30_000 });
  const withNet = run(true);
  assert.equal(withNet.status, 0, withNet.stderr);
  assert.equal(withNet.stdout, 'still up');
  assert.match(withNet.stderr, /unobserved failure .*nobody listens/);
  const without = run(false);
  assert.equal(without.status, 1, 'plain Node ends on it');
});
