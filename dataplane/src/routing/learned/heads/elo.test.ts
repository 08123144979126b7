import { describe, expect, it } from '@jest/globals';
import { seededRandom } from '../../../seeded-random.js';
import type { ModelPrice } from '../artifact.js';
import type { RoutingExample } from '../dataset.js';
import type { HashedFeaturizer } from '../featurizer.js';
import { LearnedRouter } from '../router.js';
import { EloHead, eloParams } from './elo.js';

const prices: Record<string, ModelPrice> = { strong: { input: 1, output: 1 }, middle: { input: 0.5, output: 0.5 }, weak: { input: 0.1, output: 0.1 } };
const logit = (p: number): number => Math.log(p / (1 - p));

/** Each model answers each query correctly (score 1) with its own probability, independently. */
function tournament(count: number, solveRate: Record<string, number>, seed: number): RoutingExample[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const scores: Record<string, number> = {};
    for (const [model, p] of Object.entries(solveRate)) scores[model] = random() < p ? 1 : 0;
    return { query: `question number ${i}`, scores };
  });
}

describe('elo head', () => {
  it('recovers the pairwise strengths behind the per-query scores (global ratings)', () => {
    // With independent solve rates p, P(i beats j | not a draw) = sigmoid(logit p_i - logit p_j).
    const rates = { strong: 0.8, middle: 0.5, weak: 0.2 };
    const router = LearnedRouter.train(tournament(3000, rates, 7), prices, { kind: 'elo', head: { conditioning: 'global', drawWeight: 0 } });
    const head = router.head as EloHead;
    const strength = new Float64Array(3);
    head.rate((router.featurizer as HashedFeaturizer).featurize('anything'), strength);
    const s = (m: string): number => strength[router.models.indexOf(m)]!;
    expect(Math.abs(s('strong') - s('middle') - (logit(0.8) - logit(0.5)))).toBeLessThan(0.2);
    expect(Math.abs(s('strong') - s('weak') - (logit(0.8) - logit(0.2)))).toBeLessThan(0.3);
    // Quality follows the ratings and lies on the score scale.
    const q = router.predict('anything');
    expect(q[router.models.indexOf('strong')]!).toBeGreaterThan(q[router.models.indexOf('middle')]!);
    expect(q[router.models.indexOf('middle')]!).toBeGreaterThan(q[router.models.indexOf('weak')]!);
    expect(q[router.models.indexOf('strong')]!).toBeCloseTo(0.8, 1);
  });

  it('conditions the ratings on the query: each model wins its own topic', () => {
    const examples: RoutingExample[] = [];
    const math = ['integral', 'derivative', 'equation', 'prime', 'fraction'];
    const code = ['python', 'function', 'compile', 'loop', 'array'];
    for (let i = 0; i < 400; i++) {
      const isMath = i % 2 === 0;
      const w = isMath ? math : code;
      examples.push({ query: `please ${w[i % 5]} the ${w[(i * 3 + 1) % 5]} question ${i}`, scores: isMath ? { strong: 1, middle: 0, weak: 0 } : { strong: 0, middle: 1, weak: 0 } });
    }
    const router = LearnedRouter.train(examples, prices, { kind: 'elo' });
    const k = (m: string): number => router.models.indexOf(m);
    const onMath = router.predict('please solve the integral equation');
    const onCode = router.predict('please compile the python function');
    expect(onMath[k('strong')]!).toBeGreaterThan(onMath[k('middle')]!);
    expect(onCode[k('middle')]!).toBeGreaterThan(onCode[k('strong')]!);
    expect(router.route('please compile the python function', { policy: { rule: 'willingness-to-pay', lambda: 100 } }).model).toBe('middle');
  });

  it('predicts the same after a save and load through the artifact', () => {
    for (const conditioning of ['features', 'global']) {
      const router = LearnedRouter.train(tournament(300, { strong: 0.7, middle: 0.5, weak: 0.3 }, 3), prices, { kind: 'elo', head: { conditioning, iterations: 40 }, seed: 5 });
      const { bytes, digest } = router.encode();
      const { router: loaded, digest: again } = LearnedRouter.load(bytes);
      expect(again).toBe(digest);
      expect(loaded.kind).toBe('elo');
      const before = Array.from(router.predict('question number 12'));
      Array.from(loaded.predict('question number 12')).forEach((q, i) => expect(q).toBeCloseTo(before[i]!, 6));
      expect(LearnedRouter.train(tournament(300, { strong: 0.7, middle: 0.5, weak: 0.3 }, 3), prices, { kind: 'elo', head: { conditioning, iterations: 40 }, seed: 5 }).encode().digest).toBe(digest);
    }
  });

  it('rejects bad parameters naming the parameter', () => {
    expect(() => eloParams({ conditioning: 'clusters' })).toThrow('head parameter conditioning: got "clusters"; expected "features" or "global"');
    expect(() => eloParams({ drawWeight: 2 })).toThrow('head parameter drawWeight: got 2; expected a number from 0 to 1');
    expect(() => eloParams({ iterations: 0 })).toThrow('head parameter iterations: got 0; expected an integer >= 1');
  });
});
