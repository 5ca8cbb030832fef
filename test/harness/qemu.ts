// QEMU test harness: builds/reuses the tiny test guest (scripts/build-guest.sh)
// and runs it in QEMU (TCG, qxl, SPICE on 127.0.0.1) with a QMP monitor and the
// guest serial port as the host<->guest command channel (protocol: scripts/guest/init).
// Optionally a virtio-serial test port (org.spice.test.0) backed by a spiceport
// or a unix socket. Every QEMU started here is killed when the test process exits.
// Investigation knobs: GUEST_APPEND (extra kernel arguments), QEMU_CPU (-cpu),
// QEMU_TRACE (-trace patterns, comma-separated, e.g. 'spice_vmc*,usb_xhci_xfer*': the events,
// timestamped, go to qemu.log and QEMU's stdout, where device debug=N properties print, to
// stdout.log in the VM's directory; KEEP_QEMU_DIR keeps it).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { QmpClient } from './qmp';

export { QmpClient } from './qmp';

export interface GuestImage {
  kernel: string;
  initrd: string;
  cmdline: string;
  /** cache directory of this build (MANIFEST, patterns/) */
  dir: string;
}

export interface QemuOptions {
  password?: string;
  /** appended to -spice */
  spiceExtra?: string;
  /** -incoming value (e.g. 'defer', 'tcp:127.0.0.1:4444'); start() then does not wait for the guest */
  incoming?: string;
  extraArgs?: string[];
  name?: string;
  env?: Record<string, string>;
  /** Fixed SPICE port (a VM restarted where a client expects it); default: a free port. */
  spicePort?: number;
  /**
   * virtserialport TEST_PORT_NAME served by the guest's port daemon
   * (scripts/guest/guest-helper.c): 'spiceport' = a SPICE port channel,
   * 'socket' = a unix socket chardev (server, wait=off) at vm.testPortPath.
   */
  testPort?: 'spiceport' | 'socket';
  /** Extra kernel arguments (after the guest's and $GUEST_APPEND), e.g. sysctl.kernel.ctrl-alt-del=0. */
  append?: string;
  /** -accel value (default $QEMU_ACCEL or 'tcg') */
  accel?: string;
  /**
   * The agent flavour of the guest (GUEST_AGENT=1: Xvfb, spice-vdagentd,
   * spice-vdagent, xclip) and the vdagent port: a spicevmc chardev behind the
   * virtserialport com.redhat.spice.0, which spice-server serves as the agent.
   */
  agent?: boolean;
  /**
   * The sound flavour of the guest (GUEST_SOUND=1: HDA modules, aplay/arecord; the
   * init's tone/record commands) with QEMU's SPICE audio backend on an HDA codec.
   */
  sound?: boolean;
  /**
   * usb-redir devices on a qemu-xhci controller, each on a spicevmc usbredir
   * chardev (as virt-manager sets them up): the client gets that many usbredir channels.
   */
  usbRedirChannels?: number;
  /**
   * The webdav flavour of the guest (GUEST_WEBDAV=1: spice-webdavd, the "dav"
   * command) and its virtio-serial port org.spice-space.webdav.0 on a spiceport
   * chardev, which spice-server serves as the webdav channel.
   */
  webdav?: boolean;
  /**
   * The usbgadget flavour of the guest (GUEST_USB_GADGET=1: dummy_hcd + a configfs
   * SourceSink gadget, udevd, node with node-usb and our backend's driver; the "usbg"
   * command). 1 GiB of RAM: node alone is ~86 MB of the initramfs.
   */
  usbGadget?: boolean;
}

/** QEMU's SPICE audio backend on an HDA duplex codec (the guest's snd-hda-intel card 0). */
export const SOUND_ARGS = ['-audiodev', 'spice,id=snd0', '-device', 'intel-hda', '-device', 'hda-duplex,audiodev=snd0'];

/** spice-server serves a spiceport of this name as the webdav channel (spice-webdavd opens the virtserialport). */
export const WEBDAV_PORT_NAME = 'org.spice-space.webdav.0';

/** Name of the guest's test port (virtserialport and spiceport name). */
export const TEST_PORT_NAME = 'org.spice.test.0';

export interface Screen { width: number; height: number; rgb: Uint8Array }

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const QEMU = process.env.QEMU_BIN ?? 'qemu-system-x86_64';
/** the guest's "ready" log line (scripts/guest/init) */
export const READY_RE = /^GUEST\[[\d.]+\] ready\b/;
const STDERR_CAP = 32 * 1024 * 1024;

/** Builds the guest into .cache/guest/<hash> unless that build exists already. */
export async function ensureGuest(flavour: { agent?: boolean; sound?: boolean; webdav?: boolean; usbGadget?: boolean } = {}): Promise<GuestImage> {
  const env = {
    ...process.env, GUEST_AGENT: flavour.agent ? '1' : '0', GUEST_SOUND: flavour.sound ? '1' : '0', GUEST_WEBDAV: flavour.webdav ? '1' : '0',
    GUEST_USB_GADGET: flavour.usbGadget ? '1' : '0',
  };
  const out = await new Promise<string>((resolve, reject) => {
    execFile('bash', [path.join(REPO, 'scripts/build-guest.sh')], { maxBuffer: 16 * 1024 * 1024, env },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`build-guest.sh failed: ${err.message}\n${stderr}`));
        else resolve(stdout.trim().split('\n').pop() ?? '');
      });
  });
  const cmdline = fs.readFileSync(path.join(out, 'cmdline'), 'utf8').trim();
  const kernel = fs.readFileSync(path.join(out, 'kernel'), 'utf8').trim();  // vmlinux (PVH) or vmlinuz
  return { kernel: path.join(out, kernel), initrd: path.join(out, 'initramfs.cpio.gz'), cmdline, dir: out };
}

/** Pattern n (1..3) as the guest draws it, converted from its raw XRGB8888 file to RGB. */
export function guestPattern(guest: GuestImage, n: number): Screen {
  const [w, h, stride] = fs.readFileSync(path.join(guest.dir, 'patterns/geometry'), 'utf8').trim().split(/\s+/).map(Number);
  const raw = fs.readFileSync(path.join(guest.dir, `patterns/${n}.raw`));
  if (raw.length < stride * h) throw new Error(`pattern ${n}: short file`);
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = y * stride + x * 4, d = (y * w + x) * 3;
      rgb[d] = raw[s + 2]; rgb[d + 1] = raw[s + 1]; rgb[d + 2] = raw[s];
    }
  }
  return { width: w, height: h, rgb };
}

/** Parses a binary PPM (P6, maxval 255) as written by QMP screendump. */
export function parsePpm(buf: Uint8Array): Screen {
  let pos = 0;
  const token = (): string => {
    for (;;) {  // skip whitespace and comments
      while (pos < buf.length && /\s/.test(String.fromCharCode(buf[pos]))) pos++;
      if (buf[pos] !== 0x23) break;
      while (pos < buf.length && buf[pos] !== 0x0a) pos++;
    }
    const start = pos;
    while (pos < buf.length && !/\s/.test(String.fromCharCode(buf[pos]))) pos++;
    return String.fromCharCode(...buf.subarray(start, pos));
  };
  const magic = token(), width = Number(token()), height = Number(token()), max = Number(token());
  pos++;  // the single whitespace byte after maxval
  if (magic !== 'P6' || max !== 255 || !(width > 0) || !(height > 0)) throw new Error(`unsupported PPM header ${magic} ${width} ${height} ${max}`);
  if (buf.length - pos < width * height * 3) throw new Error('PPM: short pixel data');
  return { width, height, rgb: buf.slice(pos, pos + width * height * 3) };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Process-wide registry of running QEMUs so the 'exit' handler can kill what a
 * failing test left behind (the one piece of module state: it must outlive VMs).
 */
const LIVE: Set<ChildProcess> = ((globalThis as any).__qemuHarnessLive ??= (() => {
  const live = new Set<ChildProcess>();
  const killAll = (): void => {
    for (const c of live) { try { if (c.pid) process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ } }
    live.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => { killAll(); process.exit(128 + (os.constants.signals[sig] ?? 15)); });
  }
  return live;
})());

/** setpriv --pdeathsig: QEMU also dies if this process is SIGKILLed (no exit handler runs then). */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => fs.existsSync(p));

interface SerialWaiter { re: RegExp; from: number; resolve: (v: { line: string; index: number }) => void; reject: (e: Error) => void }

export class QemuVm {
  readonly spicePort: number;
  readonly pid: number;
  readonly dir: string;
  readonly qmp: QmpClient;
  readonly guest: GuestImage;
  /** the options this VM was started with (startDestination copies them) */
  readonly options: QemuOptions;
  /** unix socket of the test port when options.testPort is 'socket', else null */
  readonly testPortPath: string | null;
  /** migration bookkeeping for test/harness/migration.ts */
  readonly migration: { incomingUri?: string; eventMark?: number } = {};
  private readonly proc: ChildProcess;
  private readonly serialSock: net.Socket;
  private readonly lines: string[] = [];
  private readonly lineTimes: number[] = [];
  private partial = '';
  private waiters: SerialWaiter[] = [];
  private stderr = '';
  private exitError: Error | null = null;
  private stopping: Promise<void> | null = null;
  private readonly serialLog: number;
  /** VM whose cut last serial line continues in this VM's first output (migration) */
  private serialPrefixFrom: QemuVm | null = null;

  private constructor(init: {
    spicePort: number; dir: string; proc: ChildProcess; qmp: QmpClient; serial: net.Socket;
    guest: GuestImage; stderr: () => string; exited: () => Error | null; options: QemuOptions;
  }) {
    this.options = init.options;
    this.testPortPath = init.options.testPort === 'socket' ? path.join(init.dir, 'testport.sock') : null;
    this.spicePort = init.spicePort;
    this.pid = init.proc.pid!;
    this.dir = init.dir;
    this.proc = init.proc;
    this.qmp = init.qmp;
    this.guest = init.guest;
    this.serialSock = init.serial;
    this.serialLog = fs.openSync(path.join(this.dir, 'serial.log'), 'a');
    this.stderr = init.stderr();
    this.exitError = init.exited();
    this.proc.stderr!.on('data', (d: Buffer) => this.appendStderr(d.toString('utf8')));
    this.proc.on('exit', (code, sig) => this.onExit(new Error(`QEMU exited (code ${code}, signal ${sig})\n${this.stderrTail()}`)));
    if (this.exitError) this.onExit(this.exitError);
    this.serialSock.setEncoding('latin1');
    this.serialSock.on('data', (d: string) => this.onSerial(d));
    this.serialSock.on('error', () => { /* QEMU went away: reported through exit */ });
  }

  /** Starts QEMU on a free SPICE port and waits for QMP and (unless incoming) the guest's ready line. */
  static async start(opts: QemuOptions = {}): Promise<QemuVm> {
    const guest = await ensureGuest({ agent: opts.agent, sound: opts.sound ?? false, webdav: opts.webdav ?? false, usbGadget: opts.usbGadget ?? false });
    let lastErr: Error | null = null;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return await QemuVm.startOnce(guest, opts);
      } catch (e) {
        lastErr = e as Error;
        // another process grabbed the port between freePort() and QEMU's bind: retry
        if (!/spice|address already in use|Failed to setup/i.test(lastErr.message)) break;
      }
    }
    throw lastErr!;
  }

  private static async startOnce(guest: GuestImage, opts: QemuOptions): Promise<QemuVm> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qvm-'));
    const port = opts.spicePort ?? await freePort();
    const qmpPath = path.join(dir, 'qmp.sock');
    const serPath = path.join(dir, 'serial.sock');
    let spice = `port=${port},addr=127.0.0.1`;
    const args = [
      '-machine', 'pc', '-accel', opts.accel ?? process.env.QEMU_ACCEL ?? 'tcg', '-smp', '1', '-m', opts.usbGadget ? '1024' : opts.agent ? '512' : '256', '-nodefaults', '-no-user-config',
      '-vga', 'qxl', '-display', 'none',
      '-kernel', guest.kernel, '-initrd', guest.initrd, '-append', [guest.cmdline, process.env.GUEST_APPEND, opts.append].filter(Boolean).join(' '),
      ...(process.env.QEMU_CPU ? ['-cpu', process.env.QEMU_CPU] : []),
      '-device', 'virtio-serial-pci',
      '-qmp', `unix:${qmpPath},server=on,wait=off`,
      '-chardev', `socket,id=ser0,path=${serPath},server=on,wait=off`,
      '-serial', 'chardev:ser0',
    ];
    if (opts.password !== undefined) {
      args.push('-object', `secret,id=sec0,data=${opts.password}`);
      spice += ',password-secret=sec0';
    } else {
      spice += ',disable-ticketing=on';
    }
    if (opts.spiceExtra) spice += `,${opts.spiceExtra.replace(/^,/, '')}`;
    args.push('-spice', spice);
    if (opts.name) args.push('-name', opts.name);
    if (opts.testPort) {
      args.push('-chardev', opts.testPort === 'socket'
        ? `socket,id=testport0,path=${path.join(dir, 'testport.sock')},server=on,wait=off`
        : `spiceport,id=testport0,name=${TEST_PORT_NAME}`);
      args.push('-device', `virtserialport,chardev=testport0,name=${TEST_PORT_NAME}`);
    }
    if (opts.agent) {
      args.push('-chardev', 'spicevmc,id=vdagent,name=vdagent', '-device', 'virtserialport,chardev=vdagent,name=com.redhat.spice.0');
    }
    if (opts.webdav) {
      args.push('-chardev', `spiceport,id=webdav,name=${WEBDAV_PORT_NAME}`, '-device', `virtserialport,chardev=webdav,name=${WEBDAV_PORT_NAME}`);
    }
    if (opts.usbRedirChannels) {
      args.push('-device', 'qemu-xhci,id=xhci,p2=8,p3=8');
      for (let i = 1; i <= opts.usbRedirChannels; i++) {
        args.push('-chardev', `spicevmc,name=usbredir,id=usbredirchardev${i}`, '-device', `usb-redir,chardev=usbredirchardev${i},id=usbredirdev${i},bus=xhci.0`);
      }
    }
    // paused until the serial socket is connected, so no guest output is lost
    // (an incoming VM starts running by itself when the migration completes)
    if (opts.incoming) args.push('-incoming', opts.incoming); else args.push('-S');
    if (opts.sound) args.push(...SOUND_ARGS);
    if (opts.extraArgs) args.push(...opts.extraArgs);
    if (process.env.QEMU_TRACE) {
      for (const pattern of process.env.QEMU_TRACE.split(',')) args.push('-trace', `enable=${pattern}`);
      args.push('-D', path.join(dir, 'qemu.log'), '-msg', 'timestamp=on');
    }

    const argv = SETPRIV ? [SETPRIV, '--pdeathsig', 'KILL', QEMU, ...args] : [QEMU, ...args];
    fs.writeFileSync(path.join(dir, 'cmdline.txt'), argv.map((a) => (/[\s,'"]/.test(a) ? `'${a}'` : a)).join(' ') + '\n');
    const stdoutFd = process.env.QEMU_TRACE ? fs.openSync(path.join(dir, 'stdout.log'), 'a') : null;
    const proc = spawn(argv[0], argv.slice(1), {
      cwd: dir, stdio: ['ignore', stdoutFd ?? 'ignore', 'pipe'],
      env: { ...process.env, ...(opts.env ?? {}) },
    });
    if (stdoutFd !== null) fs.closeSync(stdoutFd); // the child has its own copy
    if (proc.pid) LIVE.add(proc);
    let stderr = '';
    let exited: Error | null = null;
    const onErr = (d: Buffer): void => { stderr += d.toString('utf8'); };
    proc.stderr!.on('data', onErr);
    proc.once('exit', (code, sig) => { exited = new Error(`QEMU exited during start (code ${code}, signal ${sig}): ${stderr}`); LIVE.delete(proc); });
    proc.once('error', (e) => { exited = e; });

    const cleanup = (): void => {
      try { if (proc.exitCode === null && proc.pid) process.kill(proc.pid, 'SIGKILL'); } catch { /* gone */ }
      LIVE.delete(proc);
      fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
      // the socket files appear at bind(), before listen(): retry refused connects
      const serial = await retryConnect(() => connectUnix(serPath), () => exited, 20000, 'QEMU serial socket');
      const qmp = await retryConnect(() => QmpClient.connect(qmpPath), () => exited, 20000, 'QMP socket');
      proc.stderr!.off('data', onErr);
      const vm = new QemuVm({ spicePort: port, dir, proc, qmp, serial, guest, stderr: () => stderr, exited: () => exited, options: opts });
      if (!opts.incoming) {
        try {
          await qmp.execute('cont');
          await vm.waitForSerial(READY_RE, 120000);
        } catch (e) {
          await vm.stop();
          throw e;
        }
      }
      return vm;
    } catch (e) {
      if (exited) { cleanup(); throw exited; }
      cleanup();
      throw e;
    }
  }

  /** Lines received from the guest serial port so far (CR stripped). */
  serialLines(): string[] {
    return this.lines.slice();
  }

  /** Why QEMU is gone (exit code/signal and its last stderr lines), or null while it runs. */
  get exitReason(): string | null {
    return this.exitError?.message ?? null;
  }

  /** Date.now() at which each of serialLines() arrived (for timelines when investigating). */
  serialTimes(): number[] {
    return this.lineTimes.slice();
  }

  /** Date.now() of the last serial line (0 before any), without copying serialTimes(). */
  get lastSerialAt(): number {
    return this.lineTimes[this.lineTimes.length - 1] ?? 0;
  }

  /** First serial line at index >= fromIndex matching re; waits for it if needed. */
  waitForSerial(re: RegExp, timeoutMs = 30000, fromIndex = 0): Promise<{ line: string; index: number }> {
    for (let i = fromIndex; i < this.lines.length; i++) {
      if (re.test(this.lines[i])) return Promise.resolve({ line: this.lines[i], index: i });
    }
    if (this.exitError) return Promise.reject(this.exitError);
    return new Promise((resolve, reject) => {
      const w: SerialWaiter = {
        re, from: fromIndex,
        resolve: (v) => { clearTimeout(t); resolve(v); },
        reject: (e) => { clearTimeout(t); reject(e); },
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        const tail = this.lines.slice(-15).join('\n');
        reject(new Error(`serial: ${re} not seen within ${timeoutMs} ms; last lines:\n${tail}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /**
   * Sends one command line to the guest and waits for its reply (default: the
   * "GUEST OK|ERR <first word>" line; an ERR reply then rejects).
   */
  async command(line: string, expectReply?: RegExp, timeoutMs = 20000): Promise<string> {
    const word = line.trim().split(/\s+/)[0] ?? '';
    const re = expectReply ?? new RegExp(`^GUEST (OK|ERR) ${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`);
    const from = this.lines.length;
    this.serialSock.write(line.replace(/\n/g, ' ') + '\n');
    const r = await this.waitForSerial(re, timeoutMs, from);
    if (!expectReply && r.line.startsWith('GUEST ERR')) throw new Error(`guest command "${line}" failed: ${r.line}`);
    return r.line;
  }

  /** The unterminated last serial line received so far ('' after a newline). */
  serialPartial(): string {
    return this.partial;
  }

  /**
   * Makes this VM's serial stream continue src's: when this (destination) VM
   * sends its first serial bytes, src's unterminated last line (cut by the
   * migration's VM stop) is taken from src and prepended, so no line is split
   * between the two logs. Call before `migrate`.
   */
  continueSerialFrom(src: QemuVm): void {
    this.serialPrefixFrom = src;
  }

  /** QMP query-spice (server settings and the connected client channels). */
  querySpice(): Promise<any> {
    return this.qmp.execute('query-spice');
  }

  /** QMP screendump of the primary display (or of the display device with this qdev id) into dir, parsed. */
  async screendump(device?: string): Promise<Screen> {
    const file = path.join(this.dir, `screendump-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.ppm`);
    await this.qmp.execute('screendump', { filename: file, ...(device ? { device } : {}) });
    try {
      return parsePpm(fs.readFileSync(file));
    } finally {
      fs.rmSync(file, { force: true });
    }
  }

  /** How QEMU ended ('running' while it runs): an exit code or the signal that killed it. */
  get ended(): string {
    return this.proc.signalCode ?? (this.proc.exitCode === null ? 'running' : `exit ${this.proc.exitCode}`);
  }

  /** QEMU's stderr so far (spice-server logs when G_MESSAGES_DEBUG=all is in env). */
  serverLog(): string {
    return this.stderr;
  }

  /** Quits via QMP, then kills by PID; removes the run directory (kept if KEEP_QEMU_DIR is set). */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) resolve();
      else this.proc.once('exit', () => resolve());
    });
    if (!this.exitError) {
      await Promise.race([this.qmp.execute('quit', undefined, 3000).catch(() => undefined), exited]);
      await Promise.race([exited, sleep(5000)]);
    }
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
      await Promise.race([exited, sleep(5000)]);
    }
    LIVE.delete(this.proc);
    this.qmp.close();
    this.serialSock.destroy();
    try { fs.closeSync(this.serialLog); } catch { /* closed */ }
    if (!process.env.KEEP_QEMU_DIR) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private appendStderr(s: string): void {
    this.stderr += s;
    if (this.stderr.length > STDERR_CAP) this.stderr = this.stderr.slice(-STDERR_CAP / 2);
  }

  private stderrTail(): string {
    return this.stderr.split('\n').slice(-20).join('\n');
  }

  private onSerial(d: string): void {
    if (this.serialPrefixFrom) {
      const src = this.serialPrefixFrom;
      this.serialPrefixFrom = null;
      this.partial = src.partial + this.partial;
      src.partial = '';
    }
    this.partial += d;
    let nl: number;
    const added: string[] = [];
    while ((nl = this.partial.indexOf('\n')) >= 0) {
      const line = this.partial.slice(0, nl).replace(/\r/g, '');
      this.partial = this.partial.slice(nl + 1);
      added.push(line);
    }
    if (!added.length) return;
    try { fs.writeSync(this.serialLog, added.join('\n') + '\n'); } catch { /* closed */ }
    const base = this.lines.length;
    this.lines.push(...added);
    const now = Date.now();
    for (let i = 0; i < added.length; i++) this.lineTimes.push(now);
    this.waiters = this.waiters.filter((w) => {
      for (let i = Math.max(w.from, base); i < this.lines.length; i++) {
        if (w.re.test(this.lines[i])) { w.resolve({ line: this.lines[i], index: i }); return false; }
      }
      return true;
    });
  }

  private onExit(e: Error): void {
    this.exitError ??= e;
    LIVE.delete(this.proc);
    for (const w of this.waiters) w.reject(this.exitError);
    this.waiters = [];
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function retryConnect<T>(connect: () => Promise<T>, exited: () => Error | null, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const gone = exited();
    if (gone) throw gone;
    try {
      return await connect();
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || Date.now() > end) throw new Error(`${what}: ${(e as Error).message}`);
    }
    await sleep(20);
  }
}

function connectUnix(p: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(p);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}
