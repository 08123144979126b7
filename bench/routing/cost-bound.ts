// What limits "reach the best single model's quality at <= 30% of its cost": per cross-validation
// fold, the cost ratio (cheapest point of the willingness-to-pay curve reaching the best single
// model's held-out quality, / that model's cost) of routers fed different predicted qualities:
// the per-query oracle, the true scores (a perfect predictor), the per-cluster means of the
// data's hidden `cluster_id` (a label no router sees at run time), each trained head, kNN told the
// true scores of a share of the queries (how much per-query outcome information is missing), and
// kNN trained on part of the training folds (does more data help). Every curve is computed on the default
// lambda grid (5 per decade, what `router eval` reports) and a 4x finer one. Needs the build.
// usage: node bench/routing/cost-bound.ts [--kinds knn,linear,mf,blend] [--folds 5] [--seed 1] [--data FILE] [--models FILE]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { defaultLambdas, evaluatePredictions, foldAssignment, LearnedRouter, meanSpread, type EvalReport, type RoutingExample } from '../../dataplane/dist/routing/learned/index.js';
import { repoRoot } from '../lib/processes.ts';
import { loadRoutingData, routingDataOptions } from '../lib/routing-data.ts';

const { values: flags } = parseArgs({
  options: {
    kinds: { type: 'string', default: 'knn,linear,mf,blend' },
    folds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    ...routingDataOptions,
  },
});
const folds = Number(flags.folds);
const seed = Number(flags.seed);
const kinds = flags.kinds.split(',');
const { text, examples, prices } = loadRoutingData(flags);
const clusters = (JSON.parse(text) as { cluster_id?: number }[]).map((r) => r.cluster_id ?? 0);
const fold = foldAssignment(examples.length, folds, seed);
const fineLambdas = [0, ...Array.from({ length: 121 }, (_, i) => 10 ** (-2 + i / 20))];
const told = [0.1, 0.2, 0.3, 0.5];
const shares = [0.25, 0.5];

/** Per router name, per fold: cost ratio on the default grid, on the fine grid, and the argmax gain. */
const results = new Map<string, { coarse: (number | null)[]; fine: (number | null)[]; gain: number[] }>();

function record(name: string, predict: (e: RoutingExample, r: number) => ArrayLike<number>, models: readonly string[], test: RoutingExample[]): void {
  const ratio = (report: EvalReport): number | null => (report.router.cost_at_best_single_quality === null ? null : report.router.cost_at_best_single_quality / report.best_single.cost);
  const coarse = evaluatePredictions(models, predict, test, prices, defaultLambdas);
  const fine = evaluatePredictions(models, predict, test, prices, fineLambdas);
  const row = results.get(name) ?? { coarse: [], fine: [], gain: [] };
  row.coarse.push(ratio(coarse));
  row.fine.push(ratio(fine));
  row.gain.push(coarse.router.argmax.quality - coarse.best_single.quality);
  results.set(name, row);
}

const oracleRatio: number[] = [];
for (let f = 0; f < folds; f++) {
  process.stderr.write(`fold ${f}\n`);
  const trainIdx = examples.flatMap((_, i) => (fold[i] !== f ? [i] : []));
  const train = trainIdx.map((i) => examples[i]!);
  const testIdx = examples.flatMap((_, i) => (fold[i] === f ? [i] : []));
  const test = testIdx.map((i) => examples[i]!);
  const routers = new Map(kinds.map((kind) => [kind, LearnedRouter.train(train, prices, { kind, seed })]));
  const models = routers.get(kinds[0]!)!.models;
  const truth = test.map((e) => models.map((m) => e.scores[m] ?? 0));
  const predicted = new Map([...routers].map(([kind, router]) => [kind, test.map((e) => router.predict(e.query))]));

  const perfect = evaluatePredictions(models, (_, r) => truth[r]!, test, prices);
  oracleRatio.push(perfect.oracle.cost / perfect.best_single.cost);
  record('true scores (perfect predictions)', (_, r) => truth[r]!, models, test);

  // Per-cluster mean scores of the training folds, looked up by the hidden label.
  const sums = new Map<number, Float64Array>();
  const counts = new Map<number, number>();
  trainIdx.forEach((i) => {
    const c = clusters[i]!;
    const s = sums.get(c) ?? new Float64Array(models.length);
    models.forEach((m, k) => (s[k]! += examples[i]!.scores[m] ?? 0));
    sums.set(c, s);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  });
  record('hidden cluster_id means (not available at run time)', (_, r) => sums.get(clusters[testIdx[r]!]!)!.map((v) => v / counts.get(clusters[testIdx[r]!]!)!), models, test);

  for (const [kind, p] of predicted) record(kind, (_, r) => p[r]!, models, test);
  const knn = predicted.get('knn');
  if (knn !== undefined) {
    // A seeded-shuffle rank per test query decides which share is told (the same queries across shares).
    const rank = foldAssignment(test.length, test.length, seed + f);
    for (const share of told) record(`knn, told the true scores of ${share * 100}% of the queries`, (_, r) => (rank[r]! < share * test.length ? truth[r]! : knn[r]!), models, test);
    for (const share of shares) {
      const part = train.filter((_, i) => i % Math.round(1 / share) === 0);
      const router = LearnedRouter.train(part, prices, { kind: 'knn', seed });
      // Its models are listed in the order its part first scores them: align to `models`.
      const at = models.map((m) => router.models.indexOf(m));
      record(`knn trained on ${share * 100}% of the training folds`, (e) => {
        const p = router.predict(e.query);
        return at.map((k) => p[k]!);
      }, models, test);
    }
  }
}

const fmt = (values: (number | null)[]): string => {
  const reached = values.filter((v): v is number => v !== null);
  if (reached.length === 0) return `not reached (0/${folds})`;
  const { mean, std } = meanSpread(reached);
  return `${mean.toFixed(2)} ± ${std.toFixed(2)} (${reached.length}/${folds})`;
};
const perFold = (values: (number | null)[]): string => values.map((v) => (v === null ? '—' : v.toFixed(2))).join(' / ');
const oracle = meanSpread(oracleRatio);
const lines = [
  `## Cost to reach the best single model's quality, × its cost (${examples.length} queries, ${folds}-fold CV, seed ${seed}; target ≤ 0.30)`,
  '',
  `Per-query oracle (cheapest best model): ${oracle.mean.toFixed(2)} ± ${oracle.std.toFixed(2)} of the best single model's cost, at the oracle's quality.`,
  '',
  '| predicted qualities fed to the willingness-to-pay policy | default grid (5/decade): mean ± sd (folds reached) | per fold | fine grid (20/decade) | per fold | argmax gain, points |',
  '|---|---|---|---|---|---|',
  ...[...results].map(([name, r]) => `| ${name} | ${fmt(r.coarse)} | ${perFold(r.coarse)} | ${fmt(r.fine)} | ${perFold(r.fine)} | ${(100 * meanSpread(r.gain).mean).toFixed(1)} ± ${(100 * meanSpread(r.gain).std).toFixed(1)} |`),
  '',
];
const table = lines.join('\n');
process.stdout.write(table);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/routing-cost-bound.md'), table);
