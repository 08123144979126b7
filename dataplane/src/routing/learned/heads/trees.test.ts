import { describe, expect, it } from '@jest/globals';
import { seededRandom } from '../../../seeded-random.js';
import { encodeArtifact, type ModelPrice } from '../artifact.js';
import type { RoutingExample } from '../dataset.js';
import { evaluate } from '../evaluate.js';
import type { SyncFeaturizer } from '../featurizer.js';
import { LearnedRouter } from '../router.js';
import { treesParams } from './trees.js';

const prices: Record<string, ModelPrice> = { large: { input: 1, output: 1 }, small: { input: 0.1, output: 0.1 } };

/**
 * Word problems on one topic, so the words say nothing: the small model solves the ones with
 * few numbers better than the large one, the others rarely. Only the query's shape tells them apart.
 */
function problems(count: number, seed: number): RoutingExample[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const numbers = 1 + Math.floor(random() * 8);
    const values = Array.from({ length: numbers }, () => String(Math.floor(random() * 1000)));
    const query = `A shop sells apples. ${values.map((v) => `It buys ${v} more.`).join(' ')} How many apples does it have?`;
    const smallSolves = random() < (numbers <= 3 ? 0.97 : 0.1);
    return { query, scores: { large: random() < 0.85 ? 1 : 0, small: smallSolves ? 1 : 0 } };
  });
}

const fast = { bag: 2, learningRate: 0.1, maxRounds: 300, patience: 20 };

describe('gbdt head', () => {
  const router = LearnedRouter.train(problems(1500, 1), prices, { kind: 'gbdt', head: fast });
  const k = (m: string): number => router.models.indexOf(m);

  it('tells the problems the small model solves from the ones it does not by their shape', () => {
    const easy = router.predict('A shop sells apples. It buys 12 more. It buys 40 more. How many apples does it have?');
    const hard = router.predict(`A shop sells apples. ${'It buys 7 more. '.repeat(7)}How many apples does it have?`);
    expect(easy[k('small')]!).toBeGreaterThan(0.75);
    expect(hard[k('small')]!).toBeLessThan(0.25);
    expect(easy[k('large')]!).toBeGreaterThan(0.7);
    expect(router.route('A shop sells apples. It buys 12 more. How many apples does it have?', { policy: { rule: 'willingness-to-pay', lambda: 5 } }).model).toBe('small');
    expect(router.route(`A shop sells apples. ${'It buys 7 more. '.repeat(6)}How many?`, { policy: { rule: 'willingness-to-pay', lambda: 5 } }).model).toBe('large');
  });

  it('matches the large model on held-out problems for a fraction of its cost', () => {
    const report = evaluate(router, problems(600, 2), prices);
    expect(report.router.cost_at_best_single_quality).not.toBeNull();
    // Sending the few-number problems (3 in 8) to the small model costs 0.66 of the large one's price.
    expect(report.router.cost_at_best_single_quality!).toBeLessThan(0.75 * report.best_single.cost);
    expect(report.router.argmax.quality).toBeGreaterThan(report.best_single.quality + 0.02);
  });

  it('predicts exactly the same after a save and load, and the same seed gives the same artifact', () => {
    const { bytes, digest } = router.encode();
    const { router: loaded } = LearnedRouter.load(bytes);
    expect(loaded.kind).toBe('gbdt');
    for (const q of ['A shop sells apples. It buys 3 more.', '', 'x'.repeat(5000)]) expect(Array.from(loaded.predict(q))).toEqual(Array.from(router.predict(q)));
    expect(LearnedRouter.train(problems(1500, 1), prices, { kind: 'gbdt', head: fast }).encode().digest).toBe(digest);
  });

  it('rejects an artifact whose trees point outside themselves or whose features it does not know', () => {
    const header = { kind: 'gbdt', featurizer: router.featurizer.record(), models: [...router.models], prices, head: { params: router.head.params() }, training: router.training };
    const tensors = [...(router.featurizer.sync ? router.featurizer.tensors() : []), ...router.head.tensors()];
    const broken = tensors.map((t) => (t.name === 'gbdt.nodes' ? { ...t, data: Int32Array.from(t.data as Int32Array, (v, i) => (i === 1 ? 0 : v)) } : t));
    expect(() => LearnedRouter.load(encodeArtifact(header, broken).bytes)).toThrow('router artifact gbdt node 0 is malformed');
    const unknown = { ...header, head: { params: { ...header.head.params, features: 'shape-0' } } };
    expect(() => LearnedRouter.load(encodeArtifact(unknown, tensors).bytes)).toThrow('router artifact gbdt features "shape-0" are not supported by this build (supported: shape-1)');
  });

  it('is routed without featurizing the query, which it does not read; a blend with kNN featurizes once', () => {
    let calls = 0;
    const counted = (r: LearnedRouter): LearnedRouter => {
      const featurizer = r.featurizer as SyncFeaturizer;
      const counting = Object.create(featurizer, { featurize: { value: (q: string) => (calls++, featurizer.featurize(q)) } }) as SyncFeaturizer;
      return new LearnedRouter(counting, r.head, r.models, { ...r.prices }, r.training);
    };
    const decision = counted(router).route('A shop sells apples. It buys 12 more.');
    expect(calls).toBe(0);
    expect(decision.model).toBe(router.route('A shop sells apples. It buys 12 more.').model);
    const blend = LearnedRouter.train(problems(300, 3), prices, { kind: 'blend', head: { members: ['knn', { kind: 'gbdt', params: fast }] } });
    counted(blend).route('A shop sells apples. It buys 12 more.');
    expect(calls).toBe(1);
  });

  it('rejects bad parameters naming the parameter', () => {
    expect(() => treesParams({ leaves: 1 })).toThrow('head parameter leaves: got 1; expected an integer from 2 to 255');
    expect(() => treesParams({ learningRate: 0 })).toThrow('head parameter learningRate: got 0; expected a number in (0, 1]');
    expect(() => treesParams({ bag: 0 })).toThrow('head parameter bag: got 0; expected an integer from 1 to 64');
    expect(() => treesParams({ validation: 1 })).toThrow('head parameter validation: got 1; expected a number in (0, 1)');
  });
});
