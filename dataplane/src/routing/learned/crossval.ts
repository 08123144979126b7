// k-fold cross-validation: the honest estimate of how a router does on queries it has not seen.
import type { ModelPrice } from './artifact.js';
import type { RoutingExample } from './dataset.js';
import { calibrateLambda } from './calibrate.js';
import { evaluate, type EvalReport, type QualityCost } from './evaluate.js';
import { seededRandom } from '../../seeded-random.js';
import { LearnedRouter, type TrainOptions } from './router.js';

/** Fold index per example: a seeded shuffle dealt round-robin into `folds` folds. */
export function foldAssignment(n: number, folds: number, seed: number): Int32Array {
  const order = Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const fold = new Int32Array(n);
  order.forEach((example, rank) => (fold[example] = rank % folds));
  return fold;
}

export interface MeanSpread {
  mean: number;
  /** Sample standard deviation across folds. */
  std: number;
}

export function meanSpread(values: readonly number[]): MeanSpread {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.length > 1 ? values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1) : 0;
  return { mean, std: Math.sqrt(variance) };
}

export interface CrossValidation {
  folds: EvalReport[];
  argmaxQuality: MeanSpread;
  bestSingleQuality: MeanSpread;
  /** Router argmax quality minus the best single model's, per fold. */
  gain: MeanSpread;
  /** Cheapest curve cost reaching the best single model's quality, as a fraction of its cost (folds where it is reached). */
  costRatioAtBestQuality: MeanSpread & { reachedIn: number };
  /**
   * With `calibrate`: per fold, the router at the lambda calibrated inside that fold's training part
   * (never on the held-out queries), and across folds its gain over the best single model and its
   * cost as a fraction of the best single's.
   */
  calibrated?: { folds: ({ lambda: number } & QualityCost)[]; gain: MeanSpread; costRatio: MeanSpread };
}

export function crossValidate(examples: readonly RoutingExample[], prices: Record<string, ModelPrice>, options: TrainOptions, folds = 5, seed = 1, calibrate = false): CrossValidation {
  const fold = foldAssignment(examples.length, folds, seed);
  const reports: EvalReport[] = [];
  const calibrated: ({ lambda: number } & QualityCost)[] = [];
  for (let f = 0; f < folds; f++) {
    const train = examples.filter((_, i) => fold[i] !== f);
    const test = examples.filter((_, i) => fold[i] === f);
    const calibration = calibrate ? calibrateLambda(train, prices, options, 4, seed) : undefined;
    const router = LearnedRouter.train(train, prices, { ...options, folds, ...(calibration === undefined ? {} : { calibration }) });
    reports.push(evaluate(router, test, prices));
    if (calibration !== undefined) calibrated.push(evaluate(router, test, prices, [calibration.lambda]).router.curve[0]!);
  }
  const ratios = reports.flatMap((r) => (r.router.cost_at_best_single_quality === null ? [] : [r.router.cost_at_best_single_quality / r.best_single.cost]));
  return {
    folds: reports,
    argmaxQuality: meanSpread(reports.map((r) => r.router.argmax.quality)),
    bestSingleQuality: meanSpread(reports.map((r) => r.best_single.quality)),
    gain: meanSpread(reports.map((r) => r.router.argmax.quality - r.best_single.quality)),
    costRatioAtBestQuality: { ...(ratios.length > 0 ? meanSpread(ratios) : { mean: NaN, std: NaN }), reachedIn: ratios.length },
    ...(calibrate
      ? {
          calibrated: {
            folds: calibrated,
            gain: meanSpread(calibrated.map((c, f) => c.quality - reports[f]!.best_single.quality)),
            costRatio: meanSpread(calibrated.map((c, f) => c.cost / reports[f]!.best_single.cost)),
          },
        }
      : {}),
  };
}
