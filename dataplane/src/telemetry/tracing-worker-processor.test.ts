// The worker export path: spans copied to the compact form and rebuilt on the other side encode to
// the same OTLP bytes as the SDK's own spans, and the processor delivers them through a real
// worker thread to a real OTLP/HTTP endpoint.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, createTraceState, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { rebuildSpans, SPAN_STRIDE } from './tracing-export-worker.js';
import { appendCompact, WorkerSpanProcessor } from './tracing-worker-processor.js';

const resource = resourceFromAttributes({ 'service.name': 'gw', 'k8s.pod.name': 'gw-0' });

function someSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const tracer = provider.getTracer('switchboard', '1.2.3');
  const remote = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true, traceState: createTraceState('vendor=x') });
  const server = tracer.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER }, remote);
  server.setAttributes({ 'http.request.method': 'POST', 'switchboard.attempts': 2, 'gen_ai.request.stream': false });
  server.addEvent('switchboard.retry', { 'switchboard.attempt': 2, 'switchboard.previous_failure': 'a: 503' });
  const child = tracer.startSpan('chat m', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, server));
  child.setAttributes({ 'gen_ai.response.finish_reasons': ['stop'], 'switchboard.router.candidates.quality': [0.5, 0.25] });
  child.setStatus({ code: SpanStatusCode.ERROR, message: '503' });
  child.addLink({ context: server.spanContext(), attributes: { why: 'test' } });
  child.end();
  server.end();
  return exporter.getFinishedSpans();
}

describe('compact spans', () => {
  it('rebuild into spans that encode to the same OTLP protobuf bytes as the originals', () => {
    const spans = someSpans();
    const batch: unknown[] = [];
    for (const span of spans) appendCompact(batch, span);
    expect(batch).toHaveLength(spans.length * SPAN_STRIDE);
    // What crosses the thread boundary is a structured clone.
    const rebuilt = rebuildSpans(structuredClone(batch), resource);
    expect(Buffer.from(ProtobufTraceSerializer.serializeRequest(rebuilt)!)).toEqual(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!));
    expect(rebuilt.map((s) => s.parentSpanContext?.isRemote === true)).toEqual([false, true]);
  });
});

describe('WorkerSpanProcessor', () => {
  let sink: Server;
  let url: string;
  const bodies: { contentType: string | undefined; body: string }[] = [];

  beforeAll(async () => {
    sink = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.push({ contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/v1/traces`;
  });
  afterAll(() => new Promise<void>((resolve) => sink.close(() => resolve())));

  it('exports sampled spans from a worker thread over OTLP/HTTP and drops unsampled ones', async () => {
    const processor = new WorkerSpanProcessor({ target: { protocol: 'http/json', tracesUrl: url, timeoutMillis: 5000 }, resource, maxBatch: 2, delayMillis: 60_000, maxExportBatch: 100, exportDelayMillis: 60_000, maxQueue: 100 });
    const spans = someSpans();
    const unsampled = { ...spans[0]!, spanContext: () => ({ ...spans[0]!.spanContext(), traceFlags: 0 }) };
    for (const span of [...spans, unsampled]) processor.onEnd(span);
    await processor.shutdown();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.contentType).toBe('application/json');
    const request = JSON.parse(bodies[0]!.body) as { resourceSpans: { resource: { attributes: { key: string }[] }; scopeSpans: { scope: { name: string; version: string }; spans: { name: string; attributes: { key: string }[] }[] }[] }[] };
    const [resourceSpans] = request.resourceSpans;
    expect(resourceSpans!.resource.attributes.map((a) => a.key)).toEqual(['service.name', 'k8s.pod.name']);
    expect(resourceSpans!.scopeSpans[0]!.scope).toMatchObject({ name: 'switchboard', version: '1.2.3' });
    expect(resourceSpans!.scopeSpans[0]!.spans.map((s) => s.name)).toEqual(['chat m', 'POST /v1/chat/completions']);
    expect(resourceSpans!.scopeSpans[0]!.spans[1]!.attributes.map((a) => a.key)).toEqual(['http.request.method', 'switchboard.attempts', 'gen_ai.request.stream']);
  });
});
