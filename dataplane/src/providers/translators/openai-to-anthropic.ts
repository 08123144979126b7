// Client speaks OpenAI chat completions; the upstream speaks Anthropic messages.
import { TranslationError } from '../errors.js';
import type { JsonObject, Translator } from '../types.js';
import type {
  AnthropicBlock,
  AnthropicMessage,
  AnthropicRequest,
  AnthropicResponse,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
} from '../wire/anthropic.js';
import type { OpenAIChatResponse, OpenAIToolCall } from '../wire/openai.js';
import { toOpenAIError } from './errors.js';
import { OpenAIFromAnthropicStream } from './openai-to-anthropic-stream.js';
import {
  type Clock,
  DEFAULT_MAX_TOKENS,
  isObject,
  mapFinish,
  openaiUsageFromAnthropic,
  parseClientArguments,
  parseDataUrl,
  requireArray,
  textOf,
} from './shared.js';

function userBlocks(content: unknown, param: string): string | AnthropicBlock[] {
  if (typeof content === 'string') return content;
  return requireArray(content, param).map((part, i): AnthropicBlock => {
    const at = `${param}[${i}]`;
    if (!isObject(part)) throw new TranslationError(`${at} must be an object`, at);
    if (part.type === 'text' && typeof part.text === 'string') return { type: 'text', text: part.text };
    if (part.type === 'image_url' && isObject(part.image_url) && typeof part.image_url.url === 'string') {
      const url = part.image_url.url;
      const inline = parseDataUrl(url);
      return {
        type: 'image',
        source: inline ? { type: 'base64', media_type: inline.mediaType, data: inline.data } : { type: 'url', url },
      };
    }
    if (part.type === 'file' && isObject(part.file) && typeof part.file.file_data === 'string') {
      const inline = parseDataUrl(part.file.file_data);
      if (inline) return { type: 'document', source: { type: 'base64', media_type: inline.mediaType, data: inline.data } };
    }
    throw new TranslationError(`${at}: content part type "${String(part.type)}" is not supported by this model`, at);
  });
}

function assistantBlocks(message: Record<string, unknown>, param: string): AnthropicBlock[] {
  const blocks: AnthropicBlock[] = [];
  const text = textOf(message.content, `${param}.content`);
  if (text) blocks.push({ type: 'text', text });
  if (message.tool_calls !== undefined) {
    requireArray(message.tool_calls, `${param}.tool_calls`).forEach((call, j) => {
      const at = `${param}.tool_calls[${j}]`;
      if (!isObject(call) || !isObject(call.function) || typeof call.id !== 'string' || typeof call.function.name !== 'string') {
        throw new TranslationError(`${at} must have an id and a function name`, at);
      }
      blocks.push({
        type: 'tool_use',
        id: call.id,
        name: call.function.name,
        input: parseClientArguments(call.function.arguments, `${at}.function.arguments`),
      });
    });
  }
  return blocks;
}

/** Anthropic wants alternating turns: adjacent messages of one role become one message. */
function appendMessage(messages: AnthropicMessage[], next: AnthropicMessage): void {
  const last = messages[messages.length - 1];
  if (!last || last.role !== next.role) {
    messages.push(next);
    return;
  }
  const asBlocks = (c: string | AnthropicBlock[]): AnthropicBlock[] => (typeof c === 'string' ? [{ type: 'text', text: c }] : c);
  last.content = [...asBlocks(last.content), ...asBlocks(next.content)];
}

function translateTools(tools: unknown): AnthropicTool[] {
  return requireArray(tools, 'tools').map((tool, i) => {
    const at = `tools[${i}]`;
    if (!isObject(tool) || tool.type !== 'function' || !isObject(tool.function) || typeof tool.function.name !== 'string') {
      throw new TranslationError(`${at}: only function tools are supported by this model`, at);
    }
    const { name, description, parameters } = tool.function;
    const out: AnthropicTool = { name, input_schema: isObject(parameters) ? parameters : { type: 'object', properties: {} } };
    if (typeof description === 'string') out.description = description;
    return out;
  });
}

function translateToolChoice(choice: unknown, parallel: unknown): AnthropicToolChoice | undefined {
  let out: AnthropicToolChoice | undefined;
  if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'none') return { type: 'none' };
  else if (choice === 'required') out = { type: 'any' };
  else if (isObject(choice) && isObject(choice.function) && typeof choice.function.name === 'string') {
    out = { type: 'tool', name: choice.function.name };
  } else if (choice !== undefined) {
    throw new TranslationError('tool_choice must be "auto", "none", "required" or a named function', 'tool_choice');
  }
  if (parallel === false) {
    const base = out ?? { type: 'auto' };
    if (base.type !== 'none') out = { ...base, disable_parallel_tool_use: true };
  }
  return out;
}

export function anthropicRequestFromOpenAI(body: JsonObject): AnthropicRequest {
  const system: AnthropicTextBlock[] = [];
  const messages: AnthropicMessage[] = [];
  requireArray(body.messages, 'messages').forEach((message, i) => {
    const at = `messages[${i}]`;
    if (!isObject(message)) throw new TranslationError(`${at} must be an object`, at);
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push({ type: 'text', text: textOf(message.content, `${at}.content`) });
        break;
      case 'user':
        appendMessage(messages, { role: 'user', content: userBlocks(message.content, `${at}.content`) });
        break;
      case 'assistant': {
        const blocks = assistantBlocks(message, at);
        if (blocks.length > 0) appendMessage(messages, { role: 'assistant', content: blocks });
        break;
      }
      case 'tool':
        if (typeof message.tool_call_id !== 'string') throw new TranslationError(`${at}.tool_call_id is required`, `${at}.tool_call_id`);
        // Consecutive tool results merge into one user message via appendMessage.
        appendMessage(messages, {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: message.tool_call_id, content: textOf(message.content, `${at}.content`) }],
        });
        break;
      default:
        throw new TranslationError(`${at}.role "${String(message.role)}" is not supported`, `${at}.role`);
    }
  });

  if (typeof body.n === 'number' && body.n > 1) throw new TranslationError('n > 1 is not supported by this model', 'n');
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  const out: AnthropicRequest = {
    model: String(body.model),
    messages,
    max_tokens: typeof maxTokens === 'number' ? maxTokens : DEFAULT_MAX_TOKENS,
  };
  if (system.length === 1) out.system = (system[0] as AnthropicTextBlock).text;
  else if (system.length > 1) out.system = system;
  // OpenAI temperatures run 0..2, Anthropic's 0..1: clamp rather than have the upstream reject.
  if (typeof body.temperature === 'number') out.temperature = Math.min(body.temperature, 1);
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (typeof body.stop === 'string') out.stop_sequences = [body.stop];
  else if (Array.isArray(body.stop)) out.stop_sequences = body.stop.filter((s): s is string => typeof s === 'string');
  if (body.stream === true) out.stream = true;
  if (body.tools !== undefined && (!Array.isArray(body.tools) || body.tools.length > 0)) out.tools = translateTools(body.tools);
  const choice = translateToolChoice(body.tool_choice, body.parallel_tool_calls);
  if (choice && out.tools) out.tool_choice = choice;
  if (typeof body.user === 'string') out.metadata = { user_id: body.user };
  return out;
}

export function openaiResponseFromAnthropic(body: JsonObject, clientModel: string, clock: Clock): OpenAIChatResponse {
  const message = body as unknown as Partial<AnthropicResponse>;
  let text = '';
  const toolCalls: OpenAIToolCall[] = [];
  for (const block of Array.isArray(message.content) ? message.content : []) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'tool_use') {
      toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    }
  }
  const out: OpenAIChatResponse = {
    id: typeof message.id === 'string' ? message.id : 'chatcmpl-unknown',
    object: 'chat.completion',
    created: Math.floor(clock() / 1000),
    model: clientModel,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: text || toolCalls.length === 0 ? text : null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: mapFinish(message.stop_reason ?? 'end_turn'),
        logprobs: null,
      },
    ],
  };
  if (message.usage) out.usage = openaiUsageFromAnthropic(message.usage);
  return out;
}

export function openaiToAnthropic(clock: Clock = Date.now): Translator {
  return {
    from: 'openai',
    to: 'anthropic',
    request: (body) => anthropicRequestFromOpenAI(body) as unknown as JsonObject,
    response: (body, clientModel) => openaiResponseFromAnthropic(body, clientModel, clock) as unknown as JsonObject,
    stream: (clientModel, includeUsage) => new OpenAIFromAnthropicStream(clientModel, includeUsage, clock),
    error: (status, body) => toOpenAIError(status, body) as unknown as JsonObject,
  };
}
