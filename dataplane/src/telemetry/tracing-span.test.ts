// The gateway's own spans: sampling and parents as the SDK's parent-based tracer decides them, and
// finished spans that the SDK's processors and serializer read as they read the SDK's own.
import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, createTraceState, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOffSampler, AlwaysOnSampler, InMemorySpanExporter, ParentBasedSampler, SimpleSpanProcessor, type Sampler } from '@opentelemetry/sdk-trace';
import protobuf from 'protobufjs';
import { OtlpTraceEncoder } from './tracing-otlp-protobuf.js';
import { hrTime } from '@opentelemetry/core';
import { SpanMaker, hrTimeAt } from './tracing-span.js';

const Request = new protobuf.Root().loadSync(fileURLToPath(new URL('./tracing-otlp-trace.proto', import.meta.url)), { keepCase: true }).lookupType('ExportTraceServiceRequest');
const decode = (bytes: Uint8Array): unknown => Request.toObject(Request.decode(bytes), { longs: String, bytes: String, defaults: true, oneofs: true });

const REMOTE_TRACE = '0af7651916cd43dd8448eb211c80319c';
const REMOTE_SPAN = 'b7ad6b7169203331';
const resource = resourceFromAttributes({ 'service.name': 'switchboard' });

function maker(root: Sampler): { spans: SpanMaker; exporter: InMemorySpanExporter } {
  const exporter = new InMemorySpanExporter();
  return { spans: new SpanMaker(new ParentBasedSampler({ root }), resource, { name: 'switchboard' }, new SimpleSpanProcessor({ exporter })), exporter };
}

function remoteParent(flags: TraceFlags): ReturnType<typeof trace.setSpanContext> {
  return trace.setSpanContext(ROOT_CONTEXT, { traceId: REMOTE_TRACE, spanId: REMOTE_SPAN, traceFlags: flags, isRemote: true, traceState: createTraceState('vendor=a') });
}

describe('hrTimeAt', () => {
  it('gives the seconds and nanoseconds the SDK gives for the same performance.now() value', () => {
    const now = performance.now();
    // Fractions that carry into the next second once added to the time origin's own fraction.
    const values = [0, 0.000001, 1, 999.999999, 1000, 12_345.678901, now, now + 0.9999, ...Array.from({ length: 200 }, (_, i) => now + i * 7.777777)];
    for (const ms of values) expect(hrTimeAt(ms)).toEqual(hrTime(ms));
  });
});

describe('SpanMaker', () => {
  it('starts a new trace when there is no parent, and exports its spans with their parents, times, events and status', () => {
    const { spans, exporter } = maker(new AlwaysOnSampler());
    const server = spans.startRoot('POST /v1/chat/completions', SpanKind.SERVER, ROOT_CONTEXT);
    expect(server.context.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(server.context.traceFlags).toBe(TraceFlags.SAMPLED);
    server.recorded!.ownAttributes['http.request.method'] = 'POST';
    server.recorded!.addEvent('switchboard.retry', { 'switchboard.attempt': 2 });
    const startedAt = performance.now();
    const route = spans.startChild('switchboard.route', SpanKind.INTERNAL, server, startedAt);
    route.recorded!.end(startedAt + 2);
    route.recorded!.end();
    server.recorded!.setError();
    server.recorded!.end();
    server.recorded!.addEvent('late', {});

    const [routeSpan, serverSpan] = exporter.getFinishedSpans();
    expect(exporter.getFinishedSpans()).toHaveLength(2);
    expect(routeSpan!.parentSpanContext?.spanId).toBe(server.context.spanId);
    expect(routeSpan!.spanContext().traceId).toBe(server.context.traceId);
    expect(routeSpan!.duration[0] * 1e3 + routeSpan!.duration[1] / 1e6).toBeCloseTo(2, 3);
    expect(serverSpan!.parentSpanContext).toBeUndefined();
    expect(serverSpan!.kind).toBe(SpanKind.SERVER);
    expect(serverSpan!.attributes).toEqual({ 'http.request.method': 'POST' });
    expect(serverSpan!.events.map((e) => [e.name, e.attributes])).toEqual([['switchboard.retry', { 'switchboard.attempt': 2 }]]);
    expect(serverSpan!.status.code).toBe(SpanStatusCode.ERROR);
    expect(serverSpan!.instrumentationScope.name).toBe('switchboard');
  });

  it('continues a sampled remote parent: its trace id, its tracestate, and the remote span as parent', () => {
    const { spans, exporter } = maker(new AlwaysOffSampler());
    const server = spans.startRoot('POST', SpanKind.SERVER, remoteParent(TraceFlags.SAMPLED));
    const client = spans.startChild('chat model', SpanKind.CLIENT, server);
    client.recorded!.end();
    server.recorded!.end();
    expect(server.context.traceId).toBe(REMOTE_TRACE);
    expect(server.context.traceState?.serialize()).toBe('vendor=a');
    expect(client.context.traceState?.serialize()).toBe('vendor=a');
    const [clientSpan, serverSpan] = exporter.getFinishedSpans();
    expect(serverSpan!.parentSpanContext?.spanId).toBe(REMOTE_SPAN);
    expect(clientSpan!.parentSpanContext?.spanId).toBe(server.context.spanId);
  });

  it('records nothing under an unsampled remote parent, yet gives every span its own id to propagate', () => {
    const { spans, exporter } = maker(new AlwaysOnSampler());
    const server = spans.startRoot('POST', SpanKind.SERVER, remoteParent(TraceFlags.NONE));
    const client = spans.startChild('chat model', SpanKind.CLIENT, server);
    expect(server.recorded).toBeUndefined();
    expect(client.recorded).toBeUndefined();
    expect(client.context).toMatchObject({ traceId: REMOTE_TRACE, traceFlags: TraceFlags.NONE });
    expect(new Set([REMOTE_SPAN, server.context.spanId, client.context.spanId]).size).toBe(3);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('makes spans the SDK serializer and the OTLP encoder write as the same bytes', () => {
    const { spans, exporter } = maker(new AlwaysOnSampler());
    const server = spans.startRoot('POST /v1/chat/completions', SpanKind.SERVER, remoteParent(TraceFlags.SAMPLED));
    Object.assign(server.recorded!.ownAttributes, { 'http.response.status_code': 200, 'switchboard.model': 'chat', 'gen_ai.response.finish_reasons': ['stop'] });
    server.recorded!.addEvent('switchboard.fallback', { 'switchboard.model': 'backup' });
    const client = spans.startChild('chat model', SpanKind.CLIENT, server);
    client.recorded!.setError('503');
    client.recorded!.end();
    server.recorded!.end();
    const finished = exporter.getFinishedSpans();
    const sdk = ProtobufTraceSerializer.serializeRequest(finished)!;
    const ours = new OtlpTraceEncoder().encode(finished);
    expect(decode(ours)).toEqual(decode(sdk));
    expect(Buffer.from(ours).equals(Buffer.from(sdk))).toBe(true);
  });

  it('gives readers shared and own attributes as one set, and the encoder writes them as the SDK serializer writes that set', () => {
    const { spans, exporter } = maker(new AlwaysOnSampler());
    const shared = Object.freeze({ 'gen_ai.operation.name': 'chat', 'switchboard.deployment': 'primary', 'server.port': 4010 });
    const encoder = new OtlpTraceEncoder();
    for (let i = 0; i < 3; i++) {
      const server = spans.startRoot('POST /v1/chat/completions', SpanKind.SERVER, ROOT_CONTEXT);
      const client = spans.startChild('chat model', SpanKind.CLIENT, server, undefined, shared);
      Object.assign(client.recorded!.ownAttributes, { 'switchboard.attempt': i + 1, 'gen_ai.usage.output_tokens': 10 * i });
      client.recorded!.end();
      server.recorded!.end();
    }
    const finished = exporter.getFinishedSpans();
    const clients = finished.filter((s) => s.kind === SpanKind.CLIENT);
    expect(clients.map((c) => c.attributes)).toEqual([0, 1, 2].map((i) => ({ ...shared, 'switchboard.attempt': i + 1, 'gen_ai.usage.output_tokens': 10 * i })));
    // Encoded twice: the second time the shared set comes from the encoder's cache.
    for (let round = 0; round < 2; round++) {
      const ours = encoder.encode(finished);
      expect(Buffer.from(ours).equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(finished)!))).toBe(true);
    }
  });
});
