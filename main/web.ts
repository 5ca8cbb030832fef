// `npm run web -- [remote-viewer options] [URI|file.vv|-]` plus the web host's
// own --port/--host/--allow-remote/--password: resolves the configuration
// like remote-viewer (main/app/launch.ts), starts the web host with one
// session controller per page and prints the tokenised URL. In kiosk mode
// with --kiosk-quit=on-disconnect the process exits when the session ends:
// code 0 after a session that was up, 1 when it never connected.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWebHost, type WebHost } from './web-host';
import { cliErrorHint } from './config/cli';
import { findAppVersion } from './app/app-version';
import { APP_NAME, planLaunch, targetLabel } from './app/launch';
import { createSessionController, type EndedInfo } from './app/session-controller';
import { WEB_HELP, splitWebArgs } from './app/web-args';
import { defaultTransportFactory } from './transport/index';
import type { Logger } from './spice/channels/base-channel';

function appVersion(): string {
  return findAppVersion(typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url)));
}

async function main(): Promise<void> {
  const env = process.env as Record<string, string | undefined>;
  let split;
  try {
    split = splitWebArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${cliErrorHint(APP_NAME)}\n`);
    process.exit(1);
  }
  const version = appVersion();
  const plan = await planLaunch(split.rest, { prog: APP_NAME, appVersion: version, env });
  if (plan.kind === 'exit') {
    if (plan.stdout) process.stdout.write(plan.stdout.startsWith('Usage:') ? plan.stdout + WEB_HELP + '\n' : plan.stdout);
    if (plan.stderr) process.stderr.write(plan.stderr);
    process.exit(plan.code);
  }
  const { config } = plan;
  for (const w of plan.warnings) console.error(`Warning: ${w}`);
  if (config.ui.debug) for (const d of plan.debug) console.error(`debug: ${d}`);
  const password = split.web.password ?? env.SPICE_PASSWORD;
  if (password !== undefined && config.target && config.target.password === undefined) config.target = { ...config.target, password };

  const verbose = config.ui.verbose || config.ui.debug;
  const log: Logger = {
    debug: (m) => config.ui.debug && console.error(`debug: ${m}`),
    info: (m) => verbose && console.error(m),
    warn: (m) => verbose && console.error(`warning: ${m}`),
  };
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
    console.error(`session ended${info.error ? `: ${info.error.message}` : ''} (--kiosk-quit=on-disconnect)`);
    finish(info.everConnected ? 0 : 1);
  };
  const label = targetLabel(config.target);
  host = await startWebHost({
    host: split.web.host,
    port: split.web.port,
    allowRemote: split.web.allowRemote,
    ...(label ? { uri: label } : {}),
    engine: () =>
      createSessionController({
        config,
        transport: defaultTransportFactory,
        log,
        appVersion: version,
        env,
        onEnded,
      }),
  });
  console.log(`SPICE viewer: open ${host.url}`);
  if (config.ui.kiosk) console.log(`kiosk mode${config.ui.kioskQuit === 'on-disconnect' ? ' (quits when the session ends)' : ' (reconnects automatically)'}`);
  process.on('SIGINT', () => finish(0));
  process.on('SIGTERM', () => finish(0));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
