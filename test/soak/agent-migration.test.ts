// Seamless migration with agent traffic in flight, against the real
// spice-vdagentd/spice-vdagent (agent flavour of the test guest), five times in
// a row: 24 MiB of clipboard text guest → client and 24 MiB client → guest are
// moving when the client switches to the destination; both arrive whole
// (sha256 equal on both sides), and the agent is not reset. A file transfer
// client → guest (FileTransfers, FILE_XFER_SIZE) runs alongside them and must
// arrive in the guest with the same md5 and size: a block sent twice or lost
// at the switch would show there (spice-vdagent fails a file that overflows).
// Our side of the agent state (tokens, the queue, a half-received message, the
// transfers) lives in the logical main channel and is snapshotted at the
// switch to show something really was in flight.
// In test/soak (npm run test:soak), not npm test: ~2.5 min, and one run of an
// earlier 5 MiB version hung once at the 4th migration (the guest's xclip never
// got its data; cause not found yet) — the failure message now carries the
// agent state and the guest's agent log for the next look. With the file
// transfer added: 1 run of 2 failed at the 3rd migration when the guest's
// spice-vdagentd aborted with "malloc(): smallbin double linked list corrupted"
// right after taking the 24 MiB clipboard from spice-vdagent (the agent went
// away, so the client saw AGENT_DISCONNECTED); heap corruption in a guest
// process after live TCG migrations, as warmUp() describes for the kernel —
// not shown to be caused by the client, not shown not to be either.
import { test, after } from 'node:test';
import { agentMigrationScenario, stopAgentMigrationVms } from '../helpers/agent-migration';

after(stopAgentMigrationVms);

test('5 live seamless migrations, each while 24 MiB of clipboard moves each way and an 8 MiB file goes to the guest: all arrive whole and once, no agent reset', (t) =>
  agentMigrationScenario(t, { migrations: 5, clipBytes: 24 << 20, fileBytes: 8 << 20 }));
