// The agent across seamless migrations, against the real spice-vdagentd /
// spice-vdagent (agent flavour of the test guest): in each migration, text
// moves guest → client and client → guest through the clipboard and a file
// goes client → guest while the client switches to the destination; all arrive
// whole (sha256 / md5 equal on both sides), once, and the agent is not reset.
// Our side of the agent state (tokens, the queue, a half-received message, the
// transfers) lives in the logical main channel and is snapshotted at the switch
// to show something really was in flight. Used by
// test/integration/agent-migration.test.ts (npm test: 5 MiB, stopped-VM moves)
// and test/soak/agent-migration.test.ts (24 MiB, live moves).
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startMigratableVm, startDestination, migrate, finishSource, serialAcross } from '../harness/migration';
import type { QemuVm } from '../harness/qemu';
import { AgentProbe } from '../harness/agent-probe';
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';
import type { AgentMigrationState } from '../../main/spice/agent/agent-channel';
import type { FileTransfer, TransferResult } from '../../main/spice/agent/file-xfer';
import { AgentMsg, ClipboardType, Selection, decodeClipboard, decodeClipboardGrab, decodeClipboardRequest } from '../../main/spice/agent/protocol';
import type { MigrationStatus } from '../../preload/contract';

const vms: QemuVm[] = [];
let s: Session | null = null;

/** Stops what the scenario started (the test file's after()). */
export async function stopAgentMigrationVms(): Promise<void> {
  s?.disconnect();
  for (const vm of vms.splice(0)) await vm.stop().catch(() => {});
}

/**
 * spice-server 0.15.1 aborts the source QEMU when it marshals the main channel's
 * migration data while it sits between two chunks of one agent → client message
 * (reds_marshall_migrate_data asserts it cannot be: read state READ_HEADER with
 * message bytes still to read). It happens when the VM stops while the guest
 * agent is writing a multi-chunk message (a large clipboard guest → client),
 * whatever the client: the server never asks the client anything there.
 */
const AGENT_ABORT = /reds_marshall_migrate_data: assertion `!agent_dev->priv->read_filter\.msg_data_to_read' failed/;

/** The source QEMU died of that spice-server assertion (not a client failure). */
export class SpiceServerAgentAbort extends Error {}

export interface AgentMigrationOptions {
  migrations: number;
  /** Clipboard bytes each way per migration. */
  clipBytes: number;
  /** A file client → guest per migration. */
  fileBytes: number;
  /** Moves of a VM stopped just before migrate (resumed on the destination) instead of live ones. */
  stopped?: boolean;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

export async function agentMigrationScenario(t: TestContext, o: AgentMigrationOptions): Promise<void> {
  const { migrations: MIGRATIONS, clipBytes: N, fileBytes: FILE_XFER_SIZE } = o;
  const src = await startMigratableVm({ agent: true, warmUp: true, name: 'agent-mig-src' });
  vms.push(src);
  const statuses: MigrationStatus[] = [];
  let atSwitch: AgentMigrationState | null = null;
  let inFlight = 0;
  let messagesAtSwitch: number | null = null;
  let xferAtSwitch: { sent: number; state: string } | null = null;
  let xfer: FileTransfer | null = null;
  let fileInFlight = 0;
  /** starts this round's transfers once the client reached the destination and QEMU migrates */
  let kick: (() => void) | null = null;
  const session = new Session({
    endpoint: { host: '127.0.0.1', port: src.spicePort },
    transport: defaultTransportFactory,
    onMigration: (m) => {
      statuses.push(m);
      if (m.phase === 'migrating' && kick) { kick(); kick = null; }
      if (m.phase === 'switching' || m.phase === 'done') {
        atSwitch ??= session.main.agent.migrationState();
        messagesAtSwitch ??= probe.messages.length;
        if (xfer) xferAtSwitch ??= { sent: xfer.sent, state: xfer.state };
      }
    },
  });
  s = session;
  const agent = session.main.agent;
  const ours = new Map<number, Uint8Array>();
  const probe = new AgentProbe(agent, (m) => {
    if (m.type !== AgentMsg.CLIPBOARD_REQUEST) return;
    const q = decodeClipboardRequest(agent.clipboardLayout, m.data);
    const data = ours.get(q.selection);
    agent.clipboardData(q.selection, data ? q.type : ClipboardType.NONE, data ?? new Uint8Array(0));
  });
  await session.connect();
  await probe.until('agent ready', () => agent.state === 'ready', 90000);

  // client → guest: own PRIMARY with a small text first and wait until xclip reads it (the grab has landed)
  const small = new TextEncoder().encode('small ✓\n');
  ours.set(Selection.PRIMARY, small);
  agent.clipboardGrab(Selection.PRIMARY, [ClipboardType.UTF8_TEXT]);
  for (const deadline = Date.now() + 60000; ;) {
    const r = await src.command('clipget primary', /^GUEST (OK|ERR) clipget/, 60000);
    if (r.includes(sha(small))) break;
    assert.ok(Date.now() < deadline, `the guest never read our PRIMARY: ${r}`);
    await new Promise((res) => setTimeout(res, 300));
  }
  const statesBefore = probe.states.length;
  let cur = src;
  for (let i = 0; i < MIGRATIONS; i++) {
    // client → guest: a different text each time
    const big = new TextEncoder().encode(`client → guest über migration ${i} ✓\n`.repeat(Math.ceil(N / 36))).subarray(0, N);
    ours.set(Selection.PRIMARY, big);
    // guest → client: the guest owns CLIPBOARD with N - i bytes (a new grab each time)
    const n = N - i;
    const from = probe.messages.length;
    const set = /OK clipset (\d+) ([0-9a-f]{64})/.exec(await cur.command(`clipset clipboard ${n}`, undefined, 60000))!;
    assert.equal(Number(set[1]), n);
    const grab = await probe.until('CLIPBOARD_GRAB', () => probe.messages.slice(from).find((m) => m.type === AgentMsg.CLIPBOARD_GRAB));
    assert.equal(decodeClipboardGrab(agent.clipboardLayout, grab.data).selection, Selection.CLIPBOARD);

    const dst = await startDestination(cur, { name: `agent-mig-${i + 1}` });
    vms.push(dst);
    // both transfers start when the client is on the destination and QEMU migrates:
    // they take seconds, the switch comes in between
    atSwitch = null;
    messagesAtSwitch = null;
    xferAtSwitch = null;
    const file = randomBytes(FILE_XFER_SIZE);
    const fileName = `migration-${i + 1}.bin`;
    const round: { file?: Promise<TransferResult> } = {};
    const at = probe.messages.length;
    const re = /^GUEST (OK|ERR) clipget/;
    const source = cur;
    let fromSrc: Promise<string | null> = Promise.resolve(null);
    const fromDst = dst.waitForSerial(re, 180000).then((r) => r.line).catch(() => null);
    kick = () => {
      agent.clipboardRequest(Selection.CLIPBOARD, ClipboardType.UTF8_TEXT);
      fromSrc = source.command('clipget primary', re, 180000).catch(() => null);
      xfer = session.main.files.start({ name: fileName, size: file.length, read: (o, max) => Promise.resolve(file.subarray(o, o + max)) });
      round.file = xfer.result;
    };
    await migrate(cur, dst, { stopped: !!o.stopped });
    assert.equal(kick, null, 'the transfers were started during the migration');
    let status: MigrationStatus | undefined;
    for (const deadline = Date.now() + 60000; !(status = statuses.filter((m) => m.phase === 'done' || m.phase === 'failed')[i]);) {
      assert.ok(Date.now() < deadline, `migration ${i + 1}: the client never finished`);
      await new Promise((res) => setTimeout(res, 20));
    }
    const abort = AGENT_ABORT.exec(cur.serverLog());
    if (status.phase !== 'done' && abort) throw new SpiceServerAgentAbort(`migration ${i + 1}: ${abort[0]}`);
    const tail = (vm: QemuVm) => vm.serverLog().trim().split('\n').slice(-8).join('\n  ');
    assert.equal(status.phase, 'done', `migration ${i + 1}: ${status.message}\n source QEMU:\n  ${tail(cur)}\n destination QEMU (${dst.ended}):\n  ${tail(dst)}`);
    assert.equal(status.mode, 'seamless');

    const clip = await probe.next(AgentMsg.CLIPBOARD, at, 180000);
    const got = decodeClipboard(agent.clipboardLayout, clip.data);
    assert.equal(got.data.length, n);
    assert.equal(sha(got.data), set[2], `migration ${i + 1}: guest → client, every byte once`);
    const reply = await Promise.any([fromSrc, fromDst].map((p) => p.then((r) => r ?? Promise.reject(new Error('no reply'))))).catch(() => {
      const lines = serialAcross(vms, 0).filter((l) => /AGENT|clip/.test(l)).slice(-25).join('\n');
      const types = probe.messages.slice(at).map((m) => m.type).join(',');
      assert.fail(`migration ${i + 1}: no clipget reply; agent ${JSON.stringify(agent.migrationState())}; messages since the request ${types}\n${lines}`);
    });
    const get = /OK clipget (\d+) ([0-9a-f]{64})/.exec(reply);
    assert.ok(get, reply);
    assert.equal(Number(get[1]), N);
    assert.equal(get[2], sha(big), `migration ${i + 1}: client → guest, every byte once`);

    assert.ok(round.file, 'the file transfer was started during the migration');
    const fr = await round.file;
    assert.ok(fr.ok, `migration ${i + 1}: file transfer ${fr.ok ? '' : `${fr.error.code}: ${fr.error.message}`}`);
    const fileReply = await dst.command(`filemd5 ${fileName}`, undefined, 60000);
    assert.match(fileReply, new RegExp(`OK filemd5 ${file.length} ${md5(file)} `), `migration ${i + 1}: the file, every byte once`);
    await dst.command('fileclear');
    const xs = xferAtSwitch as { sent: number; state: string } | null;
    t.diagnostic(`migration ${i + 1}: file transfer at the switch ${JSON.stringify(xs)}`);
    if (xs && xs.state !== 'done' && xs.state !== 'failed') fileInFlight++;
    xfer = null;

    const snap = atSwitch as AgentMigrationState | null;
    assert.ok(snap, 'agent state seen at the switch');
    t.diagnostic(`migration ${i + 1}: agent at the switch ${JSON.stringify(snap)}`);
    // in flight: requested before the switch, completed after it (bytes in our queue or
    // reassembly, in the servers' buffers and MIGRATE_DATA, or in the guest at that moment)
    if (probe.messages.indexOf(clip) >= (messagesAtSwitch ?? Infinity) || snap.partial !== null || snap.queuedChunks > 0) inFlight++;
    assert.ok((await finishSource(cur)).completed, `migration ${i + 1}: source SPICE_MIGRATE_COMPLETED`);
    cur = dst;
  }
  // the switch lands somewhere inside transfers of seconds: most switches must have caught one
  assert.ok(inFlight >= 3, `agent traffic in flight at ${inFlight} of ${MIGRATIONS} switches`);
  assert.ok(fileInFlight >= 3, `a file transfer in flight at ${fileInFlight} of ${MIGRATIONS} switches`);
  assert.ok(!probe.states.slice(statesBefore).includes('absent'), `no agent reset: ${probe.states.join(',')}`);
  assert.equal(agent.state, 'ready');
  assert.deepEqual(probe.errors, []);
}
