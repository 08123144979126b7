// What a request cost, in USD, from the answering deployment's prices and the upstream's usage.
import type { Deployment } from '@switchboard/crds/runtime';
import type { Usage } from '../providers/types.js';

/** USD for `usage` at `pricing` (per million tokens); undefined for an unpriced deployment. */
export function costUsd(pricing: Deployment['pricing'], usage: Usage): number | undefined {
  if (!pricing) return undefined;
  return (usage.inputTokens * pricing.inputPerMillion + usage.outputTokens * pricing.outputPerMillion) / 1_000_000;
}
