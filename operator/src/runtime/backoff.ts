export interface BackoffOptions {
  /** Delay after the first failure. */
  baseMs: number;
  /** Upper bound of the delay (before jitter). */
  maxMs: number;
  /** Growth per failure. Default 2. */
  factor?: number;
  /** Up to this fraction is added at random (0.2 = +0..20 %). Default 0. */
  jitter?: number;
}

/** Delay before retry number `attempt` (1 = after the first failure): base * factor^(attempt-1), capped, jittered. */
export function backoffDelay(options: BackoffOptions, attempt: number, random: () => number = Math.random): number {
  const factor = options.factor ?? 2;
  const exp = Math.max(0, attempt - 1);
  // Cap the exponent first so huge attempt counts do not overflow to Infinity.
  const raw = exp > 64 ? options.maxMs : options.baseMs * Math.pow(factor, exp);
  const capped = Math.min(options.maxMs, raw);
  return capped + capped * (options.jitter ?? 0) * random();
}
