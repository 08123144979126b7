// Exports identical inputs for the scikit-learn reference (bench/routing/sklearn-reference.py):
// per cross-validation fold, the hashed TF-IDF feature matrices the TypeScript heads train and
// predict on (CSR, little-endian binaries), the query-shape features the gbdt head reads (dense,
// float64), the scores, the per-choice costs, and each TypeScript head's predictions on the
// held-out queries. Needs the build (`npx tsc -b`).
// usage: node bench/routing/export-features.ts [--out DIR] [--folds 5] [--only-folds 1] [--kinds knn,linear,mlp,mf,elo,gbdt]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { choiceCost } from '../../dataplane/dist/routing/learned/dataset.js';
import { foldAssignment, LearnedRouter, type RoutingExample } from '../../dataplane/dist/routing/learned/index.js';
import { trainingSet } from '../../dataplane/dist/routing/learned/router.js';
import { QUERY_SHAPE_DIM, queryShape } from '../../dataplane/dist/routing/learned/heads/query-shape.js';
import { repoRoot } from '../lib/processes.ts';
import { loadRoutingData, routingDataOptions } from '../lib/routing-data.ts';

const { values: flags } = parseArgs({
  options: {
    out: { type: 'string', default: join(repoRoot, '.local/routing-reference') },
    folds: { type: 'string', default: '5' },
    'only-folds': { type: 'string', default: '5' },
    kinds: { type: 'string', default: 'knn,linear,mlp,mf,elo,gbdt' },
    seed: { type: 'string', default: '1' },
    ...routingDataOptions,
  },
});
const folds = Number(flags.folds);
const seed = Number(flags.seed);
const kinds = flags.kinds.split(',');
const { examples, prices } = loadRoutingData(flags);
const fold = foldAssignment(examples.length, folds, seed);

function write(dir: string, name: string, data: Float32Array | Float64Array | Int32Array): void {
  writeFileSync(join(dir, `${name}.bin`), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

for (let f = 0; f < Math.min(folds, Number(flags['only-folds'])); f++) {
  const dir = join(flags.out, `fold-${f}`);
  mkdirSync(dir, { recursive: true });
  const train = examples.filter((_, i) => fold[i] !== f);
  const test = examples.filter((_, i) => fold[i] === f);
  const heads: Record<string, unknown> = {};
  let models: readonly string[] = [];
  let dim = 0;
  for (const kind of kinds) {
    process.stderr.write(`fold ${f}: ${kind}\n`);
    const router = LearnedRouter.train(train, prices, { kind, seed });
    models = router.models;
    const predicted = new Float64Array(test.length * models.length);
    test.forEach((e, r) => predicted.set(router.predict(e.query), r * models.length));
    write(dir, `ts_${kind}`, predicted);
    heads[kind] = router.head.params();
    if (kind === kinds[0]) {
      // The router's own featurizer, fitted on this fold's training queries: identical features.
      const featurizer = router.featurizer as Parameters<typeof trainingSet>[2];
      dim = featurizer.dim;
      for (const [name, part] of [['train', train], ['test', test]] as const) {
        const set = trainingSet(part, models, featurizer);
        write(dir, `X_${name}_indptr`, set.rows.indptr);
        write(dir, `X_${name}_indices`, set.rows.indices);
        write(dir, `X_${name}_values`, set.rows.values);
        write(dir, `Y_${name}`, set.targets);
        const shape = new Float64Array(part.length * QUERY_SHAPE_DIM);
        part.forEach((e, r) => shape.set(queryShape(e.query), r * QUERY_SHAPE_DIM));
        write(dir, `S_${name}`, shape);
      }
      write(dir, 'cost_test', costs(test, models));
    }
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ fold: f, folds, seed, models, dim, shapeDim: QUERY_SHAPE_DIM, nTrain: train.length, nTest: test.length, heads }, null, 2));
}
process.stderr.write(`wrote ${flags.out}\n`);

function costs(part: readonly RoutingExample[], models: readonly string[]): Float64Array {
  const out = new Float64Array(part.length * models.length);
  part.forEach((e, r) => models.forEach((m, k) => (out[r * models.length + k] = choiceCost(e, m, prices))));
  return out;
}
