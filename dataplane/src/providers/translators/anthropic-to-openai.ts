// Client speaks Anthropic messages; the upstream speaks OpenAI chat completions.
import { TranslationError } from '../errors.js';
import type { JsonObject, Translator } from '../types.js';
import type { AnthropicBlock, AnthropicResponse } from '../wire/anthropic.js';
import type {
  OpenAIChatRequest,
  OpenAIChatResponse,
  OpenAIContentPart,
  OpenAIMessage,
  OpenAITool,
  OpenAIToolCall,
  OpenAIToolChoice,
} from '../wire/openai.js';
import { AnthropicFromOpenAIStream } from './anthropic-to-openai-stream.js';
import { toAnthropicError } from './errors.js';
import { anthropicUsageFromOpenAI, isObject, mapStop, parseModelArguments, requireArray, textOf } from './shared.js';

function imagePart(block: Record<string, unknown>, at: string): OpenAIContentPart {
  const source = block.source;
  if (isObject(source) && source.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') {
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (isObject(source) && source.type === 'url' && typeof source.url === 'string') {
    return { type: 'image_url', image_url: { url: source.url } };
  }
  throw new TranslationError(`${at}.source must be a base64 or url image source`, `${at}.source`);
}

function documentPart(block: Record<string, unknown>, at: string): OpenAIContentPart {
  const source = block.source;
  if (isObject(source) && source.type === 'base64' && typeof source.media_type === 'string' && typeof source.data === 'string') {
    const file: { file_data: string; filename?: string } = { file_data: `data:${source.media_type};base64,${source.data}` };
    if (typeof block.title === 'string') file.filename = block.title;
    return { type: 'file', file };
  }
  throw new TranslationError(`${at}: only base64 documents are supported by this model`, `${at}.source`);
}

/** A user turn: tool results become `tool` messages (first, as OpenAI expects), the rest one user message. */
function userMessages(content: unknown, at: string): OpenAIMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const tools: OpenAIMessage[] = [];
  const parts: OpenAIContentPart[] = [];
  requireArray(content, `${at}.content`).forEach((block, j) => {
    const bat = `${at}.content[${j}]`;
    if (!isObject(block)) throw new TranslationError(`${bat} must be an object`, bat);
    if (block.type === 'text' && typeof block.text === 'string') parts.push({ type: 'text', text: block.text });
    else if (block.type === 'image') parts.push(imagePart(block, bat));
    else if (block.type === 'document') parts.push(documentPart(block, bat));
    else if (block.type === 'tool_result' && typeof block.tool_use_id === 'string') {
      tools.push({ role: 'tool', tool_call_id: block.tool_use_id, content: textOf(block.content, `${bat}.content`) });
    } else throw new TranslationError(`${bat}: block type "${String(block.type)}" is not supported by this model`, bat);
  });
  if (parts.length === 0) return tools;
  // A lone text block is sent as a plain string, which every OpenAI-compatible server accepts.
  const only = parts[0];
  const userContent = parts.length === 1 && only?.type === 'text' && 'text' in only ? only.text : parts;
  return [...tools, { role: 'user', content: userContent }];
}

function assistantMessage(content: unknown, at: string): OpenAIMessage {
  if (typeof content === 'string') return { role: 'assistant', content };
  let text = '';
  const toolCalls: OpenAIToolCall[] = [];
  requireArray(content, `${at}.content`).forEach((block, j) => {
    const bat = `${at}.content[${j}]`;
    if (!isObject(block)) throw new TranslationError(`${bat} must be an object`, bat);
    if (block.type === 'text' && typeof block.text === 'string') text += block.text;
    else if (block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    } else if (block.type !== 'thinking' && block.type !== 'redacted_thinking') {
      throw new TranslationError(`${bat}: block type "${String(block.type)}" is not supported by this model`, bat);
    }
  });
  if (toolCalls.length === 0) return { role: 'assistant', content: text };
  return { role: 'assistant', content: text || null, tool_calls: toolCalls };
}

function translateTools(tools: unknown): OpenAITool[] {
  return requireArray(tools, 'tools').map((tool, i) => {
    const at = `tools[${i}]`;
    if (!isObject(tool) || typeof tool.name !== 'string' || (tool.type !== undefined && tool.type !== 'custom')) {
      throw new TranslationError(`${at}: only client tools with an input_schema are supported by this model`, at);
    }
    const fn: OpenAITool['function'] = { name: tool.name };
    if (typeof tool.description === 'string') fn.description = tool.description;
    fn.parameters = isObject(tool.input_schema) ? tool.input_schema : { type: 'object', properties: {} };
    return { type: 'function', function: fn };
  });
}

function translateToolChoice(choice: unknown): { choice?: OpenAIToolChoice; parallel?: boolean } {
  if (choice === undefined) return {};
  if (!isObject(choice)) throw new TranslationError('tool_choice must be an object', 'tool_choice');
  const parallel = choice.disable_parallel_tool_use === true ? { parallel: false } : {};
  switch (choice.type) {
    case 'auto':
      return { choice: 'auto', ...parallel };
    case 'any':
      return { choice: 'required', ...parallel };
    case 'none':
      return { choice: 'none' };
    case 'tool':
      if (typeof choice.name !== 'string') break;
      return { choice: { type: 'function', function: { name: choice.name } }, ...parallel };
  }
  throw new TranslationError('tool_choice.type must be auto, any, none or tool (with a name)', 'tool_choice');
}

export function openaiRequestFromAnthropic(body: JsonObject): OpenAIChatRequest {
  const messages: OpenAIMessage[] = [];
  if (body.system !== undefined) {
    const system = textOf(body.system, 'system');
    if (system) messages.push({ role: 'system', content: system });
  }
  requireArray(body.messages, 'messages').forEach((message, i) => {
    const at = `messages[${i}]`;
    if (!isObject(message)) throw new TranslationError(`${at} must be an object`, at);
    if (message.role === 'user') messages.push(...userMessages(message.content, at));
    else if (message.role === 'assistant') messages.push(assistantMessage(message.content, at));
    else throw new TranslationError(`${at}.role must be user or assistant`, `${at}.role`);
  });

  const out: OpenAIChatRequest = { model: String(body.model), messages };
  // max_completion_tokens is what current OpenAI models accept (max_tokens is refused by o-series).
  if (typeof body.max_tokens === 'number') out.max_completion_tokens = body.max_tokens;
  if (typeof body.temperature === 'number') out.temperature = body.temperature;
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (Array.isArray(body.stop_sequences) && body.stop_sequences.length > 0) {
    out.stop = body.stop_sequences.filter((s): s is string => typeof s === 'string');
  }
  if (body.stream === true) {
    out.stream = true;
    // Output tokens are only known from the final usage chunk.
    out.stream_options = { include_usage: true };
  }
  if (Array.isArray(body.tools) && body.tools.length > 0) {
    out.tools = translateTools(body.tools);
    const { choice, parallel } = translateToolChoice(body.tool_choice);
    if (choice !== undefined) out.tool_choice = choice;
    if (parallel !== undefined) out.parallel_tool_calls = parallel;
  }
  if (isObject(body.metadata) && typeof body.metadata.user_id === 'string') out.user = body.metadata.user_id;
  return out;
}

export function anthropicResponseFromOpenAI(body: JsonObject, clientModel: string): AnthropicResponse {
  const response = body as unknown as Partial<OpenAIChatResponse>;
  const choice = Array.isArray(response.choices) ? response.choices[0] : undefined;
  const message = choice?.message;
  const content: AnthropicBlock[] = [];
  if (message?.content) content.push({ type: 'text', text: message.content });
  else if (message?.refusal) content.push({ type: 'text', text: message.refusal });
  for (const call of message?.tool_calls ?? []) {
    content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseModelArguments(call.function.arguments) });
  }
  return {
    id: typeof response.id === 'string' ? response.id : 'msg_unknown',
    type: 'message',
    role: 'assistant',
    model: clientModel,
    content,
    stop_reason: mapStop(choice?.finish_reason ?? 'stop'),
    stop_sequence: null,
    usage: anthropicUsageFromOpenAI(response.usage ?? {}),
  };
}

export function anthropicToOpenAI(): Translator {
  return {
    from: 'anthropic',
    to: 'openai',
    request: (body) => openaiRequestFromAnthropic(body) as unknown as JsonObject,
    response: (body, clientModel) => anthropicResponseFromOpenAI(body, clientModel) as unknown as JsonObject,
    stream: (clientModel) => new AnthropicFromOpenAIStream(clientModel),
    error: (status, body) => toAnthropicError(status, body) as unknown as JsonObject,
  };
}
