// Error bodies exactly as each API family returns them, so a gateway's error translation and
// retry classification are exercised against the real shapes.

/** The API family a request came in on; it decides the error and auth formats. */
export type Family = 'openai' | 'azure' | 'anthropic';

const ANTHROPIC_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const OPENAI_TYPES: Record<number, { type: string; code: string | null }> = {
  400: { type: 'invalid_request_error', code: null },
  401: { type: 'invalid_request_error', code: 'invalid_api_key' },
  404: { type: 'invalid_request_error', code: 'unknown_url' },
  429: { type: 'requests', code: 'rate_limit_exceeded' },
  500: { type: 'server_error', code: null },
};

/** The JSON error body for `status` in `family`'s format. `param` names the offending field. */
export function errorBody(family: Family, status: number, message: string, param: string | null = null): string {
  if (family === 'anthropic') {
    const type = ANTHROPIC_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    return JSON.stringify({ type: 'error', error: { type, message } });
  }
  if (family === 'azure') {
    return JSON.stringify({ error: { code: String(status), message } });
  }
  const kind = OPENAI_TYPES[status] ?? { type: status >= 500 ? 'server_error' : 'invalid_request_error', code: null };
  return JSON.stringify({ error: { message, type: kind.type, param, code: kind.code } });
}

/** The message for a rejected credential in `family`'s wording (never echoing the key). */
export function authMessage(family: Family): string {
  switch (family) {
    case 'anthropic':
      return 'invalid x-api-key';
    case 'azure':
      return 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.';
    default:
      return 'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.';
  }
}
