// How a refusal is told to the client: 429 when its key is over a quota, 503 when the gateway is
// over capacity, in the client's wire format. A body depends only on (wire, reason), so each is
// rendered once: under overload the gateway answers sheds at the rate they arrive.
import { GatewayError, errorBody } from '../http/errors.js';
import type { Wire } from '../providers/types.js';
import { refusalCause, type RefusalReason } from './gate.js';

const quotaMessage: Partial<Record<RefusalReason, string>> = {
  request_quota: 'This API key is over its requests-per-minute quota; retry after the Retry-After delay.',
  token_quota: 'This API key is over its tokens-per-minute quota; retry after the Retry-After delay.',
};

/** What the client is told (never anything about other clients). */
export function refusalMessage(reason: RefusalReason): string {
  return quotaMessage[reason] ?? `The gateway is over capacity (${refusalCause[reason]}); retry after the Retry-After delay.`;
}

function refusalError(reason: RefusalReason): GatewayError {
  return quotaMessage[reason] === undefined
    ? new GatewayError(503, 'overloaded_error', refusalMessage(reason), null, 'gateway_overloaded')
    : new GatewayError(429, 'rate_limit_error', refusalMessage(reason), null, 'client_quota_exceeded');
}

const bodies = new Map<string, string>();

/** The response body of a refusal, rendered on first use. */
export function refusalBody(reason: RefusalReason, wire: Wire): string {
  const key = `${wire} ${reason}`;
  let body = bodies.get(key);
  if (body === undefined) {
    body = errorBody(refusalError(reason), wire);
    bodies.set(key, body);
  }
  return body;
}
