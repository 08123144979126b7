import { describe, expect, it } from '@jest/globals';
import { ArtifactError, type ModelPrice } from './artifact.js';
import { calibrateLambda } from './calibrate.js';
import { crossValidate } from './crossval.js';
import type { RoutingExample } from './dataset.js';
import { defaultLambda, LearnedRouter } from './router.js';

// Hard maths only "mathy" solves, hard code only "coder", easy questions everyone; the big models
// cost ten times the cheap one. The best single model (0.67 at cost 2) is reached by sending hard
// questions to their expert and easy ones to "cheap" (quality 1 at cost 1.4), which pays from a
// lambda of about 1.8 (a unit of quality against the 1.8 price gap) and not below.
const prices: Record<string, ModelPrice> = { mathy: { input: 1, output: 1 }, coder: { input: 1, output: 1 }, cheap: { input: 0.1, output: 0.1 } };
const words = { math: ['integral', 'derivative', 'polynomial', 'theorem'], code: ['python', 'compile', 'recursion', 'array'], easy: ['capital', 'colour', 'weekday', 'greeting'] };

function examples(count: number): RoutingExample[] {
  return Array.from({ length: count }, (_, i) => {
    const kind = (['math', 'code', 'easy'] as const)[i % 3]!;
    const w = words[kind];
    const query = `${w[i % 4]} and ${w[(i * 3 + 1) % 4]} question number ${i}`;
    const scores = kind === 'math' ? { mathy: 1, coder: 0, cheap: 0 } : kind === 'code' ? { mathy: 0, coder: 1, cheap: 0 } : { mathy: 1, coder: 1, cheap: 1 };
    return { query, scores };
  });
}

describe('lambda calibration', () => {
  const data = examples(240);
  const calibration = calibrateLambda(data, prices, { kind: 'knn' }, 4, 1);

  it('picks the cheapest lambda whose held-out decisions reach the best single model, not tuned on the data it is judged on', () => {
    expect(calibration.bestSingle.quality).toBeCloseTo(2 / 3);
    expect(calibration.bestSingle.cost).toBe(2);
    expect(calibration.lambda).toBeGreaterThan(1.5);
    expect(calibration.lambda).toBeLessThan(5);
    expect(calibration.quality).toBeGreaterThanOrEqual(calibration.bestSingle.quality);
    expect(calibration.cost).toBeLessThan(1.6);
    expect(calibration).toMatchObject({ target: 'best-single', folds: 4 });
  });

  it('becomes the router’s default policy, kept through the artifact; without it the default is lambda 10', () => {
    const router = LearnedRouter.train(data, prices, { kind: 'knn', calibration });
    expect(router.defaultPolicy).toEqual({ rule: 'willingness-to-pay', lambda: calibration.lambda });
    const { router: loaded } = LearnedRouter.load(router.encode().bytes);
    expect(loaded.training.calibration).toEqual(calibration);
    expect(loaded.route('python recursion question').model).toBe('coder');
    expect(loaded.route('capital colour question').model).toBe('cheap');
    expect(LearnedRouter.train(data, prices, { kind: 'knn' }).defaultPolicy).toEqual({ rule: 'willingness-to-pay', lambda: defaultLambda });
  });

  it('does not depend on the order in which records list their scores (inner routers list models as first seen)', () => {
    const reordered = data.map((e, i) => ({ query: e.query, scores: Object.fromEntries(i % 2 === 0 ? Object.entries(e.scores) : Object.entries(e.scores).reverse()) }));
    // Fold 0's training part starts with a reversed record, fold 1's with one in order.
    expect(Object.keys(reordered[0]!.scores)).not.toEqual(Object.keys(reordered[1]!.scores));
    expect(calibrateLambda(reordered, prices, { kind: 'knn' }, 4, 1)).toEqual(calibration);
  });

  it('takes the highest-quality lambda when no lambda reaches the best single model', () => {
    // Scores that the text cannot predict: every query is the same words.
    const noise = data.map((e, i) => ({ query: 'the same words every time', scores: i % 2 === 0 ? { mathy: 1, coder: 0, cheap: 0 } : { mathy: 0, coder: 1, cheap: 0.2 } }));
    const c = calibrateLambda(noise, prices, { kind: 'knn' }, 4, 1);
    expect(c.quality).toBeLessThan(c.bestSingle.quality);
    expect(c.lambda).toBeGreaterThan(0);
  });

  it('rejects an artifact whose calibrated lambda is not a number >= 0, naming the field', () => {
    const router = LearnedRouter.train(data, prices, { kind: 'knn', calibration: { ...calibration, lambda: -1 } });
    expect(() => LearnedRouter.load(router.encode().bytes)).toThrow(ArtifactError);
    expect(() => LearnedRouter.load(router.encode().bytes)).toThrow('training.calibration.lambda: got -1; expected a number >= 0');
  });

  it('cross-validates the calibrated router on folds it never saw, per fold and across them', () => {
    const cv = crossValidate(data, prices, { kind: 'knn' }, 3, 1, true);
    expect(cv.calibrated?.folds).toHaveLength(3);
    for (const [f, point] of cv.calibrated!.folds.entries()) {
      expect(point.lambda).toBeGreaterThan(1.5);
      expect(point.quality).toBeGreaterThanOrEqual(cv.folds[f]!.best_single.quality);
    }
    expect(cv.calibrated!.costRatio.mean).toBeLessThan(0.8);
    expect(crossValidate(data, prices, { kind: 'knn' }, 3, 1).calibrated).toBeUndefined();
  });
});
