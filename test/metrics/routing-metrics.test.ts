// The admin /metrics of a real gateway in front of the real mock, after requests that are
// served, retried, fall back, picked by a learned router, meet a cooling or rate-limited
// deployment, are cut mid-stream or are refused by admission:
// requests by route class, routing decisions, upstream tries and failures by class, tokens,
// cost from the config prices and the mock's usage, latency and time-to-first-token histograms,
// and the circuit breaker gauge. Failing upstreams are made with the mock's x-mock-fault header.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { MASTER_KEY, deployment, gatewayConfig, sha256Hex, startTestGateway, startTestMock, waitFor, type TestGateway } from '../support/stack.js';
import { trainArtifact } from '../learned-routing/fixtures.js';
import { scrape, total, type Sample } from './scrape.js';

let mock: MockServer;
let gw: TestGateway;

const fault = (spec: string): { headers: Record<string, string> } => ({ headers: { 'x-mock-fault': spec } });
const price = (inputPerMillion: number, outputPerMillion: number): { pricing: { inputPerMillion: number; outputPerMillion: number } } => ({
  pricing: { inputPerMillion, outputPerMillion },
});
const PRICES = { chat: price(3, 15), stream: price(2, 8), good: price(0.5, 1.5), backup: price(1, 4), limited: price(5, 5) };
const hi = [{ role: 'user' as const, content: 'hi there' }];
/** A client key allowed one request per minute: its second is refused by admission. */
const QUOTA_KEY = 'sk-quota-test';

beforeAll(async () => {
  mock = await startTestMock();
  gw = await startTestGateway(undefined, {
    render: (dir) => {
      // A kNN router that sends code questions to model-a and the rest to model-b.
      writeFileSync(join(dir, 'router.art'), trainArtifact(false).bytes);
      return gatewayConfig(
        [
          { name: 'chat', deployments: [deployment(mock, 'chat-a', 'openai', PRICES.chat)] },
          { name: 'streamed', deployments: [deployment(mock, 'streamed-a', 'openai', PRICES.stream)] },
          // lowest-cost makes the failing (cheaper) deployment the first pick.
          {
            name: 'flaky',
            strategy: 'lowest-cost',
            deployments: [deployment(mock, 'flaky-bad', 'openai', { ...price(0.1, 0.1), ...fault('500') }), deployment(mock, 'flaky-good', 'openai', PRICES.good)],
          },
          { name: 'primary', fallbacks: ['backup'], deployments: [deployment(mock, 'primary-bad', 'openai', fault('500'))] },
          { name: 'backup', deployments: [deployment(mock, 'backup-ok', 'openai', PRICES.backup)] },
          { name: 'cool', deployments: [deployment(mock, 'cool-bad', 'openai', fault('500'))] },
          { name: 'limited', deployments: [deployment(mock, 'limited-a', 'openai', { ...PRICES.limited, limits: { rpm: 1 } })] },
          { name: 'cut', deployments: [deployment(mock, 'cut-a', 'openai', fault('reset:2'))] },
          {
            name: 'routed',
            deployments: [deployment(mock, 'routed-coder', 'openai'), deployment(mock, 'routed-chatty', 'openai')],
            router: { artifact: { file: join(dir, 'router.art') }, candidates: { 'model-a': 'routed-coder', 'model-b': 'routed-chatty' } },
          },
        ],
        {
          retries: { maxAttempts: 2, backoff: '10ms', maxRetryAfter: '2s' },
          // One failure opens a deployment's circuit, so a retry after it meets a cooling deployment.
          cooldown: { failureThreshold: 1, duration: '60s' },
          auth: { masterKey: { env: 'SWITCHBOARD_MASTER_KEY' }, clientKeys: [{ name: 'quota', sha256: sha256Hex(QUOTA_KEY) }] },
          shedding: { clients: [{ key: 'quota', requestsPerMinute: 1 }] },
        },
      );
    },
  });
});

afterAll(async () => {
  await gw?.close();
  await mock?.close();
});

/** Scrapes once every request sent so far has been recorded (in-flight back to 0). */
async function settled(): Promise<Sample[]> {
  return waitFor('no request in flight', async () => {
    const { samples } = await scrape(gw.adminUrl);
    return total(samples, 'switchboard_in_flight_requests') === 0 ? samples : undefined;
  });
}

function usd(pricing: { inputPerMillion: number; outputPerMillion: number }, usage: { prompt_tokens: number; completion_tokens: number }): number {
  return (usage.prompt_tokens * pricing.inputPerMillion + usage.completion_tokens * pricing.outputPerMillion) / 1e6;
}

async function post(model: string, body: Record<string, unknown> = {}, key = MASTER_KEY): Promise<Response> {
  return fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: hi, ...body }),
  });
}

describe('switchboard metrics on the admin port', () => {
  it('counts served requests by model, deployment, route class and status, with tokens and cost from the deployment prices', async () => {
    const usages = [];
    for (let i = 0; i < 2; i++) {
      const completion = await gw.openai().chat.completions.create({ model: 'chat', messages: hi });
      usages.push(completion.usage!);
    }
    const samples = await settled();
    expect(total(samples, 'switchboard_requests_total', { model: 'chat', deployment: 'chat-a', operation: 'chat', route: 'rule', status: '200' })).toBe(2);
    expect(total(samples, 'switchboard_routing_decisions_total', { model: 'chat', deployment: 'chat-a', reason: 'rule' })).toBe(2);
    expect(total(samples, 'switchboard_upstream_tries_total', { deployment: 'chat-a' })).toBe(2);
    expect(total(samples, 'switchboard_upstream_failures_total', { deployment: 'chat-a' })).toBe(0);
    const input = usages.reduce((n, u) => n + u.prompt_tokens, 0);
    const output = usages.reduce((n, u) => n + u.completion_tokens, 0);
    expect(input).toBeGreaterThan(0);
    expect(output).toBeGreaterThan(0);
    expect(total(samples, 'switchboard_tokens_total', { model: 'chat', direction: 'input' })).toBe(input);
    expect(total(samples, 'switchboard_tokens_total', { model: 'chat', direction: 'output' })).toBe(output);
    const cost = usages.reduce((n, u) => n + usd(PRICES.chat.pricing, u), 0);
    expect(total(samples, 'switchboard_cost_usd_total', { model: 'chat', deployment: 'chat-a' })).toBeCloseTo(cost, 12);
    expect(total(samples, 'switchboard_request_duration_seconds_count', { model: 'chat', operation: 'chat' })).toBe(2);
    // Read from the health registry at scrape time: what the balancer sees.
    expect(total(samples, 'switchboard_deployment_first_byte_ewma_seconds', { model: 'chat', deployment: 'chat-a' })).toBeGreaterThan(0);
    expect(total(samples, 'switchboard_deployment_in_flight_requests', { model: 'chat', deployment: 'chat-a' })).toBe(0);
    // Not streamed: no time to first token.
    expect(total(samples, 'switchboard_time_to_first_token_seconds_count', { model: 'chat' })).toBe(0);
  });

  it('observes time to first token for a streamed request, in a histogram whose +Inf bucket equals its count', async () => {
    const stream = await gw.openai().chat.completions.create({ model: 'streamed', messages: hi, stream: true, stream_options: { include_usage: true } });
    let usage;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage).toBeDefined();
    const samples = await settled();
    expect(total(samples, 'switchboard_time_to_first_token_seconds_count', { model: 'streamed', operation: 'chat' })).toBe(1);
    expect(total(samples, 'switchboard_time_to_first_token_seconds_bucket', { model: 'streamed', le: '+Inf' })).toBe(1);
    const ttft = total(samples, 'switchboard_time_to_first_token_seconds_sum', { model: 'streamed' });
    expect(ttft).toBeGreaterThan(0);
    expect(ttft).toBeLessThanOrEqual(total(samples, 'switchboard_request_duration_seconds_sum', { model: 'streamed' }));
    expect(total(samples, 'switchboard_cost_usd_total', { deployment: 'streamed-a' })).toBeCloseTo(usd(PRICES.stream.pricing, usage!), 12);
  });

  it('counts the failed try by failure class, the cooling deployment the retry skipped, and the retry that answered', async () => {
    const { data, response } = await gw.openai().chat.completions.create({ model: 'flaky', messages: hi }).withResponse();
    expect(response.headers.get('x-switchboard-deployment')).toBe('flaky-good');
    expect(response.headers.get('x-switchboard-route-reason')).toMatch(/^retry \(flaky-bad 500\)/);
    const samples = await settled();
    expect(total(samples, 'switchboard_requests_total', { model: 'flaky', deployment: 'flaky-good', route: 'retry', status: '200' })).toBe(1);
    expect(total(samples, 'switchboard_routing_decisions_total', { model: 'flaky', deployment: 'flaky-bad', reason: 'rule' })).toBe(1);
    expect(total(samples, 'switchboard_routing_decisions_total', { model: 'flaky', deployment: 'flaky-bad', reason: 'cooldown-skip' })).toBe(1);
    expect(total(samples, 'switchboard_routing_decisions_total', { model: 'flaky', deployment: 'flaky-good', reason: 'retry' })).toBe(1);
    expect(total(samples, 'switchboard_upstream_tries_total', { deployment: 'flaky-bad' })).toBe(1);
    expect(total(samples, 'switchboard_upstream_tries_total', { deployment: 'flaky-good' })).toBe(1);
    expect(total(samples, 'switchboard_upstream_failures_total', { deployment: 'flaky-bad', reason: 'http-5xx' })).toBe(1);
    // Only the deployment that answered is charged.
    expect(total(samples, 'switchboard_cost_usd_total', { deployment: 'flaky-bad' })).toBe(0);
    expect(total(samples, 'switchboard_cost_usd_total', { model: 'flaky', deployment: 'flaky-good' })).toBeCloseTo(usd(PRICES.good.pricing, data.usage!), 12);
  });

  it('counts a fallback to the next alias under that alias, and its cost at the fallback deployment prices', async () => {
    const { data, response } = await gw.openai().chat.completions.create({ model: 'primary', messages: hi }).withResponse();
    expect(response.headers.get('x-switchboard-model')).toBe('backup');
    expect(response.headers.get('x-switchboard-route-reason')).toMatch(/^fallback from primary/);
    const samples = await settled();
    expect(total(samples, 'switchboard_requests_total', { model: 'backup', deployment: 'backup-ok', route: 'fallback', status: '200' })).toBe(1);
    expect(total(samples, 'switchboard_routing_decisions_total', { model: 'primary', deployment: 'primary-bad', reason: 'rule' })).toBe(1);
    expect(total(samples, 'switchboard_routing_decisions_total', { model: 'primary', deployment: 'primary-bad', reason: 'cooldown-skip' })).toBe(1);
    expect(total(samples, 'switchboard_routing_decisions_total', { model: 'backup', deployment: 'backup-ok', reason: 'fallback' })).toBe(1);
    expect(total(samples, 'switchboard_upstream_failures_total', { deployment: 'primary-bad', reason: 'http-5xx' })).toBe(1);
    expect(total(samples, 'switchboard_cost_usd_total', { model: 'backup', deployment: 'backup-ok' })).toBeCloseTo(usd(PRICES.backup.pricing, data.usage!), 12);
  });

  it('skips a cooling deployment, answers 503, and shows its circuit breaker open while the others stay closed', async () => {
    expect((await post('cool')).status).toBe(502);
    const refused = await post('cool');
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const samples = await settled();
    // First request: the try failed (rule), then its retry found the deployment cooling; second: cooling from the start.
    expect(total(samples, 'switchboard_routing_decisions_total', { model: 'cool', deployment: 'cool-bad', reason: 'rule' })).toBe(1);
    expect(total(samples, 'switchboard_routing_decisions_total', { model: 'cool', deployment: 'cool-bad', reason: 'cooldown-skip' })).toBe(2);
    expect(total(samples, 'switchboard_upstream_tries_total', { deployment: 'cool-bad' })).toBe(1);
    // Nothing answered: counted under the alias, with no deployment.
    expect(total(samples, 'switchboard_requests_total', { model: 'cool', deployment: '', route: 'rule', status: '502' })).toBe(1);
    expect(total(samples, 'switchboard_requests_total', { model: 'cool', deployment: '', route: 'cooldown-skip', status: '503' })).toBe(1);
    expect(total(samples, 'switchboard_circuit_breaker_open', { model: 'cool', deployment: 'cool-bad' })).toBe(1);
    expect(total(samples, 'switchboard_circuit_breaker_open', { model: 'chat', deployment: 'chat-a' })).toBe(0);
    // Every deployment of the config has a series, tried or not.
    expect(samples.filter((s) => s.name === 'switchboard_circuit_breaker_open').map((s) => s.labels.deployment).sort()).toEqual(
      ['backup-ok', 'chat-a', 'cool-bad', 'cut-a', 'flaky-bad', 'flaky-good', 'limited-a', 'primary-bad', 'routed-chatty', 'routed-coder', 'streamed-a'],
    );
  });

  it('counts a deployment at its rate limit as a limit-skip and the 429 under that route class', async () => {
    expect((await post('limited')).status).toBe(200);
    expect((await post('limited')).status).toBe(429);
    const samples = await settled();
    expect(total(samples, 'switchboard_routing_decisions_total', { model: 'limited', deployment: 'limited-a', reason: 'rule' })).toBe(1);
    expect(total(samples, 'switchboard_routing_decisions_total', { model: 'limited', deployment: 'limited-a', reason: 'limit-skip' })).toBe(1);
    expect(total(samples, 'switchboard_requests_total', { model: 'limited', deployment: '', route: 'limit-skip', status: '429' })).toBe(1);
    expect(total(samples, 'switchboard_circuit_breaker_open', { deployment: 'limited-a' })).toBe(0);
  });

  it('counts a stream the upstream cut after it reached the client as a mid-stream failure of an answered request', async () => {
    const text = await (await post('cut', { stream: true })).text();
    expect(text).toContain('stream_interrupted');
    const samples = await settled();
    expect(total(samples, 'switchboard_requests_total', { model: 'cut', deployment: 'cut-a', route: 'rule', status: '200' })).toBe(1);
    expect(total(samples, 'switchboard_upstream_failures_total', { deployment: 'cut-a', reason: 'mid-stream' })).toBe(1);
    expect(total(samples, 'switchboard_time_to_first_token_seconds_count', { model: 'cut' })).toBe(1);
  });

  it('counts the first pick of an alias with a learned router as learned', async () => {
    const { response } = await gw.openai().chat.completions.create({ model: 'routed', messages: [{ role: 'user', content: 'write code for sorting a list' }] }).withResponse();
    expect(response.headers.get('x-switchboard-deployment')).toBe('routed-coder');
    expect(response.headers.get('x-switchboard-route-reason')).toMatch(/^learned knn/);
    const samples = await settled();
    expect(total(samples, 'switchboard_routing_decisions_total', { model: 'routed', deployment: 'routed-coder', reason: 'learned' })).toBe(1);
    expect(total(samples, 'switchboard_routing_decisions_total', { model: 'routed', reason: 'rule' })).toBe(0);
    expect(total(samples, 'switchboard_requests_total', { model: 'routed', deployment: 'routed-coder', route: 'learned', status: '200' })).toBe(1);
  });

  it('counts a request refused by admission as a shed decision with no model or deployment, next to switchboard_shed_total', async () => {
    expect((await post('chat', {}, QUOTA_KEY)).status).toBe(200);
    expect((await post('chat', {}, QUOTA_KEY)).status).toBe(429);
    const samples = await settled();
    expect(total(samples, 'switchboard_routing_decisions_total', { model: '', deployment: '', reason: 'shed' })).toBe(1);
    expect(total(samples, 'switchboard_routing_decisions_total', { reason: 'shed' })).toBe(1);
    expect(total(samples, 'switchboard_requests_total', { model: '', route: 'shed', status: '429' })).toBe(1);
    expect(total(samples, 'switchboard_shed_total', { reason: 'request_quota' })).toBe(1);
  });

  it('never puts the free-text route reason in a label, and types every routing metric', async () => {
    const { text, samples } = await scrape(gw.adminUrl);
    const routes = new Set(samples.filter((s) => s.name === 'switchboard_requests_total').map((s) => s.labels.route));
    for (const route of routes) expect(['rule', 'learned', 'retry', 'fallback', 'cooldown-skip', 'limit-skip', 'shed', 'none']).toContain(route);
    expect(text).not.toMatch(/fallback from|retry \(/);
    for (const [name, type] of [
      ['switchboard_requests_total', 'counter'],
      ['switchboard_routing_decisions_total', 'counter'],
      ['switchboard_upstream_tries_total', 'counter'],
      ['switchboard_upstream_failures_total', 'counter'],
      ['switchboard_cost_usd_total', 'counter'],
      ['switchboard_request_duration_seconds', 'histogram'],
      ['switchboard_time_to_first_token_seconds', 'histogram'],
      ['switchboard_circuit_breaker_open', 'gauge'],
      ['switchboard_deployment_in_flight_requests', 'gauge'],
      ['switchboard_deployment_first_byte_ewma_seconds', 'gauge'],
    ]) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} ${type}$`, 'm'));
    }
  });
});
