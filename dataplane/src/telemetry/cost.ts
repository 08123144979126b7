// What a request cost, in USD, from the answering deployment's prices and the upstream's usage.
import type { Usage } from '../providers/types.js';

/** A deployment's `pricing` from the runtime config: USD per million tokens. */
export interface TokenPrices {
  readonly inputPerMillion: number;
  readonly outputPerMillion: number;
}

/** USD for `usage` at `prices`; undefined for an unpriced deployment. */
export function costUsd(prices: TokenPrices | undefined, usage: Usage): number | undefined {
  if (!prices) return undefined;
  return (usage.inputTokens * prices.inputPerMillion + usage.outputTokens * prices.outputPerMillion) / 1_000_000;
}
