// Per-key quotas on a real gateway in front of the real mock: a key over its requests or tokens
// per minute gets an immediate 429 with Retry-After in its client's error format (the official
// OpenAI and Anthropic SDKs parse it), while other keys are served.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startMock, type MockServer } from '../../dataplane/src/mock/server.js';
import { UPSTREAM_KEY, deployment, gatewayConfig, metricValue, sha256Hex, startTestGateway, type TestGateway } from '../support/stack.js';

const KEYS = { limited: 'sk-limited', tokens: 'sk-tokens', free: 'sk-free' };
let mock: MockServer;
let gateway: TestGateway;

beforeAll(async () => {
  mock = await startMock({ port: 0, apiKey: UPSTREAM_KEY, responseTokens: 8 });
  gateway = await startTestGateway(
    gatewayConfig([{ name: 'chat', deployments: [deployment(mock, 'openai-up', 'openai')] }], {
      auth: { masterKey: { env: 'SWITCHBOARD_MASTER_KEY' }, clientKeys: Object.entries(KEYS).map(([name, key]) => ({ name, sha256: sha256Hex(key) })) },
      shedding: {
        clients: [
          { key: 'limited', requestsPerMinute: 2 },
          { key: 'tokens', tokensPerMinute: 1000 },
        ],
      },
    }),
  );
});

afterAll(async () => {
  await gateway?.close();
  await mock?.close();
});

const ask = (client: OpenAI, maxTokens?: number) =>
  client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }) });

describe('per-key quotas', () => {
  it('answers 429 with Retry-After in the OpenAI format once a key is over its requests per minute', async () => {
    const limited = gateway.openai(KEYS.limited);
    await ask(limited);
    await ask(limited);
    const error = await ask(limited).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const rate = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(rate.status).toBe(429);
    expect(rate.code).toBe('client_quota_exceeded');
    expect(rate.type).toBe('rate_limit_exceeded');
    expect(rate.message).toContain('requests-per-minute quota');
    const retryAfter = Number(rate.headers?.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Another key is not affected, and the upstream never saw the refused request.
    await expect(ask(gateway.openai(KEYS.free))).resolves.toMatchObject({ object: 'chat.completion' });
    expect(await metricValue(gateway.adminUrl, 'switchboard_shed_total', { reason: 'request_quota', priority: 'standard' })).toBe(1);
  });

  it('answers 429 in the Anthropic format on /v1/messages', async () => {
    const limited = new Anthropic({ baseURL: gateway.url, apiKey: KEYS.limited, maxRetries: 0 });
    const error = await limited.messages.create({ model: 'chat', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const rate = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(rate.status).toBe(429);
    expect(rate.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(Number(rate.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('reserves prompt + max_tokens against tokens per minute and settles with actual usage', async () => {
    const tokens = gateway.openai(KEYS.tokens);
    // Reserves about 700 of 1000; the mock uses about 8 + the prompt, which is what stays counted.
    const first = await ask(tokens, 700);
    expect(first.usage!.total_tokens).toBeLessThan(100);
    // Without settlement this would not fit (700 + 700 > 1000); settled, it does.
    await ask(tokens, 700);
    // A reservation larger than what is left is refused at once.
    const error = await ask(tokens, 990).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).message).toContain('tokens-per-minute quota');
    expect(await metricValue(gateway.adminUrl, 'switchboard_shed_total', { reason: 'token_quota', priority: 'standard' })).toBe(1);
  });
});
