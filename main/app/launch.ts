// Command line → effective configuration, shared by the Electron shell and the
// web host: remote-viewer's options (main/config/cli.ts), a .vv file or `-`
// (stdin) read once with readVvFile (delete-this-file honoured; the parsed
// config stays in memory for reconnects), --help/--version texts, and
// remote-viewer's error texts with exit code 1.
import { cliErrorHint, isHelp, isVersion, parseCommandLine, type CliOptions } from '../config/cli';
import { resolveConfig, type EffectiveConfig } from '../config/effective';
import { readVvFile, type ReadVvOptions } from '../config/vv-file';
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

export async function planLaunch(argv: readonly string[], o: LaunchOptions = {}): Promise<LaunchPlan> {
  const prog = o.prog ?? APP_NAME;
  const env = o.env ?? {};
  let cli: CliOptions;
  try {
    const r = parseCommandLine(argv, { prog, version: `${prog} version ${o.appVersion ?? '0.0.0'} (remote-viewer 11.0 compatible)` });
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
      const read = await readVvFile(path, env, { appName: prog, ...(o.readStdin ? { readStdin: o.readStdin } : {}) });
      vv = read.config;
    }
    const config = resolveConfig(cli, { vv, env });
    return { kind: 'run', cli, config, warnings: config.warnings, debug: config.debug };
  } catch (e) {
    return { kind: 'exit', code: 1, stderr: `Error: ${(e as Error).message}\n` };
  }
}
