// Checks on a real Session shared by the transport integration tests: the
// SpiceError a connect fails with, and the session's channels as the server
// lists them (QMP query-spice; the connection id printed signed, so >>> 0).
import assert from 'node:assert/strict';
import type { QemuVm } from '../harness/qemu';
import type { Session } from '../../main/spice/session';
import { SpiceError } from '../../main/spice/wire/errors';

/** The SpiceError s.connect() rejects with; fails the test if it connects. */
export async function connectFails(s: Session): Promise<SpiceError> {
  try {
    await s.connect();
  } catch (e) {
    assert.ok(e instanceof SpiceError, String(e));
    return e;
  }
  assert.fail('connect succeeded');
}

export interface ServerChannel {
  'connection-id': number;
  'channel-type': number;
  tls: boolean;
}

/** The server's channels of this session, polled (5 s deadline) until every channel the client linked is listed. */
export async function serverChannels(vm: QemuVm, s: Session): Promise<ServerChannel[]> {
  const want = s.channels().length;
  const deadline = Date.now() + 5_000;
  for (;;) {
    const mine = ((await vm.querySpice()).channels as ServerChannel[]).filter((c) => c['connection-id'] >>> 0 === s.connectionId);
    if (mine.length >= want || Date.now() > deadline) return mine;
    await new Promise((r) => setTimeout(r, 100));
  }
}
