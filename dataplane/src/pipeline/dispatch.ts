// Routes one exchange: picks a deployment of the alias, tries it, retries elsewhere on
// retryable failures while nothing has reached the client, then walks the fallback chain.
import { setTimeout as delay } from 'node:timers/promises';
import type { DeploymentTarget, ModelGroup } from '../config/runtime-state.js';
import { TranslationError, translatorFor, upstreamOperation } from '../providers/index.js';
import type { JsonObject, Operation, Translator, Usage } from '../providers/types.js';
import { choose, ineligible, type Candidate, type SkipReason } from '../routing/balancer.js';
import type { HealthRegistry } from '../routing/health.js';
import { GatewayError, badRequest, errorBody } from '../http/errors.js';
import type { Exchange, ExchangeResult, RoutedTry, SkippedDeployment } from './exchange.js';
import type { StreamRegistry } from '../lifecycle/shutdown.js';
import { relayJson, relayStream, sendJson, type ResponseHeaders } from './relay.js';
import { learnedPickAny, routingText } from './learned-pick.js';
import { decideVirtualAlias, type AliasDecision } from '../routing/rollout/alias-router.js';
import { virtualAliasHeaders, withAliasReason } from './virtual-alias.js';
import { routeReason, type Failure } from './route-reason.js';
import { routeClass } from '../telemetry/route-class.js';
import { agentFor, sendUpstream } from './upstream.js';
import type { ChunkSource, UpstreamAnswer } from './upstream-answer.js';
import { traceAliasDecision, traceCooldown, tracePick, upstreamSpanStart } from '../telemetry/tracing-points.js';

export interface DispatchDeps {
  health: HealthRegistry;
  random: () => number;
  now: () => number;
  /** Open streams register here, so a shutdown can end them. */
  streams?: StreamRegistry;
}

/** The operation and body the upstream gets for this client request. */
function upstreamCall(ex: Exchange, target: DeploymentTarget): { op: Operation; body: JsonObject; translator: Translator | undefined; hideUsageChunk: boolean } {
  const wire = target.provider.wire;
  const op = upstreamOperation(ex.op, target.provider)!;
  if (wire === ex.clientWire) {
    let body: JsonObject = { ...ex.body, model: target.config.model };
    // Ask OpenAI-wire upstreams for usage so tokens are always counted; the chunk is hidden
    // again when the client did not ask for it.
    const hideUsageChunk = ex.stream && wire === 'openai' && ex.op !== 'embeddings' && !ex.includeUsage;
    if (hideUsageChunk) body = { ...body, stream_options: { ...(body.stream_options as JsonObject | undefined), include_usage: true } };
    return { op, body, translator: undefined, hideUsageChunk };
  }
  const translator = translatorFor(ex.clientWire, wire)!;
  try {
    return { op, body: { ...translator.request(ex.body), model: target.config.model }, translator, hideUsageChunk: false };
  } catch (error) {
    // The client asked for something the upstream's wire cannot express.
    if (error instanceof TranslationError) throw badRequest(`${error.message} (deployment ${target.name} speaks ${wire})`, error.param, 'untranslatable_request');
    throw error;
  }
}

function supports(target: DeploymentTarget, ex: Exchange): boolean {
  return upstreamOperation(ex.op, target.provider) !== undefined;
}

function tooSmall(target: DeploymentTarget, ex: Exchange): boolean {
  const window = target.config.contextWindow;
  return window !== undefined && ex.estimatedPromptTokens + (ex.maxOutputTokens ?? 0) > window;
}

interface Skips {
  reasons: Set<SkipReason | 'context-window' | 'unsupported'>;
  retryAtMs: number;
  /** Deployments passed over for cooldown or a rate limit, once per decision (for metrics). */
  skipped: SkippedDeployment[];
}

function eligibleCandidates(group: ModelGroup, ex: Exchange, deps: DispatchDeps, skips: Skips): Candidate<DeploymentTarget>[] {
  const now = deps.now();
  const out: Candidate<DeploymentTarget>[] = [];
  for (const target of group.deployments) {
    if (!supports(target, ex)) {
      skips.reasons.add('unsupported');
      continue;
    }
    if (tooSmall(target, ex)) {
      skips.reasons.add('context-window');
      continue;
    }
    const candidate = { target, config: target.config, health: deps.health.get(target.name) };
    const skip = ineligible(candidate, now, ex.estimatedPromptTokens);
    if (skip) {
      skips.reasons.add(skip);
      skips.skipped.push({ target, route: skip === 'cooldown' ? 'cooldown-skip' : 'limit-skip' });
      if (skip === 'cooldown') skips.retryAtMs = Math.min(skips.retryAtMs, candidate.health.coolingUntil);
      else skips.retryAtMs = Math.min(skips.retryAtMs, now + 1000);
      continue;
    }
    out.push(candidate);
  }
  return out;
}

function responseHeaders(ex: Exchange, alias: string, target: DeploymentTarget, reason: string): ResponseHeaders {
  return {
    'x-request-id': ex.requestId,
    'x-switchboard-model': alias,
    'x-switchboard-deployment': target.name,
    'x-switchboard-route-reason': reason,
    'x-switchboard-config-hash': ex.state.hash,
  };
}

/** Reads the first chunk of a body; a failure here still counts as "nothing reached the client". */
async function firstChunk(body: UpstreamAnswer): Promise<{ ok: true; chunk: Buffer | undefined } | { ok: false; reason: string }> {
  try {
    return { ok: true, chunk: await body.firstChunk() };
  } catch (error) {
    return { ok: false, reason: `stream ${(error as NodeJS.ErrnoException).code ?? 'error'}` };
  }
}

type Call = ReturnType<typeof upstreamCall>;

/** The failure recorded for a stream the upstream cut after it reached the client. */
const CUT_MID_STREAM = 'cut mid-stream';

/** How one try ended. */
type TryResult =
  | { kind: 'served'; status: number; usage: Usage | undefined; completed: boolean; ttfbMs?: number; firstChunkAt?: number }
  | { kind: 'failed'; reason: string; retryAfterMs?: number }
  | { kind: 'aborted' };

/**
 * Sends one try and, when the upstream answers, relays the answer. Until the first byte of the
 * answer is read the try can still fail without the client seeing anything.
 */
async function tryDeployment(ex: Exchange, target: DeploymentTarget, call: Call, headers: () => ResponseHeaders, deps: DispatchDeps): Promise<TryResult> {
  const { state } = ex;
  const upstream = target.provider.prepare(call.op, call.body, target.config, target.apiKey);
  upstream.headers['x-request-id'] = ex.requestId;
  const span = ex.trace?.upstream(upstreamSpanStart(ex, target, call.op));
  span?.inject(upstream.headers);
  const outcome = await sendUpstream(upstream, {
    dispatcher: agentFor(state.timeouts.connectMs),
    firstByteMs: state.timeouts.firstByteMs,
    idleMs: state.timeouts.firstByteMs,
    signal: ex.signal,
  });
  if (outcome.kind === 'failure') {
    span?.end({ status: outcome.status, error: outcome.reason });
    if (outcome.reason === 'aborted') return { kind: 'aborted' };
    if (!outcome.retryable && outcome.status !== undefined) {
      // The upstream judged the request itself: give the client that answer.
      relayUpstreamError(ex, outcome.status, outcome.errorBody ?? '', call.translator, headers());
      return { kind: 'served', status: outcome.status, usage: undefined, completed: true };
    }
    return { kind: 'failed', reason: outcome.reason, retryAfterMs: outcome.retryAfterMs };
  }
  deps.health.get(target.name).recordTtfb(outcome.ttfbMs);
  const wire = target.provider.wire;
  if (!ex.stream) {
    let text: string;
    try {
      text = await outcome.body.text();
    } catch (error) {
      const reason = `body ${(error as NodeJS.ErrnoException).code ?? 'error'}`;
      span?.end({ status: outcome.status, error: reason });
      return { kind: 'failed', reason };
    }
    const usage = relayJson(ex.res, text, wire, call.translator, target.config.model, headers());
    span?.end({ status: outcome.status, body: text, inputTokens: usage?.inputTokens, outputTokens: usage?.outputTokens });
    return { kind: 'served', status: 200, usage, completed: true, ttfbMs: outcome.ttfbMs };
  }
  const head = await firstChunk(outcome.body);
  if (!head.ok) {
    span?.end({ status: outcome.status, error: head.reason });
    return { kind: 'failed', reason: head.reason };
  }
  span?.firstChunk(head.chunk);
  const firstChunkAt = performance.now();
  const body = outcome.body;
  // A traced try shows the tracer every chunk on its way to the relay.
  const rest: ChunkSource = span
    ? {
        forEach: (client, onChunk) =>
          body.forEach(client, (chunk) => {
            span.nextChunk(chunk);
            return onChunk(chunk);
          }),
      }
    : body;
  const relayed = await relayStream(ex.res, head.chunk ?? Buffer.alloc(0), rest, headers(), {
    upstreamWire: wire,
    clientWire: ex.clientWire,
    translator: call.translator,
    clientModel: target.config.model,
    includeUsage: ex.includeUsage,
    hideUsageChunk: call.hideUsageChunk,
    heartbeatMs: state.shutdown.heartbeatMs,
    streams: deps.streams,
    cancel: () => body.abort(),
  });
  span?.end({ status: outcome.status, inputTokens: relayed.usage?.inputTokens, outputTokens: relayed.usage?.outputTokens, cut: !relayed.completed });
  return { kind: 'served', status: 200, usage: relayed.usage, completed: relayed.completed, ttfbMs: outcome.ttfbMs, firstChunkAt };
}

export async function dispatch(ex: Exchange, deps: DispatchDeps): Promise<ExchangeResult> {
  const router = ex.state.routers.get(ex.model);
  if (!router) return dispatchAlias(ex, ex.model, deps, undefined);
  // A virtual alias: a routing model (or the default) picks the alias, then it routes as usual.
  const decidedAt = ex.trace ? performance.now() : 0;
  const decision = await decideVirtualAlias(router, routingText(ex.body), ex.requestId);
  if (ex.trace) traceAliasDecision(ex.trace, router, decision, decidedAt);
  return { ...(await dispatchAlias(ex, decision.alias, deps, decision)), aliasDecision: decision };
}

async function dispatchAlias(ex: Exchange, alias: string, deps: DispatchDeps, decision: AliasDecision | undefined): Promise<ExchangeResult> {
  const { state } = ex;
  const first = state.models.get(alias)!;
  const chain = [first, ...first.fallbacks.map((name) => state.models.get(name)!)];
  const failures: Failure[] = [];
  const skips: Skips = { reasons: new Set(), retryAtMs: Number.POSITIVE_INFINITY, skipped: [] };
  const tries: RoutedTry[] = [];
  let attempts = 0;

  for (const [chainIndex, group] of chain.entries()) {
    const tried = new Set<string>();
    for (let attempt = 0; attempt < state.retries.maxAttempts; attempt++) {
      if (ex.signal.aborted) return giveUp(ex, failures, skips, tries, attempts, deps.now());
      const pickStarted = ex.trace ? performance.now() : 0;
      const all = eligibleCandidates(group, ex, deps, skips);
      if (all.length === 0) break;
      const fresh = all.filter((c) => !tried.has(c.target.name));
      // An alias with a learned router: its first try goes where the router decides.
      let learned = attempt === 0 && group.router ? learnedPickAny(group.router, ex.body, new Set(all.map((c) => c.target.name)), ex.trace?.recording) : undefined;
      if (learned instanceof Promise) learned = await learned; // an embedding featurizer (onnx, http)
      const picked = learned && all.find((c) => c.target.name === learned.deployment);
      const { target, health } = picked ?? choose(group.strategy, fresh.length > 0 ? fresh : all, deps.random);
      tried.add(target.name);
      attempts++;

      const call = upstreamCall(ex, target);
      const route = routeClass({ fallback: chainIndex > 0, retry: failures.length > 0, learned: picked !== undefined });
      const reason = (): string =>
        withAliasReason(decision, picked && chainIndex === 0 ? learned!.reason : routeReason(group.strategy, failures, chainIndex > 0 ? first.name : undefined) + (picked ? `; ${learned!.reason}` : ''));
      if (ex.trace) {
        tracePick(ex.trace, { startedAt: pickStarted, group, target, attempt: attempts, fallback: chainIndex > 0, firstInAlias: attempt === 0, lastFailure: failures.at(-1), learned: picked && learned, reason: reason() });
      }
      health.inFlight++;
      health.window.add(deps.now(), 1, ex.estimatedPromptTokens);
      let result: TryResult;
      try {
        result = await tryDeployment(ex, target, call, () => ({ ...responseHeaders(ex, group.name, target, reason()), ...virtualAliasHeaders(decision) }), deps);
      } finally {
        health.inFlight--;
      }
      if (result.kind === 'aborted') {
        tries.push({ target, route });
        return giveUp(ex, failures, skips, tries, attempts, deps.now());
      }
      if (result.kind === 'served') {
        tries.push(result.completed ? { target, route } : { target, route, failure: CUT_MID_STREAM });
        if (result.usage) health.window.add(deps.now(), 0, result.usage.outputTokens);
        // A stream the upstream cut counts against the deployment, though the client was answered.
        if (result.completed) health.recordSuccess();
        else health.recordFailure(deps.now(), state.cooldown.failureThreshold, state.cooldown.durationMs);
        return {
          status: result.status,
          ttfbMs: result.ttfbMs,
          alias: group.name,
          deployment: target.name,
          reason: reason(),
          attempts,
          inputTokens: result.usage?.inputTokens,
          outputTokens: result.usage?.outputTokens,
          route,
          tries,
          skipped: skips.skipped,
          firstChunkAt: result.firstChunkAt,
        };
      }
      failures.push({ deployment: target.name, reason: result.reason });
      tries.push({ target, route, failure: result.reason });
      health.recordFailure(deps.now(), state.cooldown.failureThreshold, state.cooldown.durationMs, result.retryAfterMs);
      const wait = result.retryAfterMs ?? state.retries.backoffMs * 2 ** attempt;
      if (attempt + 1 < state.retries.maxAttempts && wait <= state.retries.maxRetryAfterMs && deps.now() + wait < ex.deadline) {
        await delay(wait, undefined, { signal: ex.signal }).catch(() => undefined);
      }
    }
  }
  return giveUp(ex, failures, skips, tries, attempts, deps.now());
}

function relayUpstreamError(ex: Exchange, status: number, text: string, translator: Translator | undefined, headers: ResponseHeaders): void {
  let body = text;
  if (translator) {
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // keep the raw text for the translator
    }
    body = JSON.stringify(translator.error(status, parsed));
  }
  sendJson(ex.res, status, body, headers);
}

function giveUp(ex: Exchange, failures: Failure[], skips: Skips, tries: RoutedTry[], attempts: number, now: number): ExchangeResult {
  let error: GatewayError;
  if (ex.signal.aborted && now >= ex.deadline) {
    error = new GatewayError(504, 'timeout_error', `Request to model '${ex.model}' exceeded its deadline.`, null, 'deadline_exceeded');
  } else if (failures.length > 0) {
    const list = failures.map((f) => `${f.deployment}: ${f.reason}`).join('; ');
    error = new GatewayError(502, 'api_error', `All deployments for model '${ex.model}' failed (${list}).`, null, 'upstream_failed');
  } else if (skips.reasons.has('unsupported') && skips.reasons.size === 1) {
    error = new GatewayError(400, 'invalid_request_error', `Model '${ex.model}' does not support ${ex.op}.`, 'model', 'unsupported_operation');
  } else if (skips.reasons.has('context-window') && skips.reasons.size === 1) {
    error = new GatewayError(400, 'invalid_request_error', `Request is too large for every deployment of model '${ex.model}'.`, 'messages', 'context_length_exceeded');
  } else {
    const retryAfter = Number.isFinite(skips.retryAtMs) ? Math.max(1, Math.ceil((skips.retryAtMs - now) / 1000)) : 1;
    const limited = skips.reasons.has('rpm-limit') || skips.reasons.has('tpm-limit');
    error = limited
      ? new GatewayError(429, 'rate_limit_error', `Every deployment of model '${ex.model}' is at its rate limit.`, null, 'rate_limit_exceeded', retryAfter)
      : new GatewayError(503, 'overloaded_error', `Every deployment of model '${ex.model}' is cooling down.`, null, 'no_healthy_deployment', retryAfter);
  }
  if (ex.trace && error.code === 'no_healthy_deployment') traceCooldown(ex.trace, ex.model, ex.state.models.get(ex.model)?.strategy ?? '', error.message);
  if (!ex.res.headersSent && !ex.res.destroyed) {
    const headers: ResponseHeaders = { 'x-request-id': ex.requestId };
    if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
    sendJson(ex.res, error.status, errorBody(error, ex.clientWire), headers);
  }
  const route = tries.at(-1)?.route ?? skips.skipped.at(-1)?.route ?? 'none';
  return { status: error.status, reason: error.message, attempts, route, tries, skipped: skips.skipped };
}
