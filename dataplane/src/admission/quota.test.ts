import { describe, expect, it } from '@jest/globals';
import { ClientQuota, SlidingMinute } from './quota.js';

describe('SlidingMinute', () => {
  it('sums the last sixty seconds and forgets older slots', () => {
    const w = new SlidingMinute();
    w.add(0, 5);
    w.add(30_500, 3);
    expect(w.used(59_999)).toBe(8);
    expect(w.used(60_000)).toBe(3);
    expect(w.used(91_000)).toBe(0);
  });

  it('waits until enough old slots leave the window', () => {
    const w = new SlidingMinute();
    w.add(1_000, 4);
    w.add(10_000, 4);
    // 8 used of 10: 2 more fit now, 3 need the slot of second 1 to leave (at 61 s).
    expect(w.waitMs(20_000, 10, 2)).toBe(0);
    expect(w.waitMs(20_000, 10, 3)).toBe(41_000);
    // 7 more need both slots gone: at 70 s.
    expect(w.waitMs(20_000, 10, 7)).toBe(50_000);
  });
});

describe('ClientQuota', () => {
  it('counts requests per sliding minute and answers with the seconds until one fits', () => {
    const quota = new ClientQuota({ requestsPerMinute: 2 });
    expect(quota.takeRequest(0)).toEqual({ ok: true });
    expect(quota.takeRequest(500)).toEqual({ ok: true });
    expect(quota.takeRequest(10_000)).toEqual({ ok: false, retryAfterSeconds: 50 });
    expect(quota.takeRequest(60_000)).toEqual({ ok: true });
  });

  it('gives back a refunded request', () => {
    const quota = new ClientQuota({ requestsPerMinute: 1 });
    quota.takeRequest(0);
    quota.refundRequest(0);
    expect(quota.takeRequest(100)).toEqual({ ok: true });
  });

  it('reserves tokens at admission and settles them with the usage reported', () => {
    const quota = new ClientQuota({ tokensPerMinute: 1000 });
    expect(quota.takeTokens(0, 600)).toEqual({ ok: true });
    expect(quota.takeTokens(1_000, 600)).toEqual({ ok: false, retryAfterSeconds: 59 });
    // The first request used only 100 of its 600: the second now fits.
    quota.settleTokens(0, 600, 100);
    expect(quota.takeTokens(1_000, 600)).toEqual({ ok: true });
  });

  it('a request larger than the whole quota waits for an empty window', () => {
    const quota = new ClientQuota({ tokensPerMinute: 100 });
    expect(quota.takeTokens(0, 500)).toEqual({ ok: false, retryAfterSeconds: 60 });
  });

  it('without limits admits everything', () => {
    const quota = new ClientQuota({});
    for (let i = 0; i < 1000; i++) expect(quota.takeRequest(i).ok).toBe(true);
    expect(quota.takeTokens(0, 1e9).ok).toBe(true);
  });
});
