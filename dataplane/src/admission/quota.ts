// Per-client quotas over a sliding minute of one-second slots: requests and tokens started.
// Pure apart from the `now` passed in; tokens are reserved at admission and settled with usage.

const SLOTS = 60;
const SLOT_MS = 1000;

/** Counts over the last minute in one-second slots: O(60) memory per counter, exact to a second. */
export class SlidingMinute {
  private readonly counts = new Float64Array(SLOTS);
  private readonly seconds = new Float64Array(SLOTS).fill(-1);

  add(now: number, amount: number): void {
    const second = Math.floor(now / SLOT_MS);
    const i = second % SLOTS;
    if (this.seconds[i] !== second) {
      this.seconds[i] = second;
      this.counts[i] = 0;
    }
    this.counts[i]! += amount;
  }

  /** Corrects an amount added at `at`, if its slot is still in the window. */
  adjust(at: number, delta: number): void {
    const second = Math.floor(at / SLOT_MS);
    const i = second % SLOTS;
    if (this.seconds[i] === second) this.counts[i] = Math.max(0, this.counts[i]! + delta);
  }

  used(now: number): number {
    const second = Math.floor(now / SLOT_MS);
    let total = 0;
    for (let i = 0; i < SLOTS; i++) if (this.seconds[i]! > second - SLOTS) total += this.counts[i]!;
    return total;
  }

  /** Milliseconds until `need` more fits under `limit` as old slots leave the window (0: fits now). */
  waitMs(now: number, limit: number, need: number): number {
    const second = Math.floor(now / SLOT_MS);
    let excess = this.used(now) + need - limit;
    if (excess <= 0) return 0;
    for (let s = second - SLOTS + 1; s <= second; s++) {
      const i = s % SLOTS;
      if (this.seconds[i] === s) excess -= this.counts[i]!;
      if (excess <= 0) return (s + SLOTS) * SLOT_MS - now;
    }
    // More than the whole quota on its own: it fits once the window is empty.
    return SLOTS * SLOT_MS;
  }
}

export interface QuotaLimits {
  requestsPerMinute?: number | undefined;
  tokensPerMinute?: number | undefined;
}

export type QuotaVerdict = { ok: true } | { ok: false; retryAfterSeconds: number };

const retryAfter = (ms: number): QuotaVerdict => ({ ok: false, retryAfterSeconds: Math.max(1, Math.ceil(ms / SLOT_MS)) });

/** One client key's quota state. */
export class ClientQuota {
  private readonly requests = new SlidingMinute();
  private readonly tokens = new SlidingMinute();

  constructor(readonly limits: QuotaLimits) {}

  /** Counts a request if it fits in requestsPerMinute. */
  takeRequest(now: number): QuotaVerdict {
    const limit = this.limits.requestsPerMinute;
    if (limit !== undefined) {
      const wait = this.requests.waitMs(now, limit, 1);
      if (wait > 0) return retryAfter(wait);
    }
    this.requests.add(now, 1);
    return { ok: true };
  }

  /** Gives back a request counted at `at` that the gateway then shed for its own reasons. */
  refundRequest(at: number): void {
    this.requests.adjust(at, -1);
  }

  /** Reserves `reserved` tokens if they fit in tokensPerMinute. */
  takeTokens(now: number, reserved: number): QuotaVerdict {
    const limit = this.limits.tokensPerMinute;
    if (limit !== undefined) {
      const wait = this.tokens.waitMs(now, limit, reserved);
      if (wait > 0) return retryAfter(wait);
    }
    this.tokens.add(now, reserved);
    return { ok: true };
  }

  /** Replaces a reservation made at `at` with the tokens actually used. */
  settleTokens(at: number, reserved: number, used: number): void {
    this.tokens.adjust(at, used - reserved);
  }
}
