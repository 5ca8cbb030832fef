// What to connect to at launch: a spice:// URI or a virt-viewer .vv file
// (the [virt-viewer] section: host, port, tls-port, password) on the command line.

export interface LaunchTarget {
  uri: string;
  password?: string;
}

/** Parses the [virt-viewer] section of a .vv file into a URI. */
export function parseVvFile(text: string): LaunchTarget {
  const kv = new Map<string, string>();
  let section = '';
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1].trim();
      continue;
    }
    const eq = line.indexOf('=');
    if (section === 'virt-viewer' && eq > 0) kv.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  if (kv.get('type') && kv.get('type') !== 'spice') throw new Error(`.vv type ${kv.get('type')} is not spice`);
  const host = kv.get('host');
  if (!host) throw new Error('.vv file has no host');
  const h = host.includes(':') ? `[${host}]` : host;
  const q = new URLSearchParams();
  if (kv.get('tls-port')) q.set('tls-port', kv.get('tls-port') as string);
  const port = kv.get('port');
  const uri = `spice://${h}${port ? `:${port}` : ''}${q.size ? `?${q}` : ''}`;
  return { uri, password: kv.get('password') };
}

/** First spice:// argument, or the first *.vv path (read with readFile). */
export function findLaunchTarget(argv: string[], readFile: (p: string) => string): LaunchTarget | undefined {
  for (const a of argv) {
    if (/^spice(\+unix)?:\/\//i.test(a)) return { uri: a };
    if (/\.vv$/i.test(a)) return parseVvFile(readFile(a));
  }
  return undefined;
}

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
