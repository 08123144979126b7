import { describe, expect, it } from '@jest/globals';
import { guardSheds, guardState, processSampler, type GuardThresholds } from './guards.js';

const thresholds: GuardThresholds = { eventLoopDelayMs: { sheddable: 50, standard: 200 }, heapUsedRatio: { sheddable: 0.8, standard: 0.9 } };

describe('process guards', () => {
  it('admit everyone while both samples are under their thresholds', () => {
    const state = guardState({ eventLoopDelayMs: 10, heapUsedRatio: 0.5 }, thresholds);
    expect(state).toEqual({ level: 0, reason: undefined });
    expect(guardSheds(state, 'sheddable')).toBeUndefined();
  });

  it('shed sheddable first, then standard; critical is always admitted', () => {
    const lagging = guardState({ eventLoopDelayMs: 80, heapUsedRatio: 0.5 }, thresholds);
    expect(guardSheds(lagging, 'sheddable')).toBe('event_loop_delay');
    expect(guardSheds(lagging, 'standard')).toBeUndefined();
    const stalled = guardState({ eventLoopDelayMs: 250, heapUsedRatio: 0.5 }, thresholds);
    expect(guardSheds(stalled, 'standard')).toBe('event_loop_delay');
    expect(guardSheds(stalled, 'critical')).toBeUndefined();
  });

  it('report the worse of the two guards', () => {
    expect(guardState({ eventLoopDelayMs: 80, heapUsedRatio: 0.95 }, thresholds)).toEqual({ level: 2, reason: 'heap' });
    expect(guardState({ eventLoopDelayMs: 0, heapUsedRatio: 0.85 }, { heapUsedRatio: thresholds.heapUsedRatio })).toEqual({ level: 1, reason: 'heap' });
  });

  it('sample the real event loop and heap', () => {
    const sampler = processSampler();
    const sample = sampler.sample();
    sampler.stop();
    expect(sample.eventLoopDelayMs).toBeGreaterThanOrEqual(0);
    expect(sample.heapUsedRatio).toBeGreaterThan(0);
    expect(sample.heapUsedRatio).toBeLessThan(1);
  });
});
