// Mappings and small helpers shared by the translator pairs.
import { TranslationError } from '../errors.js';
import type { AnthropicStopReason, AnthropicUsage } from '../wire/anthropic.js';
import type { OpenAIFinishReason, OpenAIUsage } from '../wire/openai.js';

/** Anthropic requires max_tokens; used when an OpenAI client leaves it out. */
export const DEFAULT_MAX_TOKENS = 4096;

/** A clock returning milliseconds since the epoch (Date.now in production). */
export type Clock = () => number;

export const finishFromStop: Record<AnthropicStopReason, OpenAIFinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  pause_turn: 'stop',
  refusal: 'content_filter',
};

export const stopFromFinish: Record<OpenAIFinishReason, AnthropicStopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  function_call: 'tool_use',
  content_filter: 'refusal',
};

export function mapFinish(reason: string | null | undefined): OpenAIFinishReason | null {
  if (reason == null) return null;
  return finishFromStop[reason as AnthropicStopReason] ?? 'stop';
}

export function mapStop(reason: string | null | undefined): AnthropicStopReason | null {
  if (reason == null) return null;
  return stopFromFinish[reason as OpenAIFinishReason] ?? 'end_turn';
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Total prompt tokens of an Anthropic usage (cache reads and writes are part of the prompt). */
export function anthropicInputTokens(usage: Partial<AnthropicUsage>): number {
  return (usage.input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
}

export function openaiUsageFromAnthropic(usage: Partial<AnthropicUsage>): OpenAIUsage {
  const prompt = anthropicInputTokens(usage);
  const completion = usage.output_tokens ?? 0;
  const result: OpenAIUsage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  if (usage.cache_read_input_tokens) result.prompt_tokens_details = { cached_tokens: usage.cache_read_input_tokens };
  return result;
}

export function anthropicUsageFromOpenAI(usage: Partial<OpenAIUsage>): AnthropicUsage {
  const cached = usage.prompt_tokens_details?.cached_tokens ?? 0;
  const result: AnthropicUsage = { input_tokens: (usage.prompt_tokens ?? 0) - cached, output_tokens: usage.completion_tokens ?? 0 };
  if (cached) result.cache_read_input_tokens = cached;
  return result;
}

const DATA_URL = /^data:([^;,]+)(?:;[^,]*)?;base64,/;

/** Splits a base64 data URL into media type and payload; undefined for other URLs. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | undefined {
  const match = DATA_URL.exec(url);
  if (!match) return undefined;
  return { mediaType: match[1] as string, data: url.slice(match[0].length) };
}

/** Tool-call arguments from a client: must be a JSON object (empty means no arguments). */
export function parseClientArguments(args: unknown, param: string): Record<string, unknown> {
  if (args === undefined || args === null || args === '') return {};
  if (isObject(args)) return args;
  if (typeof args === 'string') {
    try {
      const parsed: unknown = JSON.parse(args);
      if (isObject(parsed)) return parsed;
    } catch {
      // fall through to the error below
    }
  }
  throw new TranslationError(`${param} must be a JSON object encoded as a string`, param);
}

/** Tool-call arguments from an upstream model: never fails, as the answer must still reach the client. */
export function parseModelArguments(args: string | undefined): Record<string, unknown> {
  if (!args) return {};
  try {
    const parsed: unknown = JSON.parse(args);
    return isObject(parsed) ? parsed : { value: parsed };
  } catch {
    return { raw: args };
  }
}

/** Text of a string-or-text-parts content. */
export function textOf(content: unknown, param: string): string {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part: unknown, i) => {
        if (isObject(part) && part.type === 'text' && typeof part.text === 'string') return part.text;
        throw new TranslationError(`${param}[${i}]: only text parts are supported here`, `${param}[${i}]`);
      })
      .join('');
  }
  throw new TranslationError(`${param} must be a string or an array of text parts`, param);
}

export function requireArray(value: unknown, param: string): unknown[] {
  if (!Array.isArray(value)) throw new TranslationError(`${param} must be an array`, param);
  return value;
}
