// Evaluation of a router on scored queries: the quality and cost it would have achieved,
// against the best single model, the per-query oracle and random choice.
import type { ModelPrice } from './artifact.js';
import { choiceCost, DataError, scoredModels, type RoutingExample } from './dataset.js';
import type { LearnedRouter } from './router.js';

export interface QualityCost {
  quality: number;
  cost: number;
}

export interface CurvePoint extends QualityCost {
  lambda: number;
}

export interface EvalReport {
  n: number;
  best_single: { model: string } & QualityCost;
  oracle: QualityCost;
  random: QualityCost;
  router: {
    argmax: QualityCost;
    curve: CurvePoint[];
    cost_at_best_single_quality: number | null;
    quality_at_best_single_cost: number;
  };
}

/** Per-model mean quality and cost over the examples that score the model. */
export type ModelSummary = Record<string, QualityCost & { n: number }>;

/** 0, then log-spaced from 0.01 to 10^4: from "always the cheapest" to "always the best predicted". */
export const defaultLambdas: readonly number[] = [0, ...Array.from({ length: 31 }, (_, i) => Number((10 ** (-2 + i / 5)).toPrecision(3)))];

export function summarizeModels(examples: readonly RoutingExample[], prices: Record<string, ModelPrice>): ModelSummary {
  const out: ModelSummary = {};
  for (const e of examples) {
    for (const [model, q] of Object.entries(e.scores)) {
      const s = (out[model] ??= { quality: 0, cost: 0, n: 0 });
      s.quality += q;
      s.cost += choiceCost(e, model, prices);
      s.n += 1;
    }
  }
  for (const s of Object.values(out)) {
    s.quality /= s.n;
    s.cost /= s.n;
  }
  return out;
}

export function evaluate(router: LearnedRouter, examples: readonly RoutingExample[], prices: Record<string, ModelPrice>, lambdas: readonly number[] = defaultLambdas): EvalReport {
  return evaluatePredictions(router.models, (e) => router.predict(e.query), examples, prices, lambdas);
}

/**
 * The same report for any predicted qualities (per example, in `known` order): what a router that
 * predicted them would achieve through the willingness-to-pay policy (bounds, analyses).
 */
export function evaluatePredictions(known: readonly string[], predict: (e: RoutingExample, index: number) => ArrayLike<number>, examples: readonly RoutingExample[], prices: Record<string, ModelPrice>, lambdas: readonly number[] = defaultLambdas): EvalReport {
  if (examples.length === 0) throw new DataError('evaluation data is empty');
  scoredModels(examples, prices);
  // Per example: the candidate indices (known to the router and scored by the record), their
  // true quality and cost, and the router's predictions.
  const m = known.length;
  const truth = new Float64Array(examples.length * m).fill(NaN);
  const cost = new Float64Array(examples.length * m);
  const predicted = new Float64Array(examples.length * m);
  let oracleQ = 0;
  let oracleC = 0;
  let randomQ = 0;
  let randomC = 0;
  examples.forEach((e, r) => {
    let count = 0;
    let bestQ = -1;
    let bestC = Infinity;
    let sumQ = 0;
    let sumC = 0;
    known.forEach((model, k) => {
      const q = e.scores[model];
      if (q === undefined) return;
      const c = choiceCost(e, model, prices);
      truth[r * m + k] = q;
      cost[r * m + k] = c;
      count++;
      sumQ += q;
      sumC += c;
      if (q > bestQ || (q === bestQ && c < bestC)) {
        bestQ = q;
        bestC = c;
      }
    });
    if (count === 0) throw new DataError(`record ${r}: scores none of the router's models (${known.join(', ')})`);
    oracleQ += bestQ;
    oracleC += bestC;
    randomQ += sumQ / count;
    randomC += sumC / count;
    predicted.set(predict(e, r), r * m);
  });
  const n = examples.length;
  const summary = summarizeModels(examples, prices);
  let best: { model: string } & QualityCost = { model: '', quality: -1, cost: Infinity };
  for (const [model, s] of Object.entries(summary)) {
    if (s.n === n && (s.quality > best.quality || (s.quality === best.quality && s.cost < best.cost))) best = { model, quality: s.quality, cost: s.cost };
  }
  if (best.model === '') throw new DataError('no model is scored on every record, so there is no best single model to compare with');

  const choose = (score: (q: number, c: number) => number): QualityCost => {
    let totalQ = 0;
    let totalC = 0;
    for (let r = 0; r < n; r++) {
      let pick = -1;
      let pickScore = -Infinity;
      for (let k = 0; k < m; k++) {
        const i = r * m + k;
        if (Number.isNaN(truth[i]!)) continue;
        const s = score(predicted[i]!, cost[i]!);
        if (s > pickScore || (s === pickScore && cost[i]! < cost[r * m + pick]!)) {
          pick = k;
          pickScore = s;
        }
      }
      totalQ += truth[r * m + pick]!;
      totalC += cost[r * m + pick]!;
    }
    return { quality: totalQ / n, cost: totalC / n };
  };
  const argmax = choose((q) => q);
  const curve = lambdas.map((lambda) => ({ lambda, ...choose((q, c) => lambda * q - c) }));
  const reaching = curve.filter((p) => p.quality >= best.quality).map((p) => p.cost);
  const affordable = curve.filter((p) => p.cost <= best.cost).map((p) => p.quality);
  return {
    n,
    best_single: best,
    oracle: { quality: oracleQ / n, cost: oracleC / n },
    random: { quality: randomQ / n, cost: randomC / n },
    router: {
      argmax,
      curve,
      cost_at_best_single_quality: reaching.length > 0 ? Math.min(...reaching) : null,
      quality_at_best_single_cost: affordable.length > 0 ? Math.max(...affordable) : 0,
    },
  };
}
