// The admission gate of one shedding config: per-key quotas (429), process guards, the adaptive
// concurrency limit with its queue, and the token budget (503). Every refusal is immediate and
// carries Retry-After. Pure apart from the injected clock; the HTTP edge is http/api-server.ts.
import { AdmissionController, UNLISTED_FLOW, type AdmissionClock, type AdmissionSettings, type Priority, type ShedReason } from './admission.js';
import type { Flow } from './fair-queue.js';
import { guardSheds, guardState, type GuardReason, type GuardState, type GuardThresholds, type ProcessSample } from './guards.js';
import { ClientQuota, type QuotaLimits } from './quota.js';
import { TokenBudget } from './token-budget.js';

export interface ClientSettings extends QuotaLimits {
  priority: Priority;
  /** The key's priority class and its weight in the queue (absent: the unlisted keys' class). */
  flow?: Flow | undefined;
}

export interface SheddingSettings {
  /** Tells when the settings change (a new gate is built then). */
  key: string;
  /** The adaptive concurrency limit and its queue; undefined: no limit. */
  concurrency: AdmissionSettings | undefined;
  retryAfterSeconds: number;
  /** By client key name (the master key is "master"). */
  clients: ReadonlyMap<string, ClientSettings>;
  /** Tokens in flight per replica; undefined: no budget. */
  tokenBudget: number | undefined;
  /** Output tokens reserved for a request without max_tokens. */
  defaultMaxTokens: number;
  guards: (GuardThresholds & { intervalMs: number }) | undefined;
}

export type RefusalReason = ShedReason | GuardReason | 'request_quota' | 'token_quota' | 'token_budget';

/** Why the gateway refused, as told to the client (never anything about other clients). */
export const refusalCause: Record<RefusalReason, string> = {
  request_quota: 'requests-per-minute quota of this key',
  token_quota: 'tokens-per-minute quota of this key',
  queue_full: 'queue full',
  queue_displaced: 'queue full; a higher-priority request took the place',
  queue_timeout: 'queue timeout',
  sheddable_at_limit: 'at its limit; sheddable requests are not queued',
  token_budget: 'token budget in use',
  event_loop_delay: 'event loop delayed',
  heap: 'memory nearly full',
};

export interface Refusal {
  admitted: false;
  /** 429: this client is over its quota; 503: the gateway is over capacity. */
  status: 429 | 503;
  reason: RefusalReason;
  retryAfterSeconds: number;
}

export interface RequestOutcome {
  ttfbMs?: number | undefined;
  /** The upstream answered 429/5xx. */
  overloaded?: boolean | undefined;
  /** Tokens the request actually used (input + output), when known. */
  usedTokens?: number | undefined;
}

/** An admitted request's hold on the gate: tokens are reserved once the body is read. */
export interface Ticket {
  readonly priority: Priority;
  /** Reserves tokens against the client's tokens/minute quota and the token budget. */
  reserveTokens(tokens: number): Refusal | undefined;
  /** Ends the request: frees its concurrency slot and reservation, settles its quota with usage. */
  release(outcome: RequestOutcome): void;
}

export type EntryDecision = { admitted: true; ticket: Ticket } | Refusal;

export class AdmissionGate {
  readonly concurrency: AdmissionController | undefined;
  readonly tokenBudget: TokenBudget | undefined;
  private guard: GuardState = { level: 0, reason: undefined };
  private readonly quotas = new Map<string, ClientQuota>();

  constructor(
    readonly settings: SheddingSettings,
    private readonly clock: AdmissionClock,
  ) {
    this.concurrency = settings.concurrency && new AdmissionController(settings.concurrency, clock);
    this.tokenBudget = settings.tokenBudget === undefined ? undefined : new TokenBudget(settings.tokenBudget);
    for (const [name, client] of settings.clients) {
      if (client.requestsPerMinute !== undefined || client.tokensPerMinute !== undefined) this.quotas.set(name, new ClientQuota(client));
    }
  }

  get guardState(): GuardState {
    return this.guard;
  }

  /** Feeds a process sample (taken on an interval) to the guards. */
  observe(sample: ProcessSample): void {
    if (this.settings.guards) this.guard = guardState(sample, this.settings.guards);
  }

  /** Quota, guards, then the concurrency limit (which may queue). `client` is the key name. */
  enter(client: string | undefined, priority: Priority): EntryDecision | Promise<EntryDecision> {
    const now = this.clock.now();
    const quota = client === undefined ? undefined : this.quotas.get(client);
    const requests = quota?.takeRequest(now);
    if (requests && !requests.ok) return { admitted: false, status: 429, reason: 'request_quota', retryAfterSeconds: requests.retryAfterSeconds };
    const guarded = guardSheds(this.guard, priority);
    if (guarded) {
      quota?.refundRequest(now);
      return this.overCapacity(guarded);
    }
    if (!this.concurrency) return { admitted: true, ticket: this.ticket(priority, quota, undefined) };
    const flow = (client === undefined ? undefined : this.settings.clients.get(client)?.flow) ?? UNLISTED_FLOW;
    const pending = this.concurrency.acquire(priority, flow);
    const settle = (decision: Awaited<typeof pending>): EntryDecision => {
      if (decision.admitted) return { admitted: true, ticket: this.ticket(priority, quota, decision.permit) };
      quota?.refundRequest(now);
      return decision;
    };
    return pending instanceof Promise ? pending.then(settle) : settle(pending);
  }

  private overCapacity(reason: RefusalReason): Refusal {
    return { admitted: false, status: 503, reason, retryAfterSeconds: this.settings.retryAfterSeconds };
  }

  private ticket(priority: Priority, quota: ClientQuota | undefined, permit: { release(o: RequestOutcome): void } | undefined): Ticket {
    let reserved = 0;
    let reservedAt = 0;
    let inBudget = false;
    let released = false;
    return {
      priority,
      reserveTokens: (tokens) => {
        const now = this.clock.now();
        const verdict = quota?.takeTokens(now, tokens);
        if (verdict && !verdict.ok) return { admitted: false, status: 429, reason: 'token_quota', retryAfterSeconds: verdict.retryAfterSeconds };
        if (this.tokenBudget && !this.tokenBudget.tryReserve(tokens)) {
          quota?.settleTokens(now, tokens, 0);
          return this.overCapacity('token_budget');
        }
        reserved = tokens;
        reservedAt = now;
        inBudget = this.tokenBudget !== undefined;
        return undefined;
      },
      release: (outcome) => {
        if (released) return;
        released = true;
        if (inBudget) this.tokenBudget?.release(reserved);
        // Without a usage report the reservation stands: the quota errs on the safe side.
        if (reserved > 0 && outcome.usedTokens !== undefined) quota?.settleTokens(reservedAt, reserved, outcome.usedTokens);
        permit?.release(outcome);
      },
    };
  }
}
