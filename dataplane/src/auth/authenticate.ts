// Client authentication: keys are compared by their SHA-256 only, never stored in clear.
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthState, ClientPrincipal } from '../config/runtime-state.js';
import { sha256Hex } from './key-hash.js';
import { GatewayError } from '../http/errors.js';

/** Bearer token (OpenAI clients) or x-api-key (Anthropic clients). */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization?.startsWith('Bearer ')) return authorization.slice(7).trim() || undefined;
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey ? apiKey : undefined;
}

/** Returns the principal, undefined for an open gateway, or throws 401. */
export function authenticate(auth: AuthState, headers: IncomingHttpHeaders): ClientPrincipal | undefined {
  if (auth.open) return undefined;
  const key = presentedKey(headers);
  if (!key) throw new GatewayError(401, 'authentication_error', 'Missing API key: send "Authorization: Bearer <key>" or "x-api-key".', null, 'missing_api_key');
  const principal = auth.byHash.get(sha256Hex(key));
  if (!principal) throw new GatewayError(401, 'authentication_error', 'Invalid API key.', null, 'invalid_api_key');
  return principal;
}

export function authorizeModel(principal: ClientPrincipal | undefined, model: string): void {
  if (principal?.models && !principal.models.has(model)) {
    throw new GatewayError(403, 'permission_error', `This key is not allowed to use model '${model}'.`, 'model', 'model_not_allowed');
  }
}
