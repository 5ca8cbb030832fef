// Electron's display link (preload/display-link.ts): on every page load main
// makes a MessageChannelMain, keeps one end and hands the other to the page
// (preload → window.postMessage → the display worker), so display batches go
// from here to the worker in one structured clone instead of three (IPC,
// contextBridge, postMessage) and never touch the page's main thread.
// Only `import type` from electron; the runtime class is passed in.
import type { MessageChannelMain as MessageChannelMainT, MessagePortMain } from 'electron';
import type { HostEngine } from '../../preload/contract';
import { DISPLAY_PORT_IPC } from '../../preload/display-link';
import { displayLinkHost } from '../app/display-link';
import type { Logger } from '../spice/channels/base-channel';

export interface DisplayPortDeps {
  MessageChannelMain: new () => Pick<MessageChannelMainT, 'port1' | 'port2'>;
}

/** The part of WebContents used here. */
export interface DisplayPortContents {
  on(event: 'did-finish-load', cb: () => void): unknown;
  off(event: 'did-finish-load', cb: () => void): unknown;
  postMessage(channel: string, message: unknown, transfer?: MessagePortMain[]): void;
  isDestroyed(): boolean;
}

export function attachDisplayPort(deps: DisplayPortDeps, contents: DisplayPortContents, engine: HostEngine, log?: Logger): () => void {
  const link = displayLinkHost(engine);
  let port: MessagePortMain | null = null;
  const open = (): void => {
    // a reload starts a new worker: the old port's batches are gone with it
    port?.close();
    const { port1, port2 } = new deps.MessageChannelMain();
    port = port1;
    port1.on('message', (ev) => {
      if (!link.received(ev.data)) log?.warn('display port: a message that is not "painted" (ignored)');
    });
    port1.start();
    link.attach((b) => port1.postMessage(b));
    if (!contents.isDestroyed()) contents.postMessage(DISPLAY_PORT_IPC, null, [port2]);
  };
  contents.on('did-finish-load', open);
  return () => {
    if (!contents.isDestroyed()) contents.off('did-finish-load', open);
    port?.close();
    port = null;
    link.detach();
  };
}
