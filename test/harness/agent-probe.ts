// Watches a session's agent (main channel AgentChannel) for tests: records the
// states, messages and errors it reports and waits on them with a deadline.
import type { AgentChannel, AgentState } from '../../main/spice/agent/agent-channel';
import type { AgentMessage } from '../../main/spice/agent/agent-stream';
import type { SpiceError } from '../../main/spice/wire/errors';
import { QemuVm, type QemuOptions } from './qemu';
import { createClient, type TestClient } from '../helpers/client';

export class AgentProbe {
  readonly states: AgentState[] = [];
  readonly messages: AgentMessage[] = [];
  readonly errors: SpiceError[] = [];
  private waiters: (() => void)[] = [];

  constructor(readonly agent: AgentChannel, private readonly onMessage?: (m: AgentMessage) => void) {
    agent.listen({
      onState: (s) => { this.states.push(s); this.wake(); },
      onMessage: (m) => { this.messages.push(m); this.onMessage?.(m); this.wake(); },
      onError: (e) => { this.errors.push(e); this.wake(); },
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with what `check` returns once it is truthy; re-checked on every agent event. */
  until<T>(what: string, check: () => T | undefined | null | false, timeoutMs = 60000): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`agent: ${what} not seen within ${timeoutMs} ms (states ${this.states.join(',')}, ` +
          `messages ${this.messages.map((m) => m.type).join(',')}, errors ${this.errors.map((e) => e.message).join('; ')})`));
      }, timeoutMs);
      const test = (): void => {
        const v = check();
        if (v) { clearTimeout(timer); resolve(v); } else this.waiters.push(test);
      };
      test();
    });
  }

  /** The next message of `type` after index `from` (messages.length at the call by default). */
  next(type: number, from = this.messages.length, timeoutMs = 60000): Promise<AgentMessage> {
    return this.until(`agent message ${type}`, () => this.messages.slice(from).find((m) => m.type === type), timeoutMs);
  }
}

/** An agent guest (Debian's spice-vdagent under Xvfb), our client connected, its agent ready. */
export async function startAgentClient(opts: QemuOptions): Promise<{ vm: QemuVm; client: TestClient; probe: AgentProbe }> {
  const vm = await QemuVm.start({ ...opts, agent: true });
  const client = createClient({ host: '127.0.0.1', port: vm.spicePort });
  try {
    await vm.waitForSerial(/agent started/, 60000);
    const probe = new AgentProbe(client.session.main.agent);
    await client.session.connect();
    await probe.until('agent ready', () => client.session.main.agent.state === 'ready', 90000);
    return { vm, client, probe };
  } catch (e) {
    client.session.disconnect();
    await vm.stop();
    throw e;
  }
}
