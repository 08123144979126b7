// Guards the hot-path optimisations: features, per-head predictions and decisions for 50 fixed
// queries must match what the straightforward code computed (testdata/prediction-snapshot.json).
// Regenerate only on a deliberate model change: UPDATE_PREDICTION_SNAPSHOT=1 npx jest <this file>.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { seededRandom } from '../../seeded-random.js';
import type { ModelPrice } from './artifact.js';
import type { RoutingExample } from './dataset.js';
import { LearnedRouter } from './router.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'testdata', 'prediction-snapshot.json');
const kinds = ['linear', 'mlp', 'mf', 'knn', 'elo'] as const;
/** The MLP is pinned with its exact float32 first layer; its default int8 one is checked against that. */
const exact = { epochs: 3, int8: false };
/** Float rounding of a reordered sum over ~2k float32 terms stays far below this. */
const tolerance = 1e-9;

const topics: Record<string, string[]> = {
  math: ['Integral', 'derivative', 'équation', 'sum', 'prime', 'fraction', 'Algebra', 'triangle', 'solve', 'polynomial', 'x^2', '3.14'],
  code: ['Python', 'function', 'compile', 'JavaScript', 'loop', 'array', 'recursion', 'debug', 'variable', 'class', 'std::vector', 'foo_bar'],
  prose: ['essay', 'poem', 'Über', 'story', 'letter', 'summary', 'привет', 'мир', '你好世界', 'tone', 'rewrite', 'naïve'],
};
const filler = ['please', 'the', 'and', 'of', 'a', 'with', 'for', 'what', 'is', 'how', 'why', 'can', 'you', '—', '!', '?', ',', '(', ')'];
const prices: Record<string, ModelPrice> = {
  mathy: { input: 1, output: 2 },
  coder: { input: 1.5, output: 1.5 },
  writer: { input: 0.5, output: 1 },
  big: { input: 5, output: 10 },
  cheap: { input: 0.1, output: 0.1 },
};

/** Queries of every shape the featurizer meets: short, mixed-case, non-Latin, and longer than maxChars. */
function queries(count: number, seed: number): { query: string; topic: string }[] {
  const random = seededRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const names = Object.keys(topics);
  return Array.from({ length: count }, (_, i) => {
    const topic = names[i % names.length]!;
    const words = i % 17 === 0 ? 400 + Math.floor(random() * 400) : 3 + Math.floor(random() * 40);
    const parts: string[] = [];
    for (let w = 0; w < words; w++) parts.push(random() < 0.5 ? pick(topics[topic]!) : random() < 0.2 ? pick(topics[pick(names)]!) : pick(filler));
    return { query: parts.join(random() < 0.8 ? ' ' : '  '), topic };
  });
}

function examples(count: number): RoutingExample[] {
  const random = seededRandom(7);
  const good: Record<string, string> = { math: 'mathy', code: 'coder', prose: 'writer' };
  return queries(count, 3).map(({ query, topic }) => {
    const scores: Record<string, number> = {};
    for (const model of Object.keys(prices)) {
      const base = model === good[topic] ? 0.8 : model === 'big' ? 0.7 : model === 'cheap' ? 0.3 : 0.2;
      if (random() < 0.9) scores[model] = Math.min(1, Math.max(0, base + (random() - 0.5) * 0.4));
    }
    return { query, scores };
  });
}

interface Snapshot {
  features: { count: number; digest: string }[];
  predictions: Record<string, number[][]>;
  decisions: Record<string, { model: string; reason: string; top: string[] }[]>;
}

const train = examples(300);
const probe = queries(50, 11).map((q) => q.query);

function compute(): Snapshot {
  const snapshot: Snapshot = { features: [], predictions: {}, decisions: {} };
  for (const kind of kinds) {
    const router = LearnedRouter.train(train, prices, { kind, seed: 5, head: kind === 'mlp' || kind === 'mf' ? exact : {} });
    if (kind === 'linear') {
      snapshot.features = probe.map((q) => {
        const x = (router.featurizer as { featurize(q: string): { indices: Int32Array; values: Float32Array } }).featurize(q);
        const digest = createHash('sha256').update(new Uint8Array(x.indices.buffer, x.indices.byteOffset, x.indices.byteLength)).update(new Uint8Array(x.values.buffer, x.values.byteOffset, x.values.byteLength)).digest('hex');
        return { count: x.indices.length, digest };
      });
    }
    snapshot.predictions[kind] = probe.map((q) => Array.from(router.predict(q)));
    snapshot.decisions[kind] = probe.map((q) => {
      const d = router.route(q, { policy: { rule: 'willingness-to-pay', lambda: 8 } });
      return { model: d.model, reason: d.reason, top: d.top.map((c) => c.model) };
    });
  }
  return snapshot;
}

describe('prediction snapshot (hot path unchanged in effect)', () => {
  const now = compute();
  if (process.env.UPDATE_PREDICTION_SNAPSHOT === '1') writeFileSync(fixture, `${JSON.stringify(now, null, 1)}\n`);
  const stored = JSON.parse(readFileSync(fixture, 'utf8')) as Snapshot;

  it('featurizes 50 fixed queries to bit-identical sparse vectors', () => {
    expect(now.features).toEqual(stored.features);
  });

  it.each(kinds)('%s head predicts the stored qualities within float rounding', (kind) => {
    const got = now.predictions[kind]!;
    const want = stored.predictions[kind]!;
    expect(got).toHaveLength(want.length);
    let worst = 0;
    got.forEach((row, i) => row.forEach((v, k) => (worst = Math.max(worst, Math.abs(v - want[i]![k]!)))));
    expect(worst).toBeLessThanOrEqual(tolerance);
  });

  it.each(kinds)('%s router makes the stored decisions with the same explanation', (kind) => {
    expect(now.decisions[kind]).toEqual(stored.decisions[kind]);
  });

  it('mlp with the int8 first layer predicts within 1e-3 of the float32 one and makes the same decisions', () => {
    const router = LearnedRouter.train(train, prices, { kind: 'mlp', seed: 5, head: { ...exact, int8: true } });
    let worst = 0;
    probe.forEach((q, i) => router.predict(q).forEach((v, k) => (worst = Math.max(worst, Math.abs(v - stored.predictions.mlp![i]![k]!)))));
    expect(worst).toBeGreaterThan(0); // it is the quantized path
    expect(worst).toBeLessThanOrEqual(1e-3);
    const models = probe.map((q) => router.route(q, { policy: { rule: 'willingness-to-pay', lambda: 8 } }).model);
    expect(models).toEqual(stored.decisions.mlp!.map((d) => d.model));
  });
});
