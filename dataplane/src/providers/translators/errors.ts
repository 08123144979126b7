// Upstream error bodies rewritten in the client's error format; the HTTP status is kept.
import type { AnthropicErrorBody } from '../wire/anthropic.js';
import type { OpenAIErrorBody } from '../wire/openai.js';
import { isObject } from './shared.js';

function anthropicTypeForStatus(status: number): string {
  if (status === 400) return 'invalid_request_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 413) return 'request_too_large';
  if (status === 429) return 'rate_limit_error';
  if (status === 503 || status === 529) return 'overloaded_error';
  if (status >= 400 && status < 500) return 'invalid_request_error';
  return 'api_error';
}

function openaiTypeForStatus(status: number): string {
  if (status === 429) return 'rate_limit_exceeded';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** The message of an error body in either wire, or of a plain-text body. */
function upstreamMessage(status: number, body: unknown): { message: string; type: string | undefined } {
  if (isObject(body) && isObject(body.error)) {
    const { message, type } = body.error;
    return { message: typeof message === 'string' ? message : `upstream error ${status}`, type: typeof type === 'string' ? type : undefined };
  }
  if (typeof body === 'string' && body.trim()) return { message: body.trim().slice(0, 1000), type: undefined };
  return { message: `upstream returned status ${status}`, type: undefined };
}

/** Any upstream error -> OpenAI error body. */
export function toOpenAIError(status: number, body: unknown): OpenAIErrorBody {
  const { message, type } = upstreamMessage(status, body);
  return { error: { message, type: openaiTypeForStatus(status), param: null, code: type ?? null } };
}

/** Any upstream error -> Anthropic error body. */
export function toAnthropicError(status: number, body: unknown): AnthropicErrorBody {
  const { message } = upstreamMessage(status, body);
  return { type: 'error', error: { type: anthropicTypeForStatus(status), message } };
}
