import { describe, expect, it } from '@jest/globals';
import { FakeClock } from '../runtime/index.js';
import { LoadTracker, parseMetrics } from './load.js';

const exposition = (output: number, input: number, inflight: number): string => `# HELP switchboard_tokens_total Tokens processed.
# TYPE switchboard_tokens_total counter
switchboard_tokens_total{model="fast",direction="input"} ${input}
switchboard_tokens_total{model="fast",direction="output"} ${output}
switchboard_tokens_total{direction="output",model="smart"} 0
# TYPE switchboard_in_flight_requests gauge
switchboard_in_flight_requests ${inflight}
switchboard_in_flight_requests_other 99
`;

describe('parseMetrics', () => {
  it('sums output tokens over models, ignores input tokens and other series', () => {
    expect(parseMetrics(exposition(1234, 999, 7))).toEqual({ outputTokens: 1234, inflight: 7 });
    expect(parseMetrics('')).toEqual({ outputTokens: 0, inflight: 0 });
  });
});

describe('LoadTracker', () => {
  it('rates between scrapes, reuses the rate inside the window, treats a drop as a restart, counts failed pods', async () => {
    const clock = new FakeClock();
    const texts: Record<string, string> = { a: exposition(0, 0, 1), b: exposition(0, 0, 2) };
    let fail = false;
    const tracker = new LoadTracker({
      clock,
      targets: async () => [
        { pod: 'a', url: 'a' },
        { pod: 'b', url: 'b' },
      ],
      fetch: async (url) => {
        if (fail && url === 'b') throw new Error('refused');
        return texts[url]!;
      },
    });
    expect(await tracker.load('ns', 'gw')).toEqual({ tokensPerSecond: 0, inflight: 3, pods: 2, failed: 0 });
    texts.a = exposition(1000, 0, 1);
    texts.b = exposition(3000, 0, 2);
    await clock.advance(4000);
    expect(await tracker.load('ns', 'gw')).toMatchObject({ tokensPerSecond: 1000 });
    await clock.advance(100);
    expect(await tracker.load('ns', 'gw')).toMatchObject({ tokensPerSecond: 1000 });
    texts.a = exposition(500, 0, 0); // restarted
    fail = true;
    await clock.advance(900);
    expect(await tracker.load('ns', 'gw')).toEqual({ tokensPerSecond: 500, inflight: 0, pods: 1, failed: 1 });
  });
});
