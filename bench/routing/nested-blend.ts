// Nested cross-validation of the blend head's member choice: in each outer fold, an inner k-fold
// CV on the outer training part picks the subset of candidate heads whose averaged predictions
// gain the most over the best single model; the picked blend is then scored on the outer fold.
// The mean ± spread over outer folds is the honest estimate of "pick the members by CV".
// Needs the build (`npx tsc -b`). usage: node bench/routing/nested-blend.ts [--candidates knn,linear,mf,rules] [--folds 5] [--inner 4]
import { parseArgs } from 'node:util';
import { evaluate, foldAssignment, LearnedRouter, meanSpread, type RoutingExample } from '../../dataplane/dist/routing/learned/index.js';
import { loadRoutingData, routingDataOptions } from '../lib/routing-data.ts';

const { values: flags } = parseArgs({
  options: {
    candidates: { type: 'string', default: 'knn,linear,mf,rules' },
    folds: { type: 'string', default: '5' },
    inner: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    ...routingDataOptions,
  },
});
const kinds = flags.candidates.split(',');
const seed = Number(flags.seed);
const { examples, prices } = loadRoutingData(flags);
const subsets: string[][] = [];
for (let mask = 1; mask < 1 << kinds.length; mask++) subsets.push(kinds.filter((_, i) => mask & (1 << i)));

interface Predictions {
  models: readonly string[];
  byKind: Map<string, Float64Array[]>;
}

function predict(train: RoutingExample[], test: RoutingExample[]): Predictions {
  const byKind = new Map<string, Float64Array[]>();
  let models: readonly string[] = [];
  for (const kind of kinds) {
    const router = LearnedRouter.train(train, prices, { kind, seed });
    models = router.models;
    byKind.set(kind, test.map((e) => router.predict(e.query)));
  }
  return { models, byKind };
}

/** Gain over the best single model and cost ratio of the mean of `members`' predictions. */
function score(p: Predictions, members: readonly string[], test: RoutingExample[]): { gain: number; ratio: number } {
  const m = p.models.length;
  let current = 0; // evaluate() predicts the examples in order
  const blended = {
    models: p.models,
    predict: (): Float64Array => {
      const out = new Float64Array(m);
      for (const kind of members) {
        const q = p.byKind.get(kind)![current]!;
        for (let k = 0; k < m; k++) out[k]! += q[k]! / members.length;
      }
      current++;
      return out;
    },
  };
  const report = evaluate(blended as unknown as LearnedRouter, test, prices);
  const reached = report.router.cost_at_best_single_quality;
  return { gain: report.router.argmax.quality - report.best_single.quality, ratio: reached === null ? NaN : reached / report.best_single.cost };
}

const folds = Number(flags.folds);
const innerFolds = Number(flags.inner);
const outer = foldAssignment(examples.length, folds, seed);
const gains: number[] = [];
const ratios: number[] = [];
for (let f = 0; f < folds; f++) {
  const train = examples.filter((_, i) => outer[i] !== f);
  const test = examples.filter((_, i) => outer[i] === f);
  const inner = foldAssignment(train.length, innerFolds, seed + 1);
  const innerGain = subsets.map(() => 0);
  for (let g = 0; g < innerFolds; g++) {
    const innerTest = train.filter((_, i) => inner[i] === g);
    const p = predict(train.filter((_, i) => inner[i] !== g), innerTest);
    subsets.forEach((members, j) => (innerGain[j]! += score(p, members, innerTest).gain / innerFolds));
  }
  const picked = subsets[innerGain.indexOf(Math.max(...innerGain))]!;
  const result = score(predict(train, test), picked, test);
  gains.push(result.gain);
  ratios.push(result.ratio);
  process.stdout.write(`outer fold ${f}: picked ${picked.join('+')} (inner gain ${(100 * Math.max(...innerGain)).toFixed(2)}); outer gain ${(100 * result.gain).toFixed(2)} points, cost ratio ${result.ratio.toFixed(3)}\n`);
}
const g = meanSpread(gains);
const q = meanSpread(ratios);
process.stdout.write(`nested estimate: +${(100 * g.mean).toFixed(2)} ± ${(100 * g.std).toFixed(2)} points over the best single model; cost ratio ${q.mean.toFixed(3)} ± ${q.std.toFixed(3)}\n`);
