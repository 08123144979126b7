// Request tracing through a real gateway and the mock provider, exported to memory: the spans,
// their parents and attributes, propagation upstream, sampling, content recording and logs.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import type { RuntimeConfigInput, RuntimeTracing } from '@switchboard/crds/runtime';
import { pino } from 'pino';
import { startGateway, type RunningGateway } from '../gateway.js';
import { startMock, type MockServer } from '../mock/server.js';
import { LearnedRouter } from '../routing/learned/index.js';
import { OtelRequestTracer } from './tracing-otel.js';
import type { RecordedSpan } from './tracing-span.js';
import { tracingSettings } from './tracing-settings.js';

const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';
const traceparent = (flags = '01'): string => `00-${CLIENT_TRACE}-${CLIENT_SPAN}-${flags}`;

let mock: MockServer;
let dir: string;
const exporter = new InMemorySpanExporter();
let live: RuntimeTracing = { recordContent: [] };
const tracer = OtelRequestTracer.create(
  tracingSettings(undefined, { POD_NAME: 'gw-0', POD_NAMESPACE: 'ai', NODE_NAME: 'node-a', CLOUD_AVAILABILITY_ZONE: 'zone-1', CLOUD_REGION: 'region-1', POD_UID: 'uid-1' }),
  { current: () => live },
  { processor: new SimpleSpanProcessor({ exporter }) },
);
const logLines: Record<string, unknown>[] = [];
const logSink = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const line of chunk.toString().split('\n')) if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

function deployment(name: string, extra: Record<string, unknown> = {}): RuntimeConfigInput['models'][number]['deployments'][number] {
  return { name, provider: 'openai', model: `${name}-model`, baseUrl: `${mock.url}/v1`, ...extra };
}

const prices = { 'model-a': { input: 1, output: 2 }, 'model-b': { input: 0.1, output: 0.2 } };
function routerArtifact(): Uint8Array {
  const examples = ['write code for sorting', 'fix this code', 'explain the code for parsing', 'refactor my code'].flatMap((q) => [
    { query: q, scores: { 'model-a': 1, 'model-b': 0 } },
    { query: q.replace('code', 'poem'), scores: { 'model-a': 0.1, 'model-b': 0.9 } },
  ]);
  return LearnedRouter.train(examples, prices, { kind: 'knn', head: { k: 3 }, seed: 1 }).encode().bytes;
}

async function gateway(): Promise<RunningGateway> {
  const config: RuntimeConfigInput = {
    models: [
      { name: 'chat', deployments: [deployment('primary')] },
      { name: 'claude', deployments: [{ name: 'claude-d', provider: 'anthropic', model: 'claude-model', baseUrl: mock.url }] },
      { name: 'flaky', deployments: [deployment('broken', { headers: { 'x-mock-fault': '500' } })], fallbacks: ['chat'] },
      { name: 'cooling', deployments: [deployment('hot', { headers: { 'x-mock-fault': '500' } })] },
      {
        name: 'auto',
        deployments: [deployment('coder'), deployment('chatty')],
        router: { artifact: { file: join(dir, 'router.bin') }, candidates: { 'model-a': 'coder', 'model-b': 'chatty' } },
      },
    ],
    routers: [
      {
        name: 'virtual',
        default: 'chat',
        models: [
          { name: 'rm-active', mode: 'active', artifact: { file: join(dir, 'router.bin') }, candidates: { 'model-a': 'chat', 'model-b': 'claude' } },
          { name: 'rm-shadow', mode: 'shadow', artifact: { file: join(dir, 'router.bin') }, threshold: 0.01, candidates: { 'model-a': 'chat', 'model-b': 'claude' } },
        ],
      },
    ],
    retries: { maxAttempts: 2, backoff: '1ms', maxRetryAfter: '1s' },
    cooldown: { failureThreshold: 2, duration: '60s' },
  };
  await writeFile(join(dir, 'router.bin'), routerArtifact());
  await writeFile(join(dir, 'gateway.json'), JSON.stringify(config));
  // Every traced request replaces its bucket's exemplar (the default admits one per second).
  return startGateway({ configPath: join(dir, 'gateway.json'), port: 0, adminPort: 0, env: {}, log: pino(logSink), tracer, exemplarIntervalMs: 0 });
}

let gw: RunningGateway;
beforeAll(async () => {
  mock = await startMock({ port: 0, ttftMs: 5, tokensPerSecond: 2000 });
  dir = await mkdtemp(join(tmpdir(), 'switchboard-tracing-'));
  gw = await gateway();
});
afterAll(async () => {
  await gw.close(100);
  await mock.close();
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => {
  exporter.reset();
  logLines.length = 0;
  live = { recordContent: [] };
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const res = await fetch(`${gw.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  await res.text();
  return res;
}

/** The request's spans once its server span has ended (spans end after the response is sent). */
async function spansOf(requestId: string): Promise<ReadableSpan[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.kind === SpanKind.SERVER && s.attributes['switchboard.request_id'] === requestId);
    if (server) return spans.filter((s) => s.spanContext().traceId === server.spanContext().traceId);
    if (Date.now() > deadline) throw new Error(`no server span for ${requestId}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Waits for the request's access-log line: written right after its server span ends. */
async function accessLogged(requestId: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!logLines.some((l) => l.requestId === requestId)) {
    if (Date.now() > deadline) throw new Error(`no access log for ${requestId}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function one(spans: ReadableSpan[], kind: SpanKind, name?: string): ReadableSpan {
  const found = spans.filter((s) => s.kind === kind && (name === undefined || s.name === name));
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe('request spans', () => {
  it('joins the client trace: server span, switchboard.route and a GenAI client span, propagated upstream', async () => {
    const res = await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'secret prompt text' }], max_tokens: 20 }, {
      traceparent: traceparent(),
      tracestate: 'vendor=abc',
      baggage: 'tenant=acme',
      'x-request-id': 'req-basic',
    });
    expect(res.status).toBe(200);
    const spans = await spansOf('req-basic');
    const server = one(spans, SpanKind.SERVER);
    const route = one(spans, SpanKind.INTERNAL, 'switchboard.route');
    const client = one(spans, SpanKind.CLIENT);

    expect(server.spanContext().traceId).toBe(CLIENT_TRACE);
    expect(server.parentSpanContext?.spanId).toBe(CLIENT_SPAN);
    expect(server.name).toBe('POST /v1/chat/completions');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'url.path': '/v1/chat/completions',
      'http.route': '/v1/chat/completions',
      'http.response.status_code': 200,
      'gen_ai.operation.name': 'chat',
      'switchboard.model': 'chat',
      'switchboard.deployment': 'primary',
      'switchboard.attempts': 1,
    });
    expect(route.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(route.attributes).toMatchObject({
      'switchboard.model': 'chat',
      'switchboard.route.strategy': 'weighted',
      'switchboard.route.reason_class': 'rule',
      'switchboard.route.reason': 'weighted',
      'switchboard.route.deployment': 'primary',
      'switchboard.route.upstream_model': 'primary-model',
      'switchboard.attempt': 1,
    });
    expect(route.attributes['switchboard.route.decision_ms']).toBeGreaterThanOrEqual(0);

    expect(client.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(client.name).toBe('chat primary-model');
    expect(client.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'primary-model',
      'gen_ai.request.max_tokens': 20,
      'gen_ai.request.stream': false,
      'gen_ai.response.model': 'primary-model',
      'gen_ai.response.finish_reasons': ['stop'],
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
      'switchboard.deployment': 'primary',
    });
    expect(client.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(client.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(server.attributes['gen_ai.usage.output_tokens']).toBe(client.attributes['gen_ai.usage.output_tokens']);

    // No prompt or completion text anywhere by default.
    for (const span of spans) expect(JSON.stringify(span.attributes)).not.toContain('secret prompt');

    // The upstream saw this trace, with the client span as parent, and the client's tracestate and baggage.
    const seen = mock.stats().recent.find((r) => r.headers['x-request-id'] === 'req-basic')!;
    expect(seen.headers.traceparent).toBe(`00-${CLIENT_TRACE}-${client.spanContext().spanId}-01`);
    expect(seen.headers.tracestate).toBe('vendor=abc');
    expect(seen.headers.baggage).toBe('tenant=acme');
  });

  it('propagates upstream without baggage: the client span as parent, tracestate kept, no baggage header; a new trace when the client sent none', async () => {
    await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, { traceparent: traceparent(), tracestate: 'vendor=abc', 'x-request-id': 'req-no-baggage' });
    await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'req-new-trace' });
    const joined = one(await spansOf('req-no-baggage'), SpanKind.CLIENT);
    const fresh = one(await spansOf('req-new-trace'), SpanKind.CLIENT);
    const seen = (id: string): Record<string, string | undefined> => mock.stats().recent.find((r) => r.headers['x-request-id'] === id)!.headers as Record<string, string | undefined>;
    expect(seen('req-no-baggage').traceparent).toBe(`00-${CLIENT_TRACE}-${joined.spanContext().spanId}-01`);
    expect(seen('req-no-baggage').tracestate).toBe('vendor=abc');
    expect(seen('req-no-baggage').baggage).toBeUndefined();
    expect(fresh.spanContext().traceId).not.toBe(CLIENT_TRACE);
    expect(seen('req-new-trace').traceparent).toBe(`00-${fresh.spanContext().traceId}-${fresh.spanContext().spanId}-01`);
    expect(seen('req-new-trace').tracestate).toBeUndefined();
  });

  it('names the replica in the resource (k8s, cloud, service.instance.id)', async () => {
    await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'req-resource' });
    const [server] = await spansOf('req-resource');
    expect(server!.resource.attributes).toMatchObject({
      'service.name': 'switchboard',
      'service.instance.id': 'uid-1',
      'k8s.pod.name': 'gw-0',
      'k8s.namespace.name': 'ai',
      'k8s.node.name': 'node-a',
      'cloud.availability_zone': 'zone-1',
      'cloud.region': 'region-1',
    });
  });

  it('streams: time to first chunk, response model, finish reasons and usage on the client span', async () => {
    await post('/v1/chat/completions', { model: 'chat', stream: true, messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'req-stream' });
    const client = one(await spansOf('req-stream'), SpanKind.CLIENT);
    expect(client.attributes).toMatchObject({ 'gen_ai.request.stream': true, 'gen_ai.response.model': 'primary-model', 'gen_ai.response.finish_reasons': ['stop'] });
    expect(client.attributes['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(client.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
    expect(client.status.code).not.toBe(SpanStatusCode.ERROR);
  });

  it('an Anthropic deployment: provider anthropic, stop_reason as the finish reason', async () => {
    await post('/v1/messages', { model: 'claude', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'req-anthropic' });
    const client = one(await spansOf('req-anthropic'), SpanKind.CLIENT);
    expect(client.attributes).toMatchObject({ 'gen_ai.provider.name': 'anthropic', 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'claude-model', 'gen_ai.response.finish_reasons': ['end_turn'] });
  });
});

describe('shared attribute sets', () => {
  it('gives like requests one frozen set per span kind and keeps per-request values on each span', async () => {
    const ids = ['req-shared-1', 'req-shared-2'];
    for (const id of ids) await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'hi' }], max_tokens: id === ids[0] ? 7 : 9 }, { 'x-request-id': id });
    const [first, second] = (await Promise.all(ids.map((id) => spansOf(id)))).map((spans) => ({
      server: one(spans, SpanKind.SERVER) as RecordedSpan,
      route: one(spans, SpanKind.INTERNAL, 'switchboard.route') as RecordedSpan,
      client: one(spans, SpanKind.CLIENT) as RecordedSpan,
    }));
    for (const kind of ['server', 'route', 'client'] as const) {
      const shared = first![kind].sharedAttributes;
      expect(shared).toBeDefined();
      expect(Object.isFrozen(shared)).toBe(true);
      expect(second![kind].sharedAttributes).toBe(shared);
    }
    expect(first!.server.sharedAttributes).toEqual({ 'http.request.method': 'POST', 'url.path': '/v1/chat/completions', 'http.route': '/v1/chat/completions', 'gen_ai.operation.name': 'chat' });
    expect(first!.route.sharedAttributes).toMatchObject({ 'switchboard.model': 'chat', 'switchboard.route.deployment': 'primary', 'switchboard.attempt': 1 });
    expect(first!.client.sharedAttributes).toMatchObject({ 'gen_ai.request.model': 'primary-model', 'switchboard.deployment': 'primary' });
    // What differs between the two requests is their own.
    expect([first!.server.ownAttributes['switchboard.request_id'], second!.server.ownAttributes['switchboard.request_id']]).toEqual(ids);
    expect([first!.client.ownAttributes['gen_ai.request.max_tokens'], second!.client.ownAttributes['gen_ai.request.max_tokens']]).toEqual([7, 9]);
    expect(first!.route.ownAttributes['switchboard.route.decision_ms']).toBeGreaterThanOrEqual(0);
  });

  it('never shares the attributes of a request that is no operation: the client picks its path', async () => {
    const trace = tracer.start({ headers: {}, method: 'POST', path: '/v1/made-up-path', requestId: 'req-made-up' });
    trace.end({ status: 404, attempts: 0 });
    const server = one(await spansOf('req-made-up'), SpanKind.SERVER) as RecordedSpan;
    expect(server.sharedAttributes).toBeUndefined();
    expect(server.name).toBe('POST');
    expect(server.attributes).toEqual({ 'http.request.method': 'POST', 'url.path': '/v1/made-up-path', 'switchboard.request_id': 'req-made-up', 'http.response.status_code': 404, 'switchboard.attempts': 0 });
  });
});

describe('retries, fallbacks and cooldown', () => {
  it('records failed tries as error client spans, retries and fallbacks as events and route spans', async () => {
    const res = await post('/v1/chat/completions', { model: 'flaky', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'req-flaky' });
    expect(res.status).toBe(200);
    const spans = await spansOf('req-flaky');
    const server = one(spans, SpanKind.SERVER);
    const clients = spans.filter((s) => s.kind === SpanKind.CLIENT).sort((a, b) => Number(a.attributes['switchboard.attempt']) - Number(b.attributes['switchboard.attempt']));
    expect(clients.map((c) => [c.attributes['switchboard.deployment'], c.attributes['error.type'], c.status.code])).toEqual([
      ['broken', '500', SpanStatusCode.ERROR],
      ['broken', '500', SpanStatusCode.ERROR],
      ['primary', undefined, SpanStatusCode.UNSET],
    ]);
    const routes = spans.filter((s) => s.name === 'switchboard.route').sort((a, b) => Number(a.attributes['switchboard.attempt']) - Number(b.attributes['switchboard.attempt']));
    expect(routes.map((r) => r.attributes['switchboard.route.reason_class'])).toEqual(['rule', 'retry', 'fallback']);
    expect(routes[2]!.attributes['switchboard.route.reason']).toMatch(/^fallback from flaky/);
    expect(server.events.map((e) => [e.name, e.attributes?.['switchboard.deployment'], e.attributes?.['switchboard.previous_failure']])).toEqual([
      ['switchboard.retry', 'broken', 'broken: 500'],
      ['switchboard.fallback', 'primary', 'broken: 500'],
    ]);
    expect(server.attributes['switchboard.attempts']).toBe(3);
  });

  it('a 503 with every deployment cooling down has a route span with reason class cooldown', async () => {
    await post('/v1/chat/completions', { model: 'cooling', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'req-heat' });
    const res = await post('/v1/chat/completions', { model: 'cooling', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'req-cool' });
    expect(res.status).toBe(503);
    const spans = await spansOf('req-cool');
    const route = one(spans, SpanKind.INTERNAL, 'switchboard.route');
    expect(route.attributes).toMatchObject({ 'switchboard.route.reason_class': 'cooldown', 'switchboard.model': 'cooling' });
    const server = one(spans, SpanKind.SERVER);
    expect(server.status.code).toBe(SpanStatusCode.ERROR);
    expect(server.attributes['http.response.status_code']).toBe(503);
  });
});

describe('learned routing', () => {
  it('puts the router, its digest, the candidates with quality and cost and the decision timing on the route span', async () => {
    await post('/v1/chat/completions', { model: 'auto', messages: [{ role: 'user', content: 'write code for sorting' }] }, { 'x-request-id': 'req-learned' });
    const route = one(await spansOf('req-learned'), SpanKind.INTERNAL, 'switchboard.route');
    const a = route.attributes;
    expect(a).toMatchObject({ 'switchboard.route.reason_class': 'learned', 'switchboard.router.kind': 'knn', 'switchboard.router.chosen_model': 'model-a', 'switchboard.route.deployment': 'coder', 'switchboard.router.policy': 'lambda=10' });
    expect(a['switchboard.router.digest']).toMatch(/^[0-9a-f]{64}$/);
    expect(a['switchboard.router.candidates']).toEqual(['model-a', 'model-b']);
    expect(a['switchboard.router.candidates.cost']).toEqual([3, expect.closeTo(0.3, 6)]);
    const quality = a['switchboard.router.candidates.quality'] as number[];
    expect(quality[0]!).toBeGreaterThan(quality[1]!);
    for (const key of ['featurize_ms', 'head_ms', 'policy_ms']) expect(a[`switchboard.router.decision.${key}`]).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(a)).not.toContain('sorting');
    // Its reason carries this query's predicted quality: the span's own, never a shared set.
    expect(a['switchboard.route.reason']).toMatch(/^learned knn \(model-a q=/);
    expect((route as RecordedSpan).sharedAttributes).toBeUndefined();
  });
});

describe('virtual alias (routing models in rollout modes)', () => {
  it('records the acting RoutingModel, its digest and every shadow decision on a route span', async () => {
    await post('/v1/chat/completions', { model: 'virtual', messages: [{ role: 'user', content: 'write code for sorting' }] }, { 'x-request-id': 'req-virtual' });
    const spans = await spansOf('req-virtual');
    const routes = spans.filter((s) => s.name === 'switchboard.route');
    const aliasRoute = routes.find((r) => r.attributes['switchboard.route.strategy'] === 'virtual-alias')!;
    expect(aliasRoute.attributes).toMatchObject({
      'switchboard.route.virtual_alias': 'virtual',
      'switchboard.route.virtual_alias.mode': 'active',
      'switchboard.routing_model.name': 'rm-active',
      'switchboard.route.reason_class': 'learned',
      'switchboard.model': 'chat',
      'switchboard.route.shadow.routing_models': ['rm-shadow'],
      'switchboard.route.shadow.picks': ['claude'],
      'switchboard.route.shadow.agree': [false],
    });
    expect(aliasRoute.attributes['switchboard.router.digest']).toMatch(/^[0-9a-f]{64}$/);
    expect(aliasRoute.attributes['switchboard.route.shadow.digests']).toEqual([aliasRoute.attributes['switchboard.router.digest']]);
    // Then the alias it picked routes as usual: a second route span names the deployment.
    expect(routes.find((r) => r !== aliasRoute)!.attributes['switchboard.route.deployment']).toBe('primary');
  });
});

describe('sampling', () => {
  it('ratio 0 records nothing for a new trace but still sends a (not sampled) traceparent upstream', async () => {
    live = { recordContent: [], sampleRatio: 0 };
    await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, { 'x-request-id': 'req-unsampled' });
    const seen = mock.stats().recent.find((r) => r.headers['x-request-id'] === 'req-unsampled')!;
    expect(seen.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    await accessLogged('req-unsampled');
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('a sampled parent is followed even at ratio 0 (parent-based)', async () => {
    live = { recordContent: [], sampleRatio: 0 };
    await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'hi' }] }, { traceparent: traceparent('01'), 'x-request-id': 'req-parent' });
    const spans = await spansOf('req-parent');
    expect(spans.map((s) => s.kind).sort()).toEqual([SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.CLIENT].sort());
  });
});

describe('content recording', () => {
  it('records prompt and completion only for an alias listed in recordContent', async () => {
    live = { recordContent: ['chat'] };
    await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'my listed prompt' }] }, { 'x-request-id': 'req-content' });
    const client = one(await spansOf('req-content'), SpanKind.CLIENT);
    expect(JSON.parse(client.attributes['gen_ai.input.messages'] as string)).toEqual([{ role: 'user', content: 'my listed prompt' }]);
    const output = JSON.parse(client.attributes['gen_ai.output.messages'] as string) as { role: string; parts: { content: string }[]; finish_reason: string }[];
    expect(output[0]).toMatchObject({ role: 'assistant', finish_reason: 'stop' });
    expect(output[0]!.parts[0]!.content.length).toBeGreaterThan(0);

    await post('/v1/messages', { model: 'claude', max_tokens: 20, messages: [{ role: 'user', content: 'not listed' }] }, { 'x-request-id': 'req-no-content' });
    const other = one(await spansOf('req-no-content'), SpanKind.CLIENT);
    expect(other.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(other.attributes['gen_ai.output.messages']).toBeUndefined();
  });

  it('records streamed completions too', async () => {
    live = { recordContent: ['*'] };
    await post('/v1/chat/completions', { model: 'chat', stream: true, messages: [{ role: 'user', content: 'stream me' }] }, { 'x-request-id': 'req-content-stream' });
    const client = one(await spansOf('req-content-stream'), SpanKind.CLIENT);
    const output = JSON.parse(client.attributes['gen_ai.output.messages'] as string) as { parts: { content: string }[] }[];
    expect(output[0]!.parts[0]!.content.length).toBeGreaterThan(0);
  });
});

describe('logs', () => {
  it('puts trace_id and span_id of the server span on the access-log line, once per request', async () => {
    await post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'a log-worthy secret' }] }, { traceparent: traceparent(), 'x-request-id': 'req-log' });
    const server = one(await spansOf('req-log'), SpanKind.SERVER);
    const lines = logLines.filter((l) => l.requestId === 'req-log');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'request', trace_id: CLIENT_TRACE, span_id: server.spanContext().spanId, status: 200 });
    expect(JSON.stringify(logLines)).not.toContain('log-worthy secret');
  });
});

describe('exemplars', () => {
  it('puts the trace id of a traced request on the duration histogram, in OpenMetrics only', async () => {
    const traceId = 'e'.repeat(32);
    await post('/v1/chat/completions', { model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }, { traceparent: `00-${traceId}-${CLIENT_SPAN}-01`, 'x-request-id': 'req-exemplar' });
    await accessLogged('req-exemplar');
    const open = await fetch(`${gw.adminUrl}/metrics`, { headers: { accept: 'application/openmetrics-text; version=1.0.0' } });
    expect(open.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
    const lines = (await open.text()).split('\n').filter((l) => l.includes(`# {trace_id="${traceId}"}`));
    // The latest observation in its bucket: exactly one bucket of the answering alias holds it.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^switchboard_request_duration_seconds_bucket\{le="[^"]+",model="claude",operation="chat"\} \d+ # \{trace_id="e{32}"\} [0-9.e-]+ [0-9.]+$/);
    // Plain Prometheus scrapes are unchanged: no exemplars.
    const plain = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    expect(plain).toContain('switchboard_request_duration_seconds_bucket{');
    expect(plain).not.toContain('trace_id=');
  });
});

describe('admission', () => {
  it('a shed request has a route span with reason class shed and an error server span', async () => {
    const shedDir = await mkdtemp(join(tmpdir(), 'switchboard-tracing-shed-'));
    const config: RuntimeConfigInput = {
      models: [
        { name: 'chat', deployments: [deployment('primary')] },
        { name: 'stuck', deployments: [deployment('hanging', { headers: { 'x-mock-fault': 'hang' } })] },
      ],
      shedding: { maxConcurrency: 1, minConcurrency: 1, queue: { maxDepth: 0, timeout: '1s' } },
      timeouts: { connect: '1s', firstByte: '30s', total: '30s' },
    };
    await writeFile(join(shedDir, 'gateway.json'), JSON.stringify(config));
    const shedding = await startGateway({ configPath: join(shedDir, 'gateway.json'), port: 0, adminPort: 0, env: {}, log: pino(logSink), tracer });
    const holder = new AbortController();
    try {
      // One request holds the only slot (the upstream never answers) until the test aborts it.
      const held = fetch(`${shedding.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'stuck', messages: [{ role: 'user', content: 'hold' }] }),
        signal: holder.signal,
      }).catch(() => undefined);
      const deadline = Date.now() + 5000;
      while (!mock.stats().recent.some((r) => r.model === 'hanging-model' && r.status === null)) {
        if (Date.now() > deadline) throw new Error('the holding request never reached the mock');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const res = await fetch(`${shedding.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-shed' },
        body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
      });
      await res.text();
      expect(res.status).toBe(503);
      const spans = await spansOf('req-shed');
      const route = one(spans, SpanKind.INTERNAL, 'switchboard.route');
      expect(route.attributes).toMatchObject({ 'switchboard.route.reason_class': 'shed', 'switchboard.route.strategy': 'admission' });
      expect(spans.filter((s) => s.kind === SpanKind.CLIENT)).toHaveLength(0);
      expect(one(spans, SpanKind.SERVER).status.code).toBe(SpanStatusCode.ERROR);
      holder.abort();
      await held;
    } finally {
      holder.abort();
      await shedding.close(100);
      await rm(shedDir, { recursive: true, force: true });
    }
  });
});
