// Loads the captured spice-server sessions (scripts/capture-vectors.ts).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { decodeFrame } from '../../preload/codec';
import type { DisplayCommand } from '../../preload/contract';
import type { Surface } from '../../renderer/display/surface';

export interface Captured {
  codec: string;
  commands: DisplayCommand[];
  frames: { after: number; width: number; height: number; sha256: string }[];
}

export const CAPTURED_DIR = path.resolve(import.meta.dirname, '../vectors/captured');
export const CAPTURED_CODECS = ['quic', 'lz', 'glz', 'lz4'];

export function loadCaptured(codec: string): Captured {
  return decodeFrame(zlib.gunzipSync(fs.readFileSync(path.join(CAPTURED_DIR, `${codec}.bin.gz`)))) as Captured;
}

/** SHA-256 of a surface as packed RGB (the screendump layout). */
export function surfaceRgbHash(s: Surface): string {
  const rgb = new Uint8Array(s.width * s.height * 3);
  const px = s.pixels;
  for (let i = 0, j = 0; i < px.length; i++, j += 3) {
    const v = px[i];
    rgb[j] = (v >>> 16) & 255;
    rgb[j + 1] = (v >>> 8) & 255;
    rgb[j + 2] = v & 255;
  }
  return createHash('sha256').update(rgb).digest('hex');
}
