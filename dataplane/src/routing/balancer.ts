// Picks a deployment among candidates: pure, given the live signals and a random source.
import type { BalancingStrategy, Deployment } from '@switchboard/crds/runtime';
import type { DeploymentHealth } from './health.js';

export interface Candidate<T> {
  target: T;
  config: Deployment;
  health: DeploymentHealth;
}

export type SkipReason = 'cooldown' | 'rpm-limit' | 'tpm-limit';

/** Why a candidate is not eligible right now, or undefined when it is. */
export function ineligible(c: Candidate<unknown>, now: number, estimatedTokens: number): SkipReason | undefined {
  if (c.health.isCooling(now)) return 'cooldown';
  const limits = c.config.limits;
  if (limits?.rpm !== undefined || limits?.tpm !== undefined) {
    const used = c.health.window.totals(now);
    if (limits.rpm !== undefined && used.requests + 1 > limits.rpm) return 'rpm-limit';
    if (limits.tpm !== undefined && used.tokens + estimatedTokens > limits.tpm) return 'tpm-limit';
  }
  return undefined;
}

function pricePerMillion(d: Deployment): number {
  // Deployments without a price sort last under lowest-cost: unknown is not free.
  return d.pricing ? d.pricing.inputPerMillion + d.pricing.outputPerMillion : Number.POSITIVE_INFINITY;
}

function minBy<T>(items: readonly T[], key: (item: T) => number, random: () => number): T {
  let best: T[] = [];
  let bestKey = Number.POSITIVE_INFINITY;
  for (const item of items) {
    const k = key(item);
    if (k < bestKey) {
      bestKey = k;
      best = [item];
    } else if (k === bestKey) best.push(item);
  }
  if (best.length === 0) best = [...items];
  // Ties are broken at random so equal deployments share the load.
  return best[Math.floor(random() * best.length)]!;
}

/** Chooses one of `eligible` (non-empty) by the strategy. */
export function choose<T>(strategy: BalancingStrategy, eligible: readonly Candidate<T>[], random: () => number): Candidate<T> {
  if (eligible.length === 1) return eligible[0]!;
  switch (strategy) {
    case 'weighted': {
      let total = 0;
      for (const c of eligible) total += c.config.weight;
      let r = random() * total;
      for (const c of eligible) {
        r -= c.config.weight;
        if (r < 0) return c;
      }
      return eligible[eligible.length - 1]!;
    }
    case 'least-inflight':
      return minBy(eligible, (c) => c.health.inFlight, random);
    case 'lowest-latency':
      // Untried deployments count as fastest so each gets measured.
      return minBy(eligible, (c) => c.health.ttfbMs ?? 0, random);
    case 'lowest-cost':
      return minBy(eligible, (c) => pricePerMillion(c.config), random);
  }
}
