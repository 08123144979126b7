// A virtual alias routed by learned routing models in rollout modes. Per request: the canary
// model (if any) routes when the request id hashes into its share, otherwise the active model
// (if any), otherwise the default alias; every shadow model decides too and is recorded, never
// acted on. Pure apart from the routers' scratch buffers: same text and request id, same decision.
import type { AliasRouter } from '@switchboard/crds/runtime';
import { compileRoutingModel, type ArtifactContext, type CompiledRouter } from '../../config/router-artifact.js';

export interface CompiledRoutingModel {
  readonly name: string;
  readonly mode: 'active' | 'canary' | 'shadow';
  /** Canary mode: share of requests (0..100) this model routes. */
  readonly canaryPercent: number;
  readonly compiled: CompiledRouter;
}

export interface CompiledAliasRouter {
  readonly name: string;
  readonly defaultAlias: string;
  readonly active: CompiledRoutingModel | undefined;
  readonly canary: CompiledRoutingModel | undefined;
  readonly shadows: readonly CompiledRoutingModel[];
  /** Every routing model, in config order. */
  readonly models: readonly CompiledRoutingModel[];
}

export interface ShadowDecision {
  /** The shadow routing model. */
  model: string;
  /** The alias it would have picked. */
  alias: string;
  /** It picked the alias the request was routed to. */
  agree: boolean;
}

/** What the virtual alias decided for one request (for headers, metrics and spans). */
export interface AliasDecision {
  router: string;
  /** The alias the request goes to. */
  alias: string;
  /** The routing model that decided it; undefined when the default alias serves the request. */
  model: string | undefined;
  mode: 'active' | 'canary' | 'default';
  /** ASCII, short, never prompt text. */
  reason: string;
  shadows: ShadowDecision[];
}

export function compileAliasRouter(spec: AliasRouter, ctx: ArtifactContext): CompiledAliasRouter {
  const models = spec.models.map((m) => ({ name: m.name, mode: m.mode, canaryPercent: m.canaryPercent ?? 0, compiled: compileRoutingModel(spec.name, m, ctx) }));
  return {
    name: spec.name,
    defaultAlias: spec.default,
    active: models.find((m) => m.mode === 'active'),
    canary: models.find((m) => m.mode === 'canary'),
    shadows: models.filter((m) => m.mode === 'shadow'),
    models,
  };
}

/** 0..99 from a request id (FNV-1a): the same id always lands in the same canary bucket. */
export function canaryBucket(requestId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < requestId.length; i++) {
    h ^= requestId.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % 100;
}

function round(x: number): string {
  return String(Math.round(x * 100) / 100);
}

function decideAlias(model: CompiledRoutingModel, text: string): { alias: string; why: string } {
  const { compiled } = model;
  const decision = compiled.router.route(text, { policy: compiled.policy, candidates: compiled.models });
  const best = decision.top[0]!;
  return { alias: compiled.candidates.get(decision.model)!, why: `learned ${compiled.router.kind} (${best.model} q=${round(best.quality)} cost=${round(best.cost)}; ${compiled.policyText})` };
}

/** The routing model acting on this request: the canary inside its share, else the active one. */
function actingModel(router: CompiledAliasRouter, requestId: string): CompiledRoutingModel | undefined {
  if (router.canary && canaryBucket(requestId) < router.canary.canaryPercent) return router.canary;
  return router.active;
}

export function decideVirtualAlias(router: CompiledAliasRouter, text: string, requestId: string): AliasDecision {
  const acting = actingModel(router, requestId);
  let decision: AliasDecision;
  if (acting) {
    const { alias, why } = decideAlias(acting, text);
    const mode = acting.mode === 'canary' ? 'canary' : 'active';
    const share = mode === 'canary' ? ` ${acting.canaryPercent}%` : '';
    decision = { router: router.name, alias, model: acting.name, mode, reason: `router ${router.name}: ${acting.name} ${mode}${share}, ${why} -> ${alias}`, shadows: [] };
  } else {
    decision = { router: router.name, alias: router.defaultAlias, model: undefined, mode: 'default', reason: `router ${router.name}: default ${router.defaultAlias}`, shadows: [] };
  }
  for (const shadow of router.shadows) {
    const { alias } = decideAlias(shadow, text);
    decision.shadows.push({ model: shadow.name, alias, agree: alias === decision.alias });
  }
  decision.reason = decision.reason.replace(/[^\x20-\x7e]/g, '?');
  return decision;
}

/** x-switchboard-shadow-route: "<model>=<alias> agree|disagree", comma separated. */
export function shadowRouteHeader(shadows: readonly ShadowDecision[]): string | undefined {
  if (shadows.length === 0) return undefined;
  return shadows.map((s) => `${s.model}=${s.alias} ${s.agree ? 'agree' : 'disagree'}`).join(', ');
}
