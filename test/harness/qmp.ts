// QMP client for the test harness: one unix-socket connection to a QEMU
// monitor, capabilities negotiation, id-matched command replies and an event log.
import net from 'node:net';

interface Pending { resolve: (v: any) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
interface EventWaiter { name: string; pred?: (ev: any) => boolean; resolve: (ev: any) => void }
interface CountWaiter { check: () => boolean; fail: (e: Error) => void }

export class QmpClient {
  /** Every event received so far, oldest first (tests may clear it: events.length = 0). */
  readonly events: any[] = [];
  private readonly sock: net.Socket;
  private buf = '';
  private nextId = 1;
  private readonly pending = new Map<string, Pending>();
  private waiters: EventWaiter[] = [];
  private countWaiters: CountWaiter[] = [];
  private closedError: Error | null = null;
  private readonly closeListeners: Array<(e: Error) => void> = [];

  private constructor(sock: net.Socket) {
    this.sock = sock;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => this.onData(d));
    sock.on('error', (e) => this.onClose(e));
    sock.on('close', () => this.onClose(new Error('QMP connection closed')));
  }

  /** Connects to path, reads the greeting and leaves capabilities negotiation mode. */
  static async connect(path: string, timeoutMs = 10000): Promise<QmpClient> {
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.createConnection(path);
      const t = setTimeout(() => { s.destroy(); reject(new Error(`QMP connect timeout: ${path}`)); }, timeoutMs);
      s.once('connect', () => { clearTimeout(t); resolve(s); });
      s.once('error', (e) => { clearTimeout(t); reject(e); });
    });
    const c = new QmpClient(sock);
    await c.execute('qmp_capabilities');
    return c;
  }

  /** Runs a QMP command; resolves with its "return" value, rejects on "error". */
  execute(cmd: string, args?: object, timeoutMs = 60000): Promise<any> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = `h${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`QMP ${cmd} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      const msg: Record<string, unknown> = { execute: cmd, id };
      if (args) msg.arguments = args;
      this.sock.write(JSON.stringify(msg) + '\n');
    });
  }

  /**
   * Resolves with the first event called name (and accepted by pred), looking at
   * already received events first, then waiting for new ones.
   */
  waitEvent(name: string, timeoutMs = 30000, pred?: (ev: any) => boolean): Promise<any> {
    const seen = this.events.find((ev) => ev.event === name && (!pred || pred(ev)));
    if (seen) return Promise.resolve(seen);
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const w: EventWaiter = {
        name, pred,
        resolve: (ev) => { clearTimeout(t); resolve(ev); },
      };
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`QMP event ${name} not seen within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
      this.closeListeners.push((e) => {
        if (!this.waiters.includes(w)) return;
        clearTimeout(t);
        reject(new Error(`QMP event ${name}: ${e.message}`));
      });
    });
  }

  /**
   * Resolves with the first count events called name (accepted by pred) at
   * index >= fromIndex of events, waiting for new ones as needed.
   */
  waitEvents(name: string, count: number, timeoutMs = 30000, pred?: (ev: any) => boolean, fromIndex = 0): Promise<any[]> {
    const matches = (): any[] => this.events.slice(fromIndex).filter((ev) => ev.event === name && (!pred || pred(ev))).slice(0, count);
    const now = matches();
    if (now.length >= count) return Promise.resolve(now);
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const w: CountWaiter = {
        check: () => {
          const m = matches();
          if (m.length < count) return false;
          clearTimeout(t); resolve(m);
          return true;
        },
        fail: (e) => { clearTimeout(t); reject(new Error(`QMP events ${name}: ${e.message}`)); },
      };
      const t = setTimeout(() => {
        this.countWaiters = this.countWaiters.filter((x) => x !== w);
        reject(new Error(`QMP event ${name}: ${matches().length} of ${count} seen within ${timeoutMs} ms`));
      }, timeoutMs);
      this.countWaiters.push(w);
    });
  }

  close(): void {
    this.sock.destroy();
    this.onClose(new Error('QMP client closed'));
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      let msg: any;
      try { msg = JSON.parse(line); } catch { continue; }
      this.onMessage(msg);
    }
  }

  private onMessage(msg: any): void {
    if (msg.event) {
      this.events.push(msg);
      const hit = this.waiters.filter((w) => w.name === msg.event && (!w.pred || w.pred(msg)));
      this.waiters = this.waiters.filter((w) => !hit.includes(w));
      for (const w of hit) w.resolve(msg);
      if (this.countWaiters.length) this.countWaiters = this.countWaiters.filter((w) => !w.check());
      return;
    }
    if (msg.id === undefined) return;  // greeting
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.error) p.reject(new Error(`QMP error ${msg.error.class}: ${msg.error.desc}`));
    else p.resolve(msg.return);
  }

  private onClose(e: Error): void {
    if (this.closedError) return;
    this.closedError = e;
    for (const p of this.pending.values()) { clearTimeout(p.timer); p.reject(e); }
    this.pending.clear();
    for (const l of this.closeListeners) l(e);
    this.waiters = [];
    for (const w of this.countWaiters) w.fail(e);
    this.countWaiters = [];
  }
}
