// Test client: a real Session feeding a real DisplayState (the renderer's
// compositor), plus helpers to wait for the display to settle and compare
// the primary surface with a QMP screendump.
import { Session } from '../../main/spice/session';
import { defaultTransportFactory } from '../../main/transport/index';
import { DisplayState } from '../../renderer/display/display-state';
import type { DisplayCommand } from '../../preload/contract';
import type { Endpoint } from '../../main/spice/transport';

export interface TestClient {
  session: Session;
  display: DisplayState;
  /** Image kinds seen since the last reset (e.g. quic, glz_rgb, from_cache). */
  kinds: Map<string, number>;
  lastDisplayAt: number;
  commands: number;
  errors: Error[];
}

function countKinds(kinds: Map<string, number>, cmd: DisplayCommand): void {
  if (cmd.t !== 'draw') return;
  const c = cmd.cmd as { src?: { data: { kind: string } } | null };
  if (c.src) kinds.set(c.src.data.kind, (kinds.get(c.src.data.kind) ?? 0) + 1);
}

export function createClient(endpoint: Endpoint, password?: string): TestClient {
  const display = new DisplayState();
  const client: TestClient = {
    display,
    kinds: new Map(),
    lastDisplayAt: Date.now(),
    commands: 0,
    errors: [],
    session: null as unknown as Session,
  };
  client.session = new Session({
    endpoint,
    password,
    transport: defaultTransportFactory,
    onDisplay: (_id, cmd) => {
      client.commands++;
      client.lastDisplayAt = Date.now();
      countKinds(client.kinds, cmd);
      try {
        display.apply(cmd);
      } catch (e) {
        client.errors.push(e as Error);
      }
    },
  });
  return client;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until no display command arrived for quietMs. */
export async function settle(c: TestClient, quietMs = 400, maxMs = 15000): Promise<void> {
  const t0 = Date.now();
  await sleep(quietMs);
  while (Date.now() - c.lastDisplayAt < quietMs) {
    if (Date.now() - t0 > maxMs) throw new Error('display never settled');
    await sleep(50);
  }
}

/** Counts pixels whose RGB differs between the primary surface and a screendump. */
export function diffWithScreen(c: TestClient, screen: { width: number; height: number; rgb: Uint8Array }): { diff: number; first?: string } {
  const s = c.display.primary();
  if (!s) return { diff: -1, first: 'no primary surface' };
  if (s.width !== screen.width || s.height !== screen.height) return { diff: -1, first: `size ${s.width}x${s.height} vs ${screen.width}x${screen.height}` };
  let diff = 0;
  let first: string | undefined;
  const px = s.pixels;
  const rgb = screen.rgb;
  for (let i = 0, j = 0; i < px.length; i++, j += 3) {
    const v = px[i];
    if (((v >>> 16) & 255) !== rgb[j] || ((v >>> 8) & 255) !== rgb[j + 1] || (v & 255) !== rgb[j + 2]) {
      if (!first) first = `(${i % s.width},${Math.floor(i / s.width)}) client ${(v & 0xffffff).toString(16)} server ${((rgb[j] << 16) | (rgb[j + 1] << 8) | rgb[j + 2]).toString(16)}`;
      diff++;
    }
  }
  return { diff, first };
}
