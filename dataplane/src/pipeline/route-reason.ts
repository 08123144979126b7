// The x-switchboard-route-reason text: the strategy that picked, plus any retry or fallback.
import type { BalancingStrategy } from '@switchboard/crds/runtime';

export interface Failure {
  deployment: string;
  reason: string;
}

function list(failures: readonly Failure[]): string {
  return failures.map((f) => `${f.deployment} ${f.reason}`).join(', ');
}

export function routeReason(strategy: BalancingStrategy, failures: readonly Failure[], fallbackFrom?: string): string {
  if (fallbackFrom !== undefined) return `fallback from ${fallbackFrom} (${list(failures) || 'no eligible deployment'}); ${strategy}`;
  if (failures.length > 0) return `retry (${list(failures)}); ${strategy}`;
  return strategy;
}
