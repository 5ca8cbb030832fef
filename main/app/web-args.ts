// The web host's own options, taken out of argv before the rest goes to the
// remote-viewer parser: --port N, --host H, --allow-remote, --password P
// (also --opt=value). Everything else is remote-viewer's.
import { ConfigError } from '../config/errors';

export interface WebArgs {
  port?: number;
  host?: string;
  allowRemote?: boolean;
  password?: string;
}

export const WEB_HELP = `Web host Options:
  --port=N                  HTTP port (default: any free port)
  --host=HOST               Address to listen on (default 127.0.0.1)
  --allow-remote            Allow a non-loopback --host
  --password=PASSWORD       SPICE password (or SPICE_PASSWORD); never sent to the page
`;

export function splitWebArgs(argv: readonly string[]): { web: WebArgs; rest: string[] } {
  const web: WebArgs = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const m = /^--(port|host|password|allow-remote)(?:=(.*))?$/s.exec(a);
    if (!m) {
      rest.push(a);
      continue;
    }
    const name = m[1];
    if (name === 'allow-remote') {
      web.allowRemote = true;
      continue;
    }
    let value = m[2];
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new ConfigError(`Missing argument for --${name}`);
      value = argv[++i];
    }
    if (name === 'port') {
      if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new ConfigError(`Cannot parse integer value “${value}” for --port`);
      web.port = Number(value);
    } else if (name === 'host') web.host = value;
    else web.password = value;
  }
  return { web, rest };
}
