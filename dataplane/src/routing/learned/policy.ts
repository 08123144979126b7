// The decision: trade predicted quality against cost, skip unavailable candidates, say why.

export interface CandidateEstimate {
  model: string;
  /** Predicted quality, 0..1. */
  quality: number;
  /** Cost of sending this query to the model (USD per million input + output tokens, or the record's own cost). */
  cost: number;
}

export type DecisionPolicy =
  /** Maximise lambda * quality - cost: lambda is what one unit of quality is worth, in cost units. */
  | { rule: 'willingness-to-pay'; lambda: number }
  /** The cheapest candidate predicted to reach `quality`; the best predicted one if none does. */
  | { rule: 'threshold'; quality: number };

export interface RankedCandidate extends CandidateEstimate {
  score: number;
}

export interface RouteDecision {
  model: string;
  rule: string;
  /** One line for logs, spans and the x-switchboard-route-reason header. */
  reason: string;
  /** The best-scoring candidates, best first. */
  top: RankedCandidate[];
  skipped: { model: string; why: string }[];
}

export class NoCandidateError extends Error {}

/**
 * Picks one of `candidates`. Ties go to the cheaper candidate, then to the earlier one,
 * so the decision is deterministic.
 */
export function decide(candidates: readonly CandidateEstimate[], policy: DecisionPolicy, unavailable: ReadonlyMap<string, string> = new Map(), topN = 3): RouteDecision {
  const skipped: { model: string; why: string }[] = [];
  // Only the best topN become RankedCandidate objects: insertion keeps them ordered by score,
  // then by cost, then by position (a stable sort of all candidates would give the same).
  const ranked: RankedCandidate[] = [];
  let available = 0;
  for (const c of candidates) {
    const why = unavailable.get(c.model);
    if (why !== undefined) {
      skipped.push({ model: c.model, why });
      continue;
    }
    available++;
    const score = scoreOf(c, policy);
    let at = ranked.length;
    while (at > 0 && outranks(score, c.cost, ranked[at - 1]!)) at--;
    if (at >= topN && at > 0) continue;
    ranked.splice(at, 0, { ...c, score });
    if (ranked.length > Math.max(topN, 1)) ranked.pop();
  }
  if (available === 0) throw new NoCandidateError(`no candidate model is available (${skipped.map((s) => `${s.model}: ${s.why}`).join('; ') || 'none given'})`);
  const best = ranked[0]!;
  const q = best.quality.toFixed(3);
  let rule: string;
  let reason: string;
  if (policy.rule === 'willingness-to-pay') {
    rule = `willingness-to-pay lambda=${policy.lambda}`;
    reason = `${best.model}: highest lambda*quality - cost (quality ${q}, cost ${best.cost}, lambda ${policy.lambda})`;
  } else if (best.quality >= policy.quality) {
    rule = `threshold quality>=${policy.quality}`;
    reason = `${best.model}: cheapest candidate predicted to reach quality ${policy.quality} (quality ${q}, cost ${best.cost})`;
  } else {
    rule = `threshold quality>=${policy.quality} (unmet)`;
    reason = `${best.model}: no candidate is predicted to reach quality ${policy.quality}; picked the best predicted (quality ${q}, cost ${best.cost})`;
  }
  if (skipped.length > 0) reason += `; skipped ${skipped.map((s) => `${s.model} (${s.why})`).join(', ')}`;
  return { model: best.model, rule, reason, top: ranked.length > topN ? ranked.slice(0, topN) : ranked, skipped };
}

function scoreOf(c: CandidateEstimate, policy: DecisionPolicy): number {
  if (policy.rule === 'willingness-to-pay') return policy.lambda * c.quality - c.cost;
  // Candidates that reach the threshold outrank all others and among them the cheapest wins;
  // below it, higher quality wins.
  return c.quality >= policy.quality ? 2 - c.cost / (1 + c.cost) : c.quality;
}

function outranks(score: number, cost: number, other: RankedCandidate): boolean {
  return score > other.score || (score === other.score && cost < other.cost);
}
