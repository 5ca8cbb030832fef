// GLib GKeyFile reader (the format of .vv files), following gkeyfile.c:
// `[group]` lines, `#` comments (only `#`: a `;` line is an error, as in GLib),
// `key=value` with whitespace chomped before `=` and chugged after it (trailing
// value whitespace is kept), `key[locale]` translations kept apart, last
// duplicate key wins, a repeated group continues the earlier one. Values stay
// raw until a typed getter decodes them, so escapes are checked per key type
// (`\;` is only valid in lists) exactly like GLib. Every error names its line.
import { ConfigError, quote } from './errors';

export const KEYFILE_LIMITS = {
  /** Whole file, in UTF-8 bytes. */
  maxBytes: 1024 * 1024,
  /** One line, in characters (an inline CA bundle fits easily). */
  maxLineLength: 64 * 1024,
} as const;

export interface KeyFileLimits {
  maxBytes?: number;
  maxLineLength?: number;
}

export interface KeyFileEntry {
  key: string;
  /** Raw value: leading whitespace removed, escapes not yet decoded. */
  raw: string;
  line: number;
}

export interface KeyFileGroup {
  name: string;
  /** Line of the first `[name]` header. */
  line: number;
  /** Plain keys; a later duplicate replaces the earlier one. */
  entries: Map<string, KeyFileEntry>;
  /** `key[locale]` entries (not looked up by the plain key name). */
  localized: (KeyFileEntry & { locale: string })[];
  /** Keys given more than once (`key` → lines), for debug output. */
  duplicates: { key: string; lines: number[] }[];
}

/** UTF-8 byte length without allocating an encoded copy. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

// g_ascii_isspace: space, \t, \n, \v, \f, \r
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
const CONTROL = /[\u0000-\u001f\u007f]/;

function isGroupName(name: string): boolean {
  return name.length > 0 && !/[[\]]/.test(name) && !CONTROL.test(name);
}

/** g_key_file_is_key_name: no empty key, no edge spaces, optional `[locale]` suffix. */
function splitKeyName(name: string): { key: string; locale?: string } | null {
  const m = /^([^=[\]]+)(?:\[([^\]]*)\])?$/u.exec(name);
  if (!m) return null;
  const key = m[1];
  if (key.startsWith(' ') || key.endsWith(' ')) return null;
  if (m[2] === undefined) return { key };
  if (!/^[\p{L}\p{N}\-_.@]*$/u.test(m[2])) return null;
  return { key, locale: m[2] };
}

export class KeyFile {
  readonly groups = new Map<string, KeyFileGroup>();
  /** Group names in order of first appearance. */
  readonly order: string[] = [];

  hasGroup(group: string): boolean {
    return this.groups.has(group);
  }

  hasKey(group: string, key: string): boolean {
    return this.groups.get(group)?.entries.has(key) ?? false;
  }

  entry(group: string, key: string): KeyFileEntry | undefined {
    return this.groups.get(group)?.entries.get(key);
  }

  /** Decoded string (GLib g_key_file_get_string): escapes \s \n \t \r \\ only. */
  getString(group: string, key: string): string | undefined {
    const e = this.entry(group, key);
    return e && unescapeValue(e.raw, e, null);
  }

  /** `;`-separated list (g_key_file_get_string_list): `\;` is a literal `;`, a trailing empty item is dropped. */
  getStringList(group: string, key: string, separator = ';'): string[] | undefined {
    const e = this.entry(group, key);
    if (!e) return undefined;
    const pieces: string[] = [];
    unescapeValue(e.raw, e, { separator, pieces });
    return pieces;
  }

  /** g_key_file_get_integer: base-10 signed 32-bit; anything after the digits must start with whitespace. */
  getInteger(group: string, key: string): number | undefined {
    const e = this.entry(group, key);
    return e && parseInteger(e);
  }

  /** g_key_file_get_boolean: `true`/`1`/`false`/`0`, trailing whitespace ignored, case-sensitive. */
  getBoolean(group: string, key: string): boolean | undefined {
    const e = this.entry(group, key);
    if (!e) return undefined;
    const v = e.raw.replace(/[ \t\n\v\f\r]+$/, '');
    if (v === 'true' || v === '1') return true;
    if (v === 'false' || v === '0') return false;
    throw new ConfigError(`${key}: ${quote(e.raw)} is not a boolean (expected true, false, 1 or 0)`, e.line);
  }
}

function parseInteger(e: KeyFileEntry): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(e.raw);
  if (!m || (e.raw.length > m[0].length && !isSpace(e.raw[m[0].length]))) {
    throw new ConfigError(`${e.key}: ${quote(e.raw)} is not a number`, e.line);
  }
  const n = Number(m[1] + m[2]);
  if (n > 0x7fffffff || n < -0x80000000) throw new ConfigError(`${e.key}: ${quote(e.raw)} is out of range`, e.line);
  return n;
}

function unescapeValue(raw: string, e: KeyFileEntry, list: { separator: string; pieces: string[] } | null): string {
  let out = '';
  let piece = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\') {
      i++;
      if (i >= raw.length) throw new ConfigError(`${e.key}: escape character \\ at end of value`, e.line);
      const d = raw[i];
      let ch: string;
      if (d === 's') ch = ' ';
      else if (d === 'n') ch = '\n';
      else if (d === 't') ch = '\t';
      else if (d === 'r') ch = '\r';
      else if (d === '\\') ch = '\\';
      else if (list && d === list.separator) ch = d;
      else throw new ConfigError(`${e.key}: invalid escape ${quote('\\' + d)}`, e.line);
      out += ch;
      piece += ch;
    } else if (list && c === list.separator) {
      out += c;
      list.pieces.push(piece);
      piece = '';
    } else {
      out += c;
      piece += c;
    }
  }
  if (list && piece.length > 0) list.pieces.push(piece);
  return out;
}

/** Parses key-file text. Throws ConfigError naming the line; never anything else. */
export function parseKeyFile(text: string, limits: KeyFileLimits = {}): KeyFile {
  const maxBytes = limits.maxBytes ?? KEYFILE_LIMITS.maxBytes;
  const maxLine = limits.maxLineLength ?? KEYFILE_LIMITS.maxLineLength;
  // cheap bound first: a string never has more UTF-8 bytes than 3 per UTF-16 unit
  if (text.length > maxBytes || (text.length * 3 > maxBytes && utf8Length(text) > maxBytes)) {
    throw new ConfigError(`file is too large (${utf8Length(text)} bytes; the limit is ${maxBytes})`);
  }
  // GLib would reject a byte-order mark as a stray line; accept it
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);

  const kf = new KeyFile();
  let current: KeyFileGroup | null = null;
  let lineNo = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    lineNo++;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length > maxLine) throw new ConfigError(`line is too long (${line.length} characters; the limit is ${maxLine})`, lineNo);
    if (line.includes('\0')) throw new ConfigError('NUL byte in line (not a text file?)', lineNo);

    let p = 0;
    while (p < line.length && isSpace(line[p])) p++;
    const body = line.slice(p);
    if (body === '' || body[0] === '#') continue;

    if (body[0] === '[') {
      const close = body.indexOf(']');
      if (close > 0 && /^[ \t]*$/.test(body.slice(close + 1))) {
        const name = body.slice(1, close);
        if (!isGroupName(name)) throw new ConfigError(`invalid group name ${quote(name)}`, lineNo);
        const existing = kf.groups.get(name);
        if (existing) current = existing;
        else {
          current = { name, line: lineNo, entries: new Map(), localized: [], duplicates: [] };
          kf.groups.set(name, current);
          kf.order.push(name);
        }
        continue;
      }
    }

    const eq = body.indexOf('=');
    if (eq <= 0) {
      const hint = body[0] === ';' ? ' (comments start with #)' : '';
      throw new ConfigError(`not a key=value pair, [group] or # comment: ${quote(body)}${hint}`, lineNo);
    }
    let keyEnd = eq;
    while (keyEnd > 0 && isSpace(body[keyEnd - 1])) keyEnd--;
    const keyName = body.slice(0, keyEnd);
    if (!current) throw new ConfigError(`key ${quote(keyName)} without a group`, lineNo);
    const parsed = splitKeyName(keyName);
    if (!parsed) throw new ConfigError(`invalid key name ${quote(keyName)}`, lineNo);
    let v = eq + 1;
    while (v < body.length && isSpace(body[v])) v++;
    const raw = body.slice(v);

    if (parsed.locale !== undefined) {
      current.localized.push({ key: parsed.key, locale: parsed.locale, raw, line: lineNo });
      continue;
    }
    if (parsed.key === 'Encoding' && kf.order[0] === current.name && raw.toUpperCase() !== 'UTF-8') {
      throw new ConfigError(`unsupported encoding ${quote(raw)} (only UTF-8)`, lineNo);
    }
    const prev = current.entries.get(parsed.key);
    if (prev) {
      const d = current.duplicates.find((x) => x.key === parsed.key);
      if (d) d.lines.push(lineNo);
      else current.duplicates.push({ key: parsed.key, lines: [prev.line, lineNo] });
    }
    current.entries.set(parsed.key, { key: parsed.key, raw, line: lineNo });
  }
  return kf;
}
