import { describe, expect, it } from '@jest/globals';
import { parseRetryAfter } from './retry-after.js';

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and nothing else', () => {
    expect(parseRetryAfter('3', Date.now())).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', Date.parse('2026-01-01T00:00:00Z'))).toBe(10_000);
    expect(parseRetryAfter('soon', Date.now())).toBeUndefined();
    expect(parseRetryAfter(undefined, Date.now())).toBeUndefined();
  });

  it('takes the first of repeated headers and never asks for a negative wait', () => {
    expect(parseRetryAfter(['2', '9'], Date.now())).toBe(2000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:00 GMT', Date.parse('2026-01-01T00:00:10Z'))).toBe(0);
  });
});
