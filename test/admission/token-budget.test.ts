// Token-budget admission on a real gateway: a request reserves its prompt estimate + max_tokens
// against the replica's tokens in flight; past the budget the gateway answers 503 at once, and the
// reservation is given back when the request completes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startMock, type MockServer } from '../../dataplane/src/mock/server.js';
import { MASTER_KEY, UPSTREAM_KEY, deployment, gatewayConfig, metricValue, startTestGateway, waitFor, type TestGateway } from '../support/stack.js';

let mock: MockServer;
let gateway: TestGateway;

beforeAll(async () => {
  mock = await startMock({ port: 0, apiKey: UPSTREAM_KEY, ttftMs: 500 });
  gateway = await startTestGateway(
    gatewayConfig([{ name: 'chat', deployments: [deployment(mock, 'slow', 'openai')] }], {
      shedding: { tokenBudget: 1000, defaultMaxTokens: 2000, retryAfter: '3s' },
    }),
  );
});

afterAll(async () => {
  await gateway?.close();
  await mock?.close();
});

async function call(maxTokens?: number): Promise<{ status: number; retryAfter: string | null; body: unknown }> {
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }], ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }) }),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json() };
}

const inUse = (): Promise<number> => metricValue(gateway.adminUrl, 'switchboard_admission_token_budget_in_use');

describe('token budget', () => {
  it('refuses a request whose reservation does not fit with 503 and Retry-After, and frees the budget on completion', async () => {
    const held = call(800);
    // The reservation is the prompt estimate (body bytes / 4) plus max_tokens.
    const reserved = await waitFor('a reservation', async () => ((await inUse()) > 800 ? inUse() : undefined));
    expect(reserved).toBeLessThan(850);
    const refused = await call(300);
    expect(refused).toMatchObject({ status: 503, retryAfter: '3', body: { error: { code: 'gateway_overloaded' } } });
    // A smaller one still fits beside it.
    const fits = call(100);
    expect((await held).status).toBe(200);
    expect((await fits).status).toBe(200);
    expect(await inUse()).toBe(0);
    expect(await metricValue(gateway.adminUrl, 'switchboard_shed_total', { reason: 'token_budget', priority: 'standard' })).toBe(1);
  });

  it('reserves defaultMaxTokens for a request without max_tokens, and serves one larger than the budget alone', async () => {
    // 2000 reserved > the 1000 budget: admitted because nothing else is in flight.
    const alone = call();
    await waitFor('a reservation', async () => ((await inUse()) >= 2000 ? true : undefined));
    expect((await call(10)).status).toBe(503);
    expect((await alone).status).toBe(200);
  });
});
