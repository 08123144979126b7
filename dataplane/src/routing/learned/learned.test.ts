import { describe, expect, it } from '@jest/globals';
import type { ModelPrice } from './artifact.js';
import { crossValidate, foldAssignment, meanSpread } from './crossval.js';
import { DataError, parseExamples, parseModels, type RoutingExample } from './dataset.js';
import { evaluate, evaluatePredictions } from './evaluate.js';
import { LearnedRouter } from './router.js';
// A small routing problem with a known answer: "mathy" excels at arithmetic, "coder" at code,
// and "cheap" is mediocre at both but costs a tenth as much.

const mathWords = ['integral', 'derivative', 'equation', 'sum', 'prime', 'fraction', 'algebra', 'triangle', 'solve', 'polynomial'];
const codeWords = ['python', 'function', 'compile', 'javascript', 'loop', 'array', 'recursion', 'debug', 'variable', 'class'];

const syntheticPrices: Record<string, ModelPrice> = {
  mathy: { input: 1, output: 1 },
  coder: { input: 1, output: 1 },
  cheap: { input: 0.1, output: 0.1 },
};

function syntheticExamples(count: number): RoutingExample[] {
  const out: RoutingExample[] = [];
  for (let i = 0; i < count; i++) {
    const math = i % 2 === 0;
    const words = math ? mathWords : codeWords;
    const query = `please ${words[i % 10]} the ${words[(i * 7 + 3) % 10]} and ${words[(i * 3 + 1) % 10]} question ${i}`;
    out.push({ query, scores: math ? { mathy: 1, coder: 0, cheap: 0.5 } : { mathy: 0, coder: 1, cheap: 0.5 } });
  }
  return out;
}

const mathQuery = 'please solve the integral and the polynomial equation';
const codeQuery = 'please debug the python function with a loop over an array';

describe.each(['knn', 'linear', 'mlp', 'mf'])('%s head', (kind) => {
  const router = LearnedRouter.train(syntheticExamples(200), syntheticPrices, { kind });

  it('predicts the model that is good at the topic of an unseen query', () => {
    const math = router.predict(mathQuery);
    const code = router.predict(codeQuery);
    const k = (m: string): number => router.models.indexOf(m);
    expect(math[k('mathy')]!).toBeGreaterThan(0.7);
    expect(math[k('coder')]!).toBeLessThan(0.3);
    expect(code[k('coder')]!).toBeGreaterThan(0.7);
    expect(code[k('mathy')]!).toBeLessThan(0.3);
    for (const q of [...math, ...code]) {
      expect(q).toBeGreaterThanOrEqual(0);
      expect(q).toBeLessThanOrEqual(1);
    }
  });

  it('routes by topic when quality is worth the price and to the cheap model when it is not', () => {
    expect(router.route(mathQuery, { policy: { rule: 'willingness-to-pay', lambda: 100 } }).model).toBe('mathy');
    expect(router.route(codeQuery, { policy: { rule: 'willingness-to-pay', lambda: 100 } }).model).toBe('coder');
    expect(router.route(codeQuery, { policy: { rule: 'willingness-to-pay', lambda: 0.1 } }).model).toBe('cheap');
    expect(router.route(codeQuery, { policy: { rule: 'willingness-to-pay', lambda: 100 }, unavailable: new Map([['coder', 'cooling down']]) }).model).not.toBe('coder');
  });

  it('predicts the same after a save and load through the artifact', () => {
    const { bytes, digest } = router.encode();
    const { router: loaded, digest: loadedDigest } = LearnedRouter.load(bytes);
    expect(loadedDigest).toBe(digest);
    expect(loaded.kind).toBe(kind);
    expect(loaded.models).toEqual(router.models);
    const before = Array.from(router.predict(codeQuery));
    const after = Array.from(loaded.predict(codeQuery));
    after.forEach((q, i) => expect(q).toBeCloseTo(before[i]!, 5));
  });

  it('beats the best single model on held-out queries, near the oracle', () => {
    const report = evaluate(router, syntheticExamples(260).slice(200), syntheticPrices);
    expect(report.best_single.quality).toBeCloseTo(0.5);
    expect(report.oracle.quality).toBe(1);
    expect(report.router.argmax.quality).toBeGreaterThan(0.95);
  });
});

describe('training', () => {
  it('rejects a model in the scores that the models file does not price, naming both', () => {
    const examples: RoutingExample[] = [{ query: 'q', scores: { mathy: 1, ghost: 0 } }];
    expect(() => LearnedRouter.train(examples, syntheticPrices, { kind: 'knn' })).toThrow(/record 0: scores names the model "ghost", which the models file does not list/);
  });

  it('rejects empty data and an unknown head kind', () => {
    expect(() => LearnedRouter.train([], syntheticPrices, { kind: 'knn' })).toThrow(/empty/);
    expect(() => LearnedRouter.train(syntheticExamples(4), syntheticPrices, { kind: 'oracle' })).toThrow(/--kind: got "oracle"; expected one of knn, linear, mlp, mf/);
  });

  it('trains the same neural head from the same seed and a different one from another', () => {
    const a = LearnedRouter.train(syntheticExamples(40), syntheticPrices, { kind: 'mlp', seed: 5 }).predict(mathQuery);
    const b = LearnedRouter.train(syntheticExamples(40), syntheticPrices, { kind: 'mlp', seed: 5 }).predict(mathQuery);
    const c = LearnedRouter.train(syntheticExamples(40), syntheticPrices, { kind: 'mlp', seed: 6 }).predict(mathQuery);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('predicts with the int8 first layer by default for mlp (recorded in the artifact), exactly the same after a load', () => {
    const router = LearnedRouter.train(syntheticExamples(40), syntheticPrices, { kind: 'mlp', seed: 5 });
    const { router: loaded } = LearnedRouter.load(router.encode().bytes);
    expect(loaded.head.params()).toMatchObject({ int8: true });
    expect(Array.from(loaded.predict(mathQuery))).toEqual(Array.from(router.predict(mathQuery)));
    const exact = LearnedRouter.train(syntheticExamples(40), syntheticPrices, { kind: 'mlp', seed: 5, head: { int8: false } });
    expect(Array.from(exact.predict(mathQuery))).not.toEqual(Array.from(router.predict(mathQuery)));
    expect(() => LearnedRouter.train(syntheticExamples(4), syntheticPrices, { kind: 'mlp', head: { int8: 'yes' } })).toThrow('head parameter int8: got "yes"; expected true or false');
  });

  it('records the training set size and seed in the artifact', () => {
    const { router } = LearnedRouter.load(LearnedRouter.train(syntheticExamples(10), syntheticPrices, { kind: 'knn', seed: 42 }).encode().bytes);
    expect(router.training).toEqual({ n: 10, seed: 42, folds: 0 });
  });
});

describe('data parsing', () => {
  it('reads a JSON array or JSONL, with "question" or "query"', () => {
    expect(parseExamples('[{"question":"a","scores":{"m":1}}]')).toEqual([{ query: 'a', scores: { m: 1 } }]);
    expect(parseExamples('{"query":"a","scores":{"m":0.5},"cost":{"m":0.01}}\n\n{"query":"b","scores":{"m":0}}\n')).toHaveLength(2);
  });

  it('names the record and field of bad input', () => {
    expect(() => parseExamples('', 'train.json')).toThrow(/train.json: empty/);
    expect(() => parseExamples('[]')).toThrow(/holds no records/);
    expect(() => parseExamples('[{"question":"a","scores":{"m":1.5}}]')).toThrow(/record 0: scores.m: got 1.5; expected a number from 0 to 1/);
    expect(() => parseExamples('{"question":"a","scores":{"m":1}}\n{oops')).toThrow(/line 2 is not valid JSON/);
    expect(() => parseExamples('[{"scores":{"m":1}}]')).toThrow(DataError);
    expect(() => parseModels('{"m":{"input_price":1}}')).toThrow(/m.output_price: got undefined/);
  });
});

describe('evaluation', () => {
  const prices: Record<string, ModelPrice> = { a: { input: 1, output: 1 }, b: { input: 0.1, output: 0.1 } };
  const examples: RoutingExample[] = [
    { query: 'x one', scores: { a: 1, b: 0 } },
    { query: 'y two', scores: { a: 1, b: 0.5 } },
    { query: 'z three', scores: { a: 0, b: 1 }, cost: { a: 5, b: 0.5 } },
  ];

  it('evaluates any predicted qualities: the true scores trade cost for quality over lambda, constant ones never reach the best single', () => {
    // mathy is the best single model (0.6 at cost 2); the true scores make mathy worth it on the
    // first query from lambda 3 and coder on the second only from lambda 9.
    const examples: RoutingExample[] = [
      { query: 'a', scores: { mathy: 1, coder: 0, cheap: 0.4 } },
      { query: 'b', scores: { mathy: 0.2, coder: 0.6, cheap: 0.4 } },
    ];
    const models = ['mathy', 'coder', 'cheap'];
    const truth = evaluatePredictions(models, (e) => models.map((m) => e.scores[m]!), examples, syntheticPrices);
    expect(truth.best_single).toEqual({ model: 'mathy', quality: 0.6, cost: 2 });
    expect(truth.router.argmax).toEqual(truth.oracle);
    expect(truth.router.cost_at_best_single_quality).toBeCloseTo(1.1);
    const constant = evaluatePredictions(models, () => [0.5, 0.4, 0.5], examples, syntheticPrices);
    expect(constant.router.argmax).toEqual({ quality: 0.4, cost: 0.2 });
    expect(constant.router.cost_at_best_single_quality).toBeNull();
  });

  it('computes best single, oracle and random from the records, using a record cost when present', () => {
    const router = LearnedRouter.train(examples, prices, { kind: 'knn' });
    const report = evaluate(router, examples, prices);
    expect(report.n).toBe(3);
    expect(report.best_single.model).toBe('a');
    expect(report.best_single.quality).toBeCloseTo(2 / 3);
    expect(report.best_single.cost).toBeCloseTo((2 + 2 + 5) / 3);
    expect(report.oracle).toEqual({ quality: 1, cost: expect.closeTo((2 + 2 + 0.5) / 3) });
    expect(report.random.quality).toBeCloseTo((0.5 + 0.75 + 0.5) / 3);
    expect(report.router.curve[0]!.lambda).toBe(0);
    expect(report.router.curve[0]!.cost).toBeCloseTo((0.2 + 0.2 + 0.5) / 3);
    expect(Object.keys(report.router).sort()).toEqual(['argmax', 'cost_at_best_single_quality', 'curve', 'quality_at_best_single_cost']);
  });
});

describe('cross-validation', () => {
  it('assigns every example to exactly one fold, balanced and reproducible from the seed', () => {
    const a = foldAssignment(103, 5, 9);
    expect(Array.from(a)).toEqual(Array.from(foldAssignment(103, 5, 9)));
    const sizes = [0, 1, 2, 3, 4].map((f) => a.filter((x) => x === f).length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    expect(Array.from(a)).not.toEqual(Array.from(foldAssignment(103, 5, 10)));
  });

  it('reports mean and spread across folds', () => {
    expect(meanSpread([1, 2, 3])).toEqual({ mean: 2, std: 1 });
    const cv = crossValidate(syntheticExamples(100), syntheticPrices, { kind: 'knn' }, 4, 1);
    expect(cv.folds).toHaveLength(4);
    expect(cv.gain.mean).toBeGreaterThan(0.3);
  });
});
