// A virtual alias routed by learned routing models in rollout modes. Per request: the canary
// model (if any) routes when the request id hashes into its share, otherwise the active model
// (if any), otherwise the default alias; every shadow model decides too and is recorded, never
// acted on. Pure apart from the routers' scratch buffers: same text and request id, same decision.
// Synchronous for in-process featurizers; a promise when a model embeds through onnx or http, and
// then an embedding failure degrades to the default alias (acting model) or no record (shadow).
import type { AliasRouter } from '@switchboard/crds/runtime';
import { compileRoutingModel, type ArtifactContext, type CompiledRouter } from '../../config/router-artifact.js';
import { FeaturizerError, type RouteDecision } from '../learned/index.js';

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

interface Pick {
  alias: string;
  why: string;
}

function decideAlias(model: CompiledRoutingModel, text: string): Pick | Promise<Pick> {
  const { compiled } = model;
  const pick = (decision: RouteDecision): Pick => {
    const best = decision.top[0]!;
    return { alias: compiled.candidates.get(decision.model)!, why: `learned ${compiled.router.kind} (${best.model} q=${round(best.quality)} cost=${round(best.cost)}; ${compiled.policyText})` };
  };
  const options = { policy: compiled.policy, candidates: compiled.models };
  return compiled.router.featurizer.sync ? pick(compiled.router.route(text, options)) : compiled.router.routeAsync(text, options).then(pick);
}

/** An embedding failure is a value (the feature degrades, not the request); anything else throws. */
function settle(pick: Pick | Promise<Pick> | undefined): Promise<Pick | FeaturizerError | undefined> {
  return Promise.resolve(pick).catch((error: unknown) => {
    if (error instanceof FeaturizerError) return error;
    throw error;
  });
}

/** The routing model acting on this request: the canary inside its share, else the active one. */
function actingModel(router: CompiledAliasRouter, requestId: string): CompiledRoutingModel | undefined {
  if (router.canary && canaryBucket(requestId) < router.canary.canaryPercent) return router.canary;
  return router.active;
}

function assemble(router: CompiledAliasRouter, acting: CompiledRoutingModel | undefined, actingPick: Pick | Error | undefined, shadowPicks: ReadonlyArray<Pick | Error>): AliasDecision {
  let decision: AliasDecision;
  if (acting && actingPick && !(actingPick instanceof Error)) {
    const { alias, why } = actingPick;
    const mode = acting.mode === 'canary' ? 'canary' : 'active';
    const share = mode === 'canary' ? ` ${acting.canaryPercent}%` : '';
    decision = { router: router.name, alias, model: acting.name, mode, reason: `router ${router.name}: ${acting.name} ${mode}${share}, ${why} -> ${alias}`, shadows: [] };
  } else {
    const degraded = acting ? ` (${acting.name}: featurizer unavailable)` : '';
    decision = { router: router.name, alias: router.defaultAlias, model: undefined, mode: 'default', reason: `router ${router.name}: default ${router.defaultAlias}${degraded}`, shadows: [] };
  }
  router.shadows.forEach((shadow, i) => {
    const pick = shadowPicks[i]!;
    if (!(pick instanceof Error)) decision.shadows.push({ model: shadow.name, alias: pick.alias, agree: pick.alias === decision.alias });
  });
  decision.reason = decision.reason.replace(/[^\x20-\x7e]/g, '?');
  return decision;
}

export function decideVirtualAlias(router: CompiledAliasRouter, text: string, requestId: string): AliasDecision | Promise<AliasDecision> {
  const acting = actingModel(router, requestId);
  const actingPick = acting && decideAlias(acting, text);
  const shadowPicks = router.shadows.map((shadow) => decideAlias(shadow, text));
  if (!(actingPick instanceof Promise) && !shadowPicks.some((p) => p instanceof Promise)) return assemble(router, acting, actingPick, shadowPicks as Pick[]);
  // Embedding models decide concurrently: the request waits for the slowest, not the sum.
  return Promise.all([settle(actingPick), ...shadowPicks.map(settle)]).then(([first, ...rest]) =>
    assemble(router, acting, first, rest as Array<Pick | FeaturizerError>),
  );
}

/** x-switchboard-shadow-route: "<model>=<alias> agree|disagree", comma separated. */
export function shadowRouteHeader(shadows: readonly ShadowDecision[]): string | undefined {
  if (shadows.length === 0) return undefined;
  return shadows.map((s) => `${s.model}=${s.alias} ${s.agree ? 'agree' : 'disagree'}`).join(', ');
}
