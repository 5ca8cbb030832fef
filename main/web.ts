// `npm run web -- [remote-viewer options] [URI|file.vv|-]` plus the web host's
// own --port/--host/--allow-remote/--cert/--key/--password: resolves the
// configuration like remote-viewer (main/app/launch.ts), starts the web host,
// dials the target at once (a broker's ticket ages from the moment it was
// issued) and prints the tokenised URL, then the session's progress and
// failures. Without a target the page shows its connect form. In kiosk mode
// with --kiosk-quit=on-disconnect the process exits when the session ends:
// code 0 after a session that was up, 1 when it never connected.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWebHost, type WebHost } from './web-host';
import { cliErrorHint } from './config/cli';
import { findAppVersion } from './app/app-version';
import { APP_NAME, planLaunch, targetLabel } from './app/launch';
import { createSessionController, type EndedInfo } from './app/session-controller';
import { announcePlan, endedText, printExitPlan, statusPrinter, surviveUnobservedRejections } from './app/terminal';
import { WEB_HELP, splitWebArgs } from './app/web-args';
import { openSettingsStore, settingsDir } from './app/settings';
import { hostControllerOptions } from './app/host-options';

function appVersion(): string {
  return findAppVersion(typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url)));
}

async function main(): Promise<void> {
  const env = process.env as Record<string, string | undefined>;
  let split;
  let tls;
  try {
    split = splitWebArgs(process.argv.slice(2));
    if (split.web.cert !== undefined && split.web.key !== undefined) tls = { cert: readFileSync(split.web.cert), key: readFileSync(split.web.key) };
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${cliErrorHint(APP_NAME)}\n`);
    process.exit(1);
  }
  const version = appVersion();
  const plan = await planLaunch(split.rest, { prog: APP_NAME, appVersion: version, env });
  if (plan.kind === 'exit') {
    printExitPlan(plan, undefined, WEB_HELP + '\n');
    process.exit(plan.code);
  }
  const { config } = plan;
  const log = announcePlan(plan);
  // the one password path: into the launch configuration, which never travels to the page
  const password = split.web.password ?? env.SPICE_PASSWORD;
  if (password !== undefined && config.target && config.target.password === undefined) config.target = { ...config.target, password };

  let host: WebHost | null = null;
  let ending = false;
  const finish = (code: number): void => {
    if (ending) return;
    ending = true;
    const done = (): never => process.exit(code);
    if (host) host.close().then(done, done);
    else done();
  };
  const onEnded = (info: EndedInfo): void => {
    process.stderr.write(endedText(info));
    finish(info.everConnected ? 0 : 1);
  };
  const label = targetLabel(config.target);
  // the same settings.json as the app: recent connections for the page's connect dialog (never a password)
  const settings = await openSettingsStore(settingsDir(env), (e) => log.warn(`settings: ${e.message}`));
  host = await startWebHost({
    host: split.web.host,
    port: split.web.port,
    allowRemote: split.web.allowRemote,
    ...(tls ? { tls } : {}),
    ...(label ? { uri: label } : {}),
    onStatus: statusPrinter(),
    log: (line) => log.warn(line),
    engine: () =>
      createSessionController({
        ...hostControllerOptions({ config, log, appVersion: version, env, settings }),
        onEnded,
        onConnected: (shown, cfg) => {
          if (shown) settings.addRecent(shown, cfg.ui.title);
        },
      }),
  });
  console.log(`SPICE viewer: open ${host.url}`);
  if (config.ui.kiosk) console.log(`kiosk mode${config.ui.kioskQuit === 'on-disconnect' ? ' (quits when the session ends)' : ' (reconnects automatically)'}`);
  process.on('SIGINT', () => finish(0));
  process.on('SIGTERM', () => finish(0));
}

surviveUnobservedRejections();
main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
