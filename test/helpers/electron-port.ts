// Electron's MessageChannelMain and a WebContents stand-in over Node's
// MessageChannel (a real port pair, structured clone between them), for
// main/ipc/display-port.ts where no Electron binary is available.
import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { MessagePortMain } from 'electron';
import type { DisplayPortContents } from '../../main/ipc/display-port';

/** Electron's MessagePortMain delivers { data, ports }; Node's port delivers the value. */
function portMain(p: MessagePort): MessagePortMain {
  const e = new EventEmitter();
  p.on('message', (data: unknown) => e.emit('message', { data, ports: [] }));
  return Object.assign(e, { postMessage: (m: unknown) => p.postMessage(m), start: () => {}, close: () => p.close(), node: p }) as unknown as MessagePortMain;
}

export class FakeChannelMain {
  port1: MessagePortMain;
  port2: MessagePortMain;
  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port1 = portMain(port1);
    this.port2 = portMain(port2);
  }
}

/** The Node port behind a FakeChannelMain port (what the page's worker would get). */
export const nodePort = (p: MessagePortMain): MessagePort => (p as unknown as { node: MessagePort }).node;

/** A window's WebContents: records what main posts to it; load() is did-finish-load. */
export function fakeContents(): { c: DisplayPortContents; sent: { channel: string; ports: MessagePortMain[] }[]; load: () => void } {
  const e = new EventEmitter();
  const sent: { channel: string; ports: MessagePortMain[] }[] = [];
  const c: DisplayPortContents = {
    on: (ev, cb) => e.on(ev, cb),
    off: (ev, cb) => e.off(ev, cb),
    postMessage: (channel, _m, ports = []) => sent.push({ channel, ports }),
    isDestroyed: () => false,
  };
  return { c, sent, load: () => e.emit('did-finish-load') };
}
