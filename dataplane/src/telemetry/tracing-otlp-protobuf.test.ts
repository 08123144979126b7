// The fast OTLP encoder against the SDK's ProtobufTraceSerializer: spans made by the real SDK,
// both encodings decoded by protobufjs with the OTLP trace schema, compared as messages (and as bytes).
import { describe, expect, it } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, createTraceState, trace, type Attributes } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import protobuf from 'protobufjs';
import { OtlpTraceEncoder } from './tracing-otlp-protobuf.js';

const Request = new protobuf.Root().loadSync(fileURLToPath(new URL('./tracing-otlp-trace.proto', import.meta.url)), { keepCase: true }).lookupType('ExportTraceServiceRequest');

function decode(bytes: Uint8Array): Record<string, unknown> {
  return Request.toObject(Request.decode(bytes), { longs: String, bytes: String, defaults: true, oneofs: true });
}

function sdkEncoding(spans: ReadableSpan[]): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans);
  if (bytes === undefined) throw new Error('the SDK serializer returned nothing');
  return bytes;
}

const every: Attributes = {
  'str.ascii': 'chat gpt-4o',
  'str.empty': '',
  'str.unicode': 'naïve — 日本語 🚀',
  'str.long': 'x'.repeat(200),
  'str.long.unicode': 'é'.repeat(70_000),
  'int.small': 42,
  'int.zero': 0,
  'int.negative': -7,
  'int.big': 2 ** 40 + 3,
  'int.big.negative': -(2 ** 45) - 11,
  'int.max.safe': Number.MAX_SAFE_INTEGER,
  'double': 0.125,
  'double.negative': -3.75e-9,
  'bool.true': true,
  'bool.false': false,
  'array.str': ['stop', 'length', 'ünïcode'],
  'array.num': [1, 2.5, -3],
  'array.bool': [true, false],
  'array.empty': [],
  'array.holes': ['a', null, undefined, 'b'],
};

/** Spans of every shape the SDK can make, ended and read back from an in-memory exporter. */
function sdkSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const resource = resourceFromAttributes({ 'service.name': 'switchboard', 'k8s.pod.name': 'gw-0', 'service.instance.id': 'uid-1', 'replica.index': 3 }, { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' });
  const provider = new TracerProvider({
    resource,
    spanLimits: { attributeCountLimit: 24, eventCountLimit: 2, linkCountLimit: 1 },
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer('switchboard');
  const other = provider.getTracer('other-scope', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.28.0' });

  const remote = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'B7AD6B7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: createTraceState('vendor=a,other=b'),
  });
  const server = tracer.startSpan('POST /v1/chat/completions', { kind: SpanKind.SERVER }, remote);
  server.setAttributes(every);
  server.setAttributes({ 'over.limit.a': 1, 'over.limit.b': 2, 'over.limit.c': 3, 'over.limit.d': 4, 'over.limit.e': 5 });
  server.addEvent('switchboard.retry', { 'switchboard.attempt': 2, 'switchboard.previous_failure': 'primary: 503' });
  server.addEvent('no attributes');
  server.addEvent('dropped by the limit', { x: 1 });
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed: 503' });
  const child = trace.setSpan(remote, server);
  const route = tracer.startSpan('switchboard.route', { kind: SpanKind.INTERNAL }, child);
  route.setAttributes({ 'switchboard.route.decision_ms': 0.0421, 'switchboard.router.candidates.quality': [0.91, 0.5, 0.25] });
  route.end();
  const client = other.startSpan('chat mock-model', {
    kind: SpanKind.CLIENT,
    links: [
      { context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.NONE, traceState: createTraceState('k=v') }, attributes: { 'link.kind': 'shadow', 'link.n': 1 } },
      { context: { traceId: '4bf92f3577b34da6a3ce929d0e0e4737', spanId: '00f067aa0ba902b8', traceFlags: TraceFlags.SAMPLED } },
    ],
  }, child);
  client.setAttributes({ 'gen_ai.request.model': 'mock-model', 'gen_ai.usage.input_tokens': 12, 'gen_ai.request.stream': false });
  client.setStatus({ code: SpanStatusCode.OK });
  client.end();
  server.end();
  // A root span with nothing set, a producer and a consumer.
  tracer.startSpan('bare').end();
  tracer.startSpan('producer', { kind: SpanKind.PRODUCER }).end();
  tracer.startSpan('consumer', { kind: SpanKind.CONSUMER }).end();
  return exporter.getFinishedSpans();
}

describe('OtlpTraceEncoder', () => {
  const spans = sdkSpans();

  it('encodes spans of every shape to the message the SDK serializer encodes', () => {
    expect(spans.map((s) => s.droppedAttributesCount)).toContain(1);
    expect(spans.map((s) => s.droppedEventsCount)).toContain(1);
    expect(spans.map((s) => s.droppedLinksCount)).toContain(1);
    const ours = decode(new OtlpTraceEncoder().encode(spans));
    expect(ours).toEqual(decode(sdkEncoding(spans)));
    // The decoded message holds what was set, so the comparison is not between two empty shells.
    const resourceSpans = ours.resource_spans as { resource: { attributes: unknown[] }; schema_url: string; scope_spans: { scope: { name: string }; spans: { name: string; parent_span_id: string }[] }[] }[];
    expect(resourceSpans).toHaveLength(1);
    expect(resourceSpans[0]!.schema_url).toBe('https://opentelemetry.io/schemas/1.30.0');
    expect(resourceSpans[0]!.scope_spans.map((s) => s.scope.name).sort()).toEqual(['other-scope', 'switchboard']);
    const names = resourceSpans[0]!.scope_spans.flatMap((s) => s.spans.map((span) => span.name));
    expect(names.sort()).toEqual(['POST /v1/chat/completions', 'bare', 'chat mock-model', 'consumer', 'producer', 'switchboard.route']);
  });

  it('writes the same bytes as the SDK serializer', () => {
    expect(Buffer.from(new OtlpTraceEncoder().encode(spans)).equals(Buffer.from(sdkEncoding(spans)))).toBe(true);
  });

  it('encodes the same after its caches are warm, and batches in any order and size', () => {
    const encoder = new OtlpTraceEncoder();
    for (const batch of [spans, [...spans].reverse(), spans.slice(2, 3), spans, []]) {
      expect(decode(encoder.encode(batch))).toEqual(decode(sdkEncoding(batch)));
    }
  });

  it('copies repeated short string attributes from its pair cache, and stops caching a key with many values', () => {
    const exporter = new InMemorySpanExporter();
    const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('pairs');
    // 'model' repeats three values; 'request.id' takes a new one per span, past the per-key limit;
    // the same value also appears under another key, in an event and as a long string.
    for (let i = 0; i < 100; i++) {
      const span = tracer.startSpan('pair', { attributes: { 'model': `m${i % 3}`, 'request.id': `req-${i}`, 'other': 'm1', 'long': 'y'.repeat(65 + (i % 2)) } });
      span.addEvent('e', { 'model': `m${i % 3}` });
      span.end();
    }
    const many = exporter.getFinishedSpans();
    const encoder = new OtlpTraceEncoder();
    for (const batch of [many, many.slice(50), many.slice(0, 7)]) expect(Buffer.from(encoder.encode(batch)).equals(Buffer.from(sdkEncoding(batch)))).toBe(true);
  });

  it('keeps every byte of a batch larger than its starting buffer and than a three-byte length', () => {
    const exporter = new InMemorySpanExporter();
    const tracer = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }).getTracer('big');
    for (let i = 0; i < 3; i++) tracer.startSpan(`big ${i}`, { attributes: { 'payload': String(i).repeat(1_000_000) } }).end();
    const big = exporter.getFinishedSpans();
    const ours = new OtlpTraceEncoder().encode(big);
    expect(ours.length).toBeGreaterThan(3_000_000);
    expect(Buffer.from(ours).equals(Buffer.from(sdkEncoding(big)))).toBe(true);
  });

  it('appends spans in parts into the same request, grouped in the order each request sees them', () => {
    const encoder = new OtlpTraceEncoder();
    const otherFirst = [...spans].sort((a, b) => Number(b.instrumentationScope.name === 'other-scope') - Number(a.instrumentationScope.name === 'other-scope'));
    expect(otherFirst[0]!.instrumentationScope.name).toBe('other-scope');
    for (const batch of [spans, otherFirst, spans.slice(1, 2)]) {
      for (let i = 0; i < batch.length; i += 2) encoder.append(batch.slice(i, i + 2));
      expect(encoder.pendingSpans).toBe(batch.length);
      expect(Buffer.from(encoder.takeRequest()).equals(Buffer.from(sdkEncoding(batch)))).toBe(true);
      expect(encoder.pendingSpans).toBe(0);
    }
    expect(encoder.takeRequest()).toHaveLength(0);
  });

  it('returns a buffer of its own for each batch from encode()', () => {
    const encoder = new OtlpTraceEncoder();
    const first = encoder.encode(spans);
    const copy = Buffer.from(first);
    encoder.encode(spans.slice(0, 1));
    encoder.encode(spans.slice(0, 2));
    expect(Buffer.from(first).equals(copy)).toBe(true);
  });

  it('keeps a taken request intact while the next one is built, and builds every third in the first one\'s buffer', () => {
    const encoder = new OtlpTraceEncoder();
    encoder.append(spans);
    const first = encoder.takeRequest();
    const copy = Buffer.from(first);
    encoder.append(spans.slice(0, 1));
    const second = encoder.takeRequest();
    expect(Buffer.from(first).equals(copy)).toBe(true);
    expect(decode(second)).toEqual(decode(sdkEncoding(spans.slice(0, 1))));
    encoder.append(spans.slice(0, 2));
    const third = encoder.takeRequest();
    expect(third.buffer).toBe(first.buffer);
    expect(decode(third)).toEqual(decode(sdkEncoding(spans.slice(0, 2))));
  });
});
