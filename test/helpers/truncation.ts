// Decoders must fail with a coded SHORT_READ on a body cut anywhere inside its
// fixed fields: this cuts a valid body at every offset and checks that.
import assert from 'node:assert/strict';
import { SpiceError } from '../../main/spice/wire/errors';

export const isSpiceError = (code: string) => (e: unknown) => e instanceof SpiceError && e.code === code;

/** Every prefix of `body` shorter than `upTo` (default: all of it) throws SHORT_READ. */
export function assertShortAtEveryOffset(decode: (b: Uint8Array) => unknown, body: Uint8Array, upTo = body.length): void {
  assert.ok(upTo <= body.length);
  for (let i = 0; i < upTo; i++) {
    // a copy, so nothing past the cut is reachable through the buffer
    assert.throws(() => decode(body.slice(0, i)), isSpiceError('SHORT_READ'), `cut at ${i} of ${body.length}`);
  }
}
