// The application's own command-line arguments out of Electron's argv
// (what they mean is main/config: cli.ts, uri.ts, vv-file.ts).

/** Chromium/Electron/Node switches that can appear in process.argv but are not ours. */
const ENGINE_SWITCH =
  /^--(no-sandbox|inspect(-brk)?(=.*)?|remote-debugging-(port|pipe)(=.*)?|enable-logging(=.*)?|disable-gpu.*|headless(=.*)?|user-data-dir=.*|ozone-platform(-hint)?=.*|enable-features=.*|disable-features=.*|disable-dev-shm-usage|allow-file-access-from-files|in-process-gpu|use-gl=.*|use-angle=.*|force-device-scale-factor=.*|js-flags=.*|lang=.*|v=.*|vmodule=.*|log-level=.*|log-file=.*|no-zygote|disable-software-rasterizer|enable-crash-reporter.*|original-process-start-time=.*|allow-sandbox-debugging|disable-renderer-backgrounding)$/;

/**
 * The application's own arguments from Electron's argv: drops the executable,
 * the app path when run as `electron app.cjs` (defaultApp), and engine switches
 * (Playwright adds --inspect/--remote-debugging-port; users may add --no-sandbox).
 */
export function appArgs(argv: readonly string[], defaultApp: boolean): string[] {
  const out: string[] = [];
  let skipApp = defaultApp;
  let ended = false;
  for (const a of argv.slice(1)) {
    if (ended) {
      out.push(a);
      continue;
    }
    if (a === '--') ended = true;
    if (!ended && ENGINE_SWITCH.test(a)) continue;
    if (skipApp && !a.startsWith('-')) {
      skipApp = false;
      continue;
    }
    out.push(a);
  }
  return out;
}
