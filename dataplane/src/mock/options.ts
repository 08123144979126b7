// The mock's knobs, their defaults and their validation (shared by startMock and the CLI).

export interface MockOptions {
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Interface to bind. */
  host: string;
  /** When set, every API request must present this key in its family's header. */
  apiKey: string | undefined;
  /** Tokens in a text reply (max_tokens caps it). */
  responseTokens: number;
  /** Delay before the first content chunk (streams) or added to the response time (non-streamed). */
  ttftMs: number;
  /** Generation speed; 0 or Infinity means no delay between tokens. */
  tokensPerSecond: number;
  /** Fraction of requests answered with a 500, drawn from the seeded PRNG. */
  failRate: number;
  /** Retry-After (seconds) sent with 429, 503 and 529. */
  retryAfterSeconds: number;
  /** Delay of the response headers under the slow-headers fault. */
  slowHeadersMs: number;
  /** Chunks written before the connection is destroyed under the reset fault. */
  resetAfterChunks: number;
  /** A fault applied to every request, in x-mock-fault syntax (e.g. "429", "reset:2", "hang"). */
  fault: string | undefined;
  /** Seed of the PRNG behind failRate. */
  seed: number;
  /** Models listed by GET /v1/models. */
  models: readonly string[];
  /** How many recent requests GET /mock/stats returns. */
  historySize: number;
  /** API requests served at once; beyond it an immediate 429 with Retry-After (0: no limit). */
  maxConcurrency: number;
  /**
   * Start each write of a paced stream with an SSE comment carrying the monotonic clock (ns):
   * when the stream began and when that write was made (pacing.ts). Benchmarks subtract the
   * mock's own pacing from what a client sees, leaving what a hop in between adds.
   */
  stampEvents: boolean;
}

export const defaultOptions: Readonly<MockOptions> = {
  port: 0,
  host: '127.0.0.1',
  apiKey: undefined,
  responseTokens: 16,
  ttftMs: 0,
  tokensPerSecond: 0,
  failRate: 0,
  retryAfterSeconds: 1,
  slowHeadersMs: 1000,
  resetAfterChunks: 2,
  fault: undefined,
  seed: 1,
  models: ['mock-gpt', 'mock-claude', 'mock-embedding'],
  historySize: 100,
  maxConcurrency: 0,
  stampEvents: false,
};

function check(name: string, value: number, ok: boolean, expected: string): void {
  if (!ok || Number.isNaN(value)) throw new RangeError(`mock option ${name}: expected ${expected}, got ${value}`);
}

/** Fills in defaults and rejects out-of-range values with a message naming the option. */
export function resolveOptions(partial: Partial<MockOptions>): MockOptions {
  const o: MockOptions = { ...defaultOptions };
  for (const [key, value] of Object.entries(partial) as [keyof MockOptions, unknown][]) {
    if (value !== undefined) Object.assign(o, { [key]: value });
  }
  check('port', o.port, Number.isInteger(o.port) && o.port >= 0 && o.port <= 65535, 'an integer from 0 to 65535');
  check('responseTokens', o.responseTokens, Number.isInteger(o.responseTokens) && o.responseTokens >= 0, 'an integer >= 0');
  check('ttftMs', o.ttftMs, o.ttftMs >= 0 && Number.isFinite(o.ttftMs), 'a number of milliseconds >= 0');
  check('tokensPerSecond', o.tokensPerSecond, o.tokensPerSecond >= 0, 'a number >= 0 (0 or Infinity: no delay)');
  check('failRate', o.failRate, o.failRate >= 0 && o.failRate <= 1, 'a fraction from 0 to 1');
  check('retryAfterSeconds', o.retryAfterSeconds, Number.isInteger(o.retryAfterSeconds) && o.retryAfterSeconds >= 0, 'an integer >= 0');
  check('slowHeadersMs', o.slowHeadersMs, o.slowHeadersMs >= 0 && Number.isFinite(o.slowHeadersMs), 'a number of milliseconds >= 0');
  check('resetAfterChunks', o.resetAfterChunks, Number.isInteger(o.resetAfterChunks) && o.resetAfterChunks >= 0, 'an integer >= 0');
  check('seed', o.seed, Number.isInteger(o.seed), 'an integer');
  check('historySize', o.historySize, Number.isInteger(o.historySize) && o.historySize >= 0, 'an integer >= 0');
  check('maxConcurrency', o.maxConcurrency, Number.isInteger(o.maxConcurrency) && o.maxConcurrency >= 0, 'an integer >= 0 (0: no limit)');
  return o;
}
