// Real spice-server payloads (QUIC, LZ, GLZ, LZ4) replayed through the
// compositor and its decoders; after each frame the surface must hash to what
// QEMU's own screendump hashed to at capture time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DisplayState } from '../../../renderer/display/display-state';
import { CAPTURED_CODECS, loadCaptured, surfaceRgbHash } from '../../helpers/captured';

for (const codec of CAPTURED_CODECS) {
  test(`captured ${codec} session reproduces the server's screendumps exactly`, () => {
    const cap = loadCaptured(codec);
    const kinds = new Set<string>();
    for (const c of cap.commands) if (c.t === 'draw' && 'src' in c.cmd && c.cmd.src) kinds.add(c.cmd.src.data.kind);
    const expectKind = { quic: 'quic', lz: 'lz_rgb', glz: 'glz_rgb', lz4: 'lz4' }[codec]!;
    assert.ok(kinds.has(expectKind), `${codec} capture contains ${expectKind} images (has ${[...kinds]})`);
    const ds = new DisplayState();
    let next = 0;
    for (const f of cap.frames) {
      while (next < f.after) ds.apply(cap.commands[next++]);
      const s = ds.primary();
      assert.ok(s, 'primary surface exists');
      assert.equal(`${s.width}x${s.height}`, `${f.width}x${f.height}`);
      assert.equal(surfaceRgbHash(s), f.sha256, `${codec}: frame after command ${f.after}`);
    }
  });

  test(`captured ${codec} payloads cut short fail with a DECODE/SHORT_READ error, never a hang`, () => {
    const cap = loadCaptured(codec);
    const ds = new DisplayState();
    let checked = 0;
    for (const c of cap.commands) {
      if (c.t === 'draw' && 'src' in c.cmd && c.cmd.src && 'data' in c.cmd.src.data && c.cmd.src.data.kind !== 'bitmap' && checked < 3) {
        const d = c.cmd.src.data as { data: Uint8Array };
        for (const cut of [1, 7, Math.floor(d.data.length / 2), d.data.length - 1]) {
          const broken = structuredClone(c);
          (broken.cmd as { src: { data: { data: Uint8Array } } }).src.data.data = d.data.subarray(0, cut);
          assert.throws(() => ds.apply(broken), (e: unknown) => /DECODE|SHORT_READ|BAD_MESSAGE/.test((e as { code?: string }).code ?? ''), `${codec} cut at ${cut}`);
        }
        checked++;
      }
      try {
        ds.apply(c);
      } catch {
        /* a broken image may leave a cache hole; not what this test checks */
      }
    }
    assert.ok(checked > 0);
  });
}
