// npm run bench:agent — the guest agent path against Debian's real
// spice-vdagentd + spice-vdagent 0.22.1 (agent flavour of the test guest,
// QEMU TCG, one vCPU):
//  - file transfer client → guest: a SIZE_MB file (default 20) through
//    FileTransfers, timed from start() to the agent's SUCCESS (sent once
//    spice-vdagent has written the last byte), md5 checked in the guest;
//  - clipboard round trip client → guest → client, 1 KiB and 1 MiB: we grab
//    CLIPBOARD and answer the agent's request; the guest's `clipecho` reads the
//    selection (xclip -o) and owns it again with the same bytes (xclip -i), the
//    agent grabs, we request and receive our bytes back (sha256 equal). Timed
//    from our grab to the data's return; two xclip runs in the TCG guest and a
//    serial command are part of it. The guest → client leg (agent's grab → our
//    data) is printed apart.
// Figures only, no assertions on time. Env: SIZE_MB, RUNS (default 3).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { QemuVm } from '../harness/qemu';
import { AgentProbe } from '../harness/agent-probe';
import { createClient, type TestClient } from '../helpers/client';
import { fileSource } from '../helpers/file-source';
import { AgentMsg, ClipboardType, Selection, decodeClipboard, decodeClipboardGrab, decodeClipboardRequest } from '../../main/spice/agent/protocol';

const SIZE_MB = Number(process.env.SIZE_MB ?? 20);
const RUNS = Number(process.env.RUNS ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-bench-'));
let vm: QemuVm | null = null;
let client: TestClient | null = null;
try {
  vm = await QemuVm.start({ name: 'agent-bench', agent: true });
  await vm.waitForSerial(/agent started/, 60000);
  const c = createClient({ host: '127.0.0.1', port: vm.spicePort });
  client = c;
  const agent = c.session.main.agent;
  /** What we answer the agent's CLIPBOARD_REQUESTs with. */
  let ours = new Uint8Array(0);
  const probe = new AgentProbe(agent, (m) => {
    if (m.type !== AgentMsg.CLIPBOARD_REQUEST) return;
    const q = decodeClipboardRequest(agent.clipboardLayout, m.data);
    agent.clipboardData(q.selection, q.type, ours);
  });
  await c.session.connect();
  await probe.until('agent ready', () => agent.state === 'ready', 90000);

  // ---- file transfer
  const bytes = randomBytes(SIZE_MB << 20);
  const file = path.join(dir, 'bench.bin');
  fs.writeFileSync(file, bytes);
  const rates: number[] = [];
  let peakQueue = 0;
  for (let run = 0; run < RUNS; run++) {
    const src = await fileSource(file);
    const progress = src.onProgress!;
    src.onProgress = (p) => {
      peakQueue = Math.max(peakQueue, agent.queuedBytes);
      progress(p);
    };
    const t0 = performance.now();
    const r = await c.session.main.files.start(src).result;
    const ms = performance.now() - t0;
    await src.close();
    if (!r.ok) throw r.error;
    const reply = await vm.command('filemd5 bench.bin', undefined, 60000);
    if (!reply.includes(` ${bytes.length} ${md5(bytes)} `)) throw new Error(`the guest's copy differs: ${reply}`);
    await vm.command('fileclear');
    rates.push(bytes.length / 1e6 / (ms / 1000));
  }
  console.log(`file transfer client → guest, ${SIZE_MB} MiB, ${RUNS} runs (start → agent SUCCESS, md5 equal in the guest):`);
  console.log(`  median ${median(rates).toFixed(1)} MB/s  (runs: ${rates.map((x) => x.toFixed(1)).join(', ')}); agent queue peak ${peakQueue} bytes`);

  // ---- clipboard round trip
  // the agent's grab is answered at once (not after the serial reply), so the figure is the agent path's
  let echo: { grabAt: number; resolve: (r: { data: Uint8Array; grabAt: number; at: number }) => void } | null = null;
  agent.listen({
    onMessage: (m) => {
      if (!echo) return;
      if (m.type === AgentMsg.CLIPBOARD_GRAB && decodeClipboardGrab(agent.clipboardLayout, m.data).selection === Selection.CLIPBOARD) {
        echo.grabAt = performance.now();
        agent.clipboardRequest(Selection.CLIPBOARD, ClipboardType.UTF8_TEXT);
      } else if (m.type === AgentMsg.CLIPBOARD && echo.grabAt) {
        const e = echo;
        echo = null;
        e.resolve({ data: decodeClipboard(agent.clipboardLayout, m.data).data, grabAt: e.grabAt, at: performance.now() });
      }
    },
  });
  console.log(`clipboard round trip client → guest → client (${RUNS} runs each):`);
  for (const n of [1024, 1 << 20]) {
    const total: number[] = [];
    const back: number[] = [];
    let retries = 0;
    while (total.length < RUNS) {
      // text the guest cannot already hold: fresh random text each run
      ours = new TextEncoder().encode(randomBytes(n).toString('base64').slice(0, n));
      const want = sha(ours);
      const returned = new Promise<{ data: Uint8Array; grabAt: number; at: number }>((resolve) => (echo = { grabAt: 0, resolve }));
      const t0 = performance.now();
      agent.clipboardGrab(Selection.CLIPBOARD, [ClipboardType.UTF8_TEXT]);
      const reply = await vm.command('clipecho clipboard', /^GUEST (OK|ERR) clipecho/, 60000);
      // our grab may not have reached spice-vdagent before xclip asked X: no owner yet (ERR), or the old text
      if (!reply.includes(want)) {
        echo = null;
        if (++retries > 20) throw new Error(`clipecho never returned our text: ${reply}`);
        continue;
      }
      const r = await Promise.race([returned, new Promise<null>((res) => setTimeout(() => res(null), 60000))]);
      if (!r) throw new Error(`no echo of ${n} bytes from the agent (guest: ${reply})`);
      if (sha(r.data) !== want) throw new Error(`${n} bytes came back different (${r.data.length} bytes)`);
      total.push(r.at - t0);
      back.push(r.at - r.grabAt);
    }
    const label = n >= 1 << 20 ? `${n >> 20} MiB` : `${n >> 10} KiB`;
    console.log(`  ${label.padEnd(6)} round trip median ${median(total).toFixed(0)} ms (runs: ${total.map((x) => x.toFixed(0)).join(', ')}); ` +
      `guest → client leg (agent grab → data) median ${median(back).toFixed(0)} ms${retries ? `; ${retries} stale echo(es) retried` : ''}`);
  }
} finally {
  client?.session.disconnect();
  await vm?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
