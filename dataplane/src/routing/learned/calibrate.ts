// The willingness to pay a router ships with: the cheapest lambda whose decisions reach the best
// single model's quality on held-out predictions inside the training data (inner k-fold CV), so
// it is never tuned on the queries the router is judged on.
import type { LambdaCalibration, ModelPrice } from './artifact.js';
import { foldAssignment } from './crossval.js';
import type { RoutingExample } from './dataset.js';
import { evaluatePredictions } from './evaluate.js';
import { LearnedRouter, type TrainOptions } from './router.js';

/** 0, then 20 per decade from 0.01 to 10^4: finer than eval's curve, since lambda is the product. */
export const calibrationLambdas: readonly number[] = [0, ...Array.from({ length: 121 }, (_, i) => Number((10 ** (-2 + i / 20)).toPrecision(3)))];

/**
 * Trains `folds` routers on the rest of `examples`, predicts each held-out part, and picks the
 * cheapest lambda (on `calibrationLambdas`) whose decisions reach the best single model's quality
 * on those predictions; when none does, the lambda of the highest quality.
 */
export function calibrateLambda(examples: readonly RoutingExample[], prices: Record<string, ModelPrice>, options: TrainOptions, folds = 4, seed = 1): LambdaCalibration {
  const fold = foldAssignment(examples.length, folds, seed);
  const predicted: Float64Array[] = new Array<Float64Array>(examples.length);
  let models: readonly string[] = [];
  for (let f = 0; f < folds; f++) {
    const router = LearnedRouter.train(
      examples.filter((_, i) => fold[i] !== f),
      prices,
      options,
    );
    models = router.models;
    examples.forEach((e, i) => {
      if (fold[i] === f) predicted[i] = router.predict(e.query);
    });
  }
  const report = evaluatePredictions(models, (_, i) => predicted[i]!, examples, prices, calibrationLambdas);
  const curve = report.router.curve;
  const reaching = curve.filter((p) => p.quality >= report.best_single.quality);
  const chosen = reaching.length > 0 ? reaching.reduce((a, b) => (b.cost < a.cost ? b : a)) : curve.reduce((a, b) => (b.quality > a.quality ? b : a));
  return { lambda: chosen.lambda, target: 'best-single', folds, quality: chosen.quality, cost: chosen.cost, bestSingle: report.best_single };
}
