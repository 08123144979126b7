// Which priority a request gets: its client key's class, which the x-switchboard-priority header
// may lower but never raise.
import type { ClientPrincipal } from '../config/runtime-state.js';
import type { Priority } from './admission.js';

const RANK: Record<Priority, number> = { critical: 0, standard: 1, sheddable: 2 };

/** The highest class a caller may use, and the class of its requests without a header. */
export interface Entitlement {
  highest: Priority;
  unmarked: Priority;
}

/** The header's class, undefined when absent, 'invalid' for anything but one class name. */
export function requestedPriority(header: string | string[] | undefined): Priority | 'invalid' | undefined {
  if (header === undefined) return undefined;
  return header === 'critical' || header === 'standard' || header === 'sheddable' ? header : 'invalid';
}

/**
 * A listed key is entitled to its class; an unlisted key to standard. The master key and anyone
 * on an open gateway (no keys: every caller is trusted) may ask for critical, and get standard
 * without a header.
 */
export function entitlementOf(principal: ClientPrincipal | undefined, clients: ReadonlyMap<string, { priority: Priority }>): Entitlement {
  const listed = principal && clients.get(principal.name)?.priority;
  if (listed) return { highest: listed, unmarked: listed };
  if (principal === undefined || principal.name === 'master') return { highest: 'critical', unmarked: 'standard' };
  return { highest: 'standard', unmarked: 'standard' };
}

/** The requested class when it is at or below the entitlement, else the highest entitled. */
export function effectivePriority(entitlement: Entitlement, requested: Priority | undefined): Priority {
  if (requested === undefined) return entitlement.unmarked;
  return RANK[requested] >= RANK[entitlement.highest] ? requested : entitlement.highest;
}
