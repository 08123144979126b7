// The OpenTelemetry side of request tracing, loaded only when tracing is on (tracing.ts). Spans
// are made by hand with explicit parent contexts (no context manager, no auto-instrumentation):
// the server span's context is carried by the RequestTrace, not by async-local storage.
// Attributes are set after startSpan, not passed to it: the SDK validates start attributes twice,
// and an unsampled span gets none built.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type ReadableSpan,
  type SamplingResult,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_SERVICE_NAME, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
import { answerText, collectFinishReasons, genAiOperation, genAiProvider, outputMessages, responseModel, streamedText } from './gen-ai-response.js';
import { GEN_AI, SWITCHBOARD } from './tracing-attributes.js';
import { OtlpProtobufTraceExporter } from './tracing-otlp-exporter.js';
import { OTLPJsonTraceExporter } from './tracing-otlp-json.js';
import type { LiveTracingConfig, RequestEnd, RequestStart, RequestTrace, RequestTracer, RouteRecord, UpstreamEnd, UpstreamStart, UpstreamTrace } from './tracing.js';
import type { TracingSettings } from './tracing-settings.js';

const propagator = new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });

/** A collector that does not answer delays the final flush at shutdown by at most this much. */
const EXPORT_TIMEOUT_MS = 5000;

/** Recorded text is cut to this many characters per attribute. */
const CONTENT_LIMIT = 16 * 1024;

/** Ratio sampling for new traces, re-read from the live config so a reload changes it. */
class LiveRatioSampler implements Sampler {
  private ratio = Number.NaN;
  private inner: Sampler = new TraceIdRatioBasedSampler(1);
  constructor(private readonly ratioNow: () => number) {}
  shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const ratio = this.ratioNow();
    if (ratio !== this.ratio) {
      this.ratio = ratio;
      // At 1 every trace is sampled: skip hashing the trace id.
      this.inner = ratio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(ratio);
    }
    return this.inner.shouldSample(context, traceId, name, kind, attributes, links);
  }
  toString(): string {
    return `LiveRatioSampler{${this.ratio}}`;
  }
}

export interface OtelTracerOptions {
  /** Replaces the OTLP exporter (tests use an in-memory one). */
  processor?: SpanProcessor;
}

/**
 * The object to write a span's attributes into: the recording span's own, so that values the
 * gateway built itself (primitives and homogeneous arrays, far below the SDK's count limit) go in
 * without the SDK's per-value validation and copy; a fresh one otherwise, which `apply` hands to
 * setAttributes.
 */
function attributesOf(span: Span): Attributes {
  const own = (span as Partial<ReadableSpan>).attributes;
  return own !== undefined && span.isRecording() ? own : {};
}

function apply(span: Span, attributes: Attributes): void {
  if (attributes !== (span as Partial<ReadableSpan>).attributes) span.setAttributes(attributes);
}

export class OtelRequestTracer implements RequestTracer {
  private constructor(
    private readonly provider: TracerProvider,
    private readonly tracer: Tracer,
    private readonly live: LiveTracingConfig,
  ) {}

  static create(settings: TracingSettings, live: LiveTracingConfig, options: OtelTracerOptions = {}): OtelRequestTracer {
    const resource = defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(resourceFromAttributes({ ...settings.resource, [ATTR_SERVICE_NAME]: settings.serviceName }));
    // Large batches: fewer, bigger OTLP posts cost the event loop less per span.
    const processor = options.processor ?? new BatchSpanProcessor({ exporter: exporterFor(settings), maxQueueSize: 16_384, maxExportBatchSize: 2048, scheduledDelayMillis: 1000, exportTimeoutMillis: EXPORT_TIMEOUT_MS });
    const sampler = new ParentBasedSampler({ root: new LiveRatioSampler(() => live.current()?.sampleRatio ?? settings.defaultSampleRatio) });
    const provider = new TracerProvider({ resource, sampler, spanProcessors: [processor] });
    return new OtelRequestTracer(provider, provider.getTracer('switchboard'), live);
  }

  start(request: RequestStart): RequestTrace {
    const parent = propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
    const span = this.tracer.startSpan(`${request.method} ${request.op === undefined ? '' : request.path}`.trim(), { kind: SpanKind.SERVER }, parent);
    if (span.isRecording()) {
      const attributes = attributesOf(span);
      attributes[ATTR_HTTP_REQUEST_METHOD] = request.method;
      attributes[ATTR_URL_PATH] = request.path;
      attributes[SWITCHBOARD.requestId] = request.requestId;
      if (request.op !== undefined) {
        attributes[ATTR_HTTP_ROUTE] = request.path;
        attributes[GEN_AI.operationName] = genAiOperation(request.op);
      }
      apply(span, attributes);
    }
    const recordContent = this.live.current()?.recordContent ?? [];
    return new OtelRequestTrace(this.tracer, span, trace.setSpan(parent, span), recordContent);
  }

  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }
}

function exporterFor(settings: TracingSettings): SpanExporter {
  if (settings.protocol === 'http/json') return new OTLPJsonTraceExporter(settings.tracesUrl, EXPORT_TIMEOUT_MS);
  return new OtlpProtobufTraceExporter({ url: settings.tracesUrl, headers: settings.headers, compression: settings.compression, timeoutMillis: EXPORT_TIMEOUT_MS });
}

class OtelRequestTrace implements RequestTrace {
  readonly recording: boolean;
  readonly traceId: string;
  private tries = 0;
  constructor(
    private readonly tracer: Tracer,
    private readonly span: Span,
    private readonly context: Context,
    private readonly recordContent: readonly string[],
  ) {
    this.recording = span.isRecording();
    this.traceId = span.spanContext().traceId;
  }

  logFields(): { trace_id: string; span_id: string } {
    return { trace_id: this.traceId, span_id: this.span.spanContext().spanId };
  }

  recordsContent(alias: string): boolean {
    return this.recording && (this.recordContent.includes('*') || this.recordContent.includes(alias));
  }

  route(record: RouteRecord): void {
    if (!this.recording) return;
    const span = this.tracer.startSpan('switchboard.route', { kind: SpanKind.INTERNAL, startTime: record.startedAt }, this.context);
    const attributes = attributesOf(span);
    routeAttributes(record, attributes);
    apply(span, attributes);
    span.end(record.endedAt);
  }

  upstream(start: UpstreamStart): UpstreamTrace {
    return new OtelUpstreamTrace(this.tracer, this.context, start, ++this.tries, this.recording);
  }

  event(name: 'switchboard.retry' | 'switchboard.fallback', attributes: Record<string, string | number>): void {
    if (this.recording) this.span.addEvent(name, attributes);
  }

  end(result: RequestEnd): void {
    if (this.recording) {
      const attributes = attributesOf(this.span);
      attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = result.status;
      attributes[SWITCHBOARD.attempts] = result.attempts;
      if (result.alias !== undefined) attributes[SWITCHBOARD.model] = result.alias;
      if (result.deployment !== undefined) attributes[SWITCHBOARD.deployment] = result.deployment;
      if (result.inputTokens !== undefined) attributes[GEN_AI.usageInputTokens] = result.inputTokens;
      if (result.outputTokens !== undefined) attributes[GEN_AI.usageOutputTokens] = result.outputTokens;
      // Server spans: only 5xx are errors (a 4xx is the client's).
      if (result.status >= 500) {
        attributes[ATTR_ERROR_TYPE] = String(result.status);
        this.span.setStatus({ code: SpanStatusCode.ERROR });
      }
      apply(this.span, attributes);
    }
    this.span.end();
  }
}

/** Writes a routing decision's attributes into `a`. */
function routeAttributes(record: RouteRecord, a: Attributes): void {
  a[SWITCHBOARD.model] = record.alias;
  a[SWITCHBOARD.routeStrategy] = record.strategy;
  a[SWITCHBOARD.routeReasonClass] = record.kind;
  a[SWITCHBOARD.routeReason] = record.reason;
  a[SWITCHBOARD.decisionMs] = record.endedAt - record.startedAt;
  if (record.deployment !== undefined) a[SWITCHBOARD.routeDeployment] = record.deployment;
  if (record.upstreamModel !== undefined) a[SWITCHBOARD.routeUpstreamModel] = record.upstreamModel;
  if (record.attempt !== undefined) a[SWITCHBOARD.attempt] = record.attempt;
  const learned = record.learned;
  if (learned) {
    a[SWITCHBOARD.routerKind] = learned.kind;
    a[SWITCHBOARD.routerDigest] = learned.digest;
    a[SWITCHBOARD.routerPolicy] = learned.policy;
    a[SWITCHBOARD.routerChosen] = learned.chosen;
    a[SWITCHBOARD.candidateModels] = learned.candidates.map((c) => c.model);
    a[SWITCHBOARD.candidateQuality] = learned.candidates.map((c) => c.quality);
    a[SWITCHBOARD.candidateCost] = learned.candidates.map((c) => c.cost);
    if (learned.skipped.length > 0) a[SWITCHBOARD.candidatesSkipped] = [...learned.skipped];
    if (learned.routingModel !== undefined) a[SWITCHBOARD.routingModel] = learned.routingModel;
    if (learned.timing) {
      a[SWITCHBOARD.decisionFeaturizeMs] = learned.timing.featurizeMs;
      a[SWITCHBOARD.decisionHeadMs] = learned.timing.headMs;
      a[SWITCHBOARD.decisionPolicyMs] = learned.timing.policyMs;
    }
  }
  const virtual = record.virtualAlias;
  if (virtual) {
    a[SWITCHBOARD.virtualAlias] = virtual.router;
    a[SWITCHBOARD.virtualMode] = virtual.mode;
    if (virtual.routingModel !== undefined) a[SWITCHBOARD.routingModel] = virtual.routingModel;
    if (virtual.digest !== undefined) a[SWITCHBOARD.routerDigest] = virtual.digest;
  }
  const shadows = record.shadows;
  if (shadows && shadows.length > 0) {
    a[SWITCHBOARD.shadowModels] = shadows.map((s) => s.routingModel);
    a[SWITCHBOARD.shadowPicks] = shadows.map((s) => s.picked);
    a[SWITCHBOARD.shadowAgree] = shadows.map((s) => s.agree);
    if (shadows.every((s) => s.digest !== undefined)) a[SWITCHBOARD.shadowDigests] = shadows.map((s) => s.digest!);
  }
}

class OtelUpstreamTrace implements UpstreamTrace {
  private readonly span: Span;
  private readonly startedAt = performance.now();
  private readonly finishReasons = new Set<string>();
  private model: string | undefined;
  private streamedText: string | undefined;

  constructor(
    tracer: Tracer,
    private readonly parent: Context,
    start: UpstreamStart,
    attempt: number,
    private readonly recording: boolean,
  ) {
    const operation = genAiOperation(start.op);
    // Unsampled: a non-recording span that still carries the trace context upstream.
    this.span = tracer.startSpan(`${operation} ${start.requestModel}`, { kind: SpanKind.CLIENT, startTime: this.startedAt }, parent);
    if (recording) {
      const attributes = attributesOf(this.span);
      upstreamAttributes(start, operation, attempt, attributes);
      apply(this.span, attributes);
    }
    if (recording && start.inputMessages !== undefined) this.streamedText = '';
  }

  inject(headers: Record<string, string>): void {
    propagator.inject(trace.setSpan(this.parent, this.span), headers, defaultTextMapSetter);
  }

  firstChunk(chunk: Buffer | undefined): void {
    if (!this.recording) return;
    this.span.setAttribute(GEN_AI.responseTimeToFirstChunk, (performance.now() - this.startedAt) / 1000);
    if (chunk) this.look(chunk);
  }

  observe(rest: AsyncIterator<Buffer>): AsyncIterator<Buffer> {
    if (!this.recording) return rest;
    return {
      next: async () => {
        const next = await rest.next();
        if (!next.done) this.look(next.value);
        return next;
      },
    };
  }

  private look(chunk: Buffer): void {
    const text = chunk.toString('utf8');
    this.model ??= responseModel(text);
    collectFinishReasons(text, this.finishReasons);
    if (this.streamedText !== undefined && this.streamedText.length < CONTENT_LIMIT) this.streamedText += streamedText(text);
  }

  end(outcome: UpstreamEnd): void {
    if (this.recording) {
      const a = attributesOf(this.span);
      if (outcome.status !== undefined) a[ATTR_HTTP_RESPONSE_STATUS_CODE] = outcome.status;
      if (outcome.body !== undefined) {
        this.model ??= responseModel(outcome.body);
        collectFinishReasons(outcome.body, this.finishReasons);
        if (this.streamedText !== undefined) this.streamedText = answerText(outcome.body);
      }
      if (this.model !== undefined) a[GEN_AI.responseModel] = this.model;
      if (this.finishReasons.size > 0) a[GEN_AI.responseFinishReasons] = [...this.finishReasons];
      if (outcome.inputTokens !== undefined) a[GEN_AI.usageInputTokens] = outcome.inputTokens;
      if (outcome.outputTokens !== undefined) a[GEN_AI.usageOutputTokens] = outcome.outputTokens;
      if (this.streamedText !== undefined && outcome.error === undefined) a[GEN_AI.outputMessages] = outputMessages(this.streamedText.slice(0, CONTENT_LIMIT), this.finishReasons);
      if (outcome.cut) a[SWITCHBOARD.streamCut] = true;
      if (outcome.error !== undefined || outcome.cut) {
        a[ATTR_ERROR_TYPE] = outcome.error ?? 'cut mid-stream';
        this.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error ?? 'cut mid-stream' });
      }
      apply(this.span, a);
    }
    this.span.end();
  }
}

/** server.address and server.port of upstream URLs, parsed once per URL (a few per deployment). */
const servers = new Map<string, { address: string; port: number } | undefined>();
function serverOf(url: string): { address: string; port: number } | undefined {
  if (servers.has(url)) return servers.get(url);
  let server: { address: string; port: number } | undefined;
  try {
    const parsed = new URL(url);
    server = { address: parsed.hostname, port: Number(parsed.port || (parsed.protocol === 'https:' ? 443 : 80)) };
  } catch {
    server = undefined;
  }
  if (servers.size < 1024) servers.set(url, server);
  return server;
}

/** Writes an upstream try's start attributes into `a`. */
function upstreamAttributes(start: UpstreamStart, operation: string, attempt: number, a: Attributes): void {
  a[GEN_AI.operationName] = operation;
  a[GEN_AI.providerName] = genAiProvider(start.provider);
  a[GEN_AI.requestModel] = start.requestModel;
  a[GEN_AI.requestStream] = start.stream;
  a[SWITCHBOARD.deployment] = start.deployment;
  a[SWITCHBOARD.attempt] = attempt;
  if (start.maxTokens !== undefined) a[GEN_AI.requestMaxTokens] = start.maxTokens;
  const server = serverOf(start.url);
  if (server) {
    a[ATTR_SERVER_ADDRESS] = server.address;
    a[ATTR_SERVER_PORT] = server.port;
  }
  if (start.inputMessages !== undefined) a[GEN_AI.inputMessages] = start.inputMessages.slice(0, CONTENT_LIMIT);
}
