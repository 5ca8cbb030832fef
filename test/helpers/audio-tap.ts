// The page's audio output as the listener hears it: an AudioWorklet on the
// player's output node finds onsets (the first loud sample after 200 ms of
// quiet), timed as epoch ms of when that sample comes out of the output
// (AudioContext.getOutputTimestamp, so the output latency counts). Used by the
// sound and A/V tests and bench:audio.
import type { Page } from 'playwright-core';

type AudioProbe = { audioOutput(): { ctx: AudioContext; out: AudioNode } | null };

/**
 * An AudioWorklet on the player's output: the epoch ms (performance.timeOrigin
 * + the output's performanceTime) at which each first loud sample after 200 ms
 * of quiet comes out of the output (context time mapped with getOutputTimestamp);
 * window.__quiet says the output has been quiet for 200 ms (armed for the next onset).
 */
export async function installOnsetTap(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as { __spiceTest: AudioProbe }).__spiceTest.audioOutput() !== null, undefined, { timeout: 60_000 });
  await page.evaluate(async () => {
    const { ctx, out } = (window as unknown as { __spiceTest: AudioProbe }).__spiceTest.audioOutput()!;
    const src = `registerProcessor('onsets', class extends AudioWorkletProcessor {
      constructor() { super(); this.quiet = 0; }
      process(inputs) {
        const ch = inputs[0][0];
        const n = ch ? ch.length : 128; // no input at all (nothing plays into the output node): a block of silence
        for (let i = 0; i < n; i++) {
          if (ch && Math.abs(ch[i]) > 0.05) {
            if (this.quiet >= sampleRate / 5) this.port.postMessage(currentTime + i / sampleRate);
            this.quiet = 0;
          } else if (++this.quiet === sampleRate / 5) this.port.postMessage('quiet');
        }
        return true;
      }
    });`;
    await ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })));
    const node = new AudioWorkletNode(ctx, 'onsets', { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: 'explicit' });
    const onsets: number[] = [];
    const w = window as unknown as { __onsets: number[]; __quiet: boolean };
    w.__onsets = onsets;
    w.__quiet = false;
    node.port.onmessage = (e: MessageEvent<number | 'quiet'>) => {
      // 200 ms of silence at the output: the next loud sample is an onset
      w.__quiet = e.data === 'quiet';
      if (e.data === 'quiet') return;
      const ts = ctx.getOutputTimestamp();
      onsets.push(performance.timeOrigin + ts.performanceTime! + (e.data - ts.contextTime!) * 1000);
    };
    out.connect(node);
    node.connect(ctx.destination); // pulled only while connected to the destination
  });
}
