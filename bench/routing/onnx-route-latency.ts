// Decision latency of LearnedRouter.route with the hashed featurizer (the gateway's synchronous
// fast path), to check that pluggable featurizers cost it nothing: run before and after a change
// and compare (--dist points at a copy of dataplane/dist built before it). Needs the build (`npx tsc -b`).
// usage: node bench/routing/onnx-route-latency.ts [--kinds knn,linear] [--passes 3] [--dist DIR]
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import type * as Learned from '../../dataplane/dist/routing/learned/index.js';
import { routingModels, routingTrain } from '../lib/routing-data.ts';

const { values: flags } = parseArgs({
  options: {
    kinds: { type: 'string', default: 'knn,linear' },
    passes: { type: 'string', default: '3' },
    data: { type: 'string', default: routingTrain },
    models: { type: 'string', default: routingModels },
    dist: { type: 'string', default: new URL('../../dataplane/dist', import.meta.url).pathname },
  },
});
const { LearnedRouter, parseExamples, parseModels } = (await import(pathToFileURL(`${flags.dist}/routing/learned/index.js`).href)) as typeof Learned;
const examples = parseExamples(readFileSync(flags.data, 'utf8'), flags.data);
const prices = parseModels(readFileSync(flags.models, 'utf8'), flags.models);

for (const kind of flags.kinds.split(',')) {
  const router = LearnedRouter.train(examples, prices, { kind, seed: 1 });
  for (const e of examples.slice(0, 500)) router.route(e.query);
  const times = new Float64Array(examples.length * Number(flags.passes));
  let t = 0;
  for (let pass = 0; pass < Number(flags.passes); pass++) {
    for (const e of examples) {
      const s = performance.now();
      router.route(e.query);
      times[t++] = (performance.now() - s) * 1000;
    }
  }
  times.sort();
  const at = (p: number): string => times[Math.min(times.length - 1, Math.floor(p * times.length))]!.toFixed(1);
  process.stdout.write(`${kind}: route p50 ${at(0.5)} µs, p99 ${at(0.99)} µs (${times.length} decisions)\n`);
}
