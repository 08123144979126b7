// The onnx featurizer against the hashed one: single-query featurize latency (p50/p99) of
// all-MiniLM-L6-v2 int8 on this CPU, and k-fold cross-validated quality of each head with either
// featurizer on the shared training data, in the same run. The embeddings of the training data
// are computed once and cached (git-ignored, in ~/.cache/switchboard/routing-embeddings/), keyed
// by the model's and the data's sha256. Writes bench/results/routing-onnx.md.
// Needs the build (`npx tsc -b`) and the model (`bash scripts/models/fetch-minilm.sh`).
// usage: node bench/routing/onnx-cv.ts [--kinds knn,linear,mlp,mf] [--folds 5] [--seed 1] [--latency 200] [--calibrate]
// --calibrate adds each router at the lambda calibrated inside each fold's training part.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { crossValidate, type CrossValidation } from '../../dataplane/dist/routing/learned/index.js';
import { denseRow } from '../../dataplane/dist/routing/learned/featurizers/dense.js';
import { EmbeddedFeaturizer } from '../../dataplane/dist/routing/learned/featurizers/embedded.js';
import { OnnxFeaturizer } from '../../dataplane/dist/routing/learned/featurizers/onnx.js';
import type { SparseVector } from '../../dataplane/dist/routing/learned/sparse.js';
import { repoRoot } from '../lib/processes.ts';
import { loadRoutingData, routingDataOptions } from '../lib/routing-data.ts';

const cache = process.env.SWITCHBOARD_CACHE ?? join(homedir(), '.cache/switchboard');
const { values: flags } = parseArgs({
  options: {
    kinds: { type: 'string', default: 'knn,linear,mlp,mf' },
    calibrate: { type: 'boolean', default: false },
    folds: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
    latency: { type: 'string', default: '200' },
    model: { type: 'string', default: join(cache, 'models/all-MiniLM-L6-v2-int8/model.onnx') },
    ...routingDataOptions,
  },
});
const folds = Number(flags.folds);
const seed = Number(flags.seed);
const { text: dataText, examples, prices } = loadRoutingData(flags);
const log = (text: string): boolean => process.stderr.write(`[onnx-cv ${new Date().toISOString().slice(11, 19)}] ${text}\n`);

const onnx = await OnnxFeaturizer.open(flags.model);
const dim = onnx.dim;
const queries = [...new Set(examples.map((e) => e.query))];

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

// Latency: single queries, one at a time, as the gateway embeds them (a fixed sample of the data).
const sample = queries.filter((_, i) => i % Math.max(1, Math.floor(queries.length / Number(flags.latency))) === 0).slice(0, Number(flags.latency));
await onnx.featurize(sample[0]!);
const times = new Float64Array(sample.length);
for (let i = 0; i < sample.length; i++) {
  const s = performance.now();
  await onnx.featurize(sample[i]!);
  times[i] = performance.now() - s;
}
times.sort();
const shortTimes = new Float64Array(50);
for (let i = 0; i < shortTimes.length; i++) {
  const s = performance.now();
  await onnx.featurize(`write a python function that sorts a list, variant ${i}`);
  shortTimes[i] = performance.now() - s;
}
shortTimes.sort();
log(`featurize latency: data sample p50 ${percentile(times, 0.5).toFixed(1)} ms, p99 ${percentile(times, 0.99).toFixed(1)} ms; short query p50 ${percentile(shortTimes, 0.5).toFixed(1)} ms`);

// Embeddings of every distinct query, cached.
const key = createHash('sha256').update(onnx.params.modelSha256).update(dataText).digest('hex').slice(0, 24);
const file = join(cache, 'routing-embeddings', `${key}.f32`);
let matrix: Float32Array;
if (existsSync(file)) {
  matrix = new Float32Array(new Uint8Array(readFileSync(file)).buffer);
  log(`embeddings from ${file}`);
} else {
  matrix = new Float32Array(queries.length * dim);
  const started = performance.now();
  for (let i = 0; i < queries.length; i++) {
    matrix.set(await onnx.embed(queries[i]!), i * dim);
    if (i % 500 === 499) log(`embedded ${i + 1}/${queries.length}`);
  }
  log(`embedded ${queries.length} queries in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  mkdirSync(join(cache, 'routing-embeddings'), { recursive: true });
  writeFileSync(file, new Uint8Array(matrix.buffer));
}
const rows = new Map<string, SparseVector>(queries.map((q, i) => [q, denseRow(matrix.subarray(i * dim, (i + 1) * dim))]));
const embedded = new EmbeddedFeaturizer(onnx.record(), rows);

const pts = (v: number): string => (100 * v).toFixed(1);
const cell = (cv: CrossValidation): string => `${pts(cv.argmaxQuality.mean)} ± ${pts(cv.argmaxQuality.std)} (${cv.gain.mean >= 0 ? '+' : ''}${pts(cv.gain.mean)})`;
const ratio = (cv: CrossValidation): string =>
  cv.costRatioAtBestQuality.reachedIn === 0 ? 'not reached' : `${cv.costRatioAtBestQuality.mean.toFixed(2)} (${cv.costRatioAtBestQuality.reachedIn}/${folds})`;
const calibrated = (cv: CrossValidation): string => {
  const c = cv.calibrated;
  return c === undefined ? '—' : `${c.gain.mean >= 0 ? '+' : ''}${pts(c.gain.mean)} ± ${pts(c.gain.std)}, ${c.costRatio.mean.toFixed(2)} ± ${c.costRatio.std.toFixed(2)}`;
};
const lines = [
  `## onnx featurizer (all-MiniLM-L6-v2 int8, ${dim} dimensions) vs hashed: ${examples.length} queries, ${folds}-fold cross-validation, seed ${seed}; ${cpus()[0]?.model ?? 'unknown CPU'} (${cpus().length} cores), Node ${process.version}`,
  '',
  `Featurize latency, one query at a time: ${sample.length} queries of the data (≤ 256 tokens) p50 ${percentile(times, 0.5).toFixed(1)} ms, p99 ${percentile(times, 0.99).toFixed(1)} ms; a short query p50 ${percentile(shortTimes, 0.5).toFixed(1)} ms, p99 ${percentile(shortTimes, 0.99).toFixed(1)} ms.`,
  '',
  `| head | hashed: argmax quality (vs best single) | onnx: argmax quality (vs best single) | hashed: cost to reach best single, × its cost | onnx: same | ${flags.calibrate ? 'hashed, at the lambda calibrated in the training folds: vs best single, cost × its cost | onnx: same | ' : ''}hashed s per fold (train + eval) | onnx s per fold |`,
  `|---|---|---|---|---|${flags.calibrate ? '---|---|' : ''}---|---|`,
];
for (const kind of flags.kinds.split(',')) {
  log(`cross-validating ${kind} (hashed)`);
  let s = performance.now();
  const hashed = crossValidate(examples, prices, { kind, seed }, folds, seed, flags.calibrate);
  const hashedSeconds = (performance.now() - s) / 1000 / folds;
  log(`cross-validating ${kind} (onnx)`);
  s = performance.now();
  const dense = crossValidate(examples, prices, { kind, seed, fixedFeaturizer: embedded }, folds, seed, flags.calibrate);
  const denseSeconds = (performance.now() - s) / 1000 / folds;
  lines.push(`| ${kind} | ${cell(hashed)} | ${cell(dense)} | ${ratio(hashed)} | ${ratio(dense)} | ${flags.calibrate ? `${calibrated(hashed)} | ${calibrated(dense)} | ` : ''}${hashedSeconds.toFixed(1)} | ${denseSeconds.toFixed(1)} |`);
}
lines.push('');
const table = lines.join('\n');
process.stdout.write(table);
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/routing-onnx.md'), table);
