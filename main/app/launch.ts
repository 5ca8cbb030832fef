// Command line → effective configuration, shared by the Electron shell and the
// web host: remote-viewer's options (main/config/cli.ts), a .vv file or `-`
// (stdin) read once with readVvFile (delete-this-file honoured; the parsed
// config stays in memory for reconnects), --help/--version texts, and
// remote-viewer's error texts with exit code 1.
import { cliErrorHint, isHelp, isVersion, parseCommandLine, type CliOptions } from '../config/cli';
import { resolveConfig, type EffectiveConfig } from '../config/effective';
import { readVvFile, type ReadVvOptions } from '../config/vv-file';
import { REMOTE_VIEWER_COMPAT_VERSION, checkVvVersion, type VvConfig } from '../config/vv';
import { ConfigError } from '../config/errors';
import { describeTarget } from '../config/uri';
import type { EffectiveTarget } from '../config/effective';

export const APP_NAME = 'spice-viewer';

export type LaunchPlan =
  | { kind: 'exit'; code: number; stdout?: string; stderr?: string }
  | { kind: 'run'; cli: CliOptions; config: EffectiveConfig; /** printed to stderr as remote-viewer does */ warnings: string[]; debug: string[] };

export interface LaunchOptions {
  prog?: string;
  appVersion?: string;
  env?: Record<string, string | undefined>;
  readStdin?: ReadVvOptions['readStdin'];
}

/** How a target is shown in titles, status lines and reports (never the password). */
export function targetLabel(t: EffectiveTarget | undefined): string {
  if (!t) return '';
  if (t.scheme === 'spice+unix') return `spice+unix://${t.unixPath ?? ''}`;
  return describeTarget({ ...t, warnings: [] });
}

/**
 * The .vv minimum-version gate. A .vv `version` (or `versions`) key is a
 * remote-viewer version requirement written by the broker, so it is compared
 * with the remote-viewer release whose behaviour we follow, not our own
 * version number; the message says so.
 */
export function checkRemoteViewerVersion(vv: VvConfig, prog: string, appVersion: string): void {
  try {
    checkVvVersion(vv, { appVersion: REMOTE_VIEWER_COMPAT_VERSION, appName: 'remote-viewer' });
  } catch (e) {
    throw new ConfigError(
      `${(e as Error).message} (the file's version key is a remote-viewer version; ${prog} ${appVersion} reads .vv files as remote-viewer ${REMOTE_VIEWER_COMPAT_VERSION} does)`,
    );
  }
}

export async function planLaunch(argv: readonly string[], o: LaunchOptions = {}): Promise<LaunchPlan> {
  const prog = o.prog ?? APP_NAME;
  const env = o.env ?? {};
  let cli: CliOptions;
  try {
    const r = parseCommandLine(argv, { prog, version: `${prog} version ${o.appVersion ?? '0.0.0'} (remote-viewer ${REMOTE_VIEWER_COMPAT_VERSION} compatible)` });
    if (isHelp(r)) return { kind: 'exit', code: 0, stdout: r.help };
    if (isVersion(r)) return { kind: 'exit', code: 0, stdout: r.version + '\n' };
    cli = r;
  } catch (e) {
    return { kind: 'exit', code: 1, stderr: `${(e as Error).message}\n${cliErrorHint(prog)}\n` };
  }
  try {
    let vv;
    if (cli.target && cli.target.kind !== 'uri') {
      const path = cli.target.kind === 'stdin' ? '-' : cli.target.path;
      // the gate is run here, after the read (and its delete-this-file), to say what it compared
      const read = await readVvFile(path, env, { checkVersion: false, ...(o.readStdin ? { readStdin: o.readStdin } : {}) });
      vv = read.config;
      checkRemoteViewerVersion(vv, prog, o.appVersion ?? '0.0.0');
    }
    const config = resolveConfig(cli, { vv, env });
    return { kind: 'run', cli, config, warnings: config.warnings, debug: config.debug };
  } catch (e) {
    return { kind: 'exit', code: 1, stderr: `Error: ${(e as Error).message}\n` };
  }
}
