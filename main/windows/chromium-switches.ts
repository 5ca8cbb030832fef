// Chromium switches the Electron app starts with: its process model, chosen for
// memory (issue 13). The viewer runs one page, one renderer process, no web
// content from elsewhere, so the processes Chromium keeps for a browser's
// sake cost memory for nothing here (bench:e2e measures ours with these too):
//  - in-process-gpu: the GPU/compositor service runs in the browser process
//    instead of a process of its own (~30 MiB PSS);
//  - NetworkServiceInProcess2: the network service likewise (~40 MiB); the
//    app loads its page from its own protocol and speaks SPICE from main;
//  - no spare renderer: Chromium keeps an idle renderer ready for the next
//    site (~20 MiB); the app never opens one (display windows share the page's).
// No pure-Node imports: main/electron.ts and the benchmark both read this list.

/** [switch, value] pairs for app.commandLine.appendSwitch (Linux, where each is measured). */
export function chromiumSwitches(platform: string): [string, string?][] {
  if (platform !== 'linux') return [];
  return [['in-process-gpu'], ['enable-features', 'NetworkServiceInProcess2'], ['disable-features', 'SpareRendererForSitePerProcess']];
}

/** The same as command-line arguments (a Chromium started by hand or by a benchmark). */
export function chromiumArgs(platform: string): string[] {
  return chromiumSwitches(platform).map(([k, v]) => (v === undefined ? `--${k}` : `--${k}=${v}`));
}
