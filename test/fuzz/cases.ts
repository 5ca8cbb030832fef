// The fuzz case registry: which target a case index exercises and how a case
// input (also a saved finding) is generated and run.
import { Rng } from './mutate';
import { execDisplay, execEngine, FUZZ_PIXEL_BUDGET, genDisplay, genEngine, type DisplayInput, type EngineInput } from './targets';

export const TARGETS = ['display', 'engine'] as const;

/** Largest single allocation a case may request: two surfaces' worth of the display budget. */
export const MAX_ALLOC_BYTES = 2 * 4 * FUZZ_PIXEL_BUDGET;
/** All allocations of one case together. */
export const MAX_CASE_ALLOC_BYTES = 16 * 4 * FUZZ_PIXEL_BUDGET;

export function genCase(rng: Rng, targets: readonly string[]): { target: string; input: DisplayInput | EngineInput } {
  const target = targets.length === 2 ? (rng.chance(0.6) ? 'display' : 'engine') : targets[0];
  return { target, input: target === 'display' ? genDisplay(rng) : genEngine(rng) };
}

export async function execCase(target: string, input: unknown): Promise<string> {
  if (target === 'display') return execDisplay(input as DisplayInput);
  if (target === 'engine') return execEngine(input as EngineInput);
  throw new Error(`unknown fuzz target ${target}`);
}
