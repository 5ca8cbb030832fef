// The web host's own options, taken out of argv before the rest goes to the
// remote-viewer parser: --port N, --host H, --allow-remote, --cert F, --key F,
// --password P (also --opt=value). Everything else is remote-viewer's.
import { ConfigError } from '../config/errors';

export interface WebArgs {
  port?: number;
  host?: string;
  allowRemote?: boolean;
  /** PEM certificate chain and key files: serve https/wss (required with a non-loopback --host). */
  cert?: string;
  key?: string;
  password?: string;
}

export const WEB_HELP = `Web host Options:
  --port=N                  HTTP port (default: any free port)
  --host=HOST               Address to listen on (default 127.0.0.1)
  --allow-remote            Allow a non-loopback --host (needs --cert and --key)
  --cert=FILE               TLS certificate chain (PEM): serve https
  --key=FILE                TLS private key (PEM) for --cert
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
    const m = /^--(port|host|password|allow-remote|cert|key)(?:=(.*))?$/s.exec(a);
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
    else if (name === 'cert') web.cert = value;
    else if (name === 'key') web.key = value;
    else web.password = value;
  }
  if ((web.cert === undefined) !== (web.key === undefined)) throw new ConfigError('--cert and --key go together');
  return { web, rest };
}
