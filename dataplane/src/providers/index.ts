// Entry point for the pipeline: which provider serves a kind, which translator joins two wires.
import type { ProviderKind } from '@switchboard/crds/runtime';
import { anthropic } from './anthropic/index.js';
import { azure } from './azure/index.js';
import { openai, openaiCompatible } from './openai/index.js';
import { anthropicToOpenAI } from './translators/anthropic-to-openai.js';
import { openaiToAnthropic } from './translators/openai-to-anthropic.js';
import type { Clock } from './translators/shared.js';
import { type JsonObject, type Operation, type ProviderSpec, type Translator, type Wire, operationWire } from './types.js';

export { TranslationError, UnsupportedOperationError } from './errors.js';
export { usageFromText, usageTap, type UsageTap } from './usage.js';
export { DEFAULT_MAX_TOKENS, type Clock } from './translators/shared.js';
export { toAnthropicError, toOpenAIError } from './translators/errors.js';

const providers: Record<ProviderKind, ProviderSpec> = {
  openai,
  'openai-compatible': openaiCompatible,
  azure,
  anthropic,
};

export function providerFor(kind: ProviderKind): ProviderSpec {
  return providers[kind];
}

const defaultTranslators = { openaiToAnthropic: openaiToAnthropic(), anthropicToOpenAI: anthropicToOpenAI() };

/**
 * The translator from client wire `from` to upstream wire `to`; undefined when they match
 * (relay unchanged). `clock` sets `created` in OpenAI answers (tests pass a fixed one).
 */
export function translatorFor(from: Wire, to: Wire, clock?: Clock): Translator | undefined {
  if (from === to) return undefined;
  if (from === 'openai') return clock ? openaiToAnthropic(clock) : defaultTranslators.openaiToAnthropic;
  return clock ? anthropicToOpenAI() : defaultTranslators.anthropicToOpenAI;
}

/**
 * The operation to ask of `provider` for a client operation: the same one when wires match,
 * the provider's chat-style operation when translating, undefined when the provider cannot
 * serve it at all (e.g. embeddings on Anthropic).
 */
export function upstreamOperation(op: Operation, provider: ProviderSpec): Operation | undefined {
  if (operationWire[op] === provider.wire) return provider.operations.has(op) ? op : undefined;
  if (op === 'chat' && provider.operations.has('messages')) return 'messages';
  if (op === 'messages' && provider.operations.has('chat')) return 'chat';
  return undefined;
}

/** Whether an OpenAI client asked for the final usage chunk of a stream. */
export function wantsStreamUsage(body: JsonObject): boolean {
  const options = body.stream_options;
  return typeof options === 'object' && options !== null && (options as JsonObject).include_usage === true;
}
