// Live per-deployment signals that outlive config reloads: requests in flight, EWMA of time to
// first byte, the circuit breaker, and RPM/TPM usage in a sliding one-minute window.
// Keyed by deployment name; the clock is injected so tests are deterministic.

const WINDOW_MS = 60_000;
const BUCKET_MS = 1_000;
const BUCKETS = WINDOW_MS / BUCKET_MS;
const EWMA_ALPHA = 0.2;

/** Requests and tokens in the last minute, in one-second buckets. */
class MinuteWindow {
  private readonly requests = new Float64Array(BUCKETS);
  private readonly tokens = new Float64Array(BUCKETS);
  private readonly stamps = new Float64Array(BUCKETS);

  private slot(now: number): number {
    const second = Math.floor(now / BUCKET_MS);
    const i = second % BUCKETS;
    if (this.stamps[i] !== second) {
      this.stamps[i] = second;
      this.requests[i] = 0;
      this.tokens[i] = 0;
    }
    return i;
  }

  add(now: number, requests: number, tokens: number): void {
    const i = this.slot(now);
    this.requests[i]! += requests;
    this.tokens[i]! += tokens;
  }

  totals(now: number): { requests: number; tokens: number } {
    const oldest = Math.floor(now / BUCKET_MS) - BUCKETS + 1;
    let requests = 0;
    let tokens = 0;
    for (let i = 0; i < BUCKETS; i++) {
      if (this.stamps[i]! >= oldest) {
        requests += this.requests[i]!;
        tokens += this.tokens[i]!;
      }
    }
    return { requests, tokens };
  }
}

export class DeploymentHealth {
  inFlight = 0;
  /** EWMA of time to first byte in ms; undefined until the first success. */
  ttfbMs: number | undefined;
  consecutiveFailures = 0;
  coolingUntil = 0;
  readonly window = new MinuteWindow();

  isCooling(now: number): boolean {
    return now < this.coolingUntil;
  }

  recordTtfb(ms: number): void {
    this.ttfbMs = this.ttfbMs === undefined ? ms : this.ttfbMs + EWMA_ALPHA * (ms - this.ttfbMs);
  }

  recordSuccess(): void {
    this.consecutiveFailures = 0;
  }

  /** Returns true when this failure opened the circuit. */
  recordFailure(now: number, threshold: number, cooldownMs: number, retryAfterMs?: number): boolean {
    this.consecutiveFailures++;
    if (retryAfterMs !== undefined && retryAfterMs > 0) {
      // The upstream told us when to come back: respect it even below the failure threshold.
      this.coolingUntil = Math.max(this.coolingUntil, now + retryAfterMs);
    }
    if (this.consecutiveFailures >= threshold) {
      this.coolingUntil = Math.max(this.coolingUntil, now + cooldownMs);
      this.consecutiveFailures = 0;
      return true;
    }
    return false;
  }
}

export class HealthRegistry {
  private readonly byName = new Map<string, DeploymentHealth>();

  get(name: string): DeploymentHealth {
    let health = this.byName.get(name);
    if (!health) {
      health = new DeploymentHealth();
      this.byName.set(name, health);
    }
    return health;
  }

  /** Drops deployments no longer in the config. */
  retain(names: ReadonlySet<string>): void {
    for (const name of this.byName.keys()) if (!names.has(name)) this.byName.delete(name);
  }
}
