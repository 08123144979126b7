// Token usage read from upstream answers relayed unchanged (client and upstream wires match).
import { anthropicInputTokens, isObject } from './translators/shared.js';
import type { JsonObject, SseEvent, Usage, Wire } from './types.js';

function openaiUsage(usage: unknown): Usage | undefined {
  if (!isObject(usage) || typeof usage.prompt_tokens !== 'number') return undefined;
  // Embeddings report prompt and total tokens only.
  return { inputTokens: usage.prompt_tokens, outputTokens: typeof usage.completion_tokens === 'number' ? usage.completion_tokens : 0 };
}

function anthropicUsage(usage: unknown): Usage | undefined {
  if (!isObject(usage) || typeof usage.input_tokens !== 'number') return undefined;
  return {
    inputTokens: anthropicInputTokens(usage as { input_tokens: number }),
    outputTokens: typeof usage.output_tokens === 'number' ? usage.output_tokens : 0,
  };
}

/**
 * Usage of a non-streamed response given as text, without parsing the whole body: only the
 * `"usage"` object is parsed (answers can be long; the usage object is small).
 */
export function usageFromText(wire: Wire, text: string): Usage | undefined {
  const key = text.lastIndexOf('"usage"');
  if (key === -1) return undefined;
  const open = text.indexOf('{', key);
  if (open === -1) return undefined;
  // Usage objects hold numbers and nested objects only, so counting braces finds the end.
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123 /* { */) depth++;
    else if (c === 125 /* } */ && --depth === 0) {
      const usage = parse(text.slice(open, i + 1));
      return usage && (wire === 'openai' ? openaiUsage(usage) : anthropicUsage(usage));
    }
  }
  return undefined;
}

/** Observes a relayed stream's events without changing them. */
export interface UsageTap {
  push(event: SseEvent): void;
  /** Usage seen so far (final once the stream ended). */
  usage(): Usage | undefined;
}

function parse(data: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(data);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

class OpenAIUsageTap implements UsageTap {
  private seen: Usage | undefined;
  push(event: SseEvent): void {
    // Cheap substring test first: only the final chunk carries token counts.
    if (!event.data.includes('"prompt_tokens"')) return;
    const chunk = parse(event.data);
    const usage = chunk && openaiUsage(chunk.usage);
    if (usage) this.seen = usage;
  }
  usage(): Usage | undefined {
    return this.seen;
  }
}

class AnthropicUsageTap implements UsageTap {
  private input: number | undefined;
  private output: number | undefined;
  push(event: SseEvent): void {
    // Only two events carry usage; the rest (most of the stream) are not parsed.
    const type = event.event ?? '';
    if (type !== 'message_start' && type !== 'message_delta' && !(type === '' && event.data.includes('"usage"'))) return;
    const parsed = parse(event.data);
    if (!parsed) return;
    const usage = parsed.type === 'message_start' && isObject(parsed.message) ? parsed.message.usage : parsed.type === 'message_delta' ? parsed.usage : undefined;
    if (!isObject(usage)) return;
    if (typeof usage.input_tokens === 'number') this.input = anthropicInputTokens(usage as { input_tokens: number });
    if (typeof usage.output_tokens === 'number') this.output = usage.output_tokens;
  }
  usage(): Usage | undefined {
    if (this.input === undefined && this.output === undefined) return undefined;
    return { inputTokens: this.input ?? 0, outputTokens: this.output ?? 0 };
  }
}

export function usageTap(wire: Wire): UsageTap {
  return wire === 'openai' ? new OpenAIUsageTap() : new AnthropicUsageTap();
}
