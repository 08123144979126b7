// The gateway's spans, made without the SDK's Tracer and Span (decision 0014): a request's three
// spans need ids, a parent, a kind, times, attributes, a few events and a status, and nothing the
// SDK span adds on top (limits and per-value validation for values the gateway built itself,
// span metrics, context-manager hooks, writable-after-end checks). A finished span is a
// ReadableSpan, so the SDK's span processors, its in-memory exporter and the OTLP encoder take it
// as they take the SDK's own. Sampling, resources and propagation stay the SDK's, ids come from a
// CSPRNG pool (tracing-ids.ts); batching is the encoding processor's for OTLP protobuf (decision
// 0016), the SDK's for OTLP JSON.
import { SpanStatusCode, TraceFlags, trace, type Attributes, type Context, type HrTime, type Link, type SpanContext, type SpanKind, type SpanStatus } from '@opentelemetry/api';
import { hrTimeDuration } from '@opentelemetry/core';
import { SamplingDecision, type ReadableSpan, type Sampler, type SpanProcessor, type TimedEvent } from '@opentelemetry/sdk-trace';
import { PooledIdGenerator } from './tracing-ids.js';

type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

const NO_LINKS: Link[] = [];
/** Shared by spans without events until their first one: most spans never get one. */
const NO_EVENTS: TimedEvent[] = Object.freeze([]) as unknown as TimedEvent[];
const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const NOT_ENDED: HrTime = [0, 0];

const ORIGIN_SECONDS = Math.trunc(performance.timeOrigin / 1e3);
const ORIGIN_NANOS = Math.round((performance.timeOrigin % 1e3) * 1e6);

/**
 * The epoch time of a performance.now() value, as the SDK's hrTime(ms) computes it (the same
 * seconds and nanoseconds), in one array instead of three.
 */
export function hrTimeAt(ms: number = performance.now()): HrTime {
  let seconds = ORIGIN_SECONDS + Math.trunc(ms / 1e3);
  let nanos = ORIGIN_NANOS + Math.round((ms % 1e3) * 1e6);
  if (nanos >= 1e9) {
    seconds += 1;
    nanos -= 1e9;
  }
  return [seconds, nanos];
}

/** A span context; tracestate only when there is one (no intermediate objects on the request path). */
function spanContextOf(traceId: string, spanId: string, traceFlags: number, traceState: SpanContext['traceState']): SpanContext {
  return traceState ? { traceId, spanId, traceFlags, traceState } : { traceId, spanId, traceFlags };
}

/**
 * A recording span. Its attributes come in two parts: `sharedAttributes`, a frozen set that many
 * spans share (what a route or deployment gives every request: the OTLP encoder encodes it once),
 * and `ownAttributes`, written straight into per request. `end` hands it to the processor.
 */
export class RecordedSpan implements ReadableSpan {
  readonly ownAttributes: Attributes = {};
  events: TimedEvent[] = NO_EVENTS;
  readonly links: Link[] = NO_LINKS;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  status: SpanStatus = UNSET;
  endTime: HrTime = NOT_ENDED;
  ended = false;

  constructor(
    private readonly maker: SpanMaker,
    readonly name: string,
    readonly kind: SpanKind,
    private readonly context: SpanContext,
    readonly parentSpanContext: SpanContext | undefined,
    readonly startTime: HrTime,
    readonly resource: Resource,
    readonly instrumentationScope: Scope,
    readonly sharedAttributes: Readonly<Attributes> | undefined,
  ) {}

  /** Both parts, for readers of a ReadableSpan (the SDK's processors and exporters). */
  get attributes(): Attributes {
    return this.sharedAttributes === undefined ? this.ownAttributes : { ...this.sharedAttributes, ...this.ownAttributes };
  }

  spanContext(): SpanContext {
    return this.context;
  }

  get duration(): HrTime {
    return hrTimeDuration(this.startTime, this.endTime);
  }

  addEvent(name: string, attributes: Attributes): void {
    if (this.ended) return;
    if (this.events === NO_EVENTS) this.events = [];
    this.events.push({ name, attributes, time: hrTimeAt(), droppedAttributesCount: 0 });
  }

  setError(message?: string): void {
    this.status = message === undefined ? { code: SpanStatusCode.ERROR } : { code: SpanStatusCode.ERROR, message };
  }

  /** Ends the span at `at` (a performance.now() value; now when omitted). A second end does nothing. */
  end(at?: number): void {
    if (this.ended) return;
    this.ended = true;
    this.endTime = hrTimeAt(at);
    this.maker.finished(this);
  }
}

/** A started span: its context always (it propagates even unsampled), its record when recording. */
export interface StartedSpan {
  context: SpanContext;
  recorded: RecordedSpan | undefined;
}

/** A request's server span, with the context extracted from the request (baggage included). */
export interface StartedRoot extends StartedSpan {
  extracted: Context;
}

/** Starts the gateway's spans: the sampler decides a root span; children follow their parent (parent-based). */
export class SpanMaker {
  private readonly ids = new PooledIdGenerator();

  constructor(
    private readonly sampler: Sampler,
    private readonly resource: Resource,
    private readonly scope: Scope,
    private readonly processor: SpanProcessor,
  ) {}

  /** A request's server span, under the context extracted from its headers (remote parent or none). */
  startRoot(name: string, kind: SpanKind, parent: Context, shared?: Readonly<Attributes>): StartedRoot {
    const remote = trace.getSpanContext(parent);
    const parentContext = remote !== undefined && trace.isSpanContextValid(remote) ? remote : undefined;
    const traceId = parentContext?.traceId ?? this.ids.generateTraceId();
    const sampling = this.sampler.shouldSample(parent, traceId, name, kind, {}, NO_LINKS);
    const traceState = sampling.traceState ?? parentContext?.traceState;
    const sampled = sampling.decision === SamplingDecision.RECORD_AND_SAMPLED;
    const context = spanContextOf(traceId, this.ids.generateSpanId(), sampled ? TraceFlags.SAMPLED : TraceFlags.NONE, traceState);
    const recorded = sampling.decision === SamplingDecision.NOT_RECORD ? undefined : new RecordedSpan(this, name, kind, context, parentContext, hrTimeAt(), this.resource, this.scope, shared);
    return { context, extracted: parent, recorded };
  }

  /**
   * A span under a span of this process. With the parent-based sampler that is what the root's
   * sampler decided, so the sampler is not asked again: recorded when the parent is sampled.
   */
  startChild(name: string, kind: SpanKind, parent: StartedSpan, startedAt?: number, shared?: Readonly<Attributes>): StartedSpan {
    const { traceId, traceFlags, traceState } = parent.context;
    const context = spanContextOf(traceId, this.ids.generateSpanId(), traceFlags, traceState);
    const sampled = parent.recorded !== undefined && (traceFlags & TraceFlags.SAMPLED) !== 0;
    const recorded = sampled ? new RecordedSpan(this, name, kind, context, parent.context, hrTimeAt(startedAt), this.resource, this.scope, shared) : undefined;
    return { context, recorded };
  }

  finished(span: RecordedSpan): void {
    this.processor.onEnd(span);
  }

  shutdown(): Promise<void> {
    return this.processor.shutdown();
  }
}
