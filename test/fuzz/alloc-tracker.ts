// Allocation accounting for fuzz cases and budget probes: the typed-array
// constructors and ArrayBuffer are replaced by subclasses that check each
// requested size against a limit *before* allocating (so an over-budget
// request is refused and counted instead of taking the machine's memory)
// and add it to a per-case total. Views on existing buffers are not counted.

export class AllocBudgetError extends Error {
  constructor(readonly bytes: number) {
    super(`allocation of ${bytes} bytes exceeds the fuzz budget`);
    this.name = 'AllocBudgetError';
  }
}

export interface AllocStats {
  /** Largest single allocation requested since reset(). */
  peak: number;
  /** Bytes requested since reset(). */
  total: number;
  /** Requests refused for exceeding the limit since reset(). */
  refused: number;
}

const stats: AllocStats = { peak: 0, total: 0, refused: 0 };
let limit = Infinity;
let installed = false;

function account(bytes: number): void {
  if (!Number.isFinite(bytes) || bytes <= 0) return;
  if (bytes > limit) {
    stats.refused++;
    stats.peak = Math.max(stats.peak, bytes);
    throw new AllocBudgetError(bytes);
  }
  stats.total += bytes;
  if (bytes > stats.peak) stats.peak = bytes;
}

const TYPED = ['Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array'] as const;

/** Installs the accounting (once per realm) with a single-allocation limit in bytes. */
export function installAllocTracker(maxSingleBytes: number): void {
  limit = maxSingleBytes;
  if (installed) return;
  installed = true;
  const g = globalThis as unknown as Record<string, unknown>;
  for (const name of TYPED) {
    const Orig = g[name] as { new (...a: unknown[]): ArrayBufferView; BYTES_PER_ELEMENT: number };
    const per = Orig.BYTES_PER_ELEMENT;
    const Tracked = class extends Orig {
      constructor(...args: unknown[]) {
        const a0 = args[0];
        if (typeof a0 === 'number') account(a0 * per);
        else if (a0 && typeof a0 === 'object' && !(a0 instanceof ArrayBuffer) && !(typeof SharedArrayBuffer !== 'undefined' && a0 instanceof SharedArrayBuffer)) {
          const len = (a0 as { length?: unknown }).length;
          if (typeof len === 'number') account(len * per);
        }
        super(...args);
      }
      static override [Symbol.hasInstance](v: unknown): boolean {
        return v instanceof Orig;
      }
    };
    Object.defineProperty(Tracked, 'name', { value: name });
    g[name] = Tracked;
  }
  const OrigAB = ArrayBuffer as unknown as { new (n: number, opts?: unknown): ArrayBuffer };
  const TrackedAB = class extends OrigAB {
    constructor(n: number, opts?: unknown) {
      account(Number(n));
      super(n, opts);
    }
    static override [Symbol.hasInstance](v: unknown): boolean {
      return v instanceof OrigAB;
    }
  };
  g.ArrayBuffer = TrackedAB;
}

export function resetAllocStats(): void {
  stats.peak = 0;
  stats.total = 0;
  stats.refused = 0;
}

export function allocStats(): AllocStats {
  return { ...stats };
}
