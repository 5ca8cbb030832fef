// Kiosk reconnect policy: the back-off ladder (1 s doubling to 30 s, jitter),
// the slow ladder for auth / taken-over, and the scheduler on a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_BACKOFF, ReconnectScheduler, backoffDelay } from '../../../main/app/reconnect';
import { FakeClock } from './fake-clock';

const mid = (): number => 0.5; // jitter factor exactly 1

test('back-off: 1 s doubling, capped at 30 s', () => {
  const got = [1, 2, 3, 4, 5, 6, 7, 20, 1000].map((n) => backoffDelay(n, 'network', DEFAULT_BACKOFF, mid));
  assert.deepEqual(got, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
});

test('back-off: jitter stays within ±20 % and the cap', () => {
  for (const r of [0, 0.25, 0.999]) {
    for (let n = 1; n <= 8; n++) {
      const base = Math.min(30000, 1000 * 2 ** (n - 1));
      const d = backoffDelay(n, 'vm-stopped', DEFAULT_BACKOFF, () => r);
      assert.ok(d >= Math.floor(base * 0.8) && d <= Math.ceil(base * 1.2), `attempt ${n} random ${r}: ${d} vs base ${base}`);
    }
  }
  assert.equal(backoffDelay(1, 'network', DEFAULT_BACKOFF, () => 0), 800);
  assert.equal(backoffDelay(1, 'network', DEFAULT_BACKOFF, () => 1), 1200);
});

test('back-off: a rejected password or a take-over waits much longer', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 'auth', DEFAULT_BACKOFF, mid)), [30000, 60000, 120000, 240000, 300000, 300000]);
  assert.equal(backoffDelay(1, 'taken-over', DEFAULT_BACKOFF, mid), 30000);
  assert.equal(backoffDelay(1, 'server-closed', DEFAULT_BACKOFF, mid), 1000);
});

test('scheduler: attempts fire on the fake clock, the ladder climbs, cancel stops it', () => {
  const clock = new FakeClock();
  const s = new ReconnectScheduler(clock, DEFAULT_BACKOFF, mid);
  const fired: number[] = [];
  const t0 = clock.now();
  let plan = s.schedule('network', () => fired.push(clock.now() - t0));
  assert.deepEqual({ attempt: plan.attempt, delay: plan.delayMs, at: plan.at - t0 }, { attempt: 1, delay: 1000, at: 1000 });
  clock.advance(999);
  assert.deepEqual([...fired], []);
  clock.advance(1);
  assert.deepEqual([...fired], [1000]);
  assert.equal(s.pending, null);
  plan = s.schedule('network', () => fired.push(clock.now() - t0));
  assert.equal(plan.delayMs, 2000);
  clock.advance(2000);
  assert.deepEqual([...fired], [1000, 3000]);
  plan = s.schedule('network', () => fired.push(-1));
  assert.equal(plan.attempt, 3);
  s.cancel();
  clock.advance(60_000);
  assert.deepEqual([...fired], [1000, 3000], 'cancelled attempt never runs');
  assert.equal(clock.pending, 0);
});

test('scheduler: a session that stayed up resets the ladder; a short one does not', () => {
  const clock = new FakeClock();
  const s = new ReconnectScheduler(clock, DEFAULT_BACKOFF, mid, 10_000);
  for (let i = 0; i < 4; i++) {
    s.schedule('network', () => {});
    clock.advance(60_000);
  }
  s.connected();
  clock.advance(2_000); // up for 2 s only: flapping
  assert.equal(s.schedule('network', () => {}).attempt, 5);
  clock.advance(60_000);
  s.connected();
  clock.advance(10_000);
  const p = s.schedule('server-closed', () => {});
  assert.deepEqual([p.attempt, p.delayMs], [1, 1000]);
  s.reset();
  assert.equal(s.attempts, 0);
  assert.equal(clock.pending, 0);
});

test('scheduler: another reason starts its own ladder', () => {
  const clock = new FakeClock();
  const s = new ReconnectScheduler(clock, DEFAULT_BACKOFF, mid);
  for (let i = 0; i < 3; i++) s.schedule('vm-stopped', () => {});
  assert.equal(s.attempts, 3);
  const p = s.schedule('taken-over', () => {});
  assert.deepEqual([p.attempt, p.delayMs], [1, 30000]);
  assert.equal(s.schedule('taken-over', () => {}).delayMs, 60000);
});
