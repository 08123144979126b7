// Limits that make a deployment ineligible, through a real gateway and the real mock: RPM and
// TPM windows (429 with Retry-After when every deployment is at its limit), context windows,
// operations a provider cannot serve, and the total deadline.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { APIError } from 'openai';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { deployment, gatewayConfig, startTestGateway, startTestMock, type TestGateway } from '../support/stack.js';

let mock: MockServer;
let gw: TestGateway;
const hi = [{ role: 'user' as const, content: 'hi' }];

beforeAll(async () => {
  mock = await startTestMock();
  gw = await startTestGateway(
    gatewayConfig(
      [
        { name: 'rpm', deployments: [deployment(mock, 'rpm-2', 'openai', { limits: { rpm: 2 } })] },
        {
          name: 'rpm-spill',
          strategy: 'lowest-cost',
          deployments: [
            deployment(mock, 'spill-cheap', 'openai', { limits: { rpm: 1 }, pricing: { inputPerMillion: 0, outputPerMillion: 0 } }),
            deployment(mock, 'spill-dear', 'openai', { pricing: { inputPerMillion: 5, outputPerMillion: 5 } }),
          ],
        },
        { name: 'tpm', deployments: [deployment(mock, 'tpm-small', 'openai', { limits: { tpm: 40 } })] },
        {
          name: 'context',
          deployments: [deployment(mock, 'ctx-small', 'openai', { contextWindow: 100 }), deployment(mock, 'ctx-large', 'openai', { contextWindow: 100_000 })],
        },
        { name: 'tiny', deployments: [deployment(mock, 'tiny-only', 'openai', { contextWindow: 10 })] },
        { name: 'claude', deployments: [deployment(mock, 'claude-only', 'anthropic')] },
        { name: 'slow', deployments: [deployment(mock, 'slow-up', 'openai', { headers: { 'x-mock-fault': 'slow-headers:3000' } })] },
      ],
      { timeouts: { connect: '1s', firstByte: '5s', total: '400ms' } },
    ),
  );
});

afterAll(async () => {
  await gw?.close();
  await mock?.close();
});

async function failure(promise: Promise<unknown>): Promise<APIError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof APIError) return error;
    throw error;
  }
  throw new Error('expected the request to fail');
}

describe('rate limits per deployment', () => {
  it('answers 429 with Retry-After once every deployment is at its RPM limit', async () => {
    const client = gw.openai();
    await client.chat.completions.create({ model: 'rpm', messages: hi });
    await client.chat.completions.create({ model: 'rpm', messages: hi });
    const error = await failure(client.chat.completions.create({ model: 'rpm', messages: hi }));
    expect(error.status).toBe(429);
    expect(error.code).toBe('rate_limit_exceeded');
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('spills over to another deployment when the preferred one is at its limit', async () => {
    const client = gw.openai();
    const first = await client.chat.completions.create({ model: 'rpm-spill', messages: hi }).asResponse();
    const second = await client.chat.completions.create({ model: 'rpm-spill', messages: hi }).asResponse();
    expect(first.headers.get('x-switchboard-deployment')).toBe('spill-cheap');
    expect(second.headers.get('x-switchboard-deployment')).toBe('spill-dear');
  });

  it('counts tokens against a TPM limit', async () => {
    const client = gw.openai();
    // The prompt is estimated at 15 tokens (bytes / 4) and the mock answers 16: after one answer
    // 31 of the 40-token minute are used, so a second request (15 more) does not fit.
    await client.chat.completions.create({ model: 'tpm', messages: hi });
    const error = await failure(client.chat.completions.create({ model: 'tpm', messages: hi }));
    expect(error.status).toBe(429);
  });
});

describe('eligibility by request', () => {
  it('skips a deployment whose context window is too small for the prompt plus max_tokens', async () => {
    const response = await gw.openai().chat.completions.create({ model: 'context', messages: hi, max_tokens: 500 }).asResponse();
    expect(response.headers.get('x-switchboard-deployment')).toBe('ctx-large');
  });

  it('answers 400 when no deployment has room for the request', async () => {
    const error = await failure(gw.openai().chat.completions.create({ model: 'tiny', messages: hi, max_tokens: 500 }));
    expect(error.status).toBe(400);
    expect(error.code).toBe('context_length_exceeded');
  });

  it('answers 400 for an operation the alias cannot serve (embeddings on Anthropic)', async () => {
    const error = await failure(gw.openai().embeddings.create({ model: 'claude', input: 'hi' }));
    expect(error.status).toBe(400);
    expect(error.code).toBe('unsupported_operation');
    expect(error.param).toBe('model');
  });
});

describe('total deadline', () => {
  it('answers 504 when the whole request outlives timeouts.total', async () => {
    const started = Date.now();
    const error = await failure(gw.openai().chat.completions.create({ model: 'slow', messages: hi }));
    expect(error.status).toBe(504);
    expect(error.code).toBe('deadline_exceeded');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
