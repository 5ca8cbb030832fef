// The display link: display batches go from the engine straight to the
// renderer's display worker, not through the page's main thread — in Electron
// over a MessagePort main hands to the worker (MessageChannelMain), in the web
// host over a WebSocket the worker opens itself. The worker answers each batch
// with "painted" once the page has put it on the canvas; the engine ACKs the
// server's display messages only then (main/app/display-flow.ts).
// Types and constants only, so main, preload, page and worker share it.
import type { DisplayCommand, ViewerEvents } from './contract';
import { VIEWER_EVENT_NAMES } from './contract';

/** Electron: the IPC message that carries the display port to the preload. */
export const DISPLAY_PORT_IPC = 'spice-viewer:display-port';
/** Electron: the preload hands the port to the page with window.postMessage(this, origin, [port]). */
export const DISPLAY_PORT_MESSAGE = 'spice-viewer:display-port';
/** Web host: the worker's WebSocket (token and page id in the query). */
export const DISPLAY_WS_PATH = '/display';

/** engine → worker */
export interface DisplayLinkBatch {
  type: 'batch';
  batch: number;
  commands: DisplayCommand[];
}

/** worker → engine: every batch up to this one is painted. */
export interface DisplayLinkPainted {
  type: 'painted';
  batch: number;
}

export function isDisplayLinkPainted(m: unknown): m is DisplayLinkPainted {
  const o = m as DisplayLinkPainted | null;
  return typeof o === 'object' && o !== null && o.type === 'painted' && Number.isSafeInteger(o.batch) && o.batch >= 0;
}

export function isDisplayLinkBatch(m: unknown): m is DisplayLinkBatch {
  const o = m as DisplayLinkBatch | null;
  return typeof o === 'object' && o !== null && o.type === 'batch' && Number.isSafeInteger(o.batch) && Array.isArray(o.commands);
}

/** Events the page's bridge carries: everything but display, which takes the display link. */
export const PAGE_EVENT_NAMES = VIEWER_EVENT_NAMES.filter((n): n is Exclude<keyof ViewerEvents, 'display'> => n !== 'display');
