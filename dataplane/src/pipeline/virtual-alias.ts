// What a virtual alias adds to a response: the route reason says which router and routing model
// picked the alias and why, x-switchboard-router names them, and x-switchboard-shadow-route what
// the shadow models would have picked.
import type { AliasDecision } from '../routing/rollout/alias-router.js';
import { shadowRouteHeader } from '../routing/rollout/alias-router.js';
import type { ResponseHeaders } from './relay.js';

export function virtualAliasHeaders(decision: AliasDecision | undefined): ResponseHeaders {
  if (!decision) return {};
  const headers: ResponseHeaders = { 'x-switchboard-router': `${decision.router}; ${decision.model === undefined ? 'default' : `${decision.model}; ${decision.mode}`}` };
  const shadows = shadowRouteHeader(decision.shadows);
  if (shadows !== undefined) headers['x-switchboard-shadow-route'] = shadows;
  return headers;
}

/** The deployment route reason, after the virtual alias's own. */
export function withAliasReason(decision: AliasDecision | undefined, reason: string): string {
  return decision ? `${decision.reason}; ${reason}` : reason;
}
