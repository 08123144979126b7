import { describe, expect, it } from '@jest/globals';
import { costUsd } from './cost.js';

describe('costUsd', () => {
  it('prices input and output tokens per million', () => {
    expect(costUsd({ inputPerMillion: 3, outputPerMillion: 15 }, { inputTokens: 1000, outputTokens: 200 })).toBeCloseTo(0.003 + 0.003, 12);
    expect(costUsd({ inputPerMillion: 0.15, outputPerMillion: 0.6 }, { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBeCloseTo(0.75, 12);
  });

  it('is zero for free deployments and no usage', () => {
    expect(costUsd({ inputPerMillion: 0, outputPerMillion: 0 }, { inputTokens: 50, outputTokens: 50 })).toBe(0);
    expect(costUsd({ inputPerMillion: 2, outputPerMillion: 8 }, { inputTokens: 0, outputTokens: 0 })).toBe(0);
  });

  it('is undefined for an unpriced deployment, so it is not counted as free', () => {
    expect(costUsd(undefined, { inputTokens: 10, outputTokens: 10 })).toBeUndefined();
  });
});
