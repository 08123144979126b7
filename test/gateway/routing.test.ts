// Routing through a real gateway to the real mock: the x-switchboard-* headers, weighted
// balancing, retries, fallbacks, cooldown and per-try timeouts. Failing upstreams are made with
// the mock's x-mock-fault header set as a static header on one deployment.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { APIError } from 'openai';
import { APIError as AnthropicAPIError } from '@anthropic-ai/sdk';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { MASTER_KEY, deployment, gatewayConfig, startTestGateway, startTestMock, upstreamCount, type TestGateway } from '../support/stack.js';

let mock: MockServer;
let gw: TestGateway;

const fault = (spec: string): { headers: Record<string, string> } => ({ headers: { 'x-mock-fault': spec } });
const cheap = { pricing: { inputPerMillion: 0, outputPerMillion: 0 } };
const dear = { pricing: { inputPerMillion: 10, outputPerMillion: 10 } };
const hi = [{ role: 'user' as const, content: 'hi' }];

beforeAll(async () => {
  mock = await startTestMock();
  gw = await startTestGateway(
    gatewayConfig(
      [
        {
          name: 'split',
          strategy: 'weighted',
          deployments: [deployment(mock, 'split-a', 'openai', { weight: 3 }), deployment(mock, 'split-b', 'openai-compatible', { weight: 1 })],
        },
        { name: 'flaky', fallbacks: ['steady'], deployments: [deployment(mock, 'flaky-up', 'openai', fault('500'))] },
        { name: 'steady', deployments: [deployment(mock, 'steady-up', 'openai')] },
        // lowest-cost makes the failing (cheap) deployment the first pick, every time it is eligible.
        {
          name: 'limited',
          strategy: 'lowest-cost',
          deployments: [deployment(mock, 'limited-429', 'openai', { ...cheap, ...fault('429:1') }), deployment(mock, 'limited-ok', 'openai', dear)],
        },
        {
          name: 'limited-long',
          strategy: 'lowest-cost',
          deployments: [deployment(mock, 'long-429', 'openai', { ...cheap, ...fault('429:10') }), deployment(mock, 'long-ok', 'openai', dear)],
        },
        {
          name: 'cool',
          strategy: 'lowest-cost',
          deployments: [deployment(mock, 'cool-bad', 'openai', { ...cheap, ...fault('500') }), deployment(mock, 'cool-good', 'openai', dear)],
        },
        {
          name: 'miskeyed',
          strategy: 'lowest-cost',
          deployments: [
            deployment(mock, 'miskeyed-bad', 'openai', { ...cheap, credentials: { env: 'WRONG_UPSTREAM_KEY' } }),
            deployment(mock, 'miskeyed-ok', 'openai', dear),
          ],
        },
        { name: 'down', deployments: [deployment(mock, 'down-up', 'openai', fault('500'))] },
        { name: 'cut', deployments: [deployment(mock, 'cut-up', 'openai', fault('reset:2'))] },
        // A cut stream counts as a failure: a second alias keeps the Anthropic case off cut-up's cooldown.
        { name: 'cut-again', deployments: [deployment(mock, 'cut-again-up', 'openai', fault('reset:2'))] },
        {
          name: 'slow',
          strategy: 'lowest-cost',
          deployments: [deployment(mock, 'slow-hang', 'openai', { ...cheap, ...fault('hang') }), deployment(mock, 'slow-ok', 'openai', dear)],
        },
        {
          name: 'slow-again',
          strategy: 'lowest-cost',
          deployments: [deployment(mock, 'slow-again-hang', 'openai', { ...cheap, ...fault('hang') }), deployment(mock, 'slow-again-ok', 'openai', dear)],
        },
      ],
      {
        timeouts: { connect: '1s', firstByte: '300ms', total: '10s' },
        retries: { maxAttempts: 2, backoff: '10ms', maxRetryAfter: '2s' },
        cooldown: { failureThreshold: 2, duration: '30s' },
      },
    ),
    { env: { WRONG_UPSTREAM_KEY: 'sk-not-the-upstream-key' } },
  );
});

afterAll(async () => {
  await gw?.close();
  await mock?.close();
});

describe('routing headers', () => {
  it('reports the alias, the deployment, the reason and the config hash on every answer', async () => {
    const response = await gw
      .openai()
      .chat.completions.create({ model: 'steady', messages: hi }, { headers: { 'x-request-id': 'trace-me-1' } })
      .asResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-switchboard-model')).toBe('steady');
    expect(response.headers.get('x-switchboard-deployment')).toBe('steady-up');
    expect(response.headers.get('x-switchboard-route-reason')).toBe('weighted');
    expect(response.headers.get('x-switchboard-config-hash')).toBe(gw.running.config.current().hash);
    expect(response.headers.get('x-request-id')).toBe('trace-me-1');
    // The upstream saw the same request id.
    const seen = (await (await fetch(`${mock.url}/mock/stats`)).json()) as { recent: { headers: Record<string, string> }[] };
    expect(seen.recent.some((r) => r.headers['x-request-id'] === 'trace-me-1')).toBe(true);
  });

  it('puts the routing headers on streamed answers too', async () => {
    const { data, response } = await gw.openai().chat.completions.create({ model: 'steady', stream: true, messages: hi }).withResponse();
    for await (const _chunk of data) void _chunk;
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(response.headers.get('x-switchboard-deployment')).toBe('steady-up');
  });
});

describe('deployment faults', () => {
  it('moves on when an upstream rejects the deployment\'s own key, instead of blaming the client', async () => {
    const response = await gw.openai().chat.completions.create({ model: 'miskeyed', messages: hi }).asResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-switchboard-deployment')).toBe('miskeyed-ok');
    expect(response.headers.get('x-switchboard-route-reason')).toMatch(/^retry \(miskeyed-bad 401\)/);
  });
});

describe('weighted balancing', () => {
  it('splits traffic roughly 3:1 over 200 requests', async () => {
    const served: Record<string, number> = {};
    const client = gw.openai();
    for (let batch = 0; batch < 10; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 20 }, () => client.chat.completions.create({ model: 'split', max_tokens: 1, messages: hi }).asResponse()),
      );
      for (const r of responses) {
        const name = r.headers.get('x-switchboard-deployment') ?? 'none';
        served[name] = (served[name] ?? 0) + 1;
        await r.body?.cancel();
      }
    }
    expect((served['split-a'] ?? 0) + (served['split-b'] ?? 0)).toBe(200);
    // Expected share 0.75, standard deviation ~0.03: [0.62, 0.88] is more than 4 sigma each way.
    const share = (served['split-a'] ?? 0) / 200;
    expect(share).toBeGreaterThan(0.62);
    expect(share).toBeLessThan(0.88);
    expect(await upstreamCount(mock, 'split-a-model')).toBe(served['split-a']);
    expect(await upstreamCount(mock, 'split-b-model')).toBe(served['split-b']);
  });
});

describe('failures', () => {
  it('falls back to the next alias when every deployment of the first fails, and says so', async () => {
    const { data, response } = await gw.openai().chat.completions.create({ model: 'flaky', messages: hi }).withResponse();
    expect(data.choices[0]!.message.content).toBeTruthy();
    expect(response.headers.get('x-switchboard-model')).toBe('steady');
    expect(response.headers.get('x-switchboard-deployment')).toBe('steady-up');
    expect(response.headers.get('x-switchboard-route-reason')).toMatch(/^fallback from flaky \(flaky-up 500/);
  });

  it('retries a 429 on another deployment after waiting the Retry-After the upstream sent', async () => {
    const started = Date.now();
    const response = await gw.openai().chat.completions.create({ model: 'limited', messages: hi }).asResponse();
    const elapsed = Date.now() - started;
    expect(response.status).toBe(200);
    expect(response.headers.get('x-switchboard-deployment')).toBe('limited-ok');
    expect(response.headers.get('x-switchboard-route-reason')).toBe('retry (limited-429 429); lowest-cost');
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(await upstreamCount(mock, 'limited-429-model')).toBe(1);
  });

  it('moves on at once when the Retry-After is longer than retries.maxRetryAfter, and skips that deployment until then', async () => {
    const started = Date.now();
    const response = await gw.openai().chat.completions.create({ model: 'limited-long', messages: hi }).asResponse();
    expect(Date.now() - started).toBeLessThan(900);
    expect(response.headers.get('x-switchboard-deployment')).toBe('long-ok');
    expect(response.headers.get('x-switchboard-route-reason')).toBe('retry (long-429 429); lowest-cost');
    const again = await gw.openai().chat.completions.create({ model: 'limited-long', messages: hi }).asResponse();
    expect(again.headers.get('x-switchboard-route-reason')).toBe('lowest-cost');
    expect(await upstreamCount(mock, 'long-429-model')).toBe(1);
  });

  it('stops trying a deployment once it reaches the failure threshold (cooldown)', async () => {
    const reasons: (string | null)[] = [];
    for (let i = 0; i < 6; i++) {
      const response = await gw.openai().chat.completions.create({ model: 'cool', messages: hi }).asResponse();
      expect(response.headers.get('x-switchboard-deployment')).toBe('cool-good');
      reasons.push(response.headers.get('x-switchboard-route-reason'));
    }
    expect(reasons).toEqual([
      'retry (cool-bad 500); lowest-cost',
      'retry (cool-bad 500); lowest-cost',
      'lowest-cost',
      'lowest-cost',
      'lowest-cost',
      'lowest-cost',
    ]);
    // failureThreshold: 2 — the mock saw exactly two requests for the failing deployment.
    expect(await upstreamCount(mock, 'cool-bad-model')).toBe(2);
    expect(await upstreamCount(mock, 'cool-good-model')).toBe(6);
  });

  it('answers 503 with Retry-After when every deployment is cooling down', async () => {
    const client = gw.openai();
    const first = await client.chat.completions.create({ model: 'down', messages: hi }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(APIError);
    expect((first as APIError).status).toBe(502);
    expect((first as APIError).code).toBe('upstream_failed');
    expect((first as APIError).message).toContain('down-up: 500');

    const second = await client.chat.completions.create({ model: 'down', messages: hi }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(APIError);
    const error = second as APIError;
    expect(error.status).toBe(503);
    expect(error.code).toBe('no_healthy_deployment');
    expect(error.message).toContain("Every deployment of model 'down' is cooling down.");
    const retryAfter = Number(error.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(25);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(await upstreamCount(mock, 'down-up-model')).toBe(2);
  });

  it('gives up on a deployment that sends no headers within timeouts.firstByte and moves to another', async () => {
    const started = Date.now();
    const { data, response } = await gw.openai().chat.completions.create({ model: 'slow', messages: hi }).withResponse();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(data.choices[0]!.message.content).toBeTruthy();
    expect(response.headers.get('x-switchboard-deployment')).toBe('slow-ok');
    expect(response.headers.get('x-switchboard-route-reason')).toBe('retry (slow-hang first-byte timeout); lowest-cost');
  });

  // BUG (reported): upstream.ts passes timeouts.firstByte to undici's headersTimeout, whose timer
  // has a one-second resolution, so a 300 ms limit fires after ~1 s. Remove .failing once fixed.
  it('fires the per-try first-byte timeout within 250 ms of timeouts.firstByte', async () => {
    const started = Date.now();
    const response = await gw.openai().chat.completions.create({ model: 'slow-again', messages: hi }).asResponse();
    expect(response.headers.get('x-switchboard-deployment')).toBe('slow-again-ok');
    expect(Date.now() - started).toBeLessThan(300 + 250);
  });
});

describe('a stream cut mid-way', () => {
  it('ends an OpenAI stream with a well-formed error event and [DONE], never truncated JSON', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'cut', stream: true, messages: hi }),
    });
    expect(res.status).toBe(200);
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    const payloads = events.slice(0, -1).map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      return JSON.parse(e.slice(6)) as { error?: { code: string; type: string; message: string } };
    });
    expect(payloads.length).toBeGreaterThan(1);
    expect(payloads.at(-1)!.error).toMatchObject({ type: 'api_error', code: 'stream_interrupted', message: expect.stringContaining('upstream stream interrupted') });
  });

  it('makes the openai client throw an APIError after the chunks that did arrive', async () => {
    const stream = await gw.openai().chat.completions.create({ model: 'cut', stream: true, messages: hi });
    let chunks = 0;
    const error = await (async () => {
      for await (const _chunk of stream) chunks++;
    })().catch((e: unknown) => e);
    expect(chunks).toBeGreaterThan(0);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).message).toContain('upstream stream interrupted');
  });

  it('ends a translated Anthropic stream with an error event the Anthropic client raises', async () => {
    const stream = gw.anthropic().messages.stream({ model: 'cut-again', max_tokens: 50, messages: hi });
    const error = await stream.finalMessage().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AnthropicAPIError);
    expect((error as AnthropicAPIError).message).toContain('upstream stream interrupted');
  });
});
