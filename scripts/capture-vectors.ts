// Captures real spice-server image payloads for decoder tests and benches.
// Boots the test guest in QEMU, connects one Session per codec (preferred
// compression set at link), has the guest draw known frames, and records
// every display command in wire order plus, after each frame, the SHA-256 of
// QEMU's own screendump. The expected values therefore come from the server
// side, independent of our decoders.
//   run: node --import tsx scripts/capture-vectors.ts   (writes test/vectors/captured/*.bin.gz)
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { QemuVm } from '../test/harness/qemu';
import { Session } from '../main/spice/session';
import { defaultTransportFactory } from '../main/transport/index';
import { ImageCompression } from '../main/spice/protocol/enums';
import { encodeFrame } from '../preload/codec';
import type { DisplayCommand } from '../preload/contract';

const OUT = path.resolve(import.meta.dirname, '../test/vectors/captured');
const CODECS: [string, number][] = [
  ['quic', ImageCompression.QUIC],
  ['lz', ImageCompression.LZ],
  ['glz', ImageCompression.GLZ],
  ['lz4', ImageCompression.LZ4],
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const vm = await QemuVm.start({ name: 'capture', spiceExtra: 'streaming-video=off' });
try {
  fs.mkdirSync(OUT, { recursive: true });
  for (const [name, mode] of CODECS) {
    const commands: DisplayCommand[] = [];
    const frames: { after: number; width: number; height: number; sha256: string }[] = [];
    let last = Date.now();
    const s = new Session({
      endpoint: { host: '127.0.0.1', port: vm.spicePort },
      transport: defaultTransportFactory,
      preferredCompression: mode,
      onDisplay: (_id, cmd) => {
        commands.push(structuredClone(cmd));
        last = Date.now();
      },
    });
    await s.connect();
    const settle = async () => {
      await sleep(400);
      while (Date.now() - last < 400) await sleep(50);
    };
    for (const step of ['freeze', 'pattern 1', 'pattern 2', 'text captured ' + name]) {
      const word = step.split(' ')[0];
      await vm.command(step, new RegExp(`GUEST OK ${word}`));
      await settle();
      const shot = await vm.screendump();
      frames.push({ after: commands.length, width: shot.width, height: shot.height, sha256: createHash('sha256').update(shot.rgb).digest('hex') });
    }
    s.disconnect();
    const file = path.join(OUT, `${name}.bin.gz`);
    fs.writeFileSync(file, zlib.gzipSync(encodeFrame({ codec: name, commands, frames }), { level: 9 }));
    console.log(`${name}: ${commands.length} commands, ${frames.length} frames, ${fs.statSync(file).size} bytes`);
    await sleep(300);
  }
} finally {
  await vm.stop();
}
