// Learned routing benchmark: k-fold cross-validated quality and cost of each router head on
// the shared training data against the best single model, and the decision latency
// (featurize + head + policy) of a router trained on all of it. The heads are timed
// interleaved, query by query, next to two references measured in the same loop (featurizing
// alone, and sha256 of the query: fixed work that shows how busy the machine was); the p99 of
// each query's fastest pass is the work itself with less of the machine's interference. Prints
// markdown tables and writes them to bench/results/routing.md. Needs the build (`npx tsc -b`).
// usage: node bench/routing/run.ts [--kinds knn,linear,mlp,mf,elo,rules,gbdt,blend] [--folds 5] [--seed 1] [--passes 3] [--skip-cv] [--calibrate] [--head JSON] [--variant NAME=KIND:JSON ...] [--data FILE] [--models FILE]
// --calibrate adds, per head, the router at the lambda calibrated inside each fold's training part
// (router train --calibrate: 4 inner folds, so 5x the training time): its gain and cost ratio.
// --head passes head parameters to every kind, e.g. --kinds knn --head '{"maxQueryTerms":48}'.
// --variant adds a row for a kind with its own head parameters, timed in the same loop (a
// same-run A/B), e.g. --variant 'mlp float32=mlp:{"int8":false}'.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { crossValidate, LearnedRouter, type CrossValidation } from '../../dataplane/dist/routing/learned/index.js';
import type { HashedFeaturizer } from '../../dataplane/dist/routing/learned/featurizer.js';
import { repoRoot } from '../lib/processes.ts';
import { loadRoutingData, routingDataOptions } from '../lib/routing-data.ts';

const { values: flags } = parseArgs({
  options: {
    kinds: { type: 'string', default: 'knn,linear,mlp,mf,elo,rules,gbdt,blend' },
    folds: { type: 'string', default: '5' },
    passes: { type: 'string', default: '3' },
    'skip-cv': { type: 'boolean', default: false },
    calibrate: { type: 'boolean', default: false },
    head: { type: 'string', default: '{}' },
    variant: { type: 'string', multiple: true, default: [] },
    seed: { type: 'string', default: '1' },
    ...routingDataOptions,
  },
});
const kinds = flags.kinds.split(',');
const folds = Number(flags.folds);
const seed = Number(flags.seed);
const { examples, prices } = loadRoutingData(flags);

/** Latency targets from issue 5, in microseconds. */
const latencyTarget: Record<string, number> = { knn: 500, linear: 100, mlp: 100, mf: 100, elo: 100 };
const passes = Number(flags.passes);
const head = JSON.parse(flags.head) as Record<string, unknown>;

/** A row of the tables: a head kind trained with the shared --head parameters, or a --variant's own. */
interface Spec {
  name: string;
  kind: string;
  head: Record<string, unknown>;
}
const specs: Spec[] = [
  ...kinds.map((kind) => ({ name: kind, kind, head })),
  ...flags.variant.map((v) => {
    const match = /^([^=]+)=([a-z]+):(\{.*\})$/.exec(v);
    if (match === null) throw new Error(`--variant: got "${v}"; expected NAME=KIND:JSON, e.g. 'mlp float32=mlp:{"int8":false}'`);
    return { name: match[1]!, kind: match[2]!, head: JSON.parse(match[3]!) as Record<string, unknown> };
  }),
];

interface Row {
  name: string;
  kind: string;
  cv: CrossValidation | null;
  trainSeconds: number;
  artifactBytes: number;
  loadMs: number;
  p50: number;
  p99: number;
  /** p99 over queries of each query's fastest pass: the work itself, less the machine's interference. */
  bestP99: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

interface Trained {
  name: string;
  kind: string;
  router: LearnedRouter;
  cv: CrossValidation | null;
  trainSeconds: number;
  artifactBytes: number;
  loadMs: number;
}

function train({ name, kind, head }: Spec): Trained {
  const cv = flags['skip-cv'] ? null : crossValidate(examples, prices, { kind, seed, head }, folds, seed, flags.calibrate);
  let started = performance.now();
  const router = LearnedRouter.train(examples, prices, { kind, seed, folds, head });
  const trainSeconds = (performance.now() - started) / 1000;
  const { bytes } = router.encode();
  started = performance.now();
  const { router: loaded } = LearnedRouter.load(bytes);
  const loadMs = performance.now() - started;
  return { name, kind, router: loaded, cv, trainSeconds, artifactBytes: bytes.length, loadMs };
}

/** Times every decision individually: each query goes through every head and both references in a rotating order. */
function timeDecisions(trained: Trained[]): { rows: Row[]; references: { name: string; p50: number; p99: number; bestP99: number }[] } {
  const featurizer = trained[0]!.router.featurizer as HashedFeaturizer;
  const reference: [string, (q: string) => unknown][] = [
    ['featurize only (hashed)', (q) => featurizer.featurize(q)],
    ['sha256 of the query (fixed-work reference)', (q) => createHash('sha256').update(q).digest()],
  ];
  const work: [string, (q: string) => unknown][] = [...trained.map((t): [string, (q: string) => unknown] => [t.name, (q) => t.router.route(q)]), ...reference];
  for (const e of examples.slice(0, 500)) for (const [, run] of work) run(e.query);
  const samples = work.map(() => new Float64Array(examples.length * passes));
  let at = 0;
  for (let pass = 0; pass < passes; pass++) {
    for (const e of examples) {
      for (let w = 0; w < work.length; w++) {
        const i = (w + at) % work.length;
        const started = performance.now();
        work[i]![1](e.query);
        samples[i]![at] = (performance.now() - started) * 1000;
      }
      at++;
    }
  }
  const stats = samples.map((s) => {
    const best = new Float64Array(examples.length).fill(Infinity);
    for (let i = 0; i < s.length; i++) best[i % examples.length] = Math.min(best[i % examples.length]!, s[i]!);
    best.sort();
    s.sort();
    return { p50: percentile(s, 0.5), p99: percentile(s, 0.99), bestP99: percentile(best, 0.99) };
  });
  return {
    rows: trained.map((t, i) => ({ ...t, ...stats[i]! })),
    references: reference.map(([name], i) => ({ name, ...stats[trained.length + i]! })),
  };
}

type Stage = 'featurizeMs' | 'headMs' | 'policyMs';
const stages: Stage[] = ['featurizeMs', 'headMs', 'policyMs'];

/** Where a decision's time goes, from route()'s own timing: one more pass, per head and stage. */
function splitDecisions(trained: Trained[]): { name: string; stats: Record<Stage, { p50: number; p99: number }> }[] {
  return trained.map((t) => {
    const samples = { featurizeMs: new Float64Array(examples.length), headMs: new Float64Array(examples.length), policyMs: new Float64Array(examples.length) };
    examples.forEach((e, i) => {
      const timing = { featurizeMs: 0, headMs: 0, policyMs: 0 };
      t.router.route(e.query, { timing });
      for (const stage of stages) samples[stage][i] = timing[stage] * 1000;
    });
    const stats = {} as Record<Stage, { p50: number; p99: number }>;
    for (const stage of stages) {
      samples[stage].sort();
      stats[stage] = { p50: percentile(samples[stage], 0.5), p99: percentile(samples[stage], 0.99) };
    }
    return { name: t.name, stats };
  });
}

const loadBefore = loadavg()[0]!;
const trained = specs.map((spec) => {
  process.stderr.write(`training ${spec.name}...\n`);
  return train(spec);
});
process.stderr.write('timing decisions...\n');
const { rows, references } = timeDecisions(trained);
const split = splitDecisions(trained);
const loadAfter = loadavg()[0]!;
const pts = (v: number): string => (100 * v).toFixed(1);
const signed = (v: string): string => (v.startsWith('-') ? v : `+${v}`);
const calibratedCell = (cv: CrossValidation | null): string => {
  const c = cv?.calibrated;
  if (c === undefined) return '—';
  const perFold = c.folds.map((f, i) => `${signed(pts(f.quality - cv!.folds[i]!.best_single.quality))} at ${(f.cost / cv!.folds[i]!.best_single.cost).toFixed(2)}`).join(' / ');
  return `${signed(pts(c.gain.mean))} ± ${pts(c.gain.std)}, ${c.costRatio.mean.toFixed(2)} ± ${c.costRatio.std.toFixed(2)} (per fold ${perFold}; lambda ${c.folds.map((f) => f.lambda).join(' / ')})`;
};
const first = rows[0]!.cv;
const lines = [
  `## Learned routing (${examples.length} queries, ${folds}-fold cross-validation, seed ${seed}; ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, load average ${loadBefore.toFixed(1)} before / ${loadAfter.toFixed(1)} after)`,
  '',
  first === null
    ? 'Cross-validation skipped (--skip-cv).'
    : `Best single model (per fold): quality ${pts(first.bestSingleQuality.mean)} ± ${pts(first.bestSingleQuality.std)}; oracle ${pts(first.folds.reduce((s, f) => s + f.oracle.quality, 0) / folds)}; random ${pts(first.folds.reduce((s, f) => s + f.random.quality, 0) / folds)}.`,
  '',
  `| head | argmax quality | vs best single (target ≥ +3.0) | cost to reach best single quality, × its cost (target ≤ 0.30) | quality at best single cost | ${flags.calibrate ? 'at the lambda calibrated inside the training folds: vs best single, cost × its cost | ' : ''}p50 µs | p99 µs (target) | p99 of each query’s best pass µs | train s | artifact MB | load ms |`,
  `|---|---|---|---|---|${flags.calibrate ? '---|' : ''}---|---|---|---|---|---|`,
  ...rows.map((r) => {
    const cv = r.cv;
    const ratio = cv?.costRatioAtBestQuality;
    const atCost = cv?.folds.map((f) => f.router.quality_at_best_single_cost) ?? [];
    const atCostMean = atCost.reduce((a, b) => a + b, 0) / atCost.length;
    const target = latencyTarget[r.kind];
    return [
      r.name,
      cv === null ? '—' : `${pts(cv.argmaxQuality.mean)} ± ${pts(cv.argmaxQuality.std)}`,
      cv === null ? '—' : `${cv.gain.mean >= 0 ? '+' : ''}${pts(cv.gain.mean)} ± ${pts(cv.gain.std)} ${cv.gain.mean >= 0.03 ? 'pass' : 'FAIL'}`,
      ratio === undefined ? '—' : ratio.reachedIn === 0 ? `not reached FAIL` : `${ratio.mean.toFixed(2)} ± ${ratio.std.toFixed(2)} (${ratio.reachedIn}/${folds} folds) ${ratio.reachedIn === folds && ratio.mean <= 0.3 ? 'pass' : 'FAIL'}`,
      cv === null ? '—' : pts(atCostMean),
      ...(flags.calibrate ? [calibratedCell(cv)] : []),
      r.p50.toFixed(1),
      target === undefined ? `${r.p99.toFixed(1)} (no target)` : `${r.p99.toFixed(1)} (≤ ${target}) ${r.p99 <= target ? 'pass' : 'FAIL'}`,
      r.bestP99.toFixed(1),
      r.trainSeconds.toFixed(2),
      (r.artifactBytes / 1e6).toFixed(1),
      r.loadMs.toFixed(0),
    ].join(' | ').replace(/^/, '| ').concat(' |');
  }),
  '',
  `Decision latency references, timed in the same loop (${passes} passes over every query):`,
  '',
  '| reference | p50 µs | p99 µs | p99 of each query’s best pass µs |',
  '|---|---|---|---|',
  ...references.map((r) => `| ${r.name} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.bestP99.toFixed(1)} |`),
  '',
  'Where the time goes (route() timing, one pass; p50 / p99 µs):',
  '',
  '| head | featurize | head | policy |',
  '|---|---|---|---|',
  ...split.map((r) => `| ${r.name} | ${stages.map((stage) => `${r.stats[stage].p50.toFixed(1)} / ${r.stats[stage].p99.toFixed(1)}`).join(' | ')} |`),
  '',
];
const table = lines.join('\n');
process.stdout.write(table);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/routing.md'), table);
