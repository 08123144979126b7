// Gateway errors and their rendering in the client's wire format.
import type { Wire } from '../providers/types.js';

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error'
  | 'timeout_error';

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    /** Seconds, sent as Retry-After. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

// OpenAI reports most 4xx kinds as invalid_request_error with a specific code.
const openaiType: Record<ErrorType, string> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'invalid_request_error',
  permission_error: 'invalid_request_error',
  not_found_error: 'invalid_request_error',
  request_too_large: 'invalid_request_error',
  rate_limit_error: 'rate_limit_exceeded',
  api_error: 'api_error',
  overloaded_error: 'api_error',
  timeout_error: 'api_error',
};

export function errorBody(error: GatewayError, wire: Wire): string {
  if (wire === 'anthropic') {
    return JSON.stringify({ type: 'error', error: { type: error.type, message: error.message } });
  }
  return JSON.stringify({
    error: { message: error.message, type: openaiType[error.type], param: error.param, code: error.code },
  });
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null): GatewayError =>
  new GatewayError(400, 'invalid_request_error', message, param, code);
