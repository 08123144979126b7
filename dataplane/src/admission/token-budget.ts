// Per-replica budget of tokens in flight: a request reserves its prompt estimate + max_tokens at
// admission and gives it back when it completes.

export class TokenBudget {
  private used = 0;

  constructor(readonly capacity: number) {}

  get inUse(): number {
    return this.used;
  }

  /**
   * Reserves `tokens` if they fit. With nothing in flight any request fits, so one larger than
   * the whole budget is served alone rather than refused for ever.
   */
  tryReserve(tokens: number): boolean {
    if (this.used > 0 && this.used + tokens > this.capacity) return false;
    this.used += tokens;
    return true;
  }

  release(tokens: number): void {
    this.used = Math.max(0, this.used - tokens);
  }
}

/** Tokens a request reserves: its prompt estimate plus the output it may produce. */
export function tokensToReserve(estimatedPromptTokens: number, maxOutputTokens: number | undefined, defaultMaxTokens: number): number {
  return estimatedPromptTokens + (maxOutputTokens ?? defaultMaxTokens);
}
