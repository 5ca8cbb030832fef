// Reading a .vv file from disk or stdin, with remote-viewer's side effects:
// `delete-this-file=1` removes the file right after a successful parse unless
// VIRT_VIEWER_KEEP_FILE is set (to anything), a failed removal is only logged,
// and the version gate runs after the removal (as in remote-viewer, where it
// runs at connect time). The parsed config is returned to be kept in memory,
// so reconnects never need the (possibly deleted) file again.
import { readFile, stat, unlink } from 'node:fs/promises';
import { ConfigError } from './errors';
import { KEYFILE_LIMITS } from './keyfile';
import { checkVvVersion, decodeVvBytes, parseVvFile, type VvConfig, type VvOptions } from './vv';

export interface ReadVvOptions extends VvOptions {
  /** Reads all of stdin for the path `-` (default: process.stdin, size-limited). */
  readStdin?: (maxBytes: number) => Promise<Uint8Array>;
}

export interface ReadVvResult {
  config: VvConfig;
  /** The path, or '-' for stdin. */
  source: string;
  /** True when the file was removed because of delete-this-file. */
  deleted: boolean;
}

/** Reads stdin up to maxBytes (+1 to detect an oversized input). */
export async function readAllStdin(maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    chunks.push(b);
    total += b.length;
    if (total > maxBytes) break;
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * Reads, parses and (delete-this-file) removes a .vv file; `-` reads stdin.
 * Errors are ConfigError with remote-viewer's prefix "Invalid file <path>: ".
 */
export async function readVvFile(path: string, env: Record<string, string | undefined>, opts: ReadVvOptions = {}): Promise<ReadVvResult> {
  const max = opts.limits?.maxBytes ?? KEYFILE_LIMITS.maxBytes;
  const fail = (e: unknown): never => {
    const msg = e instanceof Error ? e.message : String(e);
    throw new ConfigError(`Invalid file ${path}: ${msg}`);
  };
  let bytes: Uint8Array;
  if (path === '-') {
    try {
      bytes = await (opts.readStdin ?? readAllStdin)(max);
    } catch (e) {
      throw new ConfigError(`Failed to read stdin: ${(e as Error).message}`);
    }
  } else {
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new Error('not a regular file');
      if (st.size > max) throw new Error(`file is too large (${st.size} bytes; the limit is ${max})`);
      bytes = new Uint8Array(await readFile(path));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return fail(code === 'ENOENT' ? new Error('no such file') : code === 'EACCES' ? new Error('permission denied') : e);
    }
  }

  let config: VvConfig;
  try {
    config = parseVvFile(decodeVvBytes(bytes, opts.limits), { ...opts, checkVersion: false });
  } catch (e) {
    return fail(e);
  }

  let deleted = false;
  if (path !== '-' && config.deleteThisFile) {
    if (env.VIRT_VIEWER_KEEP_FILE !== undefined) config.debug.push('delete-this-file: kept because VIRT_VIEWER_KEEP_FILE is set');
    else {
      try {
        await unlink(path);
        deleted = true;
        config.debug.push(`delete-this-file: removed ${path}`);
      } catch (e) {
        config.debug.push(`delete-this-file: failed to remove ${path}: ${(e as Error).message}`);
      }
    }
  }

  if (opts.checkVersion !== false) checkVvVersion(config, opts);
  return { config, source: path, deleted };
}
