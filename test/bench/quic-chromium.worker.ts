// Worker side of quic-chromium.bench.ts: the JS vs WebAssembly comparison of
// quic.bench.ts inside a Chromium dedicated worker (where the display worker
// decodes), plus a check that both decoders agree there.
import { compare, desktopImage, photoImage, strip, textRegion } from './quic.bench';
import { decodeQuicJs, decodeQuicWasm, quicWasm } from '../../renderer/display/decoders/quic';
import { QUIC_TYPE, encodeQuic } from '../unit/decoders/quic-encoder';

self.onmessage = () => {
  const photo = photoImage();
  const s = encodeQuic(QUIC_TYPE.RGB32, 1024, 768, photo);
  const a = decodeQuicJs(s).pixels;
  const b = quicWasm() ? decodeQuicWasm(s).pixels : new Uint32Array(0);
  const identical = a.length === b.length && a.every((v, k) => v === b[k]);
  const rows = [compare('desktop', desktopImage(), 1024, 768), compare('photo', photo, 1024, 768), compare('strip', strip(), 1024, 16), compare('text', textRegion(), 960, 160)];
  postMessage({ wasm: !!quicWasm(), identical, rows });
};
