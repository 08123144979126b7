// One full, memory-reducing garbage collection before the gateway opens its listener. Loading
// modules and compiling the config grow V8's young generation and leave start-up garbage in the
// old one; an idle process never collects it, so those pages would stay resident for the life
// of the pod (about 17 MB here: README, idle memory). The collection runs once, before any
// request can be waiting on it.
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

interface GcOptions {
  type: 'major';
  execution: 'sync';
  /** V8's "collect all available garbage": several passes, shrinking the young generation. */
  flavor: 'last-resort';
}

export interface Compaction {
  durationMs: number;
  heapBeforeBytes: number;
  heapAfterBytes: number;
}

export function compactHeap(): Compaction {
  // `gc` is exposed only to contexts created after the flag is set: a throwaway one hands it
  // over without putting a global `gc` in the gateway's own context.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: GcOptions) => void;
  const heapBeforeBytes = process.memoryUsage().heapTotal;
  const started = performance.now();
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  return { durationMs: performance.now() - started, heapBeforeBytes, heapAfterBytes: process.memoryUsage().heapTotal };
}
