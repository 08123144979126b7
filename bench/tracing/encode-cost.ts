// Per-span cost of OTLP protobuf encoding: the SDK's ProtobufTraceSerializer and protobufjs (span
// objects converted to OTLP messages, then Type.encode: how otlp-transformer encoded before 0.200)
// against the gateway's OtlpTraceEncoder, on the spans the gateway makes for a request (server, route and GenAI client
// spans from OtelRequestTracer), in batches of the BatchSpanProcessor's size, alternating rounds in
// one process: CPU time per span, and the garbage-collection time within it. Checks both encodings are byte-identical.
// usage: node --expose-gc bench/tracing/encode-cost.ts [ROUNDS] [BATCHES]
import { readFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { Attributes, AttributeValue, HrTime } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { OtelRequestTracer } from '../../dataplane/dist/telemetry/tracing-otel.js';
import { OtlpTraceEncoder } from '../../dataplane/dist/telemetry/tracing-otlp-protobuf.js';
import { tracingSettings } from '../../dataplane/dist/telemetry/tracing-settings.js';
import protobuf from 'protobufjs';
import { median } from '../lib/stats.ts';

const rounds = Number(process.argv[2] ?? 8);
const batches = Number(process.argv[3] ?? 40);
const BATCH = 2048;

/** Three spans per request, as bench:tracing's gateway makes them (non-streamed chat, one try). */
function gatewaySpans(requests: number): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const settings = tracingSettings({ endpoint: 'http://127.0.0.1:4318', sampleRatio: 1, serviceName: 'bench', recordContent: [] }, { POD_NAME: 'gw-0', POD_NAMESPACE: 'ai', NODE_NAME: 'node-a', POD_UID: 'b9c5f0a2-3d4e-4f60-8a7b-1c2d3e4f5a6b' });
  const tracer = OtelRequestTracer.create(settings, { current: () => ({ sampleRatio: 1, recordContent: [] }) }, { processor: new SimpleSpanProcessor({ exporter }) });
  const body = JSON.stringify({ id: 'x', model: 'mock-model', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 16 } });
  for (let i = 0; i < requests; i++) {
    const trace = tracer.start({ headers: { 'content-type': 'application/json' }, method: 'POST', path: '/v1/chat/completions', requestId: `0d5f6c2e-${String(i).padStart(6, '0')}`, op: 'chat' });
    const startedAt = performance.now();
    trace.route({ startedAt, endedAt: performance.now(), alias: 'bench', strategy: 'weighted', kind: 'rule', reason: 'weighted', deployment: 'bench-a', upstreamModel: 'mock-model', attempt: 1 });
    const upstream = trace.upstream({ op: 'chat', provider: 'openai', deployment: 'bench-a', requestModel: 'mock-model', baseUrl: 'http://127.0.0.1:4010/v1', stream: false, maxTokens: 64 });
    upstream.inject({});
    upstream.end({ status: 200, body, inputTokens: 12, outputTokens: 16 });
    trace.end({ status: 200, alias: 'bench', deployment: 'bench-a', attempts: 1, inputTokens: 12, outputTokens: 16 });
  }
  return exporter.getFinishedSpans();
}

const Request = protobuf.parse(readFileSync(new URL('../../dataplane/src/telemetry/tracing-otlp-trace.proto', import.meta.url), 'utf8'), { keepCase: true }).root.lookupType('ExportTraceServiceRequest');
const nanos = (t: HrTime): { low: number; high: number } => {
  const n = BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]);
  return { low: Number(n & 0xffffffffn), high: Number(n >> 32n) };
};
const anyValue = (v: AttributeValue | undefined): object => {
  if (typeof v === 'string') return { string_value: v };
  if (typeof v === 'boolean') return { bool_value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { int_value: v } : { double_value: v };
  if (Array.isArray(v)) return { array_value: { values: v.map((x) => anyValue(x ?? undefined)) } };
  return {};
};
const keyValues = (a: Attributes): object[] => Object.entries(a).map(([key, value]) => ({ key, value: anyValue(value) }));
/** ReadableSpans as OTLP message objects for protobufjs (one resource and scope, as the gateway has). */
function protobufjsEncode(spans: ReadableSpan[]): Uint8Array {
  const first = spans[0]!;
  const message = {
    resource_spans: [
      {
        resource: { attributes: keyValues(first.resource.attributes) },
        scope_spans: [
          {
            scope: { name: first.instrumentationScope.name, version: first.instrumentationScope.version },
            spans: spans.map((s) => {
              const c = s.spanContext();
              return {
                trace_id: Buffer.from(c.traceId, 'hex'),
                span_id: Buffer.from(c.spanId, 'hex'),
                parent_span_id: s.parentSpanContext ? Buffer.from(s.parentSpanContext.spanId, 'hex') : undefined,
                name: s.name,
                kind: s.kind + 1,
                start_time_unix_nano: nanos(s.startTime),
                end_time_unix_nano: nanos(s.endTime),
                attributes: keyValues(s.attributes),
                events: s.events.map((e) => ({ time_unix_nano: nanos(e.time), name: e.name, attributes: keyValues(e.attributes ?? {}) })),
                status: { code: s.status.code, message: s.status.message },
                flags: (c.traceFlags & 0xff) | 0x100,
              };
            }),
          },
        ],
      },
    ],
  };
  return Request.encode(message).finish();
}

const spans = gatewaySpans(Math.ceil(BATCH / 3));
const batch = spans.slice(0, BATCH);
const encoder = new OtlpTraceEncoder();
const variants: Record<string, (spans: ReadableSpan[]) => Uint8Array | undefined> = {
  'SDK ProtobufTraceSerializer': (s) => ProtobufTraceSerializer.serializeRequest(s),
  'protobufjs 7.6 (message objects + Type.encode)': protobufjsEncode,
  OtlpTraceEncoder: (s) => encoder.encode(s),
};
const sdkBytes = Buffer.from(variants['SDK ProtobufTraceSerializer']!(batch)!);
const identical = sdkBytes.equals(Buffer.from(variants.OtlpTraceEncoder!(batch)!));
const decoded = (bytes: Uint8Array): string => JSON.stringify(Request.toObject(Request.decode(bytes), { longs: String, bytes: String, defaults: true }));
if (decoded(protobufjsEncode(batch)) !== decoded(sdkBytes)) throw new Error('the protobufjs variant encodes a different message');
const gc = (globalThis as { gc?: () => void }).gc;

const collections: { start: number; duration: number }[] = [];
new PerformanceObserver((list) => collections.push(...list.getEntries().map((e) => ({ start: e.startTime, duration: e.duration })))).observe({ entryTypes: ['gc'] });
const cpuNs: Record<string, number[]> = {};
const gcNs: Record<string, number[]> = {};
const names = Object.keys(variants);
for (let round = 0; round < rounds; round++) {
  for (const name of round % 2 === 0 ? names : [...names].reverse()) {
    const encode = variants[name]!;
    for (let i = 0; i < 5; i++) encode(batch);
    gc?.();
    await new Promise((resolve) => setImmediate(resolve));
    const t0 = performance.now();
    const cpu0 = process.threadCpuUsage();
    let bytes = 0;
    for (let i = 0; i < batches; i++) bytes += encode(batch)!.length;
    const cpu = process.threadCpuUsage(cpu0);
    const t1 = performance.now();
    // GC entries arrive asynchronously: let them in, then keep those that started within the round.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const gcMs = collections.filter((c) => c.start >= t0 && c.start <= t1).reduce((sum, c) => sum + c.duration, 0);
    (gcNs[name] ??= []).push((gcMs * 1e6) / (batches * BATCH));
    (cpuNs[name] ??= []).push(((cpu.user + cpu.system) * 1000) / (batches * BATCH));
    if (bytes === 0) throw new Error('nothing encoded');
  }
}

const reference = median(cpuNs['SDK ProtobufTraceSerializer']!);
process.stdout.write(`| encoder | CPU µs per span (median of ${rounds} rounds) | rounds | vs SDK | of which GC, µs per span |\n|---|---|---|---|---|\n`);
for (const name of names) {
  const m = median(cpuNs[name]!);
  process.stdout.write(`| ${name} | ${(m / 1000).toFixed(2)} | ${cpuNs[name]!.map((v) => (v / 1000).toFixed(2)).join(' ')} | ${(m / reference).toFixed(2)} | ${(median(gcNs[name]!) / 1000).toFixed(2)} |\n`);
}
process.stdout.write(`\n${batches} batches of ${BATCH} spans (${(sdkBytes.length / BATCH).toFixed(0)} bytes per span) per round; the two encodings are ${identical ? 'byte-identical' : 'DIFFERENT'}.\n`);
if (!identical) process.exitCode = 1;
