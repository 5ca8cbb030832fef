// Session-level migration state machine (spice-migration notes §2.9):
//   none → connecting → migrating → none, plus switching (switch-host).
// seamless: link every channel of the session to the destination with the
// source session id, DST_DO_SEAMLESS → ACK, CONNECTED_SEAMLESS; each channel
// then swaps its Connection on its own MIGRATE (base-channel.ts). semi-seamless:
// CONNECTED, then on MIGRATE_END move main, send MIGRATE_END, and on the
// destination's MAIN_INIT move the others with a reset. Failures answer
// CONNECT_ERROR and stay on the source; the server then sends SWITCH_HOST.
import { SpiceError } from './wire/errors';
import { ByteWriter } from './wire/byte-writer';
import type { Connection } from './connection';
import type { Channel, Logger } from './channels/base-channel';
import type { MainChannel } from './channels/main-channel';
import type { DstInfo } from './messages/main';
import { endpointUri, type Endpoint } from './transport';
import type { SpiceMessage } from './wire/framer';
import { Channel as ChannelType, MainCap, MsgcMain, MsgMain } from './protocol/enums';
import type { MigrationMode, MigrationPhase, MigrationStatus } from '../../preload/contract';

/** Pending destination links are abandoned after this (the server gives up after 10 s too). */
export const MIGRATION_CONNECT_TIMEOUT_MS = 10_000;
/**
 * QEMU drops input events while a VM is not running (ui/input.c). The source
 * stops for the final migration stage *before* spice-server sends MIGRATE, and
 * the destination starts only after the swap. So the inputs channel holds
 * (queues) its output from CONNECTED_SEAMLESS until the destination VM runs:
 * keystrokes are delayed across the switch, never lost.
 */
export const DESTINATION_START_TIMEOUT_MS = 3_000;
/**
 * The destination answers our main MIGRATE_DATA (MULTI_MEDIA_TIME) from QEMU's
 * main loop, which an incoming migration frees between loading RAM and loading
 * device state: seen 0.3–51 ms before the VM started. Without a surer sign
 * (device data, see Channel.provesGuestRunning) the hold ends this long after it.
 */
export const DESTINATION_START_GRACE_MS = 250;
/**
 * Longest the pre-switch hold may last: a migration whose RAM copy takes longer
 * releases the held output to the source (behaving like other clients: input
 * typed during the final stop may then be lost; device data is never lost, but
 * see the spicevmc note below).
 */
export const SWITCH_HOLD_MAX_MS = 5_000;
/**
 * The smartcard channel's pre-switch limit. QEMU 7.2's usb-ccid loses a card
 * answer it has queued for the guest when the VM stops before the guest read
 * it (the queue's count is not migrated): released to the source after
 * SWITCH_HOLD_MAX_MS, an answer can land there just as the source stops for the
 * switch (seen on a busy machine: released 12 ms before the source's MIGRATE, the
 * guest's pcscd waited for it forever). Held, it only waits for the move; the
 * guest's application sees a slow card, not a lost answer.
 */
export const SMARTCARD_SWITCH_HOLD_MAX_MS = 60_000;
/**
 * Held input is replayed with the user's own timing, three times as fast, so
 * it catches up in half as long as it was held even while the user keeps
 * typing: a burst would overflow the guest's PS/2 queue (see
 * Channel.resumeOutput) and lose keys.
 */
export const INPUT_REPLAY = { speedup: 3 } as const;
/**
 * Device channels (spicevmc: Channel.holdsOutputForSwitch) hold their client →
 * device data from CONNECTED_SEAMLESS until the destination VM runs.
 * spice-server queues at most 128 such messages per device and then stops
 * reading the socket until the guest consumes one; once the VM stops for the
 * switch nothing is consumed, so our FLUSH_MARK would sit unread behind the
 * data and MIGRATE_DATA never come. Not writing while the migration finishes
 * lets the running guest drain the queue. After the swap, the data waits for
 * the destination VM to run (onChannelSwapped).
 */

export interface MigrationHost {
  readonly log: Logger;
  readonly main: MainChannel;
  sessionId(): number;
  /** Linked channels, main first. */
  channels(): Channel[];
  /** Links one channel's twin to an endpoint (same type, id, caps, password). */
  linkTo(ep: Endpoint, ch: Channel, connectionId: number): Promise<Connection>;
  /** Host-mapping hook (NAT, proxy, WebSocket front ends). */
  mapDestination(dst: DstInfo): Endpoint;
  emit(status: MigrationStatus): void;
  /** Reconnects as a brand-new session to ep (switch-host). */
  switchHost(ep: Endpoint): void;
}

type State = 'none' | 'connecting' | 'migrating' | 'switching';
/**
 * vm-start: a destination device sent data (its VM runs); grace: the grace
 * period after MULTI_MEDIA_TIME passed; timeout: a hold limit passed;
 * cancel: the migration ended without a switch.
 */
type HoldRelease = 'vm-start' | 'grace' | 'timeout' | 'cancel';

export class MigrationController {
  state: State = 'none';
  mode: MigrationMode = 'seamless';
  /** Last finished migration, for tests and the UI. */
  last: MigrationStatus | null = null;

  private readonly host: MigrationHost;
  private generation = 0;
  private endpoint: Endpoint | null = null;
  private startedAt = 0;
  private startedPerf = 0;
  private firstMigrate = 0;
  private expected = new Set<Channel>();
  private targets = new Map<Channel, Connection>();
  private sources: Connection[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Seamless: the destination main channel is ours and has reported the VM running. */
  private mainSwapped = false;
  private destinationRunning = false;
  /** Channels whose output is held for the switch (inputs and spicevmc). */
  private held = new Set<Channel>();
  private startTimer: ReturnType<typeof setTimeout> | null = null;
  private holdTimer: ReturnType<typeof setTimeout> | null = null;
  private smartcardHoldTimer: ReturnType<typeof setTimeout> | null = null;
  private graceTimer: ReturnType<typeof setTimeout> | null = null;
  /** The last input hold: how long input waited in all, and after the inputs channel's swap (ms). */
  lastInputHold: { why: HoldRelease; heldMs: number; afterSwapMs: number } | null = null;
  private holdStartedAt = 0;

  constructor(host: MigrationHost) {
    this.host = host;
  }

  private status(phase: MigrationPhase, message: string, durationMs?: number): MigrationStatus {
    const ep = this.endpoint;
    const st: MigrationStatus = {
      mode: this.mode,
      phase,
      destination: ep ? `${ep.host}:${ep.port}` : '',
      message,
      startedAt: this.startedAt,
      channels: this.host.channels().map((c) => ({
        name: c.name,
        flags: c.migration.migrateAt ? c.migration.flags : -1,
        queuedBytes: c.migration.queuedBytes,
        forwardedBytes: c.migration.forwardedBytes,
        droppedBytes: c.migration.droppedBytes,
        ...(c.migration.swappedAt && c.migration.migrateAt ? { swapMs: c.migration.swappedAt - c.migration.migrateAt } : {}),
      })),
      ...(durationMs !== undefined ? { durationMs } : {}),
      ...(phase === 'done' && ep ? { uri: endpointUri(ep) } : {}),
    };
    if (['done', 'failed', 'cancelled'].includes(phase)) this.last = st;
    this.host.emit(st);
    return st;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** MIGRATE_BEGIN(_SEAMLESS) on the source main channel. */
  begin(dst: DstInfo, seamless: boolean): void {
    const main = this.host.main;
    if (this.state !== 'none') {
      this.host.log.warn('migration: a second MIGRATE_BEGIN while one is in progress; refusing');
      main.send(MsgcMain.MIGRATE_CONNECT_ERROR);
      return;
    }
    const gen = ++this.generation;
    this.state = 'connecting';
    this.mode = seamless ? 'seamless' : 'semi-seamless';
    this.startedAt = Date.now();
    this.startedPerf = performance.now();
    this.firstMigrate = 0;
    this.expected.clear();
    this.targets.clear();
    this.sources = [];
    for (const c of this.host.channels()) c.migration = { ...c.migration, queuedBytes: 0, forwardedBytes: 0, droppedBytes: 0, flushMarks: 0, migrateDataBytes: 0, migrateAt: 0, swappedAt: 0, flags: 0 };
    try {
      this.endpoint = this.host.mapDestination(dst);
    } catch (e) {
      this.connectFailed(gen, e);
      return;
    }
    this.status('connecting', `connecting to ${this.endpoint.host}:${this.endpoint.port}`);
    this.timer = setTimeout(
      () => this.connectFailed(gen, new SpiceError('TIMEOUT', `destination did not accept all channels within ${MIGRATION_CONNECT_TIMEOUT_MS / 1000} s`)),
      MIGRATION_CONNECT_TIMEOUT_MS,
    );
    void this.connectAll(gen, dst, seamless).catch((e) => this.connectFailed(gen, e));
  }

  private async connectAll(gen: number, dst: DstInfo, seamless: boolean): Promise<void> {
    const ep = this.endpoint!;
    const main = this.host.main;
    const id = this.host.sessionId();
    const dMain = await this.host.linkTo(ep, main, id);
    if (gen !== this.generation) {
      dMain.close();
      return;
    }
    // main first: the destination rejects other links until it knows the connection id
    const buffered: SpiceMessage[] = [];
    let answer: Promise<boolean>;
    if (seamless && dMain.serverChannelCaps.includes(MainCap.SEAMLESS_MIGRATE)) {
      answer = new Promise<boolean>((resolve, reject) => {
        dMain.onMessage = (m) => {
          if (m.type === MsgMain.MIGRATE_DST_SEAMLESS_ACK) resolve(true);
          else if (m.type === MsgMain.MIGRATE_DST_SEAMLESS_NACK) resolve(false);
          else buffered.push({ type: m.type, body: m.body.slice(), serial: m.serial });
        };
        dMain.onClose = (err) => reject(err ?? new SpiceError('CLOSED', 'destination main closed during the seamless handshake'));
      });
      // observed now: the other links may still be pending when the destination main closes,
      // and an unobserved rejection ends a plain Node process
      answer.catch((e) => this.connectFailed(gen, e));
      dMain.send(MsgcMain.MIGRATE_DST_DO_SEAMLESS, new ByteWriter(4).u32(dst.srcMigVersion ?? 1).finish());
    } else {
      dMain.onMessage = (m) => buffered.push({ type: m.type, body: m.body.slice(), serial: m.serial });
      answer = Promise.resolve(false);
    }
    this.targets.set(main, dMain);
    const others = this.host.channels().filter((c) => c !== main);
    await Promise.all(
      others.map(async (c) => {
        const conn = await this.host.linkTo(ep, c, id);
        if (gen !== this.generation) {
          conn.close();
          return;
        }
        c.holdTarget(conn);
        this.targets.set(c, conn);
      }),
    );
    const ack = await answer;
    if (gen !== this.generation) return;
    main.holdTarget(dMain, buffered);
    this.clearTimer();
    this.mainSwapped = false;
    this.destinationRunning = false;
    this.lastInputHold = null;
    for (const c of [main, ...others]) this.expected.add(c);
    this.state = 'migrating';
    if (ack) {
      this.mode = 'seamless';
      main.send(MsgcMain.MIGRATE_CONNECTED_SEAMLESS);
      this.holdForSwitch();
      this.status('migrating', 'destination ready; waiting for the VM to move (seamless)');
    } else {
      this.mode = 'semi-seamless';
      main.send(MsgcMain.MIGRATE_CONNECTED);
      this.status('migrating', seamless ? 'destination refused seamless; waiting for the VM to move (semi-seamless)' : 'destination ready; waiting for the VM to move (semi-seamless)');
    }
  }

  private dropTargets(): void {
    for (const [c, conn] of this.targets) {
      c.dropTarget();
      conn.close();
    }
    this.targets.clear();
  }

  private connectFailed(gen: number, e: unknown): void {
    if (gen !== this.generation || this.state !== 'connecting') return;
    this.generation++;
    this.clearTimer();
    this.dropTargets();
    this.state = 'none';
    const err = e instanceof SpiceError ? e : new SpiceError('TRANSPORT', String((e as Error)?.message ?? e));
    this.host.log.warn(`migration: cannot connect to the destination: ${err.message}`);
    this.host.main.send(MsgcMain.MIGRATE_CONNECT_ERROR);
    this.status('failed', `cannot reach the destination (${err.message}); staying on the source`);
  }

  /** MIGRATE_CANCEL: drop destination links, keep the source. */
  cancel(): void {
    if (this.state !== 'connecting' && this.state !== 'migrating') return;
    this.generation++;
    this.clearTimer();
    this.releaseAll('cancel');
    this.dropTargets();
    this.state = 'none';
    this.host.main.attachOnInit = true;
    this.status('cancelled', 'migration cancelled by the server; staying on the source');
  }

  /** Called by every channel on SPICE_MSG_MIGRATE. */
  onChannelMigrate(ch: Channel): void {
    if (!this.firstMigrate) this.firstMigrate = ch.migration.migrateAt;
    if (this.state !== 'migrating' || this.mode !== 'seamless') {
      this.host.log.warn(`migration: ${ch.name} got MIGRATE while ${this.state}/${this.mode}`);
    }
  }

  /**
   * The destination main channel sent MULTI_MEDIA_TIME or MOUSE_MODE: it has
   * our main MIGRATE_DATA, and its VM starts soon (DESTINATION_START_GRACE_MS).
   */
  onVmStartHint(): void {
    if (!this.mainSwapped || this.destinationRunning || this.graceTimer) return;
    if (!this.held.size) return;
    this.graceTimer = setTimeout(() => {
      this.graceTimer = null;
      this.destinationStarted('grace');
    }, DESTINATION_START_GRACE_MS);
  }

  /** Proof (device data from the destination) or the grace period: the destination VM runs. */
  private destinationStarted(why: HoldRelease): void {
    if (this.destinationRunning) return;
    this.destinationRunning = true;
    this.disarmStartWatch();
    if (why === 'timeout') this.host.log.warn('migration: destination VM start not seen; releasing held input and device data');
    // the channels already moved; the others are released as they swap
    for (const c of [...this.held]) if (c.migration.swappedAt) this.release(c, why);
  }

  /** Stops watching for the destination start: its timers and the channels' probes. */
  private disarmStartWatch(): void {
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = null;
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    for (const c of this.host.channels()) c.onGuestRunning = null;
  }

  /** Ends every hold timer; the held channels are then released or closed by the caller. */
  private endHold(): void {
    this.clearHoldTimers();
    this.disarmStartWatch();
  }

  /** CONNECTED_SEAMLESS sent: the VM may stop any moment now (see SWITCH_HOLD_MAX_MS). */
  private holdForSwitch(): void {
    this.holdStartedAt = performance.now();
    for (const c of this.host.channels()) {
      if (!c.holdsOutputForSwitch) continue;
      c.pauseOutput();
      this.held.add(c);
    }
    // still on the source after this long: stop delaying the user and the devices (smartcards later)
    const releaseToSource = (smartcard: boolean, afterMs: number) => {
      for (const c of [...this.held]) {
        if (c.migration.swappedAt || (c.type === ChannelType.SMARTCARD) !== smartcard) continue;
        this.host.log.warn(`migration: ${c.name} still on the source after ${afterMs / 1000} s; releasing its held output to the source`);
        this.release(c, 'timeout');
      }
    };
    this.holdTimer = setTimeout(() => {
      this.holdTimer = null;
      releaseToSource(false, SWITCH_HOLD_MAX_MS);
    }, SWITCH_HOLD_MAX_MS);
    this.smartcardHoldTimer = setTimeout(() => {
      this.smartcardHoldTimer = null;
      releaseToSource(true, SMARTCARD_SWITCH_HOLD_MAX_MS);
    }, SMARTCARD_SWITCH_HOLD_MAX_MS);
  }

  private clearHoldTimers(): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    if (this.smartcardHoldTimer) clearTimeout(this.smartcardHoldTimer);
    this.smartcardHoldTimer = null;
  }

  private release(c: Channel, why: HoldRelease): void {
    if (!this.held.delete(c)) return;
    if (c.type === ChannelType.INPUTS) {
      const now = performance.now();
      const swapped = c.migration.swappedAt;
      this.lastInputHold = { why, heldMs: now - (this.holdStartedAt || swapped || now), afterSwapMs: swapped ? now - swapped : 0 };
      this.host.log.info(`migration: input held ${this.lastInputHold.heldMs.toFixed(0)} ms (${this.lastInputHold.afterSwapMs.toFixed(0)} ms after the swap), released: ${why}; ${c.queuedMessages} messages to replay`);
      c.resumeOutput(INPUT_REPLAY);
    } else {
      c.resumeOutput();
    }
  }

  private releaseAll(why: HoldRelease): void {
    this.endHold();
    for (const c of [...this.held]) this.release(c, why);
  }

  /** Called by every channel after it moved onto its destination connection. */
  onChannelSwapped(ch: Channel, old: Connection): void {
    this.sources.push(old);
    this.targets.delete(ch);
    this.expected.delete(ch);
    if (ch === this.host.main) this.mainSwapped = true;
    if (!this.destinationRunning && this.mode === 'seamless') ch.onGuestRunning = () => this.destinationStarted('vm-start');
    if (ch.holdsOutputForSwitch) {
      if (this.destinationRunning) {
        this.release(ch, 'vm-start');
      } else {
        // Held until the destination VM runs: QEMU drops input before that, and
        // the destination reads our sockets between loading RAM and loading
        // device state, so device data would reach a device not restored yet.
        // (The pre-switch hold may have timed out, so hold again.)
        if (!this.held.has(ch) && ch.type === ChannelType.INPUTS) this.holdStartedAt = 0; // the pre-switch hold had timed out
        ch.pauseOutput();
        this.held.add(ch);
        this.startTimer ??= setTimeout(() => this.destinationStarted('timeout'), DESTINATION_START_TIMEOUT_MS);
      }
    }
    this.finishIfAcross();
  }

  /** A channel was lost (not essential): the migration no longer waits for it. */
  channelGone(ch: Channel): void {
    this.held.delete(ch);
    this.targets.delete(ch);
    if (this.expected.delete(ch) && this.mode === 'seamless') this.finishIfAcross();
  }

  /** A held destination link dropped before its swap. */
  onTargetLost(ch: Channel, err: SpiceError): void {
    this.host.log.warn(`${ch.name}: destination link lost before the swap: ${err.message}`);
    // before CONNECTED(_SEAMLESS) the server can still be told to keep the VM here
    if (this.state === 'connecting') this.connectFailed(this.generation, err);
  }

  private finishIfAcross(): void {
    if (this.expected.size > 0 || this.state !== 'migrating') return;
    this.clearHoldTimers(); // everything is across: the pre-switch limits are moot
    // every channel is across: close the source sockets (no DISCONNECTING is sent)
    for (const s of this.sources.splice(0)) {
      s.onMessage = null;
      s.onClose = null;
      s.close();
    }
    const last = Math.max(...this.host.channels().map((c) => c.migration.swappedAt));
    const duration = last - this.firstMigrate;
    this.state = 'none';
    this.host.log.info(`migration: all channels on the destination (${duration.toFixed(2)} ms after the first MIGRATE)`);
    this.status('done', 'moved with the VM (seamless)', duration);
  }

  /** Semi-seamless: MIGRATE_END on the source main. */
  end(): void {
    const main = this.host.main;
    const dMain = this.targets.get(main);
    if (this.state !== 'migrating' || this.mode !== 'semi-seamless' || !dMain) {
      this.host.log.warn('migration: MIGRATE_END without a semi-seamless migration in progress');
      return;
    }
    const old = main.connection;
    if (old) {
      old.onMessage = null;
      old.onClose = null;
      this.sources.push(old);
    }
    this.targets.delete(main);
    main.attachOnInit = false;
    main.adopt(dMain);
    main.send(MsgcMain.MIGRATE_END);
    this.state = 'switching';
    this.status('switching', 'moving to the destination (semi-seamless)');
  }

  /** The destination's MAIN_INIT after MIGRATE_END: move every other channel, reset. */
  onMainInit(): boolean {
    if (this.state !== 'switching' || this.mode !== 'semi-seamless') return false;
    for (const [c, conn] of [...this.targets]) {
      const old = c.connection;
      if (old) {
        old.onMessage = null;
        old.onClose = null;
        this.sources.push(old);
      }
      c.adopt(conn);
    }
    this.targets.clear();
    for (const s of this.sources.splice(0)) s.close();
    this.host.main.attachOnInit = true;
    this.state = 'none';
    this.status('done', 'moved with the VM (semi-seamless: display redrawn)', performance.now() - this.startedPerf);
    return true;
  }

  /** SWITCH_HOST: reconnect as a new session to the destination. */
  switchHost(dst: DstInfo): void {
    this.generation++;
    this.clearTimer();
    this.releaseAll('cancel');
    this.dropTargets();
    this.mode = 'switch-host';
    this.state = 'switching';
    if (!this.startedAt || this.last) {
      this.startedAt = Date.now();
      this.startedPerf = performance.now();
    }
    try {
      this.endpoint = this.host.mapDestination(dst);
    } catch (e) {
      this.state = 'none';
      this.status('failed', `switch-host: ${(e as Error).message}`);
      return;
    }
    this.status('switching', `reconnecting to ${this.endpoint.host}:${this.endpoint.port} (switch-host)`);
    this.host.switchHost(this.endpoint);
  }

  /** The new session after switch-host is up (or failed). */
  switchDone(err: SpiceError | null): void {
    if (this.state !== 'switching' || this.mode !== 'switch-host') return;
    this.state = 'none';
    if (err) this.status('failed', `switch-host to ${this.endpoint?.host}:${this.endpoint?.port} failed: ${err.message}`);
    else this.status('done', 'reconnected to the destination (switch-host: new session)', performance.now() - this.startedPerf);
  }

  /** The session is going away (source lost, user disconnect). */
  abort(reason: string): void {
    this.endHold();
    this.held.clear(); // the channels are closing; their queues count as dropped there
    if (this.state === 'none') return;
    this.generation++;
    this.clearTimer();
    this.dropTargets();
    for (const s of this.sources.splice(0)) s.close();
    this.state = 'none';
    this.status('failed', `migration aborted: ${reason}`);
  }
}
