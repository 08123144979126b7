// The Anthropic Messages wire: request parsing, the non-streamed message and the exact event
// sequence of a streamed one. Pure functions; the server decides timing.
import { contentChars, messagesChars, planText, planTool, replyTokens, tokensForChars, type Reply } from './content.js';
import { arrayField, isObject, numberField, objectField, stringField, type JsonObject } from './json.js';
import type { RequestError } from './openai.js';
import { assembleFrames } from './pacing.js';

export interface MessagesRequest {
  model: string;
  stream: boolean;
  maxTokens: number;
  promptTokens: number;
  tool: { name: string; schema: JsonObject | undefined } | undefined;
}

function chooseTool(body: JsonObject, messages: readonly unknown[]): MessagesRequest['tool'] {
  const tools = (arrayField(body, 'tools') ?? []).filter((t): t is JsonObject => isObject(t) && typeof t.name === 'string');
  if (tools.length === 0) return undefined;
  const choice = objectField(body, 'tool_choice');
  const choiceType = choice ? stringField(choice, 'type') : 'auto';
  if (choiceType === 'none') return undefined;
  const named = choiceType === 'tool' && choice ? stringField(choice, 'name') : undefined;
  // After a tool result the conversation continues in text, unless a call is forced.
  const last = messages[messages.length - 1];
  const answersTool =
    isObject(last) && Array.isArray(last.content) && last.content.some((b) => isObject(b) && b.type === 'tool_result');
  if (answersTool && choiceType === 'auto') return undefined;
  const tool = tools.find((t) => named === undefined || t.name === named);
  if (tool === undefined) return undefined;
  return { name: stringField(tool, 'name') ?? 'tool', schema: objectField(tool, 'input_schema') };
}

export function parseMessages(body: JsonObject): MessagesRequest | RequestError {
  const model = stringField(body, 'model');
  if (model === undefined || model === '') return { error: 'model: Field required', param: 'model' };
  const maxTokens = numberField(body, 'max_tokens');
  if (maxTokens === undefined) return { error: 'max_tokens: Field required', param: 'max_tokens' };
  if (!Number.isInteger(maxTokens) || maxTokens < 1) return { error: 'max_tokens: Input should be greater than or equal to 1', param: 'max_tokens' };
  const messages = arrayField(body, 'messages');
  if (messages === undefined) return { error: 'messages: Field required', param: 'messages' };
  if (messages.length === 0) return { error: 'messages: at least one message is required', param: 'messages' };
  const chars = messagesChars(messages) + contentChars(body.system);
  return { model, stream: body.stream === true, maxTokens, promptTokens: tokensForChars(chars), tool: chooseTool(body, messages) };
}

export function messagesReply(request: MessagesRequest, responseTokens: number, toolId: string): Reply {
  return request.tool ? planTool(toolId, request.tool.name, request.tool.schema) : planText(responseTokens, request.maxTokens);
}

export function stopReason(reply: Reply): 'end_turn' | 'max_tokens' | 'tool_use' {
  if (reply.kind === 'tool') return 'tool_use';
  return reply.truncated ? 'max_tokens' : 'end_turn';
}

function usage(inputTokens: number, outputTokens: number): JsonObject {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

function contentBlock(reply: Reply, complete: boolean): JsonObject {
  if (reply.kind === 'tool') return { type: 'tool_use', id: reply.id, name: reply.name, input: complete ? reply.input : {} };
  return { type: 'text', text: complete ? reply.text : '' };
}

export function message(id: string, model: string, inputTokens: number, reply: Reply): JsonObject {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [contentBlock(reply, true)],
    stop_reason: stopReason(reply),
    stop_sequence: null,
    usage: usage(inputTokens, replyTokens(reply)),
  };
}

function event(name: string, data: string): string {
  return `event: ${name}\ndata: ${data}\n\n`;
}

/** The SSE frames of a streamed message, one per token, in Anthropic's exact event order. */
export function messageStreamFrames(id: string, model: string, inputTokens: number, reply: Reply): string[] {
  const start = {
    type: 'message_start',
    message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: usage(inputTokens, 1) },
  };
  const preamble =
    event('message_start', JSON.stringify(start)) +
    event('content_block_start', JSON.stringify({ type: 'content_block_start', index: 0, content_block: contentBlock(reply, false) })) +
    event('ping', '{"type": "ping"}');
  const bodies =
    reply.kind === 'tool'
      ? reply.pieces.map((p) =>
          event('content_block_delta', `{"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(p)}}}`),
        )
      : reply.jsonTokens.map((t) => event('content_block_delta', `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":${t}}}`));
  const delta = { type: 'message_delta', delta: { stop_reason: stopReason(reply), stop_sequence: null }, usage: { output_tokens: replyTokens(reply) } };
  const epilogue =
    event('content_block_stop', '{"type":"content_block_stop","index":0}') +
    event('message_delta', JSON.stringify(delta)) +
    event('message_stop', '{"type":"message_stop"}');
  return assembleFrames(preamble, bodies, epilogue);
}

export function anthropicModelList(models: readonly string[], createdAt: string): JsonObject {
  return {
    data: models.map((id) => ({ type: 'model', id, display_name: id, created_at: createdAt })),
    has_more: false,
    first_id: models[0] ?? null,
    last_id: models[models.length - 1] ?? null,
  };
}
