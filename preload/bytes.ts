// Byte counts in words, one spelling for every face (the engine's error
// messages, the page's clipboard indicator and file rows). No imports.

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** "512 bytes", "97.7 KiB", "64.0 MiB". */
export function formatBytes(n: number | bigint): string {
  let v = Number(n);
  if (v < 1024) return `${v} bytes`;
  let u = -1;
  while (v >= 1024 && u < UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${UNITS[u]}`;
}
