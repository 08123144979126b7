// The OpenAI wire (also served on Azure OpenAI paths): request parsing and response bodies for
// chat completions, legacy completions, embeddings and the model list. Pure functions: the
// server decides timing and writes the frames these return.
import {
  contentChars,
  embeddingVector,
  messagesChars,
  planText,
  planTool,
  replyTokens,
  tokensForChars,
  vectorBase64,
  type Reply,
  type TextReply,
} from './content.js';
import { arrayField, isObject, numberField, objectField, stringField, type JsonObject } from './json.js';
import { assembleFrames } from './pacing.js';

/** A request the mock refuses with 400, naming the field. */
export interface RequestError {
  error: string;
  param: string;
}

export interface ChatRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
  promptTokens: number;
  /** The tool to call, when the reply is a tool call. */
  tool: { name: string; parameters: JsonObject | undefined } | undefined;
}

export interface CompletionRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | undefined;
  promptTokens: number;
}

export interface EmbeddingRequest {
  model: string;
  inputs: readonly string[];
  promptTokens: number;
  dimensions: number;
  base64: boolean;
}

/** Identity of one response: the same for every chunk of a stream. */
export interface ResponseContext {
  id: string;
  created: number;
  model: string;
  /** Azure adds content-filter results to every response. */
  azure: boolean;
}

function common(body: JsonObject, modelOverride: string | undefined): RequestError | { model: string; stream: boolean; includeUsage: boolean; maxTokens: number | undefined } {
  const model = modelOverride ?? stringField(body, 'model');
  if (model === undefined || model === '') return { error: 'you must provide a model parameter', param: 'model' };
  if ('stream' in body && body.stream !== null && typeof body.stream !== 'boolean') {
    return { error: `Invalid type for 'stream': expected a boolean, but got ${typeof body.stream} instead.`, param: 'stream' };
  }
  const stream = body.stream === true;
  const includeUsage = stream && objectField(body, 'stream_options')?.include_usage === true;
  const maxTokens = numberField(body, 'max_completion_tokens') ?? numberField(body, 'max_tokens');
  if (maxTokens !== undefined && (maxTokens < 1 || !Number.isInteger(maxTokens))) {
    return { error: `Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got ${maxTokens} instead.`, param: 'max_tokens' };
  }
  return { model, stream, includeUsage, maxTokens };
}

/** Picks the tool to call from `tools` and `tool_choice`, or none (text reply). */
function chooseTool(body: JsonObject, messages: readonly unknown[]): ChatRequest['tool'] {
  const tools = (arrayField(body, 'tools') ?? []).filter(
    (t): t is JsonObject => isObject(t) && t.type === 'function' && isObject(t.function),
  );
  if (tools.length === 0) return undefined;
  const choice = body.tool_choice;
  if (choice === 'none') return undefined;
  const named = isObject(choice) ? stringField(objectField(choice, 'function') ?? {}, 'name') : undefined;
  // After a tool result the conversation continues in text, unless a call is forced.
  const last = messages[messages.length - 1];
  if (named === undefined && choice !== 'required' && isObject(last) && last.role === 'tool') return undefined;
  const fn = tools.map((t) => objectField(t, 'function') ?? {}).find((f) => named === undefined || f.name === named);
  if (fn === undefined) return undefined;
  return { name: stringField(fn, 'name') ?? 'tool', parameters: objectField(fn, 'parameters') };
}

export function parseChat(body: JsonObject, modelOverride?: string): ChatRequest | RequestError {
  const base = common(body, modelOverride);
  if ('error' in base) return base;
  const messages = arrayField(body, 'messages');
  if (messages === undefined || messages.length === 0) {
    return { error: messages ? "Invalid 'messages': empty array. Expected an array with minimum length 1." : "Missing required parameter: 'messages'.", param: 'messages' };
  }
  return { ...base, promptTokens: tokensForChars(messagesChars(messages)), tool: chooseTool(body, messages) };
}

export function parseCompletion(body: JsonObject, modelOverride?: string): CompletionRequest | RequestError {
  const base = common(body, modelOverride);
  if ('error' in base) return base;
  if (!('prompt' in body)) return { error: "Missing required parameter: 'prompt'.", param: 'prompt' };
  return { ...base, promptTokens: tokensForChars(contentChars(body.prompt)) };
}

export function parseEmbedding(body: JsonObject, modelOverride?: string): EmbeddingRequest | RequestError {
  const model = modelOverride ?? stringField(body, 'model');
  if (model === undefined || model === '') return { error: 'you must provide a model parameter', param: 'model' };
  const input = body.input;
  const inputs: string[] = [];
  let promptTokens = 0;
  if (typeof input === 'string') {
    inputs.push(input);
    promptTokens = tokensForChars(input.length);
  } else if (Array.isArray(input) && input.length > 0 && input.every((x) => typeof x === 'number')) {
    inputs.push(JSON.stringify(input));
    promptTokens = input.length;
  } else if (Array.isArray(input) && input.length > 0) {
    for (const item of input) {
      if (typeof item === 'string') {
        inputs.push(item);
        promptTokens += tokensForChars(item.length);
      } else if (Array.isArray(item) && item.every((x) => typeof x === 'number')) {
        inputs.push(JSON.stringify(item));
        promptTokens += item.length;
      } else {
        return { error: "Invalid 'input': expected a string, an array of strings or an array of token arrays.", param: 'input' };
      }
    }
  } else {
    return { error: "'input' is a required property and must be a non-empty string or array.", param: 'input' };
  }
  const dimensions = numberField(body, 'dimensions') ?? 16;
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 4096) {
    return { error: `Invalid 'dimensions': expected an integer between 1 and 4096, got ${String(body.dimensions)}.`, param: 'dimensions' };
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    return { error: `Invalid 'encoding_format': expected 'float' or 'base64', got '${String(format)}'.`, param: 'encoding_format' };
  }
  return { model, inputs, promptTokens, dimensions, base64: format === 'base64' };
}

/** The reply a chat request gets: a tool call, or text of `responseTokens` capped by max tokens. */
export function chatReply(request: ChatRequest, responseTokens: number, callId: string): Reply {
  return request.tool
    ? planTool(callId, request.tool.name, request.tool.parameters)
    : planText(responseTokens, request.maxTokens);
}

export function finishReason(reply: Reply): 'stop' | 'length' | 'tool_calls' {
  if (reply.kind === 'tool') return 'tool_calls';
  return reply.truncated ? 'length' : 'stop';
}

export function chatUsage(promptTokens: number, completionTokens: number): JsonObject {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

const NO_FILTER = { filtered: false, severity: 'safe' };
const CONTENT_FILTER = { hate: NO_FILTER, self_harm: NO_FILTER, sexual: NO_FILTER, violence: NO_FILTER };
const PROMPT_FILTER = [{ prompt_index: 0, content_filter_results: CONTENT_FILTER }];

export function chatCompletion(ctx: ResponseContext, promptTokens: number, reply: Reply): JsonObject {
  const message: JsonObject =
    reply.kind === 'tool'
      ? {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: reply.id, type: 'function', function: { name: reply.name, arguments: reply.arguments } }],
          refusal: null,
          annotations: [],
        }
      : { role: 'assistant', content: reply.text, refusal: null, annotations: [] };
  const choice: JsonObject = { index: 0, message, logprobs: null, finish_reason: finishReason(reply) };
  if (ctx.azure) choice.content_filter_results = CONTENT_FILTER;
  const body: JsonObject = {
    id: ctx.id,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [choice],
    usage: chatUsage(promptTokens, replyTokens(reply)),
    service_tier: 'default',
    system_fingerprint: null,
  };
  if (ctx.azure) body.prompt_filter_results = PROMPT_FILTER;
  return body;
}

const DONE = 'data: [DONE]\n\n';

/** The SSE frames of a streamed chat completion, one per token. */
export function chatStreamFrames(ctx: ResponseContext, promptTokens: number, reply: Reply, includeUsage: boolean): string[] {
  const head = `data: {"id":${JSON.stringify(ctx.id)},"object":"chat.completion.chunk","created":${ctx.created},"model":${JSON.stringify(ctx.model)},"system_fingerprint":null,"choices":[`;
  const tail = includeUsage ? '],"usage":null}\n\n' : ']}\n\n';
  const chunk = (choice: string): string => head + choice + tail;
  let preamble = ctx.azure
    ? `data: ${JSON.stringify({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: PROMPT_FILTER })}\n\n`
    : '';
  let bodies: string[];
  if (reply.kind === 'tool') {
    const call = { index: 0, id: reply.id, type: 'function', function: { name: reply.name, arguments: '' } };
    preamble += chunk(`{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[${JSON.stringify(call)}],"refusal":null},"logprobs":null,"finish_reason":null}`);
    bodies = reply.pieces.map((p) =>
      chunk(`{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":${JSON.stringify(p)}}}]},"logprobs":null,"finish_reason":null}`),
    );
  } else {
    preamble += chunk('{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}');
    bodies = reply.jsonTokens.map((t) => chunk(`{"index":0,"delta":{"content":${t}},"logprobs":null,"finish_reason":null}`));
  }
  let epilogue = chunk(`{"index":0,"delta":{},"logprobs":null,"finish_reason":"${finishReason(reply)}"}`);
  if (includeUsage) {
    const usage = JSON.stringify(chatUsage(promptTokens, replyTokens(reply)));
    epilogue += `${head}],"usage":${usage}}\n\n`;
  }
  return assembleFrames(preamble, bodies, epilogue + DONE);
}

export function textCompletion(ctx: ResponseContext, promptTokens: number, reply: Reply): JsonObject {
  const text = reply.kind === 'text' ? reply.text : reply.arguments;
  const choice: JsonObject = { text, index: 0, logprobs: null, finish_reason: finishReason(reply) };
  if (ctx.azure) choice.content_filter_results = CONTENT_FILTER;
  const completion = replyTokens(reply);
  const body: JsonObject = {
    id: ctx.id,
    object: 'text_completion',
    created: ctx.created,
    model: ctx.model,
    choices: [choice],
    usage: { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion },
    system_fingerprint: null,
  };
  if (ctx.azure) body.prompt_filter_results = PROMPT_FILTER;
  return body;
}

/** The SSE frames of a streamed legacy completion, one per token. */
export function completionStreamFrames(ctx: ResponseContext, promptTokens: number, reply: TextReply, includeUsage: boolean): string[] {
  const head = `data: {"id":${JSON.stringify(ctx.id)},"object":"text_completion","created":${ctx.created},"model":${JSON.stringify(ctx.model)},"system_fingerprint":null,"choices":[`;
  const tail = includeUsage ? '],"usage":null}\n\n' : ']}\n\n';
  const bodies = reply.jsonTokens.map((t) => `${head}{"text":${t},"index":0,"logprobs":null,"finish_reason":null}${tail}`);
  let epilogue = `${head}{"text":"","index":0,"logprobs":null,"finish_reason":"${finishReason(reply)}"}${tail}`;
  if (includeUsage) {
    const completion = replyTokens(reply);
    epilogue += `${head}],"usage":${JSON.stringify({ prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion })}}\n\n`;
  }
  return assembleFrames('', bodies, epilogue + DONE);
}

export function embeddingList(request: EmbeddingRequest): JsonObject {
  const data = request.inputs.map((input, index) => {
    const vector = embeddingVector(input, request.dimensions);
    return { object: 'embedding', index, embedding: request.base64 ? vectorBase64(vector) : Array.from(vector) };
  });
  return {
    object: 'list',
    data,
    model: request.model,
    usage: { prompt_tokens: request.promptTokens, total_tokens: request.promptTokens },
  };
}

export function modelList(models: readonly string[], created: number): JsonObject {
  return { object: 'list', data: models.map((id) => ({ id, object: 'model', created, owned_by: 'switchboard-mock' })) };
}
