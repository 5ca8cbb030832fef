// Audio latency, guest write → client output (issue 14's bench:av figure),
// for ours: the web host's page in headless Chromium playing the sound guest's
// beeps (`avsync`: one beep per period; the guest logs "GUEST AVFLASH <k>
// <late_ms>" when the sound card's hw_ptr has passed the beep's first frame,
// late_ms after it did). Three instants per beep, all on the host's epoch clock:
//  - guest: the serial line's arrival (vm.serialTimes()) minus late_ms — when
//    the card took the beep (QEMU's SPICE audio backend reads it then); the
//    serial's own delay (a chardev socket on this host) is left in;
//  - wire (raw PCM only): the PLAYBACK_DATA packet holding the beep's first
//    loud sample passing a loopback proxy in front of spice-server
//    (test/helpers/playback-proxy.ts; Opus packets are not decoded there);
//  - output: the first loud sample after silence at an AudioWorklet on the
//    player's output node, its context time mapped through
//    AudioContext.getOutputTimestamp() (when it comes out of the output, so
//    Chromium's output latency counts; headless Chromium's is its fake output's).
// Printed per mode (raw PCM forced, Opus as spice-server sends it): medians and
// ranges of guest → output, and for raw PCM guest → wire and wire → output.
// No timing asserts. remote-viewer: not measured here (see the end of the output).
//   npm run bench:audio      (BEEPS=10 PERIOD_MS=600 MODES=raw,opus)
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startWebHost } from '../../main/web-host';
import { createSessionController } from '../../main/app/session-controller';
import { defaultTransportFactory } from '../../main/transport/index';
import { QemuVm } from '../harness/qemu';
import { PlaybackProxy } from '../helpers/playback-proxy';
import { installOnsetTap } from '../helpers/audio-tap';
import type { HostEngine } from '../../preload/contract';

const DIST = fileURLToPath(new URL('../../dist/renderer', import.meta.url));
const CHROMIUM_ARGS = ['--no-sandbox', '--headless=new', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--autoplay-policy=no-user-gesture-required'];
const BEEPS = Number(process.env.BEEPS ?? 10);
const PERIOD_MS = Number(process.env.PERIOD_MS ?? 600);
const BEEP_MS = 100;
const BEEP_HZ = 1000;
const MODES = (process.env.MODES ?? 'raw,opus').split(',') as ('raw' | 'opus')[];



const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const fmt = (xs: number[]): string => (xs.length ? `median ${median(xs).toFixed(1)} ms (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}, n=${xs.length})` : 'no pairs');

async function main(): Promise<void> {
  if (!existsSync(`${DIST}/main.js`)) throw new Error('dist/renderer not built: npm run build');
  const vm = await QemuVm.start({ name: 'audio-latency', sound: true });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  const lines: string[] = [];
  try {
    for (const mode of MODES) {
      const wire = new PlaybackProxy(vm.spicePort);
      await wire.listen();
      const engine = (): HostEngine => createSessionController({ transport: defaultTransportFactory, env: {}, playbackOpus: mode === 'opus' });
      const host = await startWebHost({ uri: `spice://127.0.0.1:${wire.port}`, engine });
      const page = await browser.newPage({ bypassCSP: true });
      try {
        await page.goto(`${host.url}&test=1`);
        await page.waitForFunction(() => document.getElementById('status')?.dataset.state === 'connected', undefined, { timeout: 60_000 });
        await vm.command(`tone ${BEEP_HZ} 300`, undefined, 60_000); // the page's audio graph exists from here on
        await installOnsetTap(page);
        await page.waitForFunction(() => document.getElementById('audio-mute')?.hidden === true, undefined, { timeout: 10_000 });
        await page.evaluate(() => ((window as unknown as { __onsets: number[] }).__onsets.length = 0));
        const serialFrom = vm.serialLines().length;
        const wireFrom = wire.messages.length;
        await vm.command(`avsync ${BEEPS} ${PERIOD_MS} ${BEEP_MS} ${BEEP_HZ}`, /GUEST (OK|ERR) avsync/, 120_000);
        await page.waitForFunction(() => document.getElementById('audio-mute')?.hidden === true, undefined, { timeout: 10_000 }).catch(() => {});
        const serial = vm.serialLines();
        const times = vm.serialTimes();
        const guest: number[] = [];
        for (let i = serialFrom; i < serial.length; i++) {
          const m = /GUEST AVFLASH \d+ ([\d.]+)/.exec(serial[i]);
          if (m) guest.push(times[i] - Number(m[1]));
        }
        const out = await page.evaluate(() => (window as unknown as { __onsets: number[] }).__onsets);
        const onWire = mode === 'raw' ? wire.rawOnsets(wireFrom).map((w) => w.at) : [];
        // each output onset with the latest guest / wire onset before it, within half a period
        const before = (xs: number[], t: number): number | undefined => xs.filter((x) => x <= t && t - x < PERIOD_MS / 2).at(-1);
        const g2o: number[] = [];
        const g2w: number[] = [];
        const w2o: number[] = [];
        for (const o of out) {
          const g = before(guest, o);
          const w = before(onWire, o);
          if (g !== undefined) g2o.push(o - g);
          if (w !== undefined) w2o.push(o - w);
          if (g !== undefined && w !== undefined && w >= g) g2w.push(w - g);
        }
        const label = mode === 'raw' ? 'raw PCM' : 'Opus';
        const first = lines.length;
        lines.push(`ours, ${label}: ${BEEPS} beeps, ${guest.length} logged by the guest, ${out.length} heard at the output${mode === 'raw' ? `, ${onWire.length} on the wire` : ''}`);
        lines.push(`  guest (card took the beep) → output: ${fmt(g2o)}`);
        if (mode === 'raw') {
          lines.push(`  guest → wire (PLAYBACK_DATA):       ${fmt(g2w)}`);
          lines.push(`  wire → output:                       ${fmt(w2o)}`);
        }
        const stats = await page.evaluate(() => (window as unknown as { __spiceTest: { audioStats(): { targetMs: number; underruns: number } } }).__spiceTest.audioStats());
        lines.push(`  page jitter target ${stats.targetMs} ms, underruns ${stats.underruns}`);
        console.log(lines.slice(first).join('\n'));
      } finally {
        await page.close();
        await host.close();
        wire.close();
      }
    }
  } finally {
    await browser.close();
    await vm.stop();
  }
  console.log('\n' + lines.join('\n'));
  console.log(
    'remote-viewer: not measured. Its output goes through spice-gtk\'s GStreamer audio sink (autoaudiosink); this machine has no PulseAudio/PipeWire ' +
      'server and no sound card, so there is nothing to tap. It would need a PulseAudio daemon with a null sink (module-null-sink) as remote-viewer\'s output ' +
      '(PULSE_SINK), `parec` on that sink\'s monitor with the stream\'s latency taken into account (pa_stream_get_latency / the monitor\'s timing info), and ' +
      'the same onset detection on the recorded samples against the same guest and wire instants.',
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
