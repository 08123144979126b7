import { describe, expect, it } from '@jest/globals';
import type { AdmissionClock } from './admission.js';
import { AdmissionGate, type EntryDecision, type SheddingSettings, type Ticket } from './gate.js';

function clock(): AdmissionClock & { at: number } {
  return {
    at: 0,
    now() {
      return this.at;
    },
    setTimeout: () => undefined,
    clearTimeout: () => undefined,
  };
}

const base: SheddingSettings = {
  key: 'k',
  concurrency: undefined,
  retryAfterSeconds: 2,
  clients: new Map(),
  tokenBudget: undefined,
  defaultMaxTokens: 100,
  guards: undefined,
};

function ticketOf(decision: EntryDecision | Promise<EntryDecision>): Ticket {
  if (decision instanceof Promise || !decision.admitted) throw new Error(`expected an admission, got ${JSON.stringify(decision)}`);
  return decision.ticket;
}

describe('AdmissionGate', () => {
  it('answers 429 with Retry-After when a key is over its requests per minute, without touching other keys', () => {
    const c = clock();
    const gate = new AdmissionGate({ ...base, clients: new Map([['team', { priority: 'standard', requestsPerMinute: 1 }]]) }, c);
    ticketOf(gate.enter('team', 'standard')).release({});
    c.at = 15_000;
    expect(gate.enter('team', 'standard')).toEqual({ admitted: false, status: 429, reason: 'request_quota', retryAfterSeconds: 45 });
    ticketOf(gate.enter('other', 'standard'));
  });

  it('answers 429 when the reserved tokens exceed the tokens per minute, and settles with actual usage', () => {
    const c = clock();
    const gate = new AdmissionGate({ ...base, clients: new Map([['team', { priority: 'standard', tokensPerMinute: 1000 }]]) }, c);
    const first = ticketOf(gate.enter('team', 'standard'));
    expect(first.reserveTokens(900)).toBeUndefined();
    const second = ticketOf(gate.enter('team', 'standard'));
    expect(second.reserveTokens(200)).toMatchObject({ status: 429, reason: 'token_quota' });
    second.release({});
    first.release({ usedTokens: 300 });
    expect(ticketOf(gate.enter('team', 'standard')).reserveTokens(700)).toBeUndefined();
  });

  it('answers 503 when the token budget is spent and frees it when requests complete', () => {
    const gate = new AdmissionGate({ ...base, tokenBudget: 1000 }, clock());
    const a = ticketOf(gate.enter(undefined, 'standard'));
    expect(a.reserveTokens(800)).toBeUndefined();
    const b = ticketOf(gate.enter(undefined, 'critical'));
    expect(b.reserveTokens(300)).toEqual({ admitted: false, status: 503, reason: 'token_budget', retryAfterSeconds: 2 });
    expect(gate.tokenBudget?.inUse).toBe(800);
    a.release({ usedTokens: 120 });
    expect(gate.tokenBudget?.inUse).toBe(0);
    expect(b.reserveTokens(300)).toBeUndefined();
  });

  it('does not charge the quota of a key for a request the gateway refused for its own capacity', () => {
    const gate = new AdmissionGate({ ...base, tokenBudget: 100, clients: new Map([['team', { priority: 'standard', requestsPerMinute: 2, tokensPerMinute: 150 }]]) }, clock());
    const busy = ticketOf(gate.enter(undefined, 'standard'));
    busy.reserveTokens(100);
    const refused = ticketOf(gate.enter('team', 'standard'));
    expect(refused.reserveTokens(100)).toMatchObject({ status: 503 });
    refused.release({});
    busy.release({});
    // The refused reservation was given back: 100 more tokens still fit in the 150 per minute.
    expect(ticketOf(gate.enter('team', 'standard')).reserveTokens(100)).toBeUndefined();
  });

  it('sheds by priority while a guard is tripped, refunding the request to the quota', () => {
    const c = clock();
    const gate = new AdmissionGate(
      { ...base, clients: new Map([['team', { priority: 'standard', requestsPerMinute: 1 }]]), guards: { intervalMs: 100, eventLoopDelayMs: { sheddable: 50, standard: 200 } } },
      c,
    );
    gate.observe({ eventLoopDelayMs: 300, heapUsedRatio: 0.1 });
    expect(gate.enter('team', 'standard')).toEqual({ admitted: false, status: 503, reason: 'event_loop_delay', retryAfterSeconds: 2 });
    expect(gate.enter(undefined, 'sheddable')).toMatchObject({ status: 503, reason: 'event_loop_delay' });
    ticketOf(gate.enter(undefined, 'critical'));
    gate.observe({ eventLoopDelayMs: 100, heapUsedRatio: 0.1 });
    expect(gate.guardState.level).toBe(1);
    ticketOf(gate.enter('team', 'standard'));
    expect(gate.enter(undefined, 'sheddable')).toMatchObject({ status: 503 });
    gate.observe({ eventLoopDelayMs: 0, heapUsedRatio: 0.1 });
    ticketOf(gate.enter(undefined, 'sheddable'));
  });

  it('queues behind the concurrency limit and releases the slot with the ticket', async () => {
    const gate = new AdmissionGate(
      { ...base, concurrency: { initialLimit: 1, minLimit: 1, maxLimit: 1, maxQueue: 1, queueTimeoutMs: 1000, retryAfterSeconds: 2 } },
      { now: () => 0, setTimeout: () => undefined, clearTimeout: () => undefined },
    );
    const first = ticketOf(gate.enter(undefined, 'standard'));
    const waiting = gate.enter(undefined, 'standard');
    expect(waiting).toBeInstanceOf(Promise);
    expect(gate.enter(undefined, 'standard')).toMatchObject({ status: 503, reason: 'queue_full' });
    first.release({ ttfbMs: 10 });
    expect(await waiting).toMatchObject({ admitted: true });
  });
});
