// Shared pieces of the USB guest tests: a genisoimage ISO with a random data
// file, the guest serial's per-command lines, and polling a query with a deadline
// (the guest's kernel log and the USB manager's state are not pushed to us).
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { QemuVm } from '../harness/qemu';

export const md5 = (b: Uint8Array): string => crypto.createHash('md5').update(b).digest('hex');

export interface TestIso {
  /** Temp directory holding src/ and the image (remove it when done). */
  dir: string;
  iso: string;
  /** src/data.bin (random) and src/hello.txt are on the image. */
  dataFile: string;
  md5: string;
  size: number;
}

export function makeTestIso(o: { prefix: string; name: string; volume: string; dataBytes: number; hello: string }): TestIso {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), o.prefix));
  const src = path.join(dir, 'src');
  fs.mkdirSync(src);
  const dataFile = path.join(src, 'data.bin');
  fs.writeFileSync(dataFile, crypto.randomBytes(o.dataBytes));
  fs.writeFileSync(path.join(src, 'hello.txt'), o.hello);
  const iso = path.join(dir, o.name);
  execFileSync('genisoimage', ['-quiet', '-r', '-J', '-V', o.volume, '-o', iso, src]);
  const bytes = fs.readFileSync(iso);
  return { dir, iso, dataFile, md5: md5(bytes), size: bytes.length };
}

/** Lines the guest prints for one command (between the command and its OK reply) that match re. */
export async function guestLines(vm: QemuVm, cmd: string, re: RegExp): Promise<string[]> {
  const from = vm.serialLines().length;
  await vm.command(cmd, undefined, 60000);
  return vm.serialLines().slice(from).filter((l) => re.test(l));
}

/** Polls query until ok holds; throws naming what and the last value after timeoutMs. */
export async function pollUntil<T>(what: string, query: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 60000, everyMs = 300): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await query();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: not reached within ${timeoutMs} ms; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
