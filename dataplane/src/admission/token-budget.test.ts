import { describe, expect, it } from '@jest/globals';
import { TokenBudget, tokensToReserve } from './token-budget.js';

describe('TokenBudget', () => {
  it('reserves until the budget is full and frees on release', () => {
    const budget = new TokenBudget(1000);
    expect(budget.tryReserve(600)).toBe(true);
    expect(budget.tryReserve(500)).toBe(false);
    expect(budget.tryReserve(400)).toBe(true);
    expect(budget.inUse).toBe(1000);
    budget.release(600);
    expect(budget.inUse).toBe(400);
    expect(budget.tryReserve(500)).toBe(true);
  });

  it('serves a request larger than the whole budget when nothing else is in flight', () => {
    const budget = new TokenBudget(100);
    expect(budget.tryReserve(5000)).toBe(true);
    expect(budget.tryReserve(1)).toBe(false);
    budget.release(5000);
    expect(budget.inUse).toBe(0);
  });
});

describe('tokensToReserve', () => {
  it('is the prompt estimate plus max_tokens, or the default when max_tokens is absent', () => {
    expect(tokensToReserve(50, 200, 1024)).toBe(250);
    expect(tokensToReserve(50, undefined, 1024)).toBe(1074);
  });
});
