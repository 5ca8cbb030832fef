// BlockSource over a local file (the ISO of --spice-share-cd), with node:fs.
// Kept apart so the CD-ROM emulation itself stays free of platform imports.
import { open, type FileHandle } from 'node:fs/promises';
import type { BlockSource } from './backend';

export async function openFileBlockSource(path: string): Promise<BlockSource> {
  const fh: FileHandle = await open(path, 'r');
  const { size } = await fh.stat();
  return {
    size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      const buf = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, offset + got);
        if (bytesRead === 0) break; // file shrank: the caller sees a short read
        got += bytesRead;
      }
      return buf.subarray(0, got);
    },
    close: () => fh.close(),
  };
}
