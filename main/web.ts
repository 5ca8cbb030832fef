// CLI for `npm run web -- spice://host:port [--port N] [--host H --allow-remote] [--password P]`:
// starts the web host and prints the tokenised URL to open in a browser.
import { startWebHost, type WebHostOptions } from './web-host';

const USAGE = 'usage: npm run web -- [spice://host:port] [--port N] [--host H --allow-remote] [--password P]';

export function parseWebArgs(argv: string[]): WebHostOptions {
  const opts: WebHostOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    if (a === '--port') {
      const p = Number(value());
      if (!Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`bad --port\n${USAGE}`);
      opts.port = p;
    } else if (a === '--host') opts.host = value();
    else if (a === '--allow-remote') opts.allowRemote = true;
    else if (a === '--password') opts.password = value();
    else if (a === '-h' || a === '--help') throw new Error(USAGE);
    else if (/^spice(\+unix)?:\/\//i.test(a) && opts.uri === undefined) opts.uri = a;
    else throw new Error(`unexpected argument ${a}\n${USAGE}`);
  }
  return opts;
}

async function main(): Promise<void> {
  let opts: WebHostOptions;
  try {
    opts = parseWebArgs(process.argv.slice(2));
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  if (opts.password === undefined && process.env.SPICE_PASSWORD) opts.password = process.env.SPICE_PASSWORD;
  const host = await startWebHost(opts);
  console.log(`SPICE viewer: open ${host.url}`);
  const stop = (): void => {
    host.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
