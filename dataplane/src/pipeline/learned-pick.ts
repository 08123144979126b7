// The learned first pick: when an alias routes through a router, the first try goes to the
// deployment the router decides for the request text. Candidates whose deployment is not
// eligible (cooling down, over a limit, context too small) are passed to decide() as unavailable.
import type { CompiledRouter } from '../config/router-artifact.js';
import type { JsonObject } from '../providers/types.js';
import { FeaturizerError, NoCandidateError, type RouteDecision } from '../routing/learned/index.js';
import type { DecisionTiming, RouteOptions } from '../routing/learned/router.js';
import type { LearnedDecision } from '../telemetry/tracing.js';

/** Text of a content field: a string, or the text parts of an array of blocks. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) => (part !== null && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : ''))
    .filter((t) => t !== '')
    .join('\n');
}

/** What the router reads: the last user message (chat, messages), else the prompt or input. */
export function routingText(body: JsonObject): string {
  const messages = body.messages;
  if (Array.isArray(messages)) {
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i] as { role?: unknown; content?: unknown } | null;
      if (m !== null && typeof m === 'object' && m.role === 'user') return contentText(m.content);
    }
    return '';
  }
  for (const field of [body.prompt, body.input]) {
    if (typeof field === 'string') return field;
    if (Array.isArray(field) && typeof field[0] === 'string') return field[0];
  }
  return '';
}

export interface LearnedPick {
  deployment: string;
  /** For x-switchboard-route-reason: ASCII, short, never prompt text. */
  reason: string;
  /** The decision in full, for the route span (only when asked for: `traced`). */
  decision?: LearnedDecision;
}

/** Rounds for the header: up to 2 decimals, no trailing zeros. */
function num(x: number): string {
  return String(Math.round(x * 100) / 100);
}

/**
 * The router's pick among `eligible` deployments; undefined when none of its candidates is
 * eligible (the balancer picks as without a router).
 */
export function learnedPick(compiled: CompiledRouter, body: JsonObject, eligible: ReadonlySet<string>, traced = false): LearnedPick | undefined {
  const { options, timing } = routeOptions(compiled, eligible, traced);
  try {
    return pickOf(compiled, compiled.router.route(routingText(body), options), timing);
  } catch (error) {
    return noCandidate(error);
  }
}

/**
 * learnedPick for any featurizer: synchronous for the hashed one, a promise for an embedding
 * featurizer (onnx, http). When embedding fails (a service down), the balancer picks: the
 * feature degrades, not the traffic.
 */
export function learnedPickAny(compiled: CompiledRouter, body: JsonObject, eligible: ReadonlySet<string>, traced = false): LearnedPick | undefined | Promise<LearnedPick | undefined> {
  if (compiled.router.featurizer.sync) return learnedPick(compiled, body, eligible, traced);
  const { options, timing } = routeOptions(compiled, eligible, traced);
  return compiled.router.routeAsync(routingText(body), options).then(
    (decision) => pickOf(compiled, decision, timing),
    (error: unknown) => (error instanceof FeaturizerError ? undefined : noCandidate(error)),
  );
}

function routeOptions(compiled: CompiledRouter, eligible: ReadonlySet<string>, traced: boolean): { options: RouteOptions; timing: DecisionTiming | undefined } {
  const unavailable = new Map<string, string>();
  for (const [model, deployment] of compiled.candidates) if (!eligible.has(deployment)) unavailable.set(model, 'ineligible');
  const timing: DecisionTiming | undefined = traced ? { featurizeMs: 0, headMs: 0, policyMs: 0 } : undefined;
  return { options: { policy: compiled.policy, candidates: compiled.models, unavailable, timing }, timing };
}

function noCandidate(error: unknown): undefined {
  if (error instanceof NoCandidateError) return undefined;
  throw error;
}

function pickOf(compiled: CompiledRouter, decision: RouteDecision, timing: DecisionTiming | undefined): LearnedPick {
  const best = decision.top[0]!;
  const skipped = decision.skipped.length > 0 ? `; skipped ${decision.skipped.map((s) => s.model).join(',')}` : '';
  return {
    deployment: compiled.candidates.get(decision.model)!,
    reason: `learned ${compiled.router.kind} (${best.model} q=${num(best.quality)} cost=${num(best.cost)}; ${compiled.policyText}${skipped})`.replace(/[^\x20-\x7e]/g, '?'),
    ...(timing && {
      decision: {
        kind: compiled.router.kind,
        digest: compiled.digest,
        policy: compiled.policyText,
        chosen: decision.model,
        candidates: decision.top.map((c) => ({ model: c.model, quality: c.quality, cost: c.cost })),
        skipped: decision.skipped.map((s) => s.model),
        timing,
      },
    }),
  };
}
