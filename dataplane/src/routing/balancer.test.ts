import { describe, expect, it } from '@jest/globals';
import type { Deployment } from '@switchboard/crds/runtime';
import { choose, ineligible, type Candidate } from './balancer.js';
import { DeploymentHealth } from './health.js';

function candidate(name: string, extra: Partial<Deployment> = {}): Candidate<string> {
  const config: Deployment = { name, provider: 'openai', model: 'm', baseUrl: 'http://x/v1', weight: 1, ...extra };
  return { target: name, config, health: new DeploymentHealth() };
}

/** A deterministic random source walking an evenly spaced grid. */
function grid(n: number): () => number {
  let i = 0;
  return () => ((i++ % n) + 0.5) / n;
}

describe('balancing', () => {
  it('splits traffic by weight under weighted random', () => {
    const a = candidate('a', { weight: 3 });
    const b = candidate('b', { weight: 1 });
    const random = grid(1000);
    const counts = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 1000; i++) counts[choose('weighted', [a, b], random).target]!++;
    expect(counts.a).toBe(750);
    expect(counts.b).toBe(250);
  });

  it('picks the deployment with the fewest requests in flight', () => {
    const a = candidate('a');
    const b = candidate('b');
    a.health.inFlight = 4;
    b.health.inFlight = 1;
    expect(choose('least-inflight', [a, b], Math.random).target).toBe('b');
  });

  it('picks the lowest EWMA time to first byte, trying unmeasured deployments first', () => {
    const a = candidate('a');
    const b = candidate('b');
    const c = candidate('c');
    a.health.recordTtfb(50);
    b.health.recordTtfb(20);
    expect(choose('lowest-latency', [a, b], Math.random).target).toBe('b');
    expect(choose('lowest-latency', [a, b, c], Math.random).target).toBe('c');
  });

  it('smooths latency with an EWMA rather than the last sample', () => {
    const h = new DeploymentHealth();
    h.recordTtfb(100);
    h.recordTtfb(0);
    expect(h.ttfbMs).toBeCloseTo(80);
  });

  it('picks the cheapest priced deployment and treats unpriced as most expensive', () => {
    const cheap = candidate('cheap', { pricing: { inputPerMillion: 0.1, outputPerMillion: 0.4 } });
    const dear = candidate('dear', { pricing: { inputPerMillion: 3, outputPerMillion: 15 } });
    const unknown = candidate('unknown');
    expect(choose('lowest-cost', [unknown, dear, cheap], Math.random).target).toBe('cheap');
    expect(choose('lowest-cost', [unknown, dear], Math.random).target).toBe('dear');
  });

  it('breaks ties at random so equal deployments share the load', () => {
    const a = candidate('a');
    const b = candidate('b');
    const random = grid(2);
    const picks = [choose('least-inflight', [a, b], random).target, choose('least-inflight', [a, b], random).target];
    expect(picks.sort()).toEqual(['a', 'b']);
  });
});

describe('eligibility', () => {
  it('skips a deployment while it cools down and admits it afterwards', () => {
    const a = candidate('a');
    a.health.recordFailure(1000, 1, 30_000);
    expect(ineligible(a, 1000, 10)).toBe('cooldown');
    expect(ineligible(a, 31_000, 10)).toBeUndefined();
  });

  it('opens the circuit only after the failure threshold, unless Retry-After says so', () => {
    const a = candidate('a');
    expect(a.health.recordFailure(0, 3, 30_000)).toBe(false);
    expect(a.health.recordFailure(0, 3, 30_000)).toBe(false);
    expect(ineligible(a, 0, 1)).toBeUndefined();
    expect(a.health.recordFailure(0, 3, 30_000)).toBe(true);
    expect(ineligible(a, 29_999, 1)).toBe('cooldown');

    const b = candidate('b');
    b.health.recordFailure(0, 3, 30_000, 2_000);
    expect(ineligible(b, 1_999, 1)).toBe('cooldown');
    expect(ineligible(b, 2_000, 1)).toBeUndefined();
  });

  it('a success resets the consecutive failure count', () => {
    const a = candidate('a');
    a.health.recordFailure(0, 2, 30_000);
    a.health.recordSuccess();
    a.health.recordFailure(0, 2, 30_000);
    expect(ineligible(a, 0, 1)).toBeUndefined();
  });

  it('enforces RPM over a sliding minute', () => {
    const a = candidate('a', { limits: { rpm: 2 } });
    a.health.window.add(0, 1, 0);
    a.health.window.add(500, 1, 0);
    expect(ineligible(a, 1_000, 0)).toBe('rpm-limit');
    expect(ineligible(a, 60_500, 0)).toBeUndefined();
  });

  it('enforces TPM counting the tokens the request would add', () => {
    const a = candidate('a', { limits: { tpm: 1_000 } });
    a.health.window.add(0, 1, 900);
    expect(ineligible(a, 10, 50)).toBeUndefined();
    expect(ineligible(a, 10, 200)).toBe('tpm-limit');
  });
});
