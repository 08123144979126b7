// Learned routing benchmark: k-fold cross-validated quality and cost of each router head on
// the shared training data against the best single model, and the decision latency
// (featurize + head + policy) of a router trained on all of it. Prints a markdown table and
// writes it to bench/results/routing.md. Needs the build (`npx tsc -b`): it runs dist code.
// usage: node bench/routing/run.ts [--kinds knn,linear,mlp,mf] [--folds 5] [--seed 1] [--data FILE] [--models FILE]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { crossValidate, LearnedRouter, parseExamples, parseModels, type CrossValidation } from '../../dataplane/dist/routing/learned/index.js';
import { repoRoot } from '../lib/processes.ts';

const { values: flags } = parseArgs({
  options: {
    kinds: { type: 'string', default: 'knn,linear,mlp,mf' },
    folds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    data: { type: 'string', default: '/work/shared/data/routing/train.json' },
    models: { type: 'string', default: '/work/shared/data/routing/models.json' },
  },
});
const kinds = flags.kinds.split(',');
const folds = Number(flags.folds);
const seed = Number(flags.seed);
const examples = parseExamples(readFileSync(flags.data, 'utf8'), flags.data);
const prices = parseModels(readFileSync(flags.models, 'utf8'), flags.models);

/** Latency targets from issue 5, in microseconds. */
const latencyTarget: Record<string, number> = { knn: 500, linear: 100, mlp: 100, mf: 100 };

interface Row {
  kind: string;
  cv: CrossValidation;
  trainSeconds: number;
  artifactBytes: number;
  loadMs: number;
  p50: number;
  p99: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function measure(kind: string): Row {
  const cv = crossValidate(examples, prices, { kind, seed }, folds, seed);
  let started = performance.now();
  const router = LearnedRouter.train(examples, prices, { kind, seed, folds });
  const trainSeconds = (performance.now() - started) / 1000;
  const { bytes } = router.encode();
  started = performance.now();
  const { router: loaded } = LearnedRouter.load(bytes);
  const loadMs = performance.now() - started;
  // Warm up, then time every decision individually over three passes of all queries.
  for (const e of examples.slice(0, 500)) loaded.route(e.query);
  const times = new Float64Array(examples.length * 3);
  let t = 0;
  for (let pass = 0; pass < 3; pass++) {
    for (const e of examples) {
      const s = performance.now();
      loaded.route(e.query);
      times[t++] = (performance.now() - s) * 1000;
    }
  }
  times.sort();
  return { kind, cv, trainSeconds, artifactBytes: bytes.length, loadMs, p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}

const pts = (v: number): string => (100 * v).toFixed(1);
const rows = kinds.map((kind) => {
  process.stderr.write(`measuring ${kind}...\n`);
  return measure(kind);
});
const first = rows[0]!.cv;
const lines = [
  `## Learned routing (${examples.length} queries, ${folds}-fold cross-validation, seed ${seed}; ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version})`,
  '',
  `Best single model (per fold): quality ${pts(first.bestSingleQuality.mean)} ± ${pts(first.bestSingleQuality.std)}; oracle ${pts(first.folds.reduce((s, f) => s + f.oracle.quality, 0) / folds)}; random ${pts(first.folds.reduce((s, f) => s + f.random.quality, 0) / folds)}.`,
  '',
  '| head | argmax quality | vs best single (target ≥ +3.0) | cost to reach best single quality, × its cost (target ≤ 0.30) | quality at best single cost | p50 µs | p99 µs (target) | train s | artifact MB | load ms |',
  '|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) => {
    const ratio = r.cv.costRatioAtBestQuality;
    const atCost = r.cv.folds.map((f) => f.router.quality_at_best_single_cost);
    const atCostMean = atCost.reduce((a, b) => a + b, 0) / atCost.length;
    const target = latencyTarget[r.kind];
    return [
      r.kind,
      `${pts(r.cv.argmaxQuality.mean)} ± ${pts(r.cv.argmaxQuality.std)}`,
      `${r.cv.gain.mean >= 0 ? '+' : ''}${pts(r.cv.gain.mean)} ± ${pts(r.cv.gain.std)} ${r.cv.gain.mean >= 0.03 ? 'pass' : 'FAIL'}`,
      ratio.reachedIn === 0 ? `not reached FAIL` : `${ratio.mean.toFixed(2)} ± ${ratio.std.toFixed(2)} (${ratio.reachedIn}/${folds} folds) ${ratio.reachedIn === folds && ratio.mean <= 0.3 ? 'pass' : 'FAIL'}`,
      pts(atCostMean),
      r.p50.toFixed(1),
      `${r.p99.toFixed(1)} (≤ ${target ?? '?'}) ${target !== undefined && r.p99 <= target ? 'pass' : 'FAIL'}`,
      r.trainSeconds.toFixed(2),
      (r.artifactBytes / 1e6).toFixed(1),
      r.loadMs.toFixed(0),
    ].join(' | ').replace(/^/, '| ').concat(' |');
  }),
  '',
];
const table = lines.join('\n');
process.stdout.write(table);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/routing.md'), table);
