import { describe, expect, it } from '@jest/globals';
import type { ModelPrice } from '../artifact.js';
import type { RoutingExample } from '../dataset.js';
import { headKinds, LearnedRouter } from '../router.js';
import { blendMembers } from './blend.js';

const prices: Record<string, ModelPrice> = { mathy: { input: 1, output: 1 }, coder: { input: 1, output: 1 }, cheap: { input: 0.1, output: 0.1 } };
const math = ['integral', 'derivative', 'equation', 'prime', 'fraction'];
const code = ['python', 'function', 'compile', 'loop', 'array'];

function examples(): RoutingExample[] {
  return Array.from({ length: 200 }, (_, i) => {
    const isMath = i % 2 === 0;
    const w = isMath ? math : code;
    return { query: `please ${w[i % 5]} the ${w[(i * 3 + 1) % 5]} question ${i}`, scores: isMath ? { mathy: 1, coder: 0, cheap: 0.5 } : { mathy: 0, coder: 1, cheap: 0.5 } };
  });
}

describe('blend head', () => {
  const data = examples();
  const blend = LearnedRouter.train(data, prices, { kind: 'blend', head: { members: ['knn', 'linear', { kind: 'rules', params: { minSupport: 5 } }] } });

  it('predicts the mean of its members, each trained on the same data', () => {
    const members = ['knn', 'linear', 'rules'].map((kind) => LearnedRouter.train(data, prices, { kind, ...(kind === 'rules' ? { head: { minSupport: 5 } } : {}) }));
    const query = 'please solve the integral equation';
    const mean = members.map((r) => r.predict(query)).reduce((acc, p) => acc.map((v, k) => v + p[k]! / members.length), new Float64Array(3));
    Array.from(blend.predict(query)).forEach((q, k) => expect(q).toBeCloseTo(mean[k]!, 9));
    expect(blend.route(query, { policy: { rule: 'willingness-to-pay', lambda: 100 } }).model).toBe('mathy');
  });

  it('predicts the same after a save and load through the artifact', () => {
    const { bytes, digest } = blend.encode();
    const { router: loaded, digest: again } = LearnedRouter.load(bytes);
    expect(again).toBe(digest);
    expect(loaded.kind).toBe('blend');
    for (const q of ['please compile the python loop', 'hello there']) {
      const before = Array.from(blend.predict(q));
      Array.from(loaded.predict(q)).forEach((v, k) => expect(v).toBeCloseTo(before[k]!, 6));
    }
  });

  it('rejects unknown, nested and repeated members naming the member', () => {
    expect(() => blendMembers({ members: ['knn', 'svm'] }, headKinds)).toThrow('head parameter members[1]: got "svm"; expected one of');
    expect(() => blendMembers({ members: ['blend'] }, headKinds)).toThrow('head parameter members[0]: got "blend"');
    expect(() => blendMembers({ members: ['knn', 'knn'] }, headKinds)).toThrow('head parameter members[1]: "knn" is already a member');
    expect(() => blendMembers({ members: [] }, headKinds)).toThrow('head parameter members: got []; expected a non-empty list of head kinds');
  });
});
