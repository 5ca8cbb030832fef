// GKeyFile semantics, checked against GLib itself: glib-reference.jsonl was
// produced by GLib's own g_key_file_* (test/vectors/vv/glib-ref/gkeyfile-dump.c)
// on every corpus file; our parser must load/fail the same files and decode
// every key the same way. Then targeted cases for what the corpus lacks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseKeyFile, utf8Length, KeyFile } from '../../../main/config/keyfile';
import { decodeVvBytes } from '../../../main/config/vv';
import { ConfigError } from '../../../main/config/errors';

const VV = join(import.meta.dirname, '../../vectors/vv');

interface GlibKey { raw: string; string: string | { error: string }; list: string[] | { error: string }; integer: number | { error: string }; boolean: boolean | { error: string } }
interface GlibFile { file: string; load?: { error: string }; groups?: Record<string, Record<string, GlibKey>> }
const reference: GlibFile[] = readFileSync(join(VV, 'glib-ref/glib-reference.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l));

const attempt = <T>(f: () => T): T | { error: string } => {
  try {
    return f();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `only ConfigError may escape, got ${e}`);
    return { error: (e as Error).message };
  }
};
const isErr = (v: unknown): v is { error: string } => typeof v === 'object' && v !== null && !Array.isArray(v) && 'error' in v;

test('the GLib reference covers the whole corpus', () => {
  assert.ok(reference.length >= 20);
  assert.ok(reference.some((r) => r.load) && reference.some((r) => r.groups));
});

for (const ref of reference) {
  test(`same as GLib: ${ref.file}`, () => {
    const bytes = readFileSync(join(VV, ref.file));
    const loaded = attempt(() => parseKeyFile(decodeVvBytes(bytes)));
    if (ref.load) {
      assert.ok(isErr(loaded), `GLib refuses ${ref.file} (${ref.load.error}); so must we`);
      return;
    }
    assert.ok(loaded instanceof KeyFile, `GLib loads ${ref.file}; we said ${JSON.stringify(loaded)}`);
    const kf: KeyFile = loaded;
    assert.deepEqual([...kf.groups.keys()].sort(), Object.keys(ref.groups!).sort());
    for (const [gname, keys] of Object.entries(ref.groups!)) {
      const g = kf.groups.get(gname)!;
      const ours = [...g.entries.keys(), ...g.localized.map((l) => `${l.key}[${l.locale}]`)].sort();
      assert.deepEqual(ours, Object.keys(keys).sort(), `keys of [${gname}]`);
      for (const [key, want] of Object.entries(keys)) {
        if (key.includes('[')) continue; // translations: kept apart, never looked up
        assert.equal(g.entries.get(key)!.raw, want.raw, `${key} raw`);
        const s = attempt(() => kf.getString(gname, key));
        if (isErr(want.string)) assert.ok(isErr(s), `${key}: GLib: ${want.string.error}`);
        else assert.equal(s, want.string, `${key} string`);
        const l = attempt(() => kf.getStringList(gname, key));
        if (isErr(want.list)) assert.ok(isErr(l), `${key} list`);
        else assert.deepEqual(l, want.list, `${key} list`);
        const n = attempt(() => kf.getInteger(gname, key));
        if (isErr(want.integer)) assert.ok(isErr(n), `${key}: GLib: ${want.integer.error}`);
        else assert.equal(n, want.integer, `${key} integer`);
        const b = attempt(() => kf.getBoolean(gname, key));
        if (isErr(want.boolean)) assert.ok(isErr(b), `${key} boolean`);
        else assert.equal(b, want.boolean, `${key} boolean`);
      }
    }
  });
}

test('whitespace: chomped before =, chugged after it, trailing value whitespace kept; CRLF', () => {
  const kf = parseKeyFile('  [g]  \r\n  a \t=  x y \r\n\tb=\r\n# c=3\r\n\r\n');
  assert.equal(kf.getString('g', 'a'), 'x y ');
  assert.equal(kf.getString('g', 'b'), '');
  assert.equal(kf.hasKey('g', 'c'), false);
  assert.equal(kf.entry('g', 'a')!.line, 2);
});

test('escapes: \\s \\n \\t \\r \\\\; \\; only inside lists; trailing empty list item dropped', () => {
  const kf = parseKeyFile('[g]\ns=a\\sb\\nc\\td\\re\\\\f\nl=a\\;b;c;;d;\nbad=a\\;b\n');
  assert.equal(kf.getString('g', 's'), 'a b\nc\td\re\\f');
  assert.deepEqual(kf.getStringList('g', 'l'), ['a;b', 'c', '', 'd']);
  assert.deepEqual(kf.getStringList('g', 'bad'), ['a;b']);
  assert.throws(() => kf.getString('g', 'bad'), { message: 'line 4: bad: invalid escape "\\\\;"' });
});

test('duplicates: the last key wins; a repeated group continues the first', () => {
  const kf = parseKeyFile('[a]\nk=1\n[b]\nk=x\n[a]\nk=2\nj=3\n');
  assert.equal(kf.getString('a', 'k'), '2');
  assert.equal(kf.getString('a', 'j'), '3');
  assert.deepEqual(kf.order, ['a', 'b']);
  assert.deepEqual(kf.groups.get('a')!.duplicates, [{ key: 'k', lines: [2, 6] }]);
});

test('integers: base 10, sign, text after whitespace ignored, int32 range', () => {
  const kf = parseKeyFile('[g]\na=-12\nb=+7\nc=5900 # x\nd=0x10\ne=2147483648\nf=-2147483648\ng=1e3\n');
  assert.equal(kf.getInteger('g', 'a'), -12);
  assert.equal(kf.getInteger('g', 'b'), 7);
  assert.equal(kf.getInteger('g', 'c'), 5900);
  assert.throws(() => kf.getInteger('g', 'd'), { message: 'line 5: d: "0x10" is not a number' });
  assert.throws(() => kf.getInteger('g', 'e'), { message: 'line 6: e: "2147483648" is out of range' });
  assert.equal(kf.getInteger('g', 'f'), -2147483648);
  assert.throws(() => kf.getInteger('g', 'g'), { message: 'line 8: g: "1e3" is not a number' });
});

test('booleans: true/false/1/0, case-sensitive, trailing whitespace ignored', () => {
  const kf = parseKeyFile('[g]\na=true \nb=0\nc=True\n');
  assert.equal(kf.getBoolean('g', 'a'), true);
  assert.equal(kf.getBoolean('g', 'b'), false);
  assert.throws(() => kf.getBoolean('g', 'c'), { message: 'line 4: c: "True" is not a boolean (expected true, false, 1 or 0)' });
});

test('key names: locale suffix kept apart, bad names refused with the line', () => {
  const kf = parseKeyFile('[g]\ntitle=a\ntitle[de_DE.UTF-8@euro]=b\n');
  assert.equal(kf.getString('g', 'title'), 'a');
  assert.deepEqual(kf.groups.get('g')!.localized.map((l) => [l.key, l.locale, l.line]), [['title', 'de_DE.UTF-8@euro', 3]]);
  assert.throws(() => parseKeyFile('[g]\na]b=1\n'), { message: 'line 2: invalid key name "a]b"' });
  assert.throws(() => parseKeyFile('[g]\nt[x y]=1\n'), { message: 'line 2: invalid key name "t[x y]"' });
  assert.throws(() => parseKeyFile('[g]\n=1\n'), { message: 'line 2: not a key=value pair, [group] or # comment: "=1"' });
  assert.throws(() => parseKeyFile('[]\n'), { message: 'line 1: invalid group name ""' });
});

test('Encoding key of the first group must be UTF-8', () => {
  assert.equal(parseKeyFile('[g]\nEncoding=utf-8\n').getString('g', 'Encoding'), 'utf-8');
  assert.throws(() => parseKeyFile('[g]\nEncoding=ISO-8859-1\n'), { message: 'line 2: unsupported encoding "ISO-8859-1" (only UTF-8)' });
});

test('limits: file size (in UTF-8 bytes) and line length are checked; NUL refused; BOM accepted', () => {
  const big = '[g]\n' + '#'.repeat(1024 * 1024);
  assert.throws(() => parseKeyFile(big), { message: `file is too large (${1024 * 1024 + 4} bytes; the limit is 1048576)` });
  // 400 000 three-byte characters: under the limit in UTF-16 units, over it in bytes
  assert.throws(() => parseKeyFile('#' + '€'.repeat(400_000)), { message: 'file is too large (1200001 bytes; the limit is 1048576)' });
  assert.throws(() => parseKeyFile('[g]\nk=' + 'x'.repeat(70_000)), { message: 'line 2: line is too long (70002 characters; the limit is 65536)' });
  assert.throws(() => parseKeyFile('[g]\nk=a\0b\n'), { message: 'line 2: NUL byte in line (not a text file?)' });
  assert.equal(parseKeyFile('\ufeff[g]\nk=v\n').getString('g', 'k'), 'v');
  assert.equal(utf8Length('a€😀'), 1 + 3 + 4);
});
