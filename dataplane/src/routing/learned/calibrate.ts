// The willingness to pay a router ships with: the cheapest lambda whose decisions reach the best
// single model's quality on held-out predictions inside the training data (inner k-fold CV), so
// it is never tuned on the queries the router is judged on.
import type { LambdaCalibration, ModelPrice } from './artifact.js';
import { foldAssignment } from './crossval.js';
import { scoredModels, type RoutingExample } from './dataset.js';
import { evaluatePredictions } from './evaluate.js';
import { LearnedRouter, type TrainOptions } from './router.js';

/** 0, then 20 per decade from 0.01 to 10^4: finer than eval's curve, since lambda is the product. */
export const calibrationLambdas: readonly number[] = [0, ...Array.from({ length: 121 }, (_, i) => Number((10 ** (-2 + i / 20)).toPrecision(3)))];

/**
 * Trains `folds` routers on the rest of `examples`, predicts each held-out part, and picks the
 * smallest lambda (on `calibrationLambdas`) from which on every larger one's decisions reach the
 * best single model's quality on those predictions (the first crossing alone is often a lucky
 * dip of a flat curve); when none does, the lambda of the highest quality.
 */
export function calibrateLambda(examples: readonly RoutingExample[], prices: Record<string, ModelPrice>, options: TrainOptions, folds = 4, seed = 1): LambdaCalibration {
  const fold = foldAssignment(examples.length, folds, seed);
  const models = scoredModels(examples, prices);
  const predicted: Float64Array[] = new Array<Float64Array>(examples.length);
  for (let f = 0; f < folds; f++) {
    const router = LearnedRouter.train(
      examples.filter((_, i) => fold[i] !== f),
      prices,
      options,
    );
    // Each router lists models in the order its training part first scores them: align to `models`.
    const at = models.map((m) => router.models.indexOf(m));
    examples.forEach((e, i) => {
      if (fold[i] !== f) return;
      const p = router.predict(e.query);
      predicted[i] = Float64Array.from(at, (k) => (k < 0 ? 0 : p[k]!));
    });
  }
  const report = evaluatePredictions(models, (_, i) => predicted[i]!, examples, prices, calibrationLambdas);
  const curve = report.router.curve;
  let from = curve.length;
  while (from > 0 && curve[from - 1]!.quality >= report.best_single.quality) from--;
  const chosen = from < curve.length ? curve[from]! : curve.reduce((a, b) => (b.quality > a.quality ? b : a));
  return { lambda: chosen.lambda, target: 'best-single', folds, quality: chosen.quality, cost: chosen.cost, bestSingle: report.best_single };
}
