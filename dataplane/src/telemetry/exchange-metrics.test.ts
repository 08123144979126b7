import { describe, expect, it } from '@jest/globals';
import type { Deployment } from '@switchboard/crds/runtime';
import type { DeploymentTarget } from '../config/runtime-state.js';
import type { ExchangeResult } from '../pipeline/exchange.js';
import { ExchangeMetrics } from './exchange-metrics.js';
import { GatewayMetrics } from './metrics.js';

function target(alias: string, name: string, pricing?: Deployment['pricing']): DeploymentTarget {
  return { name, alias, config: { name, pricing } as Deployment, provider: undefined!, apiKey: undefined };
}

/** The value of one sample of a metric, 0 when the labels have none. */
async function sample(metrics: GatewayMetrics, name: string, labels: Record<string, string>): Promise<number> {
  // Histogram samples (_bucket, _sum, _count) belong to the metric without the suffix.
  const metric = metrics.registry.getSingleMetric(name) ?? metrics.registry.getSingleMetric(name.replace(/_(bucket|sum|count)$/, ''));
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  const found = values.find(
    (v) => ((v as { metricName?: string }).metricName ?? name) === name && Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
  );
  return found?.value ?? 0;
}

const primary = target('chat', 'primary', { inputPerMillion: 2, outputPerMillion: 10 });
const secondary = target('chat', 'secondary');
const backup = target('backup', 'backup-1', { inputPerMillion: 1, outputPerMillion: 1 });

describe('ExchangeMetrics', () => {
  it('counts a request served on the first pick: decision, try, tokens and cost from the deployment prices', async () => {
    const metrics = new GatewayMetrics();
    const started = performance.now();
    const result: ExchangeResult = {
      status: 200,
      alias: 'chat',
      deployment: 'primary',
      reason: 'weighted',
      attempts: 1,
      ttfbMs: 40,
      inputTokens: 1000,
      outputTokens: 500,
      route: 'rule',
      tries: [{ target: primary, route: 'rule' }],
      skipped: [],
      // Inside a bucket, not on its bound: started + 250 - started need not be exactly 250.
      firstChunkAt: started + 240,
    };
    new ExchangeMetrics(metrics).record('chat', result, started);

    expect(await sample(metrics, 'switchboard_requests_total', { model: 'chat', deployment: 'primary', operation: 'chat', route: 'rule', status: '200' })).toBe(1);
    expect(await sample(metrics, 'switchboard_routing_decisions_total', { model: 'chat', deployment: 'primary', reason: 'rule' })).toBe(1);
    expect(await sample(metrics, 'switchboard_upstream_tries_total', { deployment: 'primary' })).toBe(1);
    expect(await sample(metrics, 'switchboard_tokens_total', { model: 'chat', direction: 'input' })).toBe(1000);
    expect(await sample(metrics, 'switchboard_tokens_total', { model: 'chat', direction: 'output' })).toBe(500);
    expect(await sample(metrics, 'switchboard_cost_usd_total', { model: 'chat', deployment: 'primary' })).toBeCloseTo((1000 * 2 + 500 * 10) / 1e6, 12);
    expect(await sample(metrics, 'switchboard_time_to_first_token_seconds_sum', { model: 'chat', operation: 'chat' })).toBeCloseTo(0.24, 6);
    expect(await sample(metrics, 'switchboard_time_to_first_token_seconds_bucket', { model: 'chat', le: '0.25' })).toBe(1);
    expect(await sample(metrics, 'switchboard_time_to_first_token_seconds_bucket', { model: 'chat', le: '0.1' })).toBe(0);
  });

  it('counts every decision of a retry, a fallback and the skips, with each failed try by failure class', async () => {
    const metrics = new GatewayMetrics();
    const recorder = new ExchangeMetrics(metrics);
    recorder.record(
      'chat',
      {
        status: 200,
        alias: 'backup',
        deployment: 'backup-1',
        reason: 'fallback from chat (...)',
        attempts: 3,
        inputTokens: 10,
        outputTokens: 0,
        route: 'fallback',
        tries: [
          { target: primary, route: 'rule', failure: '503' },
          { target: secondary, route: 'retry', failure: 'connect ECONNREFUSED' },
          { target: backup, route: 'fallback' },
        ],
        skipped: [{ target: primary, route: 'cooldown-skip' }],
      },
      performance.now(),
    );

    for (const [deployment, model, reason] of [
      ['primary', 'chat', 'rule'],
      ['secondary', 'chat', 'retry'],
      ['backup-1', 'backup', 'fallback'],
      ['primary', 'chat', 'cooldown-skip'],
    ]) {
      expect(await sample(metrics, 'switchboard_routing_decisions_total', { model: model!, deployment: deployment!, reason: reason! })).toBe(1);
    }
    expect(await sample(metrics, 'switchboard_upstream_failures_total', { deployment: 'primary', reason: 'http-5xx' })).toBe(1);
    expect(await sample(metrics, 'switchboard_upstream_failures_total', { deployment: 'secondary', reason: 'connect-error' })).toBe(1);
    expect(await sample(metrics, 'switchboard_upstream_tries_total', { deployment: 'backup-1' })).toBe(1);
    // Only the answering deployment's prices apply; a non-streamed answer has no time to first token.
    expect(await sample(metrics, 'switchboard_cost_usd_total', { deployment: 'backup-1' })).toBeCloseTo(10 / 1e6, 12);
    expect(await sample(metrics, 'switchboard_cost_usd_total', { deployment: 'primary' })).toBe(0);
    expect((await metrics.timeToFirstToken.get()).values).toHaveLength(0);
  });

  it('counts nothing as cost for an unpriced deployment, and a give-up under the alias it skipped, with no deployment', async () => {
    const metrics = new GatewayMetrics();
    const recorder = new ExchangeMetrics(metrics);
    recorder.record('chat', { status: 200, alias: 'chat', deployment: 'secondary', reason: 'weighted', attempts: 1, inputTokens: 5, outputTokens: 5, route: 'rule', tries: [{ target: secondary, route: 'rule' }] }, performance.now());
    recorder.record('chat', { status: 503, reason: 'cooling down', attempts: 0, route: 'cooldown-skip', tries: [], skipped: [{ target: primary, route: 'cooldown-skip' }] }, performance.now());
    expect((await metrics.cost.get()).values).toHaveLength(0);
    expect(await sample(metrics, 'switchboard_requests_total', { model: 'chat', deployment: '', route: 'cooldown-skip', status: '503' })).toBe(1);
  });

  it('counts a shed request as a routing decision with no model or deployment', async () => {
    const metrics = new GatewayMetrics();
    new ExchangeMetrics(metrics).record('chat', { status: 503, reason: 'over capacity', attempts: 0, route: 'shed' }, performance.now());
    expect(await sample(metrics, 'switchboard_routing_decisions_total', { model: '', deployment: '', reason: 'shed' })).toBe(1);
    expect(await sample(metrics, 'switchboard_requests_total', { route: 'shed', status: '503' })).toBe(1);
  });

  it('keeps the sums off prom-client until a scrape, then publishes only what was added since the last one', async () => {
    const metrics = new GatewayMetrics();
    const recorder = new ExchangeMetrics(metrics);
    const served = (): void =>
      recorder.record('chat', { status: 200, alias: 'chat', deployment: 'primary', reason: 'weighted', attempts: 1, outputTokens: 1, route: 'rule', tries: [{ target: primary, route: 'rule' }] }, performance.now());
    for (let i = 0; i < 3; i++) served();
    expect(await sample(metrics, 'switchboard_routing_decisions_total', { deployment: 'primary', reason: 'rule' })).toBe(3);
    expect(await sample(metrics, 'switchboard_cost_usd_total', { deployment: 'primary' })).toBeCloseTo(30 / 1e6, 12);
    await metrics.registry.metrics();
    served();
    served();
    const text = await metrics.registry.metrics();
    expect(text).toContain('switchboard_requests_total{model="chat",deployment="primary",operation="chat",route="rule",status="200"} 5');
    expect(text).toContain('switchboard_tokens_total{model="chat",direction="output"} 5');
    expect(await sample(metrics, 'switchboard_upstream_tries_total', { deployment: 'primary' })).toBe(5);
  });

  it('adds the tokens of every deployment of an alias into the one series of that alias', async () => {
    const metrics = new GatewayMetrics();
    const recorder = new ExchangeMetrics(metrics);
    const other = target('chat', 'other');
    recorder.record('chat', { status: 200, alias: 'chat', deployment: 'primary', reason: 'weighted', attempts: 1, inputTokens: 4, route: 'rule', tries: [{ target: primary, route: 'rule' }] }, performance.now());
    recorder.record('chat', { status: 200, alias: 'chat', deployment: 'other', reason: 'weighted', attempts: 1, inputTokens: 6, route: 'rule', tries: [{ target: other, route: 'rule' }] }, performance.now());
    expect(await sample(metrics, 'switchboard_tokens_total', { model: 'chat', direction: 'input' })).toBe(10);
  });
});
