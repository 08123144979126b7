import { describe, expect, it } from '@jest/globals';
import { seededRandom } from '../../seeded-random.js';
import { decide, NoCandidateError, type CandidateEstimate, type DecisionPolicy } from './policy.js';

const candidates: CandidateEstimate[] = [
  { model: 'big', quality: 0.9, cost: 2 },
  { model: 'mid', quality: 0.8, cost: 0.6 },
  { model: 'small', quality: 0.5, cost: 0.2 },
];

describe('decision policy', () => {
  it('picks the cheapest model when quality is worth nothing and the best when it is worth a lot', () => {
    expect(decide(candidates, { rule: 'willingness-to-pay', lambda: 0 }).model).toBe('small');
    expect(decide(candidates, { rule: 'willingness-to-pay', lambda: 1000 }).model).toBe('big');
  });

  it('maximises lambda * quality - cost in between', () => {
    // lambda 5: big 2.5, mid 3.4, small 2.3
    const d = decide(candidates, { rule: 'willingness-to-pay', lambda: 5 });
    expect(d.model).toBe('mid');
    expect(d.top.map((c) => c.model)).toEqual(['mid', 'big', 'small']);
    expect(d.top[0]!.score).toBeCloseTo(3.4);
    expect(d.rule).toBe('willingness-to-pay lambda=5');
    expect(d.reason).toMatch(/^mid: highest lambda\*quality - cost/);
  });

  it('under a threshold picks the cheapest candidate that reaches it', () => {
    expect(decide(candidates, { rule: 'threshold', quality: 0.75 }).model).toBe('mid');
    expect(decide(candidates, { rule: 'threshold', quality: 0.4 }).model).toBe('small');
  });

  it('falls back to the best predicted candidate when none reaches the threshold, and says so', () => {
    const d = decide(candidates, { rule: 'threshold', quality: 0.95 });
    expect(d.model).toBe('big');
    expect(d.rule).toMatch(/unmet/);
    expect(d.reason).toMatch(/no candidate is predicted to reach quality 0.95/);
  });

  it('skips unavailable candidates and names them with the reason', () => {
    const d = decide(candidates, { rule: 'willingness-to-pay', lambda: 5 }, new Map([['mid', 'cooling down']]));
    expect(d.model).toBe('big');
    expect(d.skipped).toEqual([{ model: 'mid', why: 'cooling down' }]);
    expect(d.reason).toMatch(/skipped mid \(cooling down\)/);
  });

  it('breaks a score tie toward the cheaper candidate', () => {
    const d = decide(
      [
        { model: 'dear', quality: 0.5, cost: 1 },
        { model: 'cheap', quality: 0.5, cost: 0.1 },
      ],
      { rule: 'willingness-to-pay', lambda: 1e9 },
    );
    expect(d.model).toBe('cheap');
  });

  it('fails clearly when every candidate is unavailable', () => {
    expect(() => decide(candidates.slice(0, 1), { rule: 'threshold', quality: 0.5 }, new Map([['big', 'over its token limit']]))).toThrow(NoCandidateError);
    expect(() => decide([], { rule: 'threshold', quality: 0.5 })).toThrow(/no candidate model is available \(none given\)/);
  });
  it('lists the same top candidates, in the same order, as a stable sort of all of them (ties included)', () => {
    const random = seededRandom(3);
    const policies: DecisionPolicy[] = [
      { rule: 'willingness-to-pay', lambda: 4 },
      { rule: 'threshold', quality: 0.5 },
    ];
    for (let trial = 0; trial < 300; trial++) {
      // Coarse qualities and costs so that equal scores and equal costs are common.
      const list: CandidateEstimate[] = Array.from({ length: 1 + Math.floor(random() * 15) }, (_, i) => ({ model: `m${i}`, quality: Math.floor(random() * 5) / 4, cost: Math.floor(random() * 3) }));
      const policy = policies[trial % 2]!;
      const topN = trial % 5;
      const score = (c: CandidateEstimate): number => (policy.rule === 'willingness-to-pay' ? policy.lambda * c.quality - c.cost : c.quality >= policy.quality ? 2 - c.cost / (1 + c.cost) : c.quality);
      const sorted = list.map((c) => ({ ...c, score: score(c) })).sort((a, b) => b.score - a.score || a.cost - b.cost);
      const d = decide(list, policy, new Map(), topN);
      expect(d.top).toEqual(sorted.slice(0, topN));
      expect(d.model).toBe(sorted[0]!.model);
    }
  });
});
