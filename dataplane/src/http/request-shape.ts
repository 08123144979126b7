// Checks the fields the gateway relies on, per operation, and names the first bad one the way
// the provider would. Other fields pass through untouched for the upstream to judge.
import { z } from 'zod';
import { formatPath } from '@switchboard/crds/runtime';
import type { JsonObject, Operation } from '../providers/types.js';
import { badRequest, type GatewayError } from './errors.js';

const Model = z.string().min(1);
const optionalBool = z.boolean().optional();
const optionalCount = z.number().int().positive().optional();

const ChatMessage = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()]).optional(),
});

const Tool = z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string().min(1) }) });

const shapes: Record<Operation, z.ZodType> = {
  chat: z.looseObject({
    model: Model,
    messages: z.array(ChatMessage).min(1),
    stream: optionalBool,
    max_tokens: optionalCount,
    max_completion_tokens: optionalCount,
    tools: z.array(Tool).optional(),
    stream_options: z.looseObject({ include_usage: optionalBool }).nullable().optional(),
  }),
  completions: z.looseObject({
    model: Model,
    prompt: z.union([z.string(), z.array(z.string()), z.array(z.number()), z.array(z.array(z.number()))]),
    stream: optionalBool,
    max_tokens: optionalCount,
  }),
  embeddings: z.looseObject({
    model: Model,
    input: z.union([z.string(), z.array(z.string()).min(1), z.array(z.number()).min(1), z.array(z.array(z.number())).min(1)]),
  }),
  messages: z.looseObject({
    model: Model,
    max_tokens: z.number().int().positive(),
    messages: z
      .array(z.looseObject({ role: z.enum(['user', 'assistant']), content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]) }))
      .min(1),
    stream: optionalBool,
    system: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))]).optional(),
  }),
};

/** Parses and checks a request body; throws a 400 GatewayError naming the field. */
export function parseRequest(op: Operation, raw: Buffer): JsonObject {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw badRequest(`Request body is not valid JSON: ${(error as Error).message}`, null, 'invalid_json');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('Request body must be a JSON object.', null, 'invalid_json');
  }
  const result = shapes[op].safeParse(body);
  if (!result.success) throw fieldError(result.error, body as JsonObject);
  return body as JsonObject;
}

function fieldError(error: z.ZodError, body: JsonObject): GatewayError {
  const issue = error.issues[0]!;
  const param = formatPath(issue.path);
  let found: unknown = body;
  for (const part of issue.path) found = found && typeof found === 'object' ? (found as Record<PropertyKey, unknown>)[part] : undefined;
  if (found === undefined) return badRequest(`Missing required parameter: '${param}'.`, param, 'missing_required_parameter');
  const expected = issue.message.replace(/^Invalid input: /, '');
  return badRequest(`Invalid value for '${param}': ${expected}.`, param, 'invalid_value');
}
