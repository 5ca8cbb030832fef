// Configuration errors (.vv files, URIs, command line): a SpiceError with code
// CONFIG, plus the 1-based line of a .vv file when the problem has one.
import { SpiceError } from '../spice/wire/errors';

export class ConfigError extends SpiceError {
  /** 1-based line in the key file, when the error belongs to one line. */
  readonly line?: number;
  constructor(message: string, line?: number) {
    super('CONFIG', line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'ConfigError';
    if (line !== undefined) this.line = line;
  }
}

/** Quote text for an error message: control characters escaped, long text cut. */
export function quote(text: string, max = 60): string {
  const cut = text.length > max ? text.slice(0, max) + '…' : text;
  return `"${cut.replace(/[\u0000-\u001f\u007f\\"]/g, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}"`;
}
