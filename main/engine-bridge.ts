// The engine side of the viewer contract: one Session at a time, its events
// batched per event-loop turn for the renderer (display commands travel in
// wire order, numbered so the renderer can acknowledge what it painted).
import type { CursorCommand, DisplayCommand, InputEvent, SessionStatus, ViewerApi, ViewerEvents } from '../preload/contract';
import { Session, quietLogger, defaultMigrationEndpoint } from './spice/session';
import type { DstInfo } from './spice/messages/main';
import type { Endpoint } from './spice/transport';
import { connectTargetToEndpoint, parseConnectUri } from './config/uri';
import { defaultTransportFactory } from './transport/index';
import type { Logger } from './spice/channels/base-channel';
import type { TransportFactory } from './spice/transport';
import { SpiceError } from './spice/wire/errors';

export interface EngineOptions {
  log?: Logger;
  transport?: TransportFactory;
  /** Override for migration destinations, "host" or "host:port" (env SPICE_MIG_HOST by default). */
  migrationHost?: string;
}

/**
 * Host-mapping hook for migrations behind NAT/proxies: SPICE_MIG_HOST=host[:port]
 * replaces the destination the server announces (same idea as spice-gtk's variable).
 */
export function migrationMapper(override: string | undefined): (dst: DstInfo, current: Endpoint) => Endpoint {
  if (!override) return defaultMigrationEndpoint;
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(override.trim());
  if (!m) throw new SpiceError('CONFIG', `SPICE_MIG_HOST "${override}" is not host[:port]`);
  return (dst, current) => ({ ...defaultMigrationEndpoint(dst, current), host: m[1], ...(m[2] ? { port: Number(m[2]) } : {}) });
}

type Listener<K extends keyof ViewerEvents> = (payload: ViewerEvents[K], batch: number) => void;

export interface EngineBridge extends ViewerApi {
  /** The current session (tests and the CLI read its state). */
  session(): Session | null;
  /** Display batches sent and not yet acknowledged by the renderer. */
  unackedBatches(): number;
}

export function createEngineBridge(opts: EngineOptions = {}): EngineBridge {
  const log = opts.log ?? quietLogger;
  const listeners: { [K in keyof ViewerEvents]: Set<Listener<K>> } = { status: new Set(), migration: new Set(), display: new Set(), cursor: new Set() };
  const mapDestination = migrationMapper(opts.migrationHost ?? process.env.SPICE_MIG_HOST);
  let session: Session | null = null;
  let display: DisplayCommand[] = [];
  let cursor: CursorCommand[] = [];
  let scheduled = false;
  let batch = 0;
  let acked = 0;
  let lastStatus: SessionStatus = { state: 'idle', message: 'not connected' };

  const emit = <K extends keyof ViewerEvents>(name: K, payload: ViewerEvents[K], n: number) => {
    for (const cb of listeners[name]) (cb as Listener<K>)(payload, n);
  };
  const flush = () => {
    scheduled = false;
    if (display.length) {
      const d = display;
      display = [];
      emit('display', d, ++batch);
    }
    if (cursor.length) {
      const c = cursor;
      cursor = [];
      emit('cursor', c, batch);
    }
  };
  const schedule = () => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const status = (s: SessionStatus) => {
    lastStatus = s;
    flush(); // keep order: commands before the status that follows them
    emit('status', s, batch);
  };

  return {
    connect(uri: string, password?: string) {
      session?.disconnect();
      let target;
      try {
        target = connectTargetToEndpoint(parseConnectUri(uri));
      } catch (e) {
        status({ state: 'disconnected', message: (e as Error).message, code: (e as SpiceError).code ?? 'CONFIG' });
        return;
      }
      const s = new Session({
        endpoint: target.endpoint,
        password: password ?? target.password,
        transport: opts.transport ?? defaultTransportFactory,
        log,
        onDisplay: (_id, cmd) => {
          display.push(cmd);
          schedule();
        },
        onCursor: (cmd) => {
          cursor.push(cmd);
          schedule();
        },
        onStatus: (st) => {
          if (session === s) status(st);
        },
        onMigration: (m) => {
          if (session !== s) return;
          flush(); // the banner follows the frames it describes
          emit('migration', m, batch);
        },
        mapMigrationDestination: mapDestination,
      });
      session = s;
      s.connect().catch(() => {
        /* reported through status */
      });
    },
    disconnect() {
      session?.disconnect();
    },
    input(events: InputEvent[]) {
      for (const ev of events) session?.input(ev);
    },
    displayAck(n: number) {
      if (n > acked && n <= batch) acked = n;
    },
    on(event, cb) {
      const set = listeners[event] as Set<typeof cb>;
      set.add(cb);
      if (event === 'status') (cb as Listener<'status'>)(lastStatus, batch);
      return () => set.delete(cb);
    },
    session: () => session,
    unackedBatches: () => batch - acked,
  };
}
