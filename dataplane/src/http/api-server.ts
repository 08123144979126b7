// The client-facing HTTP server: OpenAI and Anthropic endpoints in front of dispatch.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ConfigSource } from '../config/file-source.js';
import { authenticate, authorizeModel } from '../auth/authenticate.js';
import { dispatch, type DispatchDeps } from '../pipeline/dispatch.js';
import type { Exchange, ExchangeResult } from '../pipeline/exchange.js';
import { sendJson } from '../pipeline/relay.js';
import type { Priority } from '../admission/admission.js';
import { AdmissionGate, type Refusal, type Ticket } from '../admission/gate.js';
import { sampleOnInterval } from '../admission/guards.js';
import { effectivePriority, entitlementOf, requestedPriority } from '../admission/priority.js';
import { refusalBody, refusalMessage } from '../admission/refusal.js';
import { tokensToReserve } from '../admission/token-budget.js';
import type { ClientPrincipal, RuntimeState } from '../config/runtime-state.js';
import { operationWire, type Operation, type Wire } from '../providers/types.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import type { RequestTrace, RequestTracer } from '../telemetry/tracing.js';
import { ExchangeMetrics } from '../telemetry/exchange-metrics.js';
import { refusalRoute } from '../telemetry/route-class.js';
import { readBody } from './body.js';
import { GatewayError, badRequest, errorBody } from './errors.js';
import { parseRequest } from './request-shape.js';

const routes: Record<string, Operation> = {
  '/v1/chat/completions': 'chat',
  '/v1/completions': 'completions',
  '/v1/embeddings': 'embeddings',
  '/v1/messages': 'messages',
};

export interface ApiServerDeps extends DispatchDeps {
  config: ConfigSource;
  metrics: GatewayMetrics;
  log: Logger;
  /** True once the listener is closed: responses carry `Connection: close`. */
  closing?: () => boolean;
  /** The request tracer while tracing is on. */
  tracer?: () => RequestTracer | undefined;
  /** The admission gate for this config (undefined: none). */
  admission?: (state: RuntimeState) => AdmissionGate | undefined;
}

/** One admission gate, replaced only when the shedding settings change; its guards sampled on an interval. */
export function admissionFor(metrics: GatewayMetrics, now: () => number): (state: RuntimeState) => AdmissionGate | undefined {
  let current: AdmissionGate | undefined;
  let stopSampling = (): void => {};
  const clock = { now, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
  metrics.watchAdmission(() => current && { inFlight: current.concurrency?.snapshot().inFlight ?? 0, tokensInFlight: current.tokenBudget?.inUse ?? 0, guardLevel: current.guardState.level });
  return (state) => {
    if (current?.settings.key !== state.shedding?.key) {
      stopSampling();
      const gate = state.shedding && new AdmissionGate(state.shedding, clock);
      const guards = gate?.settings.guards;
      stopSampling = gate && guards ? sampleOnInterval((sample) => gate.observe(sample), guards.intervalMs) : () => {};
      if (gate?.concurrency) metrics.admissionLimit.set(gate.concurrency.limiter.limit);
      current = gate;
    }
    return current;
  };
}

function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  // Accept a caller's id only when it is short and printable, so it is safe in headers and logs.
  return typeof given === 'string' && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

function sendError(res: ServerResponse, error: GatewayError, wire: Wire, requestId: string): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { 'x-request-id': requestId };
  if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
  sendJson(res, error.status, errorBody(error, wire), headers);
}

/**
 * 429 when the client is over its quota, 503 when the gateway is over capacity: answered with a
 * prebuilt body and no exception, and the unread body discarded so the connection stays usable.
 */
function refuse(refusal: Refusal, priority: Priority, op: Operation, req: IncomingMessage, res: ServerResponse, requestId: string, deps: ApiServerDeps, trace: RequestTrace | undefined, startedAt: number): ExchangeResult {
  deps.metrics.shed.inc({ reason: refusal.reason, priority });
  if (!res.headersSent && !res.destroyed) {
    sendJson(res, refusal.status, refusalBody(refusal.reason, operationWire[op]), { 'x-request-id': requestId, 'retry-after': String(refusal.retryAfterSeconds) });
  }
  req.resume();
  const reason = refusalMessage(refusal.reason);
  if (refusal.status === 503) trace?.route({ startedAt, endedAt: performance.now(), alias: '', strategy: 'admission', kind: 'shed', reason });
  return { status: refusal.status, reason, attempts: 0, route: 'shed' };
}

/** Authentication, then admission: a refusal is answered before the body is read. */
async function handleOperation(op: Operation, req: IncomingMessage, res: ServerResponse, requestId: string, deps: ApiServerDeps, trace: RequestTrace | undefined): Promise<ExchangeResult> {
  const startedAt = performance.now();
  const state = deps.config.current();
  const principal = authenticate(state.auth, req.headers);
  const gate = deps.admission?.(state);
  if (!gate) return handleAdmitted(op, req, res, requestId, deps, state, principal, undefined, trace);
  const requested = requestedPriority(req.headers['x-switchboard-priority']);
  if (requested === 'invalid') {
    throw badRequest('x-switchboard-priority: expected one of critical, standard, sheddable.', 'x-switchboard-priority', 'invalid_priority');
  }
  const priority = effectivePriority(entitlementOf(principal, gate.settings.clients), requested);
  const pending = gate.enter(principal?.name, priority);
  const concurrency = gate.concurrency;
  if (concurrency) deps.metrics.admissionQueue.set(concurrency.queueDepth());
  const decision = pending instanceof Promise ? await pending : pending;
  if (concurrency) {
    deps.metrics.admissionLimit.set(concurrency.limiter.limit);
    deps.metrics.admissionQueue.set(concurrency.queueDepth());
  }
  if (!decision.admitted) return refuse(decision, priority, op, req, res, requestId, deps, trace, startedAt);
  let result: ExchangeResult | undefined;
  try {
    result = await handleAdmitted(op, req, res, requestId, deps, state, principal, { gate, priority, ticket: decision.ticket }, trace);
    return result;
  } finally {
    const usedTokens = result?.inputTokens === undefined && result?.outputTokens === undefined ? undefined : (result.inputTokens ?? 0) + (result.outputTokens ?? 0);
    decision.ticket.release({ ttfbMs: result?.ttfbMs, overloaded: result !== undefined && (result.status === 429 || result.status >= 500), usedTokens });
  }
}

interface Admitted {
  gate: AdmissionGate;
  priority: Priority;
  ticket: Ticket;
}

async function handleAdmitted(
  op: Operation,
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  deps: ApiServerDeps,
  state: RuntimeState,
  principal: ClientPrincipal | undefined,
  admitted: Admitted | undefined,
  trace: RequestTrace | undefined,
): Promise<ExchangeResult> {
  const raw = await readBody(req, state.maxBodyBytes);
  const body = parseRequest(op, raw);
  const model = body.model as string;
  if (!state.models.has(model) && !state.routers.has(model)) {
    throw new GatewayError(404, 'not_found_error', `The model '${model}' does not exist or is not served by this gateway.`, 'model', 'model_not_found');
  }
  authorizeModel(principal, model);
  const estimatedPromptTokens = Math.ceil(raw.length / 4);
  const maxOutputTokens = (body.max_tokens ?? body.max_completion_tokens) as number | undefined;
  if (admitted) {
    const refusal = admitted.ticket.reserveTokens(tokensToReserve(estimatedPromptTokens, maxOutputTokens, admitted.gate.settings.defaultMaxTokens));
    if (refusal) return refuse(refusal, admitted.priority, op, req, res, requestId, deps, trace, performance.now());
  }

  const controller = new AbortController();
  const deadline = Date.now() + state.timeouts.totalMs;
  const timer = setTimeout(() => controller.abort(), state.timeouts.totalMs);
  const onClose = (): void => {
    if (!res.writableFinished) controller.abort();
  };
  res.once('close', onClose);
  const streamOptions = body.stream_options as { include_usage?: boolean } | null | undefined;
  const exchange: Exchange = {
    op,
    clientWire: operationWire[op],
    body,
    model,
    stream: body.stream === true,
    includeUsage: streamOptions?.include_usage === true,
    estimatedPromptTokens,
    maxOutputTokens,
    requestId,
    principal,
    state,
    res,
    signal: controller.signal,
    deadline,
    trace,
  };
  try {
    return await dispatch(exchange, deps);
  } finally {
    clearTimeout(timer);
    res.off('close', onClose);
  }
}

export function createApiServer(deps: ApiServerDeps): Server {
  const { metrics, log } = deps;
  const exchangeMetrics = new ExchangeMetrics(metrics);
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    const started = performance.now();
    const path = req.url?.split('?', 1)[0] ?? '/';
    const requestId = requestIdOf(req);
    if (deps.closing?.()) res.setHeader('connection', 'close');
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, deps.config.current().modelListBody, { 'x-request-id': requestId });
      return;
    }
    const op = routes[path];
    const wire: Wire = op ? operationWire[op] : 'openai';
    if (!op || req.method !== 'POST') {
      req.resume();
      const status = op ? 405 : 404;
      const message = op ? `Method ${req.method} is not allowed on ${path}; use POST.` : `Unknown endpoint ${req.method} ${path}.`;
      sendError(res, new GatewayError(status, 'not_found_error', message, null, op ? 'method_not_allowed' : 'unknown_url'), wire, requestId);
      return;
    }
    metrics.inFlight.inc();
    const trace = deps.tracer?.()?.start({ headers: req.headers, method: 'POST', path, requestId, op });
    handleOperation(op, req, res, requestId, deps, trace)
      .catch((error: unknown): ExchangeResult => {
        const gatewayError =
          error instanceof GatewayError ? error : new GatewayError(500, 'api_error', 'Internal gateway error.', null, 'internal_error');
        if (!(error instanceof GatewayError)) log.error({ err: error, requestId, trace_id: trace?.traceId, span_id: trace?.spanId }, 'unexpected error');
        sendError(res, gatewayError, wire, requestId);
        return { status: gatewayError.status, reason: gatewayError.message, attempts: 0, route: refusalRoute(gatewayError.code) };
      })
      .then((result) => {
        metrics.inFlight.dec();
        const seconds = (performance.now() - started) / 1000;
        const model = result.alias ?? '';
        metrics.observeDuration(model, op, seconds, trace?.recording ? trace.traceId : undefined);
        exchangeMetrics.record(op, result, started);
        for (const shadow of result.aliasDecision?.shadows ?? []) metrics.shadowDecisions.inc({ router: shadow.model, agree: String(shadow.agree) });
        trace?.end(result);
        log.info(
          {
            requestId,
            // One shape traced or not (pino leaves undefined fields out).
            trace_id: trace?.traceId,
            span_id: trace?.spanId,
            op,
            status: result.status,
            model: result.alias,
            deployment: result.deployment,
            reason: result.reason,
            attempts: result.attempts,
            inputTokens: result.inputTokens,
            outputTokens: result.outputTokens,
            ms: Math.round(seconds * 1e4) / 10,
          },
          'request',
        );
      });
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
  });
  return server;
}
