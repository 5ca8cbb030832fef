// MONITORS_CONFIG against Debian's real spice-vdagentd 0.22.1: our request
// (exactly 8 + 20 n bytes) is accepted and reaches the session agent, which
// resizes the guest's X screen (Xvfb under RandR).
// The VM uses -vga std: with the qxl device, spice-server hands MONITORS_CONFIG
// to QXLInterface::client_monitors_config (the guest's qxl DRM driver) and the
// agent never sees it; with a display that cannot take it, spice-server
// forwards the message to the agent, the path this test exercises.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { QemuVm } from '../harness/qemu';
import { AgentProbe, startAgentClient } from '../harness/agent-probe';
import type { TestClient } from '../helpers/client';
import { AgentMsg, AgentReplyResult, decodeReply } from '../../main/spice/agent/protocol';

let vm: QemuVm;
let client: TestClient;
let probe: AgentProbe;

before(async () => {
  ({ vm, client, probe } = await startAgentClient({ name: 'agent-monitors', extraArgs: ['-vga', 'std'] }));
});

after(async () => {
  client?.session.disconnect();
  await vm?.stop();
});

for (const [w, h] of [[1280, 800], [1600, 900]]) {
  test(`MONITORS_CONFIG ${w}x${h}: spice-vdagentd replies SUCCESS and the guest's X screen becomes ${w}x${h}`, async () => {
    const agent = client.session.main.agent;
    const from = vm.serialLines().length;
    const at = probe.messages.length;
    agent.monitorsConfig([{ width: w, height: h, depth: 32, x: 0, y: 0 }]);
    const reply = decodeReply((await probe.next(AgentMsg.REPLY, at, 30000)).data);
    assert.deepEqual(reply, { type: AgentMsg.MONITORS_CONFIG, error: AgentReplyResult.SUCCESS });
    // the daemon passed the 28-byte config on; the session agent reports the new resolution
    await vm.waitForSerial(/GUEST AGENTD .*sent monitors config, arg1: 0, arg2: 0, size 28/, 30000, from);
    await vm.waitForSerial(new RegExp(`GUEST AGENT .*display_id=0 - ${w}x${h}\\+0\\+0`), 30000, from);
    assert.ok(!vm.serialLines().slice(from).some((l) => /invalid message size/.test(l)), 'no size complaint from the daemon');
    assert.deepEqual(probe.errors, []);
  });
}
