import { describe, expect, it } from '@jest/globals';
import { configHash, GatewayConfigSpec, RuntimeConfig, type GatewayConfigSpecInput } from '@switchboard/crds';
import { CONFIG_KEY, RenderError, renderConfigText, renderRuntimeConfig } from './runtime-config.js';

const spec = (input: GatewayConfigSpecInput): GatewayConfigSpec => GatewayConfigSpec.parse(input);

const full: GatewayConfigSpecInput = {
  models: [
    {
      name: 'smart',
      strategy: 'lowest-latency',
      fallbacks: ['fast'],
      deployments: [
        {
          name: 'azure-4o',
          provider: 'azure',
          model: 'gpt-4o',
          baseUrl: 'https://example.openai.azure.com/openai',
          apiVersion: '2024-10-21',
          credentials: { secretKeyRef: { name: 'azure', key: 'key' } },
          weight: 2,
          limits: { rpm: 100, tpm: 50_000 },
          pricing: { inputPerMillion: 2.5, outputPerMillion: 10 },
          contextWindow: 128_000,
          headers: { 'x-team': 'search' },
        },
      ],
    },
    { name: 'fast', deployments: [{ name: 'local', provider: 'openai-compatible', model: 'llama', baseUrl: 'http://vllm:8000/v1' }] },
  ],
  routing: { strategy: 'least-inflight', routingModelRef: { name: 'picker' } },
  limits: { maxBodyBytes: 1_000_000 },
  timeouts: { connect: '2s', firstByte: '30s', total: '120s' },
  retries: { maxAttempts: 3, backoff: '50ms', maxRetryAfter: '2s' },
  cooldown: { failureThreshold: 5, duration: '10s' },
  auth: { masterKey: { secretKeyRef: { name: 'gw', key: 'master' } }, clientKeys: [{ name: 'team-a', sha256: 'a'.repeat(64), models: ['fast'] }] },
  shedding: { maxConcurrency: 10 },
  shutdown: { drainDelay: '3s', maxStreamDuration: '60s' },
  workload: { replicas: 3 },
};

describe('renderRuntimeConfig', () => {
  it('maps every runtime field of the spec', () => {
    expect(renderRuntimeConfig(spec(full))).toEqual({
      models: [
        {
          name: 'smart',
          strategy: 'lowest-latency',
          fallbacks: ['fast'],
          deployments: [
            {
              name: 'azure-4o',
              provider: 'azure',
              model: 'gpt-4o',
              baseUrl: 'https://example.openai.azure.com/openai',
              apiVersion: '2024-10-21',
              credentials: { secretKeyRef: { name: 'azure', key: 'key' } },
              weight: 2,
              limits: { rpm: 100, tpm: 50_000 },
              pricing: { inputPerMillion: 2.5, outputPerMillion: 10 },
              contextWindow: 128_000,
              headers: { 'x-team': 'search' },
            },
          ],
        },
        { name: 'fast', fallbacks: [], deployments: [{ name: 'local', provider: 'openai-compatible', model: 'llama', baseUrl: 'http://vllm:8000/v1', weight: 1 }] },
      ],
      routing: { strategy: 'least-inflight' },
      timeouts: { connect: '2s', firstByte: '30s', total: '120s' },
      retries: { maxAttempts: 3, backoff: '50ms', maxRetryAfter: '2s' },
      cooldown: { failureThreshold: 5, duration: '10s' },
      auth: { masterKey: { secretKeyRef: { name: 'gw', key: 'master' } }, clientKeys: [{ name: 'team-a', sha256: 'a'.repeat(64), models: ['fast'] }] },
      server: { maxBodyBytes: 1_000_000 },
      shedding: { maxConcurrency: 10, minConcurrency: 1, queue: { maxDepth: 0, timeout: '1s' }, retryAfter: '1s', defaultMaxTokens: 1024, clients: [] },
      shutdown: { drainDelay: '0s', maxStreamDuration: '60s', heartbeat: '15s' },
    });
  });

  it('renders priority classes as per-key priorities, classes, weights and quotas, with the budget and the guards', () => {
    const clientKeys = ['team-a', 'team-b', 'batch'].map((name, i) => ({ name, sha256: String(i).repeat(64) }));
    const config = renderRuntimeConfig(
      spec({
        ...full,
        auth: { clientKeys },
        shedding: {
          maxConcurrency: 64,
          queue: { maxDepth: 32, timeout: '2s' },
          retryAfter: '3s',
          tokenBudget: 200_000,
          guards: { eventLoopDelay: { sheddable: '50ms', standard: '200ms' }, heapUsed: { sheddable: 0.8, standard: 0.9 } },
          priorities: [
            { name: 'interactive', clientKeys: ['team-a', 'team-b'], priority: 'critical', weight: 3, requestsPerMinute: 600 },
            { name: 'batch', clientKeys: ['batch'], priority: 'sheddable', tokensPerMinute: 100_000 },
          ],
        },
      }),
    );
    expect(config.shedding).toEqual({
      maxConcurrency: 64,
      minConcurrency: 1,
      queue: { maxDepth: 32, timeout: '2s' },
      retryAfter: '3s',
      tokenBudget: 200_000,
      defaultMaxTokens: 1024,
      guards: { eventLoopDelay: { sheddable: '50ms', standard: '200ms' }, heapUsed: { sheddable: 0.8, standard: 0.9 }, interval: '500ms' },
      clients: [
        { key: 'team-a', priority: 'critical', priorityClass: 'interactive', weight: 3, requestsPerMinute: 600 },
        { key: 'team-b', priority: 'critical', priorityClass: 'interactive', weight: 3, requestsPerMinute: 600 },
        { key: 'batch', priority: 'sheddable', priorityClass: 'batch', weight: 1, tokensPerMinute: 100_000 },
      ],
    });
  });

  it('rejects a client key in two priority classes, naming the field', () => {
    const render = () =>
      renderRuntimeConfig(
        spec({
          ...full,
          shedding: { priorities: [{ name: 'a', clientKeys: ['team-a'] }, { name: 'b', clientKeys: ['team-a'], priority: 'sheddable' }] },
        }),
      );
    expect(render).toThrow(RenderError);
    expect(render).toThrow(/shedding\.clients\[1\]\.key.*duplicate client "team-a"/);
  });

  it('fills the documented defaults and leaves absent optional fields out', () => {
    const config = renderRuntimeConfig(spec({ models: [{ name: 'm', deployments: [{ name: 'd', provider: 'openai', model: 'x', baseUrl: 'https://a/v1' }] }] }));
    expect(config.models[0]!.deployments[0]).toEqual({ name: 'd', provider: 'openai', model: 'x', baseUrl: 'https://a/v1', weight: 1 });
    expect(config.models[0]).not.toHaveProperty('strategy');
    expect(config.auth).toEqual({ clientKeys: [] });
    expect(config.server.maxBodyBytes).toBe(4 * 1024 * 1024);
  });

  it('hashes what the data plane parses from the ConfigMap text', () => {
    const rendered = renderConfigText(spec(full));
    expect(rendered.hash).toBe(configHash(RuntimeConfig.parse(JSON.parse(rendered.text))));
    expect(rendered.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(rendered.bytes).toBe(Buffer.byteLength(rendered.text) + CONFIG_KEY.length);
    expect(renderConfigText(spec(full))).toEqual(rendered);
  });

  it('changes the hash when a runtime field changes, not when a workload field does', () => {
    const base = renderConfigText(spec(full)).hash;
    expect(renderConfigText(spec({ ...full, retries: { maxAttempts: 4 } })).hash).not.toBe(base);
    expect(renderConfigText(spec({ ...full, shutdown: { maxStreamDuration: '61s' } })).hash).not.toBe(base);
    // drainDelay becomes the preStop sleep (a workload field): the data plane gets 0s.
    expect(renderConfigText(spec({ ...full, workload: { replicas: 9 }, shutdown: { drainDelay: '1s', maxStreamDuration: '60s' } })).hash).toBe(base);
  });
});

describe('renderRuntimeConfig: telemetry.tracing', () => {
  const base: GatewayConfigSpecInput = { models: [{ name: 'fast', deployments: [{ name: 'local', provider: 'openai-compatible', model: 'llama', baseUrl: 'http://vllm:8000/v1' }] }] };

  it('renders the tracing section for the data plane, defaults included', () => {
    const rendered = renderRuntimeConfig(spec({ ...base, telemetry: { tracing: { endpoint: 'http://otel-collector:4318', recordContent: ['fast'], serviceName: 'gw-a' } } }));
    expect(rendered.telemetry).toEqual({ tracing: { endpoint: 'http://otel-collector:4318', sampleRatio: 0.05, recordContent: ['fast'], serviceName: 'gw-a' } });
  });

  it('leaves tracing out when the spec has none', () => {
    expect(renderRuntimeConfig(spec(base)).telemetry).toBeUndefined();
  });

  it('rejects content recording for an alias the gateway does not serve, naming the field', () => {
    expect(() => renderRuntimeConfig(spec({ ...base, telemetry: { tracing: { endpoint: 'http://c:4318', recordContent: ['nope'] } } }))).toThrow(/telemetry\.tracing\.recordContent\[0\]: got "nope"; expected a model alias served by this gateway/);
  });
});
