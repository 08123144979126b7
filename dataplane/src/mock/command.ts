// `switchboard mock`: runs the mock provider until SIGINT or SIGTERM.
import { parseArgs } from 'node:util';
import { startMock } from './server.js';
import type { MockOptions } from './options.js';

const USAGE = `usage: switchboard mock [options]

  --port N                 port to listen on (default 0: a free port)
  --host H                 interface to bind (default 127.0.0.1)
  --ttft-ms N              delay before the first content chunk, ms (default 0)
  --tokens-per-second N    generation speed; 0 = no delay between tokens (default 0)
  --response-tokens N      tokens per text reply; max_tokens caps it (default 16)
  --fail-rate X            fraction of requests answered with a 500, 0..1 (default 0)
  --retry-after S          Retry-After seconds sent with 429/503/529 (default 1)
  --slow-headers-ms N      header delay under the slow-headers fault (default 1000)
  --reset-after-chunks N   chunks sent before the reset fault cuts a stream (default 2)
  --fault SPEC             fault for every request, x-mock-fault syntax:
                           <status>[:seconds] | reset[:chunks] | slow-headers[:ms] | hang
  --api-key K              require this key (or set SWITCHBOARD_MOCK_API_KEY)
  --seed N                 PRNG seed for --fail-rate (default 1)
  --max-concurrency N      requests served at once; beyond it 429 + Retry-After (default 0: no limit)
  --stamp-events           begin each paced stream write with an SSE comment
                           ": stream-start=NS sent=NS" (monotonic clock, for benchmarks)
  -h, --help               show this help
`;

/** Where the command writes, and what stops it (tests pass an AbortSignal instead of signals). */
export interface MockCommandIo {
  out?: (text: string) => void;
  err?: (text: string) => void;
  stop?: AbortSignal;
}

type NumberKind = 'integer' | 'number' | 'fraction';

class FlagError extends Error {}

function numberFlag(flag: string, value: string | undefined, kind: NumberKind, min = 0, max = Infinity): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  const expected =
    kind === 'fraction' ? 'a number from 0 to 1' : kind === 'integer' ? `an integer from ${min}${max < Infinity ? ` to ${max}` : ''}` : `a number >= ${min}`;
  const ok = !Number.isNaN(n) && n >= min && n <= max && (kind !== 'integer' || Number.isInteger(n));
  if (!ok) throw new FlagError(`--${flag}: got "${value}"; expected ${expected}`);
  return n;
}

function parse(args: string[]): Partial<MockOptions> | 'help' {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'ttft-ms': { type: 'string' },
      'tokens-per-second': { type: 'string' },
      'response-tokens': { type: 'string' },
      'fail-rate': { type: 'string' },
      'retry-after': { type: 'string' },
      'slow-headers-ms': { type: 'string' },
      'reset-after-chunks': { type: 'string' },
      fault: { type: 'string' },
      'api-key': { type: 'string' },
      seed: { type: 'string' },
      'max-concurrency': { type: 'string' },
      'stamp-events': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  return {
    port: numberFlag('port', values.port, 'integer', 0, 65535),
    host: values.host,
    ttftMs: numberFlag('ttft-ms', values['ttft-ms'], 'number'),
    tokensPerSecond: numberFlag('tokens-per-second', values['tokens-per-second'], 'number'),
    responseTokens: numberFlag('response-tokens', values['response-tokens'], 'integer', 0),
    failRate: numberFlag('fail-rate', values['fail-rate'], 'fraction', 0, 1),
    retryAfterSeconds: numberFlag('retry-after', values['retry-after'], 'integer', 0),
    slowHeadersMs: numberFlag('slow-headers-ms', values['slow-headers-ms'], 'number'),
    resetAfterChunks: numberFlag('reset-after-chunks', values['reset-after-chunks'], 'integer', 0),
    fault: values.fault,
    apiKey: values['api-key'] ?? (process.env.SWITCHBOARD_MOCK_API_KEY || undefined),
    seed: numberFlag('seed', values.seed, 'integer', -2147483648, 4294967295),
    maxConcurrency: numberFlag('max-concurrency', values['max-concurrency'], 'integer', 0),
    stampEvents: values['stamp-events'],
  };
}

// Errors from node:util may come from another realm (jest's VM modules): no `instanceof Error`.
function messageOf(e: unknown): string {
  return typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string' ? e.message : String(e);
}

/** Waits for SIGINT/SIGTERM (or `stop`), whichever comes first. */
function stopped(stop: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      stop?.removeEventListener('abort', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (stop?.aborted) done();
    else stop?.addEventListener('abort', done);
  });
}

/** Runs `switchboard mock`; resolves to the exit code (2 for bad usage). */
export async function mockCommand(args: string[], io: MockCommandIo = {}): Promise<number> {
  const out = io.out ?? ((text: string) => void process.stdout.write(text));
  const err = io.err ?? ((text: string) => void process.stderr.write(text));
  let options: Partial<MockOptions> | 'help';
  try {
    options = parse(args);
  } catch (e) {
    err(`switchboard mock: ${messageOf(e)}\nrun "switchboard mock --help" for the flags\n`);
    return 2;
  }
  if (options === 'help') {
    out(USAGE);
    return 0;
  }
  let mock;
  try {
    mock = await startMock(options);
  } catch (e) {
    err(`switchboard mock: ${messageOf(e)}\n`);
    return e instanceof RangeError ? 2 : 1;
  }
  out(`mock listening on ${mock.url}\n`);
  await stopped(io.stop);
  await mock.close();
  return 0;
}
