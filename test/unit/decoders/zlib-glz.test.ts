import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { GlzDecoder } from '../../../renderer/display/decoders/glz';
import { ZlibGlzDecoder } from '../../../renderer/display/decoders/zlib-glz';
import { ImageType } from '../../../main/spice/protocol/enums';
import { GlzTestEncoder, T, mixedImage } from './lz-test-encoders';
import { assertDecodeError, eqPixels, img, makeCtx } from './lz-helpers';

const opaque = (px: Uint32Array) => px.map((p) => (p | 0xff000000) >>> 0);

describe('ZLIB_GLZ_RGB', () => {
  it('shares the GLZ window with GLZ_RGB images in both directions', () => {
    const enc = new GlzTestEncoder();
    const glz = new GlzDecoder();
    const zdec = new ZlibGlzDecoder(glz);
    const ctx = makeCtx();
    const base = mixedImage(50, 30, 4);
    for (let k = 0; k < 6; k++) {
      const px = base.map((_, i) => base[(i + k * 11) % base.length]);
      const id = BigInt(k + 1);
      const g = enc.encode(T.RGB32, id, Math.min(k, 3), 50, 30, k % 2 === 0, px);
      const r =
        k % 2 === 0
          ? glz.decode(img(ImageType.GLZ_RGB, 50, 30, { kind: 'glz_rgb', data: g }), ctx)
          : zdec.decode(img(ImageType.ZLIB_GLZ_RGB, 50, 30, { kind: 'zlib_glz_rgb', glzDataSize: g.length, data: new Uint8Array(zlib.deflateSync(g)) }), ctx);
      eqPixels(r.pixels, opaque(px), `image ${k}`);
    }
    assert.ok(enc.crossRefs > 0);
  });

  it('rejects a wrong glzDataSize, truncated zlib data, and other kinds', () => {
    const enc = new GlzTestEncoder();
    const px = mixedImage(8, 8, 2);
    const g = enc.encode(T.RGB32, 1n, 0, 8, 8, true, px);
    const z = new Uint8Array(zlib.deflateSync(g));
    const zdec = new ZlibGlzDecoder(new GlzDecoder());
    const mk = (size: number, data: Uint8Array) => img(ImageType.ZLIB_GLZ_RGB, 8, 8, { kind: 'zlib_glz_rgb', glzDataSize: size, data });
    assertDecodeError(() => zdec.decode(mk(g.length + 1, z), makeCtx()));
    assertDecodeError(() => zdec.decode(mk(g.length - 1, z), makeCtx()));
    for (let n = 0; n < z.length; n++) assertDecodeError(() => zdec.decode(mk(g.length, z.subarray(0, n)), makeCtx()), `cut at ${n}`);
    assertDecodeError(() => zdec.decode(img(ImageType.GLZ_RGB, 8, 8, { kind: 'glz_rgb', data: g }), makeCtx()));
    eqPixels(zdec.decode(mk(g.length, z), makeCtx()).pixels, opaque(px), 'valid');
  });
});
