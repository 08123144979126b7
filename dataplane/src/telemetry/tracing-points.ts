// The pipeline's side of tracing: turns an exchange and what dispatch decided into the records
// the RequestTrace takes. Called only when a request is traced.
import type { DeploymentTarget, ModelGroup } from '../config/runtime-state.js';
import type { Exchange } from '../pipeline/exchange.js';
import type { LearnedPick } from '../pipeline/learned-pick.js';
import type { Failure } from '../pipeline/route-reason.js';
import type { AliasDecision, CompiledAliasRouter } from '../routing/rollout/alias-router.js';
import type { JsonObject, Operation } from '../providers/types.js';
import { SWITCHBOARD } from './tracing-attributes.js';
import type { RequestTrace, RouteKind, UpstreamStart } from './tracing.js';

/** The prompt as the client sent it (messages, prompt or input), for gen_ai.input.messages. */
export function promptContent(body: JsonObject): string {
  return JSON.stringify(body.messages ?? body.prompt ?? body.input ?? null);
}

export function upstreamSpanStart(ex: Exchange, target: DeploymentTarget, op: Operation): UpstreamStart {
  return {
    op,
    provider: target.config.provider,
    deployment: target.name,
    requestModel: target.config.model,
    baseUrl: target.config.baseUrl,
    stream: ex.stream,
    ...(ex.maxOutputTokens === undefined ? {} : { maxTokens: ex.maxOutputTokens }),
    ...(ex.trace?.recordsContent(target.alias) ? { inputMessages: promptContent(ex.body) } : {}),
  };
}

/** One pick of dispatch's loop, as the route span and the retry/fallback events see it. */
export interface PickTrace {
  /** performance.now() when the pick began (before eligibility). */
  startedAt: number;
  group: ModelGroup;
  target: DeploymentTarget;
  /** 1-based try number across the request. */
  attempt: number;
  /** The alias is a fallback of the one asked for. */
  fallback: boolean;
  /** First try within this alias. */
  firstInAlias: boolean;
  lastFailure: Failure | undefined;
  learned: LearnedPick | undefined;
  reason: string;
}

function pickKind(pick: PickTrace): RouteKind {
  if (pick.fallback) return 'fallback';
  if (pick.lastFailure) return 'retry';
  return pick.learned ? 'learned' : 'rule';
}

export function tracePick(trace: RequestTrace, pick: PickTrace): void {
  const endedAt = performance.now();
  const kind = pickKind(pick);
  if (pick.lastFailure || (pick.fallback && pick.firstInAlias)) {
    trace.event(kind === 'fallback' && pick.firstInAlias ? 'switchboard.fallback' : 'switchboard.retry', {
      [SWITCHBOARD.attempt]: pick.attempt,
      [SWITCHBOARD.model]: pick.group.name,
      [SWITCHBOARD.deployment]: pick.target.name,
      ...(pick.lastFailure ? { [SWITCHBOARD.previousFailure]: `${pick.lastFailure.deployment}: ${pick.lastFailure.reason}` } : {}),
    });
  }
  trace.route({
    startedAt: pick.startedAt,
    endedAt,
    alias: pick.group.name,
    strategy: pick.group.strategy,
    kind,
    reason: pick.reason,
    deployment: pick.target.name,
    upstreamModel: pick.target.config.model,
    attempt: pick.attempt,
    ...(pick.learned?.decision ? { learned: pick.learned.decision } : {}),
  });
}

/** No deployment could be picked because every one is cooling down (the 503 dispatch answers). */
export function traceCooldown(trace: RequestTrace, alias: string, strategy: string, reason: string): void {
  const now = performance.now();
  trace.route({ startedAt: now, endedAt: now, alias, strategy, kind: 'cooldown', reason });
}

/**
 * A virtual alias's decision: which RoutingModel (or the default) picked the alias, with its
 * artifact digest, and what every shadow routing model would have picked.
 */
export function traceAliasDecision(trace: RequestTrace, router: CompiledAliasRouter, decision: AliasDecision, startedAt: number): void {
  const models = [router.active, router.canary, ...router.shadows];
  const digestOf = (name: string | undefined): string | undefined => models.find((m) => m?.name === name)?.compiled.digest;
  const digest = digestOf(decision.model);
  trace.route({
    startedAt,
    endedAt: performance.now(),
    alias: decision.alias,
    strategy: 'virtual-alias',
    kind: decision.model === undefined ? 'rule' : 'learned',
    reason: decision.reason,
    virtualAlias: { router: decision.router, mode: decision.mode, ...(decision.model === undefined ? {} : { routingModel: decision.model }), ...(digest === undefined ? {} : { digest }) },
    shadows: decision.shadows.map((s) => ({ routingModel: s.model, picked: s.alias, agree: s.agree, ...(digestOf(s.model) === undefined ? {} : { digest: digestOf(s.model)! }) })),
  });
}
