// End to end through real servers: a client with a traceparent -> gateway A -> gateway B -> the
// mock, both gateways separate `switchboard gateway` processes exporting OTLP to a real Jaeger v2
// (A as protobuf, B as JSON).
// The trace is read back from Jaeger's query API: one connected trace with both gateways' server,
// route and GenAI client spans, the replica identity, and x-request-id carried all the way.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RuntimeConfigInput } from '@switchboard/crds';
import { startMock, type MockServer } from '../../dataplane/src/mock/server.js';
import { buildWorkspaces, startCli, type RunningCli } from '../support/cli.js';
import { startJaeger, tag, type Jaeger, type JaegerSpan, type JaegerTrace } from './jaeger.js';

const CLIENT_SPAN = 'b7ad6b7169203331';

let jaeger: Jaeger;
let mock: MockServer;
let dir: string;
const gateways: RunningCli[] = [];
let urlA: string;

async function startGatewayProcess(name: string, config: RuntimeConfigInput, env: NodeJS.ProcessEnv): Promise<string> {
  const path = join(dir, `${name}.json`);
  await writeFile(path, JSON.stringify(config));
  const cli = startCli(['gateway', '--config', path, '--port', '0', '--admin-port', '0'], env);
  gateways.push(cli);
  const [, port] = await cli.waitForOutput(/"port":(\d+),"adminPort":(\d+)/, 30_000);
  return `http://127.0.0.1:${port}`;
}

/** Sample ratio 0: only the client's sampled traceparent makes these requests traced (parent-based). */
function tracing(serviceName: string, protocol: 'http/protobuf' | 'http/json'): RuntimeConfigInput['telemetry'] {
  return { tracing: { endpoint: jaeger.otlpUrl, protocol, serviceName, sampleRatio: 0 } };
}

beforeAll(async () => {
  await buildWorkspaces();
  jaeger = await startJaeger();
  mock = await startMock({ port: 0, ttftMs: 5, tokensPerSecond: 1000 });
  dir = await mkdtemp(join(tmpdir(), 'switchboard-chained-'));
  const shutdown = { drainDelay: '0s', maxStreamDuration: '5s' };
  const urlB = await startGatewayProcess(
    'gateway-b',
    { models: [{ name: 'chat', deployments: [{ name: 'b-mock', provider: 'openai', model: 'mock-model', baseUrl: `${mock.url}/v1` }] }], shutdown, telemetry: tracing('gateway-b', 'http/json') },
    { POD_NAME: 'gateway-b-0', NODE_NAME: 'node-b' },
  );
  urlA = await startGatewayProcess(
    'gateway-a',
    { models: [{ name: 'chat', deployments: [{ name: 'a-to-b', provider: 'openai-compatible', model: 'chat', baseUrl: `${urlB}/v1` }] }], shutdown, telemetry: tracing('gateway-a', 'http/protobuf') },
    { POD_NAME: 'gateway-a-0', NODE_NAME: 'node-a' },
  );
}, 180_000);

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await mock?.close();
  await jaeger?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 30_000);

/** Polls Jaeger until the trace holds `count` spans (the gateways export in batches). */
async function traceWith(traceId: string, count: number): Promise<JaegerTrace> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const trace = await jaeger.trace(traceId);
    if (trace && trace.spans.length >= count) return trace;
    if (Date.now() > deadline) throw new Error(`trace ${traceId} has ${trace?.spans.length ?? 0} spans, expected ${count}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function spanKind(span: JaegerSpan): unknown {
  return tag(span, 'span.kind');
}

function serviceOf(trace: JaegerTrace, span: JaegerSpan): string {
  return trace.processes[span.processID]!.serviceName;
}

function parentOf(span: JaegerSpan): string | undefined {
  return span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;
}

function only(trace: JaegerTrace, service: string, predicate: (s: JaegerSpan) => boolean): JaegerSpan {
  const found = trace.spans.filter((s) => serviceOf(trace, s) === service && predicate(s));
  expect(found).toHaveLength(1);
  return found[0]!;
}

describe.each([
  { stream: false, traceId: '4bf92f3577b34da6a3ce929d0e0e4736' },
  { stream: true, traceId: '5bf92f3577b34da6a3ce929d0e0e4737' },
])('client -> gateway A -> gateway B -> mock (stream: $stream)', ({ stream, traceId }) => {
  it('is one connected trace in Jaeger with both gateways, their routing and GenAI spans', async () => {
    const requestId = `chain-${String(stream)}`;
    const res = await fetch(`${urlA}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${CLIENT_SPAN}-01`, baggage: 'tenant=acme', 'x-request-id': requestId },
      body: JSON.stringify({ model: 'chat', stream, messages: [{ role: 'user', content: 'hello through two gateways' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe(requestId);
    await res.text();

    // Per gateway: server, switchboard.route and one upstream client span.
    const trace = await traceWith(traceId, 6);
    expect(trace.spans).toHaveLength(6);
    expect(new Set(trace.spans.map((s) => s.traceID))).toEqual(new Set([traceId]));

    const serverA = only(trace, 'gateway-a', (s) => spanKind(s) === 'server');
    const routeA = only(trace, 'gateway-a', (s) => s.operationName === 'switchboard.route');
    const clientA = only(trace, 'gateway-a', (s) => spanKind(s) === 'client');
    const serverB = only(trace, 'gateway-b', (s) => spanKind(s) === 'server');
    const routeB = only(trace, 'gateway-b', (s) => s.operationName === 'switchboard.route');
    const clientB = only(trace, 'gateway-b', (s) => spanKind(s) === 'client');

    // The chain of parents: client -> A server -> A client -> B server -> B client; routes under servers.
    expect(parentOf(serverA)).toBe(CLIENT_SPAN);
    expect(parentOf(routeA)).toBe(serverA.spanID);
    expect(parentOf(clientA)).toBe(serverA.spanID);
    expect(parentOf(serverB)).toBe(clientA.spanID);
    expect(parentOf(routeB)).toBe(serverB.spanID);
    expect(parentOf(clientB)).toBe(serverB.spanID);

    expect(serverA.operationName).toBe('POST /v1/chat/completions');
    expect(tag(serverA, 'switchboard.request_id')).toBe(requestId);
    expect(tag(serverB, 'switchboard.request_id')).toBe(requestId);
    expect(tag(routeA, 'switchboard.route.reason_class')).toBe('rule');
    expect(tag(routeA, 'switchboard.route.deployment')).toBe('a-to-b');
    expect(tag(routeB, 'switchboard.route.deployment')).toBe('b-mock');

    expect(clientB.operationName).toBe('chat mock-model');
    expect(tag(clientB, 'gen_ai.operation.name')).toBe('chat');
    expect(tag(clientB, 'gen_ai.provider.name')).toBe('openai');
    expect(tag(clientB, 'gen_ai.request.model')).toBe('mock-model');
    expect(tag(clientB, 'gen_ai.response.model')).toBe('mock-model');
    expect(String(tag(clientB, 'gen_ai.response.finish_reasons'))).toContain('stop');
    expect(Number(tag(clientB, 'gen_ai.usage.input_tokens'))).toBeGreaterThan(0);
    expect(Number(tag(clientB, 'gen_ai.usage.output_tokens'))).toBeGreaterThan(0);
    // Gateway A's upstream is gateway B: it answers with B's alias as the model.
    expect(tag(clientA, 'gen_ai.request.model')).toBe('chat');
    expect(tag(clientA, 'gen_ai.usage.output_tokens')).toBe(tag(clientB, 'gen_ai.usage.output_tokens'));
    if (stream) {
      expect(Number(tag(clientA, 'gen_ai.response.time_to_first_chunk'))).toBeGreaterThan(0);
      expect(Number(tag(clientB, 'gen_ai.response.time_to_first_chunk'))).toBeGreaterThan(0);
    }

    // Replica identity as resource attributes (Jaeger's process tags).
    const processA = trace.processes[serverA.processID]!;
    expect(processA.tags).toEqual(expect.arrayContaining([{ key: 'k8s.pod.name', type: 'string', value: 'gateway-a-0' }, { key: 'k8s.node.name', type: 'string', value: 'node-a' }]));
    expect(processA.tags.some((t) => t.key === 'service.instance.id')).toBe(true);

    // The mock saw the same request id and the trace context of B's client span, baggage included.
    const seen = mock.stats().recent.find((r) => r.headers['x-request-id'] === requestId)!;
    expect(seen.headers.traceparent).toBe(`00-${traceId}-${clientB.spanID}-01`);
    expect(seen.headers.baggage).toBe('tenant=acme');
    // No prompt text in any span.
    expect(JSON.stringify(trace)).not.toContain('two gateways');
  }, 60_000);
});
