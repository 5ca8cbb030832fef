// A Transport at the byte boundary for unit tests: records what the client
// writes and lets the test deliver server bytes in any chunking.
import type { Transport } from '../../main/spice/transport';

export class FakeTransport implements Transport {
  readonly description = 'fake';
  onData: ((chunk: Uint8Array) => void) | null = null;
  onClose: ((err?: Error) => void) | null = null;
  written: Uint8Array[] = [];
  closed = false;
  write(bytes: Uint8Array): void {
    this.written.push(bytes.slice());
  }
  close(): void {
    this.closed = true;
  }
  deliver(bytes: Uint8Array): void {
    this.onData?.(bytes);
  }
  allWritten(): Uint8Array {
    return Uint8Array.from(Buffer.concat(this.written.map((w) => Buffer.from(w))));
  }
}

export const tick = () => new Promise((r) => setTimeout(r, 0));
