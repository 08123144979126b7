// The client-facing HTTP server: OpenAI and Anthropic endpoints in front of dispatch.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ConfigSource } from '../config/file-source.js';
import { authenticate, authorizeModel } from '../auth/authenticate.js';
import { dispatch, type DispatchDeps } from '../pipeline/dispatch.js';
import type { Exchange, ExchangeResult } from '../pipeline/exchange.js';
import { sendJson } from '../pipeline/relay.js';
import { AdmissionController, type Priority } from '../admission/admission.js';
import type { RuntimeState } from '../config/runtime-state.js';
import { operationWire, type Operation, type Wire } from '../providers/types.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { ExchangeMetrics } from '../telemetry/exchange-metrics.js';
import { readBody } from './body.js';
import { GatewayError, errorBody } from './errors.js';
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
  /** The admission controller for this config (undefined: none). */
  admission?: (state: RuntimeState) => AdmissionController | undefined;
}

/** One admission controller, replaced only when the shedding settings change. */
export function admissionFor(metrics: GatewayMetrics, now: () => number): (state: RuntimeState) => AdmissionController | undefined {
  let current: { key: string; controller: AdmissionController } | undefined;
  const clock = { now, setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout) };
  return (state) => {
    if (!state.shedding) return undefined;
    if (current?.key !== state.shedding.key) {
      current = { key: state.shedding.key, controller: new AdmissionController(state.shedding, clock) };
      metrics.admissionLimit.set(current.controller.limiter.limit);
    }
    return current.controller;
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

function priorityOf(req: IncomingMessage): Priority {
  const given = req.headers['x-switchboard-priority'];
  return given === 'critical' || given === 'sheddable' ? given : 'standard';
}

/** Admission in front of everything else: a shed is answered before the body is read. */
async function handleOperation(op: Operation, req: IncomingMessage, res: ServerResponse, requestId: string, deps: ApiServerDeps): Promise<ExchangeResult> {
  const state = deps.config.current();
  const admission = deps.admission?.(state);
  if (!admission) return handleAdmitted(op, req, res, requestId, deps, state);
  const priority = priorityOf(req);
  const pending = admission.acquire(priority);
  deps.metrics.admissionQueue.set(admission.queueDepth());
  const decision = pending instanceof Promise ? await pending : pending;
  deps.metrics.admissionLimit.set(admission.limiter.limit);
  deps.metrics.admissionQueue.set(admission.queueDepth());
  if (!decision.admitted) {
    deps.metrics.shed.inc({ reason: decision.reason, priority });
    throw new GatewayError(503, 'overloaded_error', 'The gateway is over capacity; retry after the Retry-After delay.', null, 'gateway_overloaded', decision.retryAfterSeconds);
  }
  let result: ExchangeResult | undefined;
  try {
    result = await handleAdmitted(op, req, res, requestId, deps, state);
    return result;
  } finally {
    decision.permit.release({ ttfbMs: result?.ttfbMs, overloaded: result !== undefined && (result.status === 429 || result.status >= 500) });
  }
}

async function handleAdmitted(op: Operation, req: IncomingMessage, res: ServerResponse, requestId: string, deps: ApiServerDeps, state: RuntimeState): Promise<ExchangeResult> {
  const principal = authenticate(state.auth, req.headers);
  const raw = await readBody(req, state.maxBodyBytes);
  const body = parseRequest(op, raw);
  const model = body.model as string;
  if (!state.models.has(model) && !state.routers.has(model)) {
    throw new GatewayError(404, 'not_found_error', `The model '${model}' does not exist or is not served by this gateway.`, 'model', 'model_not_found');
  }
  authorizeModel(principal, model);

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
    estimatedPromptTokens: Math.ceil(raw.length / 4),
    maxOutputTokens: (body.max_tokens ?? body.max_completion_tokens) as number | undefined,
    requestId,
    principal,
    state,
    res,
    signal: controller.signal,
    deadline,
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
    handleOperation(op, req, res, requestId, deps)
      .catch((error: unknown): ExchangeResult => {
        const gatewayError =
          error instanceof GatewayError ? error : new GatewayError(500, 'api_error', 'Internal gateway error.', null, 'internal_error');
        if (!(error instanceof GatewayError)) log.error({ err: error, requestId }, 'unexpected error');
        sendError(res, gatewayError, wire, requestId);
        return { status: gatewayError.status, reason: gatewayError.message, attempts: 0, route: gatewayError.code === 'gateway_overloaded' ? 'shed' : 'none' };
      })
      .then((result) => {
        metrics.inFlight.dec();
        const seconds = (performance.now() - started) / 1000;
        const model = result.alias ?? '';
        metrics.duration.observe({ model, operation: op }, seconds);
        exchangeMetrics.record(op, result, started);
        for (const shadow of result.aliasDecision?.shadows ?? []) metrics.shadowDecisions.inc({ router: shadow.model, agree: String(shadow.agree) });
        log.info(
          {
            requestId,
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
