// Shared by the web-host end-to-end tests: Chromium's flags, opening the page
// with its test hook, the `web` command as a user runs it, and comparing
// RGBA pixels (the page's canvas, a screenshot PNG) with a QMP screendump.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { Screen } from '../harness/qemu';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DIST = join(ROOT, 'dist/renderer');
export const CHROMIUM_ARGS = ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Debian's Chromium for the file's tests (launched before them, closed after): call at the top level. */
export function chromiumForTests(): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    assert.ok(existsSync(`${DIST}/main.js`), 'dist/renderer is missing: run `npm run build` first');
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
  });
  return () => browser ?? assert.fail('Chromium is not running');
}

export interface PageProbe {
  errors: string[];
}

/** The page with its test hook (?test=1), console errors and page errors collected. */
export async function openPage(browser: Browser, url: string): Promise<{ page: Page; probe: PageProbe }> {
  const page = await browser.newPage();
  const probe: PageProbe = { errors: [] };
  page.on('console', (m) => {
    if (m.type() === 'error') probe.errors.push(m.text());
  });
  page.on('pageerror', (e) => probe.errors.push(e.message));
  await page.goto(`${url}&test=1`);
  return { page, probe };
}

/** The `web` command as a user runs it, its terminal output collected; its settings.json in a fresh directory (never the user's). */
export class WebCli {
  readonly proc: ChildProcess;
  readonly configDir = mkdtempSync(join(tmpdir(), 'web-cli-settings-'));
  out = '';
  err = '';
  constructor(args: string[], extraEnv: Record<string, string> = {}) {
    const env = { ...process.env, SPICE_VIEWER_CONFIG_DIR: this.configDir, ...extraEnv };
    this.proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'main/web.ts'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
    this.proc.stdout!.setEncoding('utf8').on('data', (d: string) => (this.out += d));
    this.proc.stderr!.setEncoding('utf8').on('data', (d: string) => (this.err += d));
  }
  /** Waits until the output (stdout + stderr) matches, with a deadline. */
  async waitFor(re: RegExp, ms: number, stream: 'out' | 'err' = 'err'): Promise<RegExpExecArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = re.exec(this[stream]);
      if (m) return m;
      if (this.proc.exitCode !== null) assert.fail(`web exited (${this.proc.exitCode}) before ${re}:\n${this.out}\n${this.err}`);
      if (Date.now() > end) assert.fail(`no ${re} on ${stream} in ${ms} ms:\n${this.out}\n${this.err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((ok) => this.proc.once('exit', ok));
    this.proc.kill('SIGTERM');
    await exited;
  }
}

/** '' when the RGBA pixels (opaque) equal the screendump, else what differs. */
export function screenDiff(got: { width: number; height: number; rgba: Uint8Array }, shot: Screen): string {
  if (got.width !== shot.width || got.height !== shot.height) return `${got.width}x${got.height} vs screendump ${shot.width}x${shot.height}`;
  let diff = 0;
  let first = -1;
  for (let i = 0, j = 0; i < shot.width * shot.height; i++, j += 4) {
    if (got.rgba[j] !== shot.rgb[i * 3] || got.rgba[j + 1] !== shot.rgb[i * 3 + 1] || got.rgba[j + 2] !== shot.rgb[i * 3 + 2] || got.rgba[j + 3] !== 255) {
      if (first < 0) first = i;
      diff++;
    }
  }
  return diff === 0 ? '' : `${diff} pixels differ, first at (${first % shot.width}, ${Math.floor(first / shot.width)})`;
}

/** The page's primary surface of a display (its test hook; display 0 by default), as RGBA. */
export async function canvasPixels(page: Page, display = 0): Promise<{ width: number; height: number; rgba: Uint8Array }> {
  type Px = { width: number; height: number; rgba: Uint8Array };
  const got = await page.evaluate((d) => (window as unknown as { __spiceTest: { displayPixels(id: number): Promise<Px | null> } }).__spiceTest.displayPixels(d), display);
  if (!got) return { width: 0, height: 0, rgba: new Uint8Array(0) };
  const rgba = got.rgba instanceof Uint8Array ? got.rgba : Uint8Array.from(Object.values(got.rgba as object) as number[]);
  return { width: got.width, height: got.height, rgba };
}

/** Polls until the page's canvas (of `display`) equals the screendump (the page catches up asynchronously). */
export async function waitCanvasEqualsScreendump(page: Page, screendump: () => Promise<Screen>, what: string, ms = 30_000, display = 0): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const last = screenDiff(await canvasPixels(page, display), await screendump());
    if (!last) return;
    if (Date.now() > deadline) assert.fail(`${what}: ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A port nothing listens on (bound, then closed). */
export async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((ok) => srv.listen(0, '127.0.0.1', ok));
  const port = (srv.address() as { port: number }).port;
  await new Promise((ok) => srv.close(ok));
  return port;
}

/** One line of the Devices panel as the user sees it. */
export interface DeviceLine {
  id: string;
  state: string;
  checked: boolean;
  disabled: boolean;
  label: string;
  detail: string;
  error: string;
}

/** The Devices panel's lines of one kind ('usb' | 'smartcard'), read from the page. */
export const deviceLines = (page: Page, kind: string): Promise<DeviceLine[]> =>
  page.$$eval(`#devices-dialog ul[data-kind='${kind}'] li`, (lis) =>
    lis.map((li) => {
      const box = li.querySelector('input') as HTMLInputElement;
      return {
        id: (li as HTMLElement).dataset.id ?? '',
        state: (li as HTMLElement).dataset.state ?? '',
        checked: box.checked,
        disabled: box.disabled,
        label: li.querySelector('.device-label')?.textContent ?? '',
        detail: li.querySelector('.device-detail')?.textContent ?? '',
        error: li.querySelector('.device-error')?.textContent ?? '',
      };
    }),
  );

/** The `web` command on a VM and one page of it in its own browser context, connected. */
export interface WebSession {
  cli: WebCli;
  ctx: BrowserContext;
  page: Page;
  /** The page's address (with its token), for a second page. */
  url: string;
  /** Page errors and console errors, collected. */
  errors: string[];
  close(): Promise<void>;
}

export async function openWebSession(
  browser: Browser,
  spicePort: number,
  o: { viewport?: { width: number; height: number }; permissions?: string[]; args?: string[]; query?: string } = {},
): Promise<WebSession> {
  const cli = new WebCli([...(o.args ?? []), `spice://127.0.0.1:${spicePort}`]);
  const url = (await cli.waitFor(/SPICE viewer: open (http\S+)/, 30_000, 'out'))[1];
  const ctx = await browser.newContext({ ...(o.viewport ? { viewport: o.viewport } : {}), ...(o.permissions ? { permissions: o.permissions } : {}) });
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${url}&test=1${o.query ? `&${o.query}` : ''}`);
  await page.waitForFunction(() => (window as unknown as { __spiceTest?: { status(): { state: string } } }).__spiceTest?.status().state === 'connected', undefined, { timeout: 30_000 });
  return {
    cli,
    ctx,
    page,
    url,
    errors,
    close: async () => {
      await ctx.close();
      await cli.stop();
    },
  };
}
