// The image decoder registry: one decoder instance per SPICE image type for
// one display channel (GLZ_RGB and ZLIB_GLZ_RGB share one GLZ window, as
// spice-gtk shares its glz decoder between canvas_get_glz and
// canvas_get_zlib_glz_rgb).
import { ImageType } from '../../../preload/spice-enums';
import type { ImageDecoder } from '../types';
import { BitmapDecoder } from './bitmap';
import { GlzDecoder, type GlzOptions } from './glz';
import { JpegAlphaDecoder, JpegDecoder } from './jpeg';
import { Lz4Decoder } from './lz4';
import { LzDecoder } from './lz';
import { QuicDecoder } from './quic';
import { ZlibGlzDecoder } from './zlib-glz';

export function createDecoders(glzOptions: GlzOptions = {}): Map<number, ImageDecoder> {
  const lz = new LzDecoder();
  const glz = new GlzDecoder(glzOptions);
  return new Map<number, ImageDecoder>([
    [ImageType.BITMAP, new BitmapDecoder()],
    [ImageType.QUIC, new QuicDecoder()],
    [ImageType.LZ_RGB, lz],
    [ImageType.LZ_PLT, lz],
    [ImageType.GLZ_RGB, glz],
    [ImageType.ZLIB_GLZ_RGB, new ZlibGlzDecoder(glz)],
    [ImageType.LZ4, new Lz4Decoder()],
    [ImageType.JPEG, new JpegDecoder()],
    [ImageType.JPEG_ALPHA, new JpegAlphaDecoder()],
  ]);
}
