// Request tracing as the gateway sees it: a server span per request, a switchboard.route span per
// routing decision, a GenAI client span per upstream try, retries and fallbacks as events. This
// module holds only the shapes and the switch; the OpenTelemetry SDK is loaded by startTracing
// (a dynamic import) only when tracing is on, so a gateway without it never loads the SDK and
// its hot path only tests `ex.trace` for undefined.
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderKind, RuntimeTracing } from '@switchboard/crds/runtime';
import type { Operation } from '../providers/types.js';
import { tracingSettings, tracingWanted, type TracingSettings } from './tracing-settings.js';

/** Why a routing decision picked what it picked (switchboard.route.reason_class). */
export type RouteKind = 'rule' | 'learned' | 'retry' | 'fallback' | 'cooldown' | 'shed';

/** Where the learned router spent its decision time, in milliseconds. */
export interface DecisionTiming {
  featurizeMs: number;
  headMs: number;
  policyMs: number;
}

export interface PredictedCandidate {
  /** Model name in the router artifact. */
  model: string;
  quality: number;
  cost: number;
}

/** A learned router's decision, for the route span: never the prompt text. */
export interface LearnedDecision {
  /** Head kind (knn, linear, mlp, mf, …). */
  kind: string;
  /** sha256 of the router artifact. */
  digest: string;
  /** The RoutingModel that decided, when the config names it. */
  routingModel?: string;
  policy: string;
  /** The artifact model picked. */
  chosen: string;
  /** Ranked candidates, best first. */
  candidates: readonly PredictedCandidate[];
  /** Candidates passed over, with why ("ineligible"). */
  skipped: readonly string[];
  timing?: DecisionTiming;
}

/** What a shadow routing model would have picked: recorded, never acted on. */
export interface ShadowRoute {
  routingModel: string;
  /** The alias (or deployment) it picked. */
  picked: string;
  /** It picked what the request was routed to. */
  agree: boolean;
  digest?: string;
}

/** One routing decision. Times are performance.now() values. */
export interface RouteRecord {
  startedAt: number;
  endedAt: number;
  /** The alias routed (after a virtual alias picked one). */
  alias: string;
  strategy: string;
  kind: RouteKind;
  /** The x-switchboard-route-reason text (ASCII, no prompt text). */
  reason: string;
  deployment?: string;
  /** Model name sent upstream. */
  upstreamModel?: string;
  /** 1-based try number within the request. */
  attempt?: number;
  learned?: LearnedDecision;
  /** The virtual alias decision that chose `alias`, when the client asked for one. */
  virtualAlias?: { router: string; routingModel?: string; mode: string; digest?: string };
  shadows?: readonly ShadowRoute[];
}

export interface UpstreamStart {
  op: Operation;
  provider: ProviderKind;
  deployment: string;
  /** Model name sent upstream (gen_ai.request.model). */
  requestModel: string;
  /** The deployment's base URL (server.address, server.port): one string per deployment, so its parse is cached. */
  baseUrl: string;
  stream: boolean;
  maxTokens?: number;
  /** Prompt text as JSON (gen_ai.input.messages): only when the alias records content. */
  inputMessages?: string;
}

export interface UpstreamEnd {
  status?: number;
  /** Short, secret-free failure reason ("503", "connect ECONNREFUSED"). */
  error?: string;
  /** A non-streamed answer's body: read for the response model and finish reasons. */
  body?: string;
  inputTokens?: number;
  outputTokens?: number;
  /** The stream was cut after it reached the client. */
  cut?: boolean;
}

export interface UpstreamTrace {
  /** Adds traceparent, tracestate and baggage naming this client span. */
  inject(headers: Record<string, string>): void;
  /** Streams: the first chunk arrived (time to first chunk) — read for the response model. */
  firstChunk(chunk: Buffer | undefined): void;
  /** Streams: every chunk after the first, observed for finish reasons. */
  nextChunk(chunk: Buffer): void;
  end(outcome: UpstreamEnd): void;
}

export interface RequestTrace {
  /** False for a request the sampler dropped: its context still propagates. */
  readonly recording: boolean;
  /** The trace and the server span, for every log line of this request (trace_id, span_id). */
  readonly traceId: string;
  readonly spanId: string;
  /** Whether prompt and completion text may be recorded for this alias. */
  recordsContent(alias: string): boolean;
  route(record: RouteRecord): void;
  /** One upstream try (numbered in order: switchboard.attempt). */
  upstream(start: UpstreamStart): UpstreamTrace;
  /** Retries and fallbacks, on the server span. */
  event(name: 'switchboard.retry' | 'switchboard.fallback', attributes: Record<string, string | number>): void;
  end(result: RequestEnd): void;
}

export interface RequestEnd {
  status: number;
  alias?: string;
  deployment?: string;
  attempts: number;
  inputTokens?: number;
  outputTokens?: number;
}

export interface RequestStart {
  headers: IncomingHttpHeaders;
  method: string;
  path: string;
  requestId: string;
  op?: Operation;
}

export interface RequestTracer {
  start(request: RequestStart): RequestTrace;
  /** Exports what is buffered, then stops. */
  shutdown(): Promise<void>;
}

/** What the tracer reads from the current config on every request (it hot-reloads). */
export interface LiveTracingConfig {
  current(): RuntimeTracing | undefined;
}

/**
 * Starts tracing when the config or the environment asks for it; undefined otherwise (and the
 * SDK is not loaded). Endpoint, protocol and service name are read now; the sample ratio and
 * content recording are read from `live` per request.
 */
export async function startTracing(config: RuntimeTracing | undefined, env: NodeJS.ProcessEnv, live: LiveTracingConfig): Promise<RequestTracer | undefined> {
  if (!tracingWanted(config, env)) return undefined;
  const settings: TracingSettings = tracingSettings(config, env);
  const { OtelRequestTracer } = await import('./tracing-otel.js');
  return OtelRequestTracer.create(settings, live);
}
