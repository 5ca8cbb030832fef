// Worker bootstrap: worker_threads do not inherit `--import tsx`, so the
// TypeScript loader is registered here before the worker's entry is imported.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
