// ZLIB_GLZ_RGB image decoder: spice-server deflates a GLZ stream that would be
// large (image-encoders.cpp); inflate it to glz_data_size bytes and decode it
// through the shared GlzDecoder, so it joins the same GLZ dictionary window.
import type { SpiceImage } from '../../../preload/contract';
import type { DecodeContext, DecodedImage, ImageDecoder } from '../types';
import { decodeError } from './bitmap';
import type { GlzDecoder } from './glz';
import { inflate } from './inflate';

export class ZlibGlzDecoder implements ImageDecoder {
  constructor(private readonly glz: GlzDecoder) {}

  decode(image: SpiceImage, _ctx: DecodeContext): DecodedImage {
    const d = image.data;
    if (d.kind !== 'zlib_glz_rgb') decodeError(`ZlibGlzDecoder got ${d.kind}`);
    const glzData = inflate(d.data, d.glzDataSize);
    return this.glz.decodeGlz(glzData, image.descriptor);
  }
}
