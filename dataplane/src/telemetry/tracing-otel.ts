// The OpenTelemetry side of request tracing, loaded only when tracing is on (tracing.ts). Spans
// are the gateway's own RecordedSpans (tracing-span.ts, decision 0014) with explicit parents (no
// context manager, no auto-instrumentation): the server span is carried by the RequestTrace, not
// by async-local storage. The SDK still samples, makes ids and describes the resource; spans go to
// the encoding processor (OTLP protobuf, decision 0016) or the SDK's batch processor (OTLP JSON);
// the OTel propagators read traceparent, tracestate and baggage, and write them when there is baggage.
import {
  ROOT_CONTEXT,
  SpanKind,
  defaultTextMapGetter,
  defaultTextMapSetter,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Link,
  type SpanContext,
} from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
  type SamplingResult,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ATTR_ERROR_TYPE, ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_HTTP_ROUTE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_SERVICE_NAME, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
import { answerText, collectFinishReasons, genAiOperation, genAiProvider, outputMessages, responseModel, streamedText } from './gen-ai-response.js';
import { GEN_AI, SWITCHBOARD } from './tracing-attributes.js';
import { OtlpHttpPoster } from './tracing-otlp-exporter.js';
import { EncodingSpanProcessor } from './tracing-otlp-processor.js';
import { OTLPJsonTraceExporter } from './tracing-otlp-json.js';
import { SharedSets } from './tracing-shared-sets.js';
import { SpanMaker, type StartedRoot, type StartedSpan } from './tracing-span.js';
import type { LiveTracingConfig, RequestEnd, RequestStart, RequestTrace, RequestTracer, RouteRecord, UpstreamEnd, UpstreamStart, UpstreamTrace } from './tracing.js';
import type { TracingSettings } from './tracing-settings.js';

const propagator = new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] });

/** A collector that does not answer delays the final flush at shutdown by at most this much. */
const EXPORT_TIMEOUT_MS = 5000;

/** Recorded text is cut to this many characters per attribute. */
const CONTENT_LIMIT = 16 * 1024;

/** Shared attribute sets kept: operations, and deployments × routing outcomes, with room to spare. */
const SHARED_SETS = 512;

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

export class OtelRequestTracer implements RequestTracer {
  private readonly sharedSets = new SharedSets(SHARED_SETS);

  private constructor(
    private readonly spans: SpanMaker,
    private readonly live: LiveTracingConfig,
  ) {}

  static create(settings: TracingSettings, live: LiveTracingConfig, options: OtelTracerOptions = {}): OtelRequestTracer {
    const resource = defaultResource()
      .merge(detectResources({ detectors: [envDetector] }))
      .merge(resourceFromAttributes({ ...settings.resource, [ATTR_SERVICE_NAME]: settings.serviceName }));
    const processor = options.processor ?? processorFor(settings);
    const sampler = new ParentBasedSampler({ root: new LiveRatioSampler(() => live.current()?.sampleRatio ?? settings.defaultSampleRatio) });
    return new OtelRequestTracer(new SpanMaker(sampler, resource, { name: 'switchboard' }, processor), live);
  }

  start(request: RequestStart): RequestTrace {
    const parent = propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
    // A path that is no operation (a 404) is the client's to choose: never a shared set.
    const name = request.op === undefined ? request.method : `${request.method} ${request.path}`;
    const shared = request.op === undefined ? undefined : this.sharedSets.get(request.path, [request.method, request.op], (into) => serverAttributes(request, into));
    const server = this.spans.startRoot(name, SpanKind.SERVER, parent, shared);
    const span = server.recorded;
    if (span) {
      if (shared === undefined) serverAttributes(request, span.ownAttributes);
      span.ownAttributes[SWITCHBOARD.requestId] = request.requestId;
    }
    const recordContent = this.live.current()?.recordContent ?? [];
    return new OtelRequestTrace(this.spans, this.sharedSets, server, recordContent, propagation.getBaggage(parent) !== undefined);
  }

  shutdown(): Promise<void> {
    return this.spans.shutdown();
  }
}

// Large batches: fewer, bigger OTLP posts cost the event loop less per span. Spans are encoded 64
// at a time, a few milliseconds after they end.
const BATCH = { encodeEvery: 64, spans: 2048, delayMs: 1000, maxQueue: 16_384 };

/** OTLP/HTTP protobuf: the encoding processor (decision 0016); OTLP/HTTP JSON: the SDK's batch processor. */
function processorFor(settings: TracingSettings): SpanProcessor {
  if (settings.protocol === 'http/json') {
    const exporter = new OTLPJsonTraceExporter(settings.tracesUrl, EXPORT_TIMEOUT_MS, settings.compression);
    return new BatchSpanProcessor({ exporter, maxQueueSize: BATCH.maxQueue, maxExportBatchSize: BATCH.spans, scheduledDelayMillis: BATCH.delayMs, exportTimeoutMillis: EXPORT_TIMEOUT_MS });
  }
  const poster = new OtlpHttpPoster({ url: settings.tracesUrl, headers: settings.headers, compression: settings.compression, timeoutMillis: EXPORT_TIMEOUT_MS });
  return new EncodingSpanProcessor(poster, { encodeEvery: BATCH.encodeEvery, maxBatchSpans: BATCH.spans, delayMs: BATCH.delayMs, maxQueueSpans: BATCH.maxQueue });
}

class OtelRequestTrace implements RequestTrace {
  readonly recording: boolean;
  readonly traceId: string;
  readonly spanId: string;
  private tries = 0;
  constructor(
    private readonly spans: SpanMaker,
    private readonly sharedSets: SharedSets,
    private readonly server: StartedRoot,
    private readonly recordContent: readonly string[],
    /** The client sent baggage, which goes upstream through the propagator. */
    private readonly baggage: boolean,
  ) {
    this.recording = server.recorded !== undefined;
    this.traceId = server.context.traceId;
    this.spanId = server.context.spanId;
  }

  recordsContent(alias: string): boolean {
    return this.recording && (this.recordContent.includes('*') || this.recordContent.includes(alias));
  }

  route(record: RouteRecord): void {
    if (!this.recording) return;
    // A learned decision's reason carries its predicted quality and cost, which differ per query.
    const shared =
      record.kind === 'learned'
        ? undefined
        : this.sharedSets.get(record.deployment ?? record.alias, [record.deployment, record.alias, record.strategy, record.kind, record.reason, record.upstreamModel, record.attempt], (into) =>
            routeDecisionAttributes(record, into),
          );
    const span = this.spans.startChild('switchboard.route', SpanKind.INTERNAL, this.server, record.startedAt, shared).recorded;
    if (!span) return;
    const own = span.ownAttributes;
    if (shared === undefined) routeDecisionAttributes(record, own);
    own[SWITCHBOARD.decisionMs] = record.endedAt - record.startedAt;
    routeDetailAttributes(record, own);
    span.end(record.endedAt);
  }

  upstream(start: UpstreamStart): UpstreamTrace {
    return new OtelUpstreamTrace(this.spans, this.sharedSets, this.server, start, ++this.tries, this.baggage);
  }

  event(name: 'switchboard.retry' | 'switchboard.fallback', attributes: Record<string, string | number>): void {
    this.server.recorded?.addEvent(name, attributes);
  }

  end(result: RequestEnd): void {
    const span = this.server.recorded;
    if (!span) return;
    const attributes = span.ownAttributes;
    attributes[ATTR_HTTP_RESPONSE_STATUS_CODE] = result.status;
    attributes[SWITCHBOARD.attempts] = result.attempts;
    if (result.alias !== undefined) attributes[SWITCHBOARD.model] = result.alias;
    if (result.deployment !== undefined) attributes[SWITCHBOARD.deployment] = result.deployment;
    if (result.inputTokens !== undefined) attributes[GEN_AI.usageInputTokens] = result.inputTokens;
    if (result.outputTokens !== undefined) attributes[GEN_AI.usageOutputTokens] = result.outputTokens;
    // Server spans: only 5xx are errors (a 4xx is the client's).
    if (result.status >= 500) {
      attributes[ATTR_ERROR_TYPE] = String(result.status);
      span.setError();
    }
    span.end();
  }
}

/** A server span's attributes that follow from its route: method, path, and the operation of a known one. */
function serverAttributes(request: RequestStart, a: Attributes): void {
  a[ATTR_HTTP_REQUEST_METHOD] = request.method;
  a[ATTR_URL_PATH] = request.path;
  if (request.op !== undefined) {
    a[ATTR_HTTP_ROUTE] = request.path;
    a[GEN_AI.operationName] = genAiOperation(request.op);
  }
}

/** What a routing decision picked and why: the same for every request routed alike. */
function routeDecisionAttributes(record: RouteRecord, a: Attributes): void {
  a[SWITCHBOARD.model] = record.alias;
  a[SWITCHBOARD.routeStrategy] = record.strategy;
  a[SWITCHBOARD.routeReasonClass] = record.kind;
  a[SWITCHBOARD.routeReason] = record.reason;
  if (record.deployment !== undefined) a[SWITCHBOARD.routeDeployment] = record.deployment;
  if (record.upstreamModel !== undefined) a[SWITCHBOARD.routeUpstreamModel] = record.upstreamModel;
  if (record.attempt !== undefined) a[SWITCHBOARD.attempt] = record.attempt;
}

/** A routing decision's per-request detail: learned scores, the virtual alias and shadow decisions. */
function routeDetailAttributes(record: RouteRecord, a: Attributes): void {
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
  private readonly span: StartedSpan;
  private readonly startedAt = performance.now();
  private readonly finishReasons: string[] = [];
  private model: string | undefined;
  private streamedText: string | undefined;

  constructor(
    spans: SpanMaker,
    sharedSets: SharedSets,
    private readonly server: StartedRoot,
    start: UpstreamStart,
    attempt: number,
    private readonly baggage: boolean,
  ) {
    const operation = genAiOperation(start.op);
    const name = `${operation} ${start.requestModel}`;
    const shared = server.recorded === undefined ? undefined : sharedSets.get(start.deployment, [start.op, start.requestModel, start.provider, start.baseUrl, start.stream], (into) => upstreamRequestAttributes(start, operation, into));
    // Unsampled: no record, but a span id that still carries the trace context upstream.
    this.span = spans.startChild(name, SpanKind.CLIENT, server, this.startedAt, shared);
    const recorded = this.span.recorded;
    if (recorded) {
      const own = recorded.ownAttributes;
      own[SWITCHBOARD.attempt] = attempt;
      // The client's to choose, so per request.
      if (start.maxTokens !== undefined) own[GEN_AI.requestMaxTokens] = start.maxTokens;
      if (start.inputMessages !== undefined) {
        own[GEN_AI.inputMessages] = start.inputMessages.slice(0, CONTENT_LIMIT);
        this.streamedText = '';
      }
    }
  }

  /** This span as the parent the upstream sees, and the request's tracestate and baggage. */
  inject(headers: Record<string, string>): void {
    const context = this.span.context;
    if (this.baggage) {
      propagator.inject(trace.setSpanContext(this.server.extracted, context), headers, defaultTextMapSetter);
      return;
    }
    // Without baggage the propagators would write just these two headers: written here without
    // a context object per request.
    headers.traceparent = traceparent(context);
    if (context.traceState) headers.tracestate = context.traceState.serialize();
  }

  firstChunk(chunk: Buffer | undefined): void {
    const recorded = this.span.recorded;
    if (!recorded) return;
    recorded.ownAttributes[GEN_AI.responseTimeToFirstChunk] = (performance.now() - this.startedAt) / 1000;
    if (chunk) this.look(chunk);
  }

  nextChunk(chunk: Buffer): void {
    if (this.span.recorded) this.look(chunk);
  }

  private look(chunk: Buffer): void {
    const text = chunk.toString('utf8');
    this.model ??= responseModel(text);
    collectFinishReasons(text, this.finishReasons);
    if (this.streamedText !== undefined && this.streamedText.length < CONTENT_LIMIT) this.streamedText += streamedText(text);
  }

  end(outcome: UpstreamEnd): void {
    const span = this.span.recorded;
    if (!span) return;
    const a = span.ownAttributes;
    if (outcome.status !== undefined) a[ATTR_HTTP_RESPONSE_STATUS_CODE] = outcome.status;
    if (outcome.body !== undefined) {
      this.model ??= responseModel(outcome.body);
      collectFinishReasons(outcome.body, this.finishReasons);
      if (this.streamedText !== undefined) this.streamedText = answerText(outcome.body);
    }
    if (this.model !== undefined) a[GEN_AI.responseModel] = this.model;
    if (this.finishReasons.length > 0) a[GEN_AI.responseFinishReasons] = this.finishReasons;
    if (outcome.inputTokens !== undefined) a[GEN_AI.usageInputTokens] = outcome.inputTokens;
    if (outcome.outputTokens !== undefined) a[GEN_AI.usageOutputTokens] = outcome.outputTokens;
    if (this.streamedText !== undefined && outcome.error === undefined) a[GEN_AI.outputMessages] = outputMessages(this.streamedText.slice(0, CONTENT_LIMIT), this.finishReasons);
    if (outcome.cut) a[SWITCHBOARD.streamCut] = true;
    if (outcome.error !== undefined || outcome.cut) {
      a[ATTR_ERROR_TYPE] = outcome.error ?? 'cut mid-stream';
      span.setError(outcome.error ?? 'cut mid-stream');
    }
    span.end();
  }
}

/** The W3C traceparent header for a span context, as W3CTraceContextPropagator writes it. */
function traceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-0${context.traceFlags.toString(16)}`;
}

/** server.address and server.port of deployments' base URLs, parsed once per URL. */
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

/** An upstream try's request attributes that follow from the deployment and the operation. */
function upstreamRequestAttributes(start: UpstreamStart, operation: string, a: Attributes): void {
  a[GEN_AI.operationName] = operation;
  a[GEN_AI.providerName] = genAiProvider(start.provider);
  a[GEN_AI.requestModel] = start.requestModel;
  a[GEN_AI.requestStream] = start.stream;
  a[SWITCHBOARD.deployment] = start.deployment;
  const server = serverOf(start.baseUrl);
  if (server) {
    a[ATTR_SERVER_ADDRESS] = server.address;
    a[ATTR_SERVER_PORT] = server.port;
  }
}
