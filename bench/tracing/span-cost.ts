// Same-process cost of tracing one request (server, route and GenAI client spans, propagation
// into the upstream headers) through OtelRequestTracer, per span processor, in alternating
// rounds: wall time, main-thread CPU and process CPU (all threads) per request.
// usage: node bench/tracing/span-cost.ts [ROUNDS] [REQUESTS]
import { performance } from 'node:perf_hooks';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { BatchSpanProcessor, NoopSpanProcessor, type ReadableSpan, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OtelRequestTracer } from '../../dataplane/dist/telemetry/tracing-otel.js';
import { OtlpHttpPoster } from '../../dataplane/dist/telemetry/tracing-otlp-exporter.js';
import { EncodingSpanProcessor } from '../../dataplane/dist/telemetry/tracing-otlp-processor.js';
import { OtlpTraceEncoder } from '../../dataplane/dist/telemetry/tracing-otlp-protobuf.js';
import { tracingSettings } from '../../dataplane/dist/telemetry/tracing-settings.js';
import { median } from '../lib/stats.ts';
import { startNullSink } from './setup.ts';

const rounds = Number(process.argv[2] ?? 6);
const requests = Number(process.argv[3] ?? 20_000);

/** Encodes each batch as OTLP (protobuf or JSON) and drops it: the event-loop cost of the export, minus HTTP. */
class EncodeOnlyExporter implements SpanExporter {
  bytes = 0;
  private readonly serializer: Pick<typeof ProtobufTraceSerializer, 'serializeRequest'>;
  constructor(serializer: Pick<typeof ProtobufTraceSerializer, 'serializeRequest'>) {
    this.serializer = serializer;
  }
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.bytes += this.serializer.serializeRequest(spans)?.length ?? 0;
    done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** The SDK exporter shape over the gateway's encoder and poster: each batch encoded, then posted. */
class EncodeAndPostExporter implements SpanExporter {
  private readonly encoder = new OtlpTraceEncoder();
  private readonly poster: OtlpHttpPoster;
  constructor(poster: OtlpHttpPoster) {
    this.poster = poster;
  }
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.poster.post(this.encoder.encode(spans)).then(
      () => done({ code: ExportResultCode.SUCCESS }),
      (error: Error) => done({ code: ExportResultCode.FAILED, error }),
    );
  }
  shutdown(): Promise<void> {
    return this.poster.shutdown();
  }
}

// The sink runs in its own process, so its CPU is not counted here.
const nullSink = await startNullSink();
const sink = { url: nullSink.otlpUrl };
const settings = tracingSettings({ endpoint: sink.url, sampleRatio: 1, serviceName: 'bench', recordContent: [] }, { POD_NAME: 'gw-0', NODE_NAME: 'node-a' });
const live = { current: () => ({ sampleRatio: 1, recordContent: [] }) };
const variants: Record<string, () => SpanProcessor> = {
  'no export (noop processor)': () => new NoopSpanProcessor(),
  'batch, dropped by the exporter (no encoding)': () => new BatchSpanProcessor({ exporter: new EncodeOnlyExporter({ serializeRequest: () => undefined }), maxQueueSize: 16_384, maxExportBatchSize: 2048, scheduledDelayMillis: 1000 }),
  'batch + protobuf inline (no HTTP)': () => new BatchSpanProcessor({ exporter: new EncodeOnlyExporter(ProtobufTraceSerializer), maxQueueSize: 16_384, maxExportBatchSize: 2048, scheduledDelayMillis: 1000 }),
  'batch + JSON inline (no HTTP)': () => new BatchSpanProcessor({ exporter: new EncodeOnlyExporter(JsonTraceSerializer), maxQueueSize: 16_384, maxExportBatchSize: 2048, scheduledDelayMillis: 1000 }),
  'batch + OtlpTraceEncoder inline (no HTTP)': () => {
    const encoder = new OtlpTraceEncoder();
    return new BatchSpanProcessor({ exporter: new EncodeOnlyExporter({ serializeRequest: (spans) => encoder.encode(spans) }), maxQueueSize: 16_384, maxExportBatchSize: 2048, scheduledDelayMillis: 1000 });
  },
  'batch + OTLP/HTTP protobuf inline (the SDK exporter)': () => new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${sink.url}/v1/traces` }), maxQueueSize: 16_384, maxExportBatchSize: 2048, scheduledDelayMillis: 1000 }),
  'batch + OTLP/HTTP protobuf inline (OtlpTraceEncoder + OtlpHttpPoster)': () =>
    new BatchSpanProcessor({ exporter: new EncodeAndPostExporter(new OtlpHttpPoster({ url: `${sink.url}/v1/traces`, headers: {}, compression: 'none', timeoutMillis: 5000 })), maxQueueSize: 16_384, maxExportBatchSize: 2048, scheduledDelayMillis: 1000 }),
  'encoding processor, no HTTP': () => new EncodingSpanProcessor({ post: () => Promise.resolve(), shutdown: () => Promise.resolve() }, { encodeEvery: 64, maxBatchSpans: 2048, delayMs: 1000, maxQueueSpans: 16_384 }),
  'encoding processor + OTLP/HTTP protobuf (the gateway)': () =>
    new EncodingSpanProcessor(new OtlpHttpPoster({ url: `${sink.url}/v1/traces`, headers: {}, compression: 'none', timeoutMillis: 5000 }), { encodeEvery: 64, maxBatchSpans: 2048, delayMs: 1000, maxQueueSpans: 16_384 }),
};

const body = JSON.stringify({ id: 'x', model: 'mock-model', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }], usage: { prompt_tokens: 12, completion_tokens: 16 } });
const group = { name: 'bench', strategy: 'weighted' };

function oneRequest(tracer: OtelRequestTracer, i: number): void {
  const trace = tracer.start({ headers: { 'content-type': 'application/json' }, method: 'POST', path: '/v1/chat/completions', requestId: `req-${i}`, op: 'chat' });
  const startedAt = performance.now();
  trace.route({ startedAt, endedAt: performance.now(), alias: group.name, strategy: group.strategy, kind: 'rule', reason: 'weighted', deployment: 'bench-a', upstreamModel: 'mock-model', attempt: 1 });
  const upstream = trace.upstream({ op: 'chat', provider: 'openai', deployment: 'bench-a', requestModel: 'mock-model', baseUrl: 'http://127.0.0.1:4010/v1', stream: false, maxTokens: 64 });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': `req-${i}` };
  upstream.inject(headers);
  upstream.end({ status: 200, body, inputTokens: 12, outputTokens: 16 });
  trace.end({ status: 200, alias: 'bench', deployment: 'bench-a', attempts: 1, inputTokens: 12, outputTokens: 16 });
}

const loopUs: Record<string, number[]> = {};
const cpuUs: Record<string, number[]> = {};
const threadUs: Record<string, number[]> = {};
const names = Object.keys(variants);
for (let round = 0; round < rounds; round++) {
  for (const name of round % 2 === 0 ? names : [...names].reverse()) {
    const processor = variants[name]!();
    const tracer = OtelRequestTracer.create(settings, live, { processor });
    // Warm up.
    for (let i = 0; i < 2000; i++) oneRequest(tracer, i);
    await processor.forceFlush();
    const cpu0 = process.cpuUsage();
    const thread0 = process.threadCpuUsage();
    const t0 = performance.now();
    // Yield now and then so timers (batch flushes) and HTTP answers run as in a server.
    for (let i = 0; i < requests; i++) {
      oneRequest(tracer, i);
      if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
    }
    const loop = performance.now() - t0;
    await processor.forceFlush();
    const thread = process.threadCpuUsage(thread0);
    const cpu = process.cpuUsage(cpu0);
    await tracer.shutdown();
    (loopUs[name] ??= []).push((loop * 1000) / requests);
    (threadUs[name] ??= []).push((thread.user + thread.system) / requests);
    (cpuUs[name] ??= []).push((cpu.user + cpu.system) / requests);
  }
}
const received = await nullSink.stats();
await nullSink.stop();
process.stdout.write(`| processor | wall µs / request | main-thread CPU µs / request | process CPU µs / request (all threads) |\n|---|---|---|---|\n`);
const cells = (v: number[]): string => `${median(v).toFixed(1)} (${v.map((x) => x.toFixed(1)).join(', ')})`;
for (const name of names) process.stdout.write(`| ${name} | ${median(loopUs[name]!).toFixed(1)} | ${cells(threadUs[name]!)} | ${cells(cpuUs[name]!)} |\n`);
process.stdout.write(`\nThe sink received ${received.exports} OTLP exports, ${(received.bytes / 1e6).toFixed(1)} MB.\n`);
