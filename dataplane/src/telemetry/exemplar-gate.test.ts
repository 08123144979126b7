import { describe, expect, it } from '@jest/globals';
import { ExemplarGate } from './exemplar-gate.js';

describe('ExemplarGate', () => {
  const bounds = [0.01, 0.1, 1];

  it('admits the first exemplar of each bucket, then one per bucket per interval', () => {
    const gate = new ExemplarGate(bounds, 1000);
    expect(gate.admit('chat', 'chat', 0.05, 0)).toBe(true);
    expect(gate.admit('chat', 'chat', 0.06, 500)).toBe(false);
    // Another bucket (and +Inf) has its own clock.
    expect(gate.admit('chat', 'chat', 0.005, 500)).toBe(true);
    expect(gate.admit('chat', 'chat', 5, 500)).toBe(true);
    expect(gate.admit('chat', 'chat', 7, 600)).toBe(false);
    expect(gate.admit('chat', 'chat', 0.07, 999)).toBe(false);
    expect(gate.admit('chat', 'chat', 0.07, 1000)).toBe(true);
  });

  it('keeps label sets apart: another model or operation is another bucket', () => {
    const gate = new ExemplarGate(bounds, 1000);
    expect(gate.admit('chat', 'chat', 0.05, 0)).toBe(true);
    expect(gate.admit('claude', 'chat', 0.05, 1)).toBe(true);
    expect(gate.admit('chat', 'messages', 0.05, 2)).toBe(true);
    expect(gate.admit('chat', 'chat', 0.05, 3)).toBe(false);
  });

  it('counts a value equal to an upper bound in that bucket (le), as prom-client does', () => {
    const gate = new ExemplarGate(bounds, 1000);
    expect(gate.admit('m', 'o', 0.1, 0)).toBe(true);
    expect(gate.admit('m', 'o', 0.05, 1)).toBe(false);
    expect(gate.admit('m', 'o', 0.1000001, 2)).toBe(true);
  });

  it('admits every observation with an interval of 0', () => {
    const gate = new ExemplarGate(bounds, 0);
    expect([0, 0, 1].map((t) => gate.admit('m', 'o', 0.05, t))).toEqual([true, true, true]);
  });
});
