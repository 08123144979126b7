// Low-cardinality classes for metrics: why a deployment was picked or passed over, and why an
// upstream try failed. Metrics carry these classes, never the free-text route reason header.

/** Why a routing decision picked (or passed over) a deployment, or why none was picked. */
export type RouteClass = 'rule' | 'learned' | 'retry' | 'fallback' | 'cooldown-skip' | 'limit-skip' | 'shed' | 'none';

export const ROUTE_CLASSES: readonly RouteClass[] = ['rule', 'learned', 'retry', 'fallback', 'cooldown-skip', 'limit-skip', 'shed', 'none'];

/** The class of a try: a fallback alias wins over a retry, a retry over the first pick's source. */
export function routeClass(pick: { fallback: boolean; retry: boolean; learned: boolean }): RouteClass {
  if (pick.fallback) return 'fallback';
  if (pick.retry) return 'retry';
  return pick.learned ? 'learned' : 'rule';
}

/** Error codes of admission refusals (over capacity, or a client key over its quota). */
const ADMISSION_REFUSALS: ReadonlySet<string> = new Set(['gateway_overloaded', 'client_quota_exceeded']);

/** The class of a request refused before routing: shed by admission, or none (bad input, auth, …). */
export function refusalRoute(code: string | null): RouteClass {
  return code !== null && ADMISSION_REFUSALS.has(code) ? 'shed' : 'none';
}

/** Why an upstream try failed, from the short reason dispatch records ("503", "connect ECONNREFUSED", …). */
export type FailureClass = 'http-429' | 'http-4xx' | 'http-5xx' | 'connect-error' | 'connect-timeout' | 'first-byte-timeout' | 'body-error' | 'mid-stream' | 'other';

export const FAILURE_CLASSES: readonly FailureClass[] = [
  'http-429',
  'http-4xx',
  'http-5xx',
  'connect-error',
  'connect-timeout',
  'first-byte-timeout',
  'body-error',
  'mid-stream',
  'other',
];

export function failureClass(reason: string): FailureClass {
  if (/^\d{3}$/.test(reason)) {
    if (reason === '429') return 'http-429';
    return reason.startsWith('5') ? 'http-5xx' : reason.startsWith('4') ? 'http-4xx' : 'other';
  }
  if (reason === 'connect timeout') return 'connect-timeout';
  if (reason === 'first-byte timeout') return 'first-byte-timeout';
  if (reason.startsWith('connect ')) return 'connect-error';
  if (reason === 'cut mid-stream') return 'mid-stream';
  // The answer broke before anything reached the client (stream or body read).
  if (reason.startsWith('stream ') || reason.startsWith('body ')) return 'body-error';
  return 'other';
}
