// A FileSource (main/spice/agent/file-xfer.ts) over a file on disk, read
// block by block with one open handle, as an app would; it records what the
// transfer asked for so tests can check the pacing.
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import type { FileSource, TransferProgress } from '../../main/spice/agent/file-xfer';

export interface RecordingSource extends FileSource {
  /** Every progress event, in order. */
  progress: TransferProgress[];
  /** Reads asked for: [offset, max]. */
  reads: [number, number][];
  close(): Promise<void>;
}

export async function fileSource(file: string, name = path.basename(file)): Promise<RecordingSource> {
  const fh = await fs.open(file, 'r');
  const { size } = await fh.stat();
  const src: RecordingSource = {
    name,
    size,
    progress: [],
    reads: [],
    async read(offset, max) {
      src.reads.push([offset, max]);
      const buf = new Uint8Array(max);
      const { bytesRead } = await fh.read(buf, 0, max, offset);
      return buf.subarray(0, bytesRead);
    },
    onProgress: (p) => src.progress.push(p),
    close: () => fh.close(),
  };
  return src;
}
