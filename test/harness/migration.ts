// SPICE live-migration harness: QEMUs configured like a migratable SPICE VM
// (qxl, the org.spice.test.0 test port, spice audio, seamless-migration,
// MIGRATION events), destinations waiting with -incoming, and the QMP order a
// management layer must follow (libvirt's): client_migrate_info → the client
// reaches the destination (its SPICE_INITIALIZED events) + a margin → migrate →
// completed and destination running; the source is shut down only after
// SPICE_MIGRATE_COMPLETED (spice-server sends the client its last messages until then).
// With resumeAfterClient the destination runs only after that event (smartcards:
// see MigrateOptions.resumeAfterClient).
import { QemuVm, freePort, type QemuOptions } from './qemu';

export { TEST_PORT_NAME } from './qemu';

export interface MigrationOptions {
  /** seamless-migration=on (default true) */
  seamless?: boolean;
  password?: string;
  /** destination's SPICE password (default: the source's) */
  dstPassword?: string;
  extraArgs?: string[];
  /** appended to -spice */
  spiceExtra?: string;
  /** backend of the test port: 'spiceport' (default) or 'socket' (unix socket at vm.testPortPath) */
  testPort?: 'spiceport' | 'socket';
  /** G_MESSAGES_DEBUG=all: spice-server's debug log lands in vm.serverLog() */
  serverDebug?: boolean;
  name?: string;
  /**
   * migration max-bandwidth in bytes/s (default 1 GiB/s: the ~100 MB of guest
   * pages move in ~0.2 s instead of QEMU's 128 MiB/s ~2.5 s); a destination
   * inherits the source's value so it can migrate on.
   */
  maxBandwidth?: number;
  /**
   * Return a VM that has already been migrated once (no client attached),
   * booting again if that first migration crashed the guest. See warmUp().
   */
  warmUp?: boolean;
  /** the agent flavour of the guest with its vdagent port (QemuOptions.agent) */
  agent?: boolean;
  /** usb-redir devices on spicevmc usbredir chardevs (QemuOptions.usbRedirChannels); destinations copy it */
  usbRedirChannels?: number;
  /**
   * The sound flavour of the guest (QemuOptions.sound: aplay/arecord, `tone`, `avsync`) on
   * QemuVm's SOUND_ARGS (intel-hda) instead of the default ich9-intel-hda; destinations copy it.
   */
  sound?: boolean;
}

export interface MigrateOptions {
  /** destination SPICE_INITIALIZED events to wait for (default: the source's query-spice channel count) */
  clientChannels?: number;
  /** wait for the client on the destination before `migrate` (default true) */
  waitForClient?: boolean;
  /** pause after the client reached the destination (default 500 ms when waiting for ≥ 1 channel) */
  marginMs?: number;
  /** limit for each wait (default 30 s) */
  timeoutMs?: number;
  /**
   * Stop the source just before `migrate` and `cont` the destination once it
   * has the state (still seamless for SPICE; avoids the TCG live-migration
   * guest corruption described at warmUp(), and QEMU 7.2 TCG's corruption of a
   * guest reading a USB disk during a *live* migration: issue 10).
   */
  stopped?: boolean;
  /**
   * With `stopped`: runs after the source stopped and before `migrate` (a test lets
   * what the stopped VM's devices still wait for reach them before their state is saved).
   */
  afterStop?: () => Promise<void>;
  /**
   * A live migration whose destination stays paused (QMP `stop` while it is
   * inmigrate turns QEMU's autostart off) until the client has moved every
   * channel (the source's SPICE_MIGRATE_COMPLETED), then `cont`. QEMU 7.2
   * loses a VSCard message that ccid-card-passthru writes while the
   * destination's spice-server still waits for the client's smartcard
   * MIGRATE_DATA (it refuses device reads until then, the spicevmc chardev
   * write returns 0 and passthru ignores the short write): a guest that starts
   * a smartcard exchange in that window waits forever for its answer. With
   * stopped, the destination is likewise continued only after the client moved.
   */
  resumeAfterClient?: boolean;
}

export interface MigrateResult {
  /** client_migrate_info → the last awaited destination SPICE_INITIALIZED (0 when not waited for) */
  spiceInitializedMs: number;
  /** `migrate` → MIGRATION completed on the source */
  migrateMs: number;
  /** Date.now() at completion */
  completedAt: number;
  /** distinct connection-ids of the destination's query-spice channels after the migration */
  dstConnectionIds: number[];
  /**
   * The guest's own gap: the source's STOP and the destination's RESUME, as epoch ms
   * from QEMU's event timestamps (the VM runs nowhere in between).
   */
  vmStoppedAt: number;
  vmResumedAt: number;
}

/** A QMP event's timestamp as epoch ms. */
function eventMs(ev: any): number {
  return ev.timestamp.seconds * 1000 + ev.timestamp.microseconds / 1000;
}

const AUDIO = ['-audiodev', 'spice,id=snd0', '-device', 'ich9-intel-hda', '-device', 'hda-duplex,audiodev=snd0'];
const SEAMLESS_RE = /(^|,)seamless-migration=(on|off)/;
const DEBUG_ENV = { G_MESSAGES_DEBUG: 'all' };

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function setSeamless(spiceExtra: string | undefined, on: boolean): string {
  const flag = `seamless-migration=${on ? 'on' : 'off'}`;
  if (!spiceExtra) return flag;
  return SEAMLESS_RE.test(spiceExtra) ? spiceExtra.replace(SEAMLESS_RE, `$1${flag}`) : `${flag},${spiceExtra}`;
}

const DEFAULT_BANDWIDTH = 1024 * 1024 * 1024;

async function prepareMigration(vm: QemuVm, maxBandwidth: number): Promise<void> {
  // MIGRATION events are only emitted with this capability
  await vm.qmp.execute('migrate-set-capabilities', { capabilities: [{ capability: 'events', state: true }] });
  await vm.qmp.execute('migrate-set-parameters', { 'max-bandwidth': maxBandwidth });
}

/**
 * Boots a migration source: QXL, the test port (spiceport org.spice.test.0 unless
 * testPort: 'socket'), spice audio (ich9-intel-hda + hda-duplex), streaming-video=off
 * (unless spiceExtra sets streaming-video),
 * seamless-migration=on unless seamless: false, MIGRATION events on.
 */
export async function startMigratableVm(opts: MigrationOptions = {}): Promise<QemuVm> {
  const extra = opts.spiceExtra?.replace(/^,/, '');
  // streaming-video=off unless the caller sets it
  const streaming = /(^|,)streaming-video=/.test(extra ?? '') ? [] : ['streaming-video=off'];
  const spiceExtra = setSeamless([...streaming, extra].filter(Boolean).join(','), opts.seamless ?? true);
  const qopts: QemuOptions = {
    password: opts.password,
    spiceExtra,
    testPort: opts.testPort ?? 'spiceport',
    // the sound guest gets QemuVm's own SOUND_ARGS (same audiodev id)
    extraArgs: [...(opts.sound ? [] : AUDIO), ...(opts.extraArgs ?? [])],
    ...(opts.sound ? { sound: true } : {}),
    name: opts.name ?? 'mig-src',
    env: opts.serverDebug ? DEBUG_ENV : undefined,
    agent: opts.agent,
    ...(opts.usbRedirChannels ? { usbRedirChannels: opts.usbRedirChannels } : {}),
  };
  const failures: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const vm = await QemuVm.start(qopts);
    try {
      await prepareMigration(vm, opts.maxBandwidth ?? DEFAULT_BANDWIDTH);
    } catch (e) {
      await vm.stop();
      throw e;
    }
    if (!opts.warmUp) return vm;
    const warm = await warmUp(vm, opts.maxBandwidth ?? DEFAULT_BANDWIDTH);
    if (typeof warm !== 'string') return warm;
    failures.push(warm);
    if (attempt >= WARM_UP_ATTEMPTS) throw new Error(`warm-up migration failed ${attempt} times in a row: ${failures.join(' | ')}`);
  }
}

const WARM_UP_ATTEMPTS = 3;

/**
 * QEMU 7.2 TCG on this host: the first *live* migration of a freshly booted VM
 * is ~10x slower than any later one (1.3–1.7 s with 4 dirty-bitmap syncs, against
 * 0.13 s for the same ~100 MB), and after it the guest kernel often crashes with
 * memory corruption (NULL dereferences, LIST_POISON, corrupted stacks, wedged
 * virtio rings) — with or without a SPICE client; some runs 3 boots in a row.
 * Tests about the client migrate VMs that already moved once: this moves vm
 * with the VM *stopped* (no dirty tracking involved, nothing to corrupt), starts
 * the destination, and returns it — or why it failed (both VMs stopped then).
 */
export async function warmUp(vm: QemuVm, maxBandwidth = DEFAULT_BANDWIDTH): Promise<QemuVm | string> {
  let dst: QemuVm | null = null;
  let why: string;
  try {
    // MIGRATION events on and full speed for this move; the test's own bandwidth is restored on the destination
    await prepareMigration(vm, DEFAULT_BANDWIDTH);
    dst = await startDestination(vm, { name: vm.options.name });
    const srcMark = vm.qmp.events.length;
    const dstMark = dst.qmp.events.length;
    dst.continueSerialFrom(vm);
    await vm.qmp.execute('stop');
    await vm.qmp.execute('migrate', { uri: dst.migration.incomingUri });
    await migrationCompleted(vm, srcMark, 30000);
    await vm.stop();
    // a stopped source leaves the destination paused (QEMU migrates the run state)
    await dst.qmp.waitEvents('MIGRATION', 1, 30000, (ev) => ev.data?.status === 'completed', dstMark);
    await dst.qmp.execute('cont');
    await dst.qmp.waitEvents('RESUME', 1, 10000, undefined, dstMark);
    // a command round trip proves the guest alive
    await sleep(300);
    await dst.command('ping', undefined, 5000);
    const crash = guestCrash(dst);
    if (!crash) {
      await dst.qmp.execute('migrate-set-parameters', { 'max-bandwidth': maxBandwidth });
      return dst;
    }
    why = `guest crashed: ${crash}`;
  } catch (e) {
    why = (dst && guestCrash(dst)) ?? (e as Error).message;
  }
  await vm.stop();
  await dst?.stop();
  return why;
}

/** Waits for the source's migration (started after event index mark) to end; throws unless it completed. */
async function migrationCompleted(src: QemuVm, mark: number, timeoutMs: number): Promise<void> {
  const [end] = await src.qmp.waitEvents('MIGRATION', 1, timeoutMs,
    (ev) => ['completed', 'failed', 'cancelled'].includes(ev.data?.status), mark);
  if (end.data.status !== 'completed') {
    const info = await src.qmp.execute('query-migrate').catch(() => ({}));
    throw new Error(`migration ${end.data.status}${info['error-desc'] ? `: ${info['error-desc']}` : ''}`);
  }
}

/**
 * Starts a destination with the source's machine options and `-incoming defer`,
 * then `migrate-incoming tcp:127.0.0.1:<free port>` (retried on a taken port).
 * opts may change the password (dstPassword), seamless flag, debug log and bandwidth.
 */
export async function startDestination(src: QemuVm, opts: MigrationOptions = {}): Promise<QemuVm> {
  const base = src.options;
  const env = opts.serverDebug ? { ...(base.env ?? {}), ...DEBUG_ENV } : base.env;
  const qopts: QemuOptions = {
    ...base,
    incoming: 'defer',
    password: opts.dstPassword ?? opts.password ?? base.password,
    spiceExtra: opts.seamless === undefined ? base.spiceExtra : setSeamless(base.spiceExtra, opts.seamless),
    name: opts.name ?? 'mig-dst',
    env,
  };
  const dst = await QemuVm.start(qopts);
  try {
    const bw = opts.maxBandwidth ?? (await src.qmp.execute('query-migrate-parameters'))['max-bandwidth'] ?? DEFAULT_BANDWIDTH;
    await prepareMigration(dst, bw);
    let lastErr: Error | null = null;
    for (let attempt = 0; attempt < 5 && !dst.migration.incomingUri; attempt++) {
      const uri = `tcp:127.0.0.1:${await freePort()}`;
      try {
        await dst.qmp.execute('migrate-incoming', { uri });
        dst.migration.incomingUri = uri;
      } catch (e) {
        lastErr = e as Error;  // port taken since freePort(): try another
      }
    }
    if (!dst.migration.incomingUri) throw lastErr ?? new Error('migrate-incoming failed');
    const st = await dst.qmp.execute('query-status');
    if (st.status !== 'inmigrate') throw new Error(`destination status ${st.status}, expected inmigrate`);
  } catch (e) {
    await dst.stop();
    throw e;
  }
  return dst;
}

/**
 * Migrates src → dst the way a SPICE-aware manager does (see the header) and
 * returns the timings. Throws if the migration fails or the destination does not
 * run afterwards. The destination's serial stream continues the source's.
 */
export async function migrate(src: QemuVm, dst: QemuVm, opts: MigrateOptions = {}): Promise<MigrateResult> {
  const uri = dst.migration.incomingUri;
  if (!uri) throw new Error('destination was not started by startDestination()');
  const timeoutMs = opts.timeoutMs ?? 30000;
  const srcChannels: any[] = (await src.querySpice()).channels ?? [];
  const want = opts.clientChannels ?? srcChannels.length;
  const waitForClient = (opts.waitForClient ?? true) && want > 0;
  const ids = new Set(srcChannels.map((c) => c['connection-id']));

  const dstMark = dst.qmp.events.length;
  await src.qmp.execute('client_migrate_info', { protocol: 'spice', hostname: '127.0.0.1', port: dst.spicePort });
  const tInfo = Date.now();
  let spiceInitializedMs = 0;
  if (waitForClient) {
    // one event per client channel, with the source's connection id (seamless/semi-seamless keep it)
    // the predicate must be pure: waitEvents re-evaluates it over all events on every check
    await dst.qmp.waitEvents('SPICE_INITIALIZED', want, timeoutMs, (ev) => {
      const c = ev.data?.client ?? {};
      return !ids.size || ids.has(c['connection-id']);
    }, dstMark);
    spiceInitializedMs = Date.now() - tInfo;
    await sleep(opts.marginMs ?? 500);
  }

  dst.continueSerialFrom(src);
  const srcMark = src.qmp.events.length;
  src.migration.eventMark = srcMark;
  // inmigrate: `stop` only turns autostart off, the destination stays paused after loading
  if (opts.resumeAfterClient && !opts.stopped) await dst.qmp.execute('stop');
  const tMig = Date.now();
  if (opts.stopped) {
    await src.qmp.execute('stop');
    await opts.afterStop?.();
  }
  await src.qmp.execute('migrate', { uri });
  await migrationCompleted(src, srcMark, timeoutMs);
  const completedAt = Date.now();
  if (opts.resumeAfterClient) {
    // spice-server emits it once its clients left the source (or after its own 10 s)
    await src.qmp.waitEvents('SPICE_MIGRATE_COMPLETED', 1, timeoutMs, undefined, srcMark);
  }
  if (opts.stopped || opts.resumeAfterClient) {
    // a stopped source (or a destination told to stop) leaves the destination paused
    await dst.qmp.waitEvents('MIGRATION', 1, timeoutMs, (ev) => ev.data?.status === 'completed', dstMark);
    await dst.qmp.execute('cont');
  }
  const [resumed] = await dst.qmp.waitEvents('RESUME', 1, timeoutMs, undefined, dstMark);
  const [stopped] = await src.qmp.waitEvents('STOP', 1, timeoutMs, undefined, srcMark);
  const st = await dst.qmp.execute('query-status');
  if (st.status !== 'running') throw new Error(`destination status ${st.status} after migration`);
  const dstChannels: any[] = (await dst.querySpice()).channels ?? [];
  const dstConnectionIds = [...new Set(dstChannels.map((c) => c['connection-id'] as number))];
  return { spiceInitializedMs, migrateMs: completedAt - tMig, completedAt, dstConnectionIds, vmStoppedAt: eventMs(stopped), vmResumedAt: eventMs(resumed) };
}

/** migrate_cancel, then waits until the source's migration is no longer in progress. */
export async function migrateCancel(src: QemuVm, timeoutMs = 10000): Promise<void> {
  await src.qmp.execute('migrate_cancel');
  const end = Date.now() + timeoutMs;
  for (;;) {
    const st = (await src.qmp.execute('query-migrate')).status;
    if (!st || ['cancelled', 'failed', 'completed'].includes(st)) return;
    if (Date.now() > end) throw new Error(`migration still ${st} ${timeoutMs} ms after migrate_cancel`);
    await sleep(50);
  }
}

/**
 * Waits for the source's SPICE_MIGRATE_COMPLETED of the last migrate() (spice-server
 * emits it once its clients left the source, or after its own 10 s timeout).
 * Resolves { completed: false } after timeoutMs instead of throwing.
 */
export async function waitSourceDone(src: QemuVm, timeoutMs = 15000): Promise<{ completed: boolean; waitedMs: number }> {
  const t0 = Date.now();
  try {
    await src.qmp.waitEvents('SPICE_MIGRATE_COMPLETED', 1, timeoutMs, undefined, src.migration.eventMark ?? 0);
    return { completed: true, waitedMs: Date.now() - t0 };
  } catch {
    return { completed: false, waitedMs: Date.now() - t0 };
  }
}

/** waitSourceDone, then stop the source QEMU. */
export async function finishSource(src: QemuVm, timeoutMs = 15000): Promise<{ completed: boolean; waitedMs: number }> {
  const r = await waitSourceDone(src, timeoutMs);
  await src.stop();
  return r;
}

/**
 * Serial lines of a VM and the ones it migrated to, in order: src's lines from
 * fromIndex, then each later VM's (every VM must have been the destination of
 * migrate() from the one before, so cut lines are rejoined).
 */
export function serialAcross(vms: QemuVm[], fromIndex = 0): string[] {
  const out: string[] = [];
  vms.forEach((vm, i) => out.push(...vm.serialLines().slice(i === 0 ? fromIndex : 0)));
  return out;
}

// an oops for a bad opcode prints "invalid opcode: 0000 [#1]" (a BUG_ON() hit, or code corrupted)
const CRASH_RE = /Kernel panic|BUG: |kernel BUG at|Oops: |invalid opcode: |general protection fault|stack-protector/;

/** The guest kernel's first panic/oops line in vm's serial log, or null (for clearer failures). */
export function guestCrash(vm: QemuVm): string | null {
  return vm.serialLines().find((l) => CRASH_RE.test(l)) ?? null;
}

/**
 * Waits until the socket-backed test port (testPort: 'socket') shows a connected
 * peer in query-chardev. An -incoming QEMU accepts connections from a main loop
 * the incoming migration keeps busy; records the guest writes while the chardev
 * is still unconnected are dropped by QEMU (virtio-serial discards them).
 */
export async function waitTestPortConnected(vm: QemuVm, timeoutMs = 10000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const devs: any[] = await vm.qmp.execute('query-chardev');
    const port = devs.find((d) => d.label === 'testport0');
    if (port && !/^disconnected/.test(port.filename)) return;
    if (Date.now() > end) throw new Error(`test port chardev still ${port?.filename ?? 'missing'}`);
    await sleep(50);
  }
}

export interface GuestLiveness {
  /** The guest answered a serial `ping`. */
  answers: boolean;
  /** QMP's status (running, paused, ...) or why QMP did not answer. */
  status: string;
  /** The vCPU's instruction pointer, sampled a few times (HMP info registers). */
  rips: string[];
  /** ms since the guest's last serial line. */
  silentMs: number;
  /** QEMU's serial chardev (ser0) has our socket connected. */
  serialConnected: boolean;
  /** Alive QEMU, connected serial, running VM, and no answer: the guest itself has frozen. */
  frozen: boolean;
  /** One line for a failure message. */
  summary: string;
}

/**
 * Is the guest itself alive? For a stalled test: a guest that answers no
 * `ping` while QEMU answers QMP and says running has frozen (QEMU 7.2 TCG's
 * live-migration corruption can also hang a kernel without printing an oops);
 * the sampled RIPs show where its vCPU is.
 */
export async function guestLiveness(vm: QemuVm, pingMs = 20_000): Promise<GuestLiveness> {
  const silentMs = vm.lastSerialAt ? Date.now() - vm.lastSerialAt : -1;
  const status = await vm.qmp
    .execute('query-status')
    .then((s: any) => String(s.status))
    .catch((e: Error) => `qmp: ${e.message}`);
  const rips: string[] = [];
  for (let i = 0; i < 3; i++) {
    const regs: string = await vm.qmp.execute('human-monitor-command', { 'command-line': 'info registers' }).catch((e: Error) => `qmp: ${e.message}`);
    rips.push(/RIP=([0-9a-f]+)/.exec(regs)?.[1] ?? regs.slice(0, 60));
    if (i < 2) await sleep(500);
  }
  const chardevs: any[] = await vm.qmp.execute('query-chardev').catch(() => []);
  const ser = chardevs.find((d) => d.label === 'ser0');
  const serialConnected = !!ser && !/^disconnected/.test(ser.filename);
  const answers = await vm.command('ping', undefined, pingMs).then(() => true, () => false);
  const frozen = !answers && status === 'running' && serialConnected && !vm.exitReason;
  const summary =
    `guest ${answers ? 'answers' : `did not answer a ping in ${pingMs / 1000} s`}, last serial line ${(silentMs / 1000).toFixed(1)} s ago, ` +
    `QEMU ${status}, serial ${ser ? ser.filename : 'missing'}, RIP ${rips.join(' ')}${vm.exitReason ? `, exited: ${vm.exitReason}` : ''}`;
  return { answers, status, rips, silentMs, serialConnected, frozen, summary };
}
