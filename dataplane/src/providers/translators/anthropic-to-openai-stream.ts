// OpenAI chat.completion.chunk events -> Anthropic message events, for one streamed response.
// OpenAI reports usage after the finish reason, so message_delta waits for the usage chunk
// (or [DONE]) to carry the real output token count.
import { formatNamedJson } from '../../sse/format.js';
import type { SseEvent, StreamTranslator, Usage } from '../types.js';
import type { AnthropicStopReason, AnthropicStreamEvent, AnthropicUsage } from '../wire/anthropic.js';
import type { OpenAIChunk } from '../wire/openai.js';
import { toAnthropicError } from './errors.js';
import { anthropicUsageFromOpenAI, mapStop } from './shared.js';

function emit(event: AnthropicStreamEvent): string {
  return formatNamedJson(event.type, event);
}

export class AnthropicFromOpenAIStream implements StreamTranslator {
  private started = false;
  private done = false;
  /** Anthropic index of the open content block, and whether it is text. */
  private open: { index: number; text: boolean } | undefined;
  private nextIndex = 0;
  /** OpenAI tool_calls index -> Anthropic content-block index. */
  private readonly toolBlocks = new Map<number, number>();
  private stopReason: AnthropicStopReason | undefined;
  private usageSeen: AnthropicUsage | undefined;

  constructor(private readonly model: string) {}

  push(event: SseEvent): string {
    if (this.done) return '';
    if (event.data === '[DONE]') return this.finish();
    let chunk: Partial<OpenAIChunk>;
    try {
      chunk = JSON.parse(event.data) as Partial<OpenAIChunk>;
    } catch {
      return '';
    }
    if (chunk.error) {
      this.done = true;
      return emit(toAnthropicError(500, { error: chunk.error }));
    }
    let out = this.start(chunk);
    if (chunk.usage) this.usageSeen = anthropicUsageFromOpenAI(chunk.usage);
    const choice = chunk.choices?.[0];
    if (choice) {
      const { content, tool_calls: toolCalls } = choice.delta ?? {};
      if (content) {
        if (!this.open?.text) out += this.openBlock(true, { type: 'text', text: '' });
        out += emit({ type: 'content_block_delta', index: (this.open as { index: number }).index, delta: { type: 'text_delta', text: content } });
      }
      for (const call of toolCalls ?? []) out += this.toolDelta(call);
      if (choice.finish_reason) {
        out += this.closeBlock();
        this.stopReason = mapStop(choice.finish_reason) ?? 'end_turn';
      }
    }
    // The usage chunk follows the finish reason: the message can now be closed with real counts.
    if (chunk.usage && this.stopReason) out += this.finish();
    return out;
  }

  end(): string {
    if (this.done) return '';
    if (this.stopReason) return this.finish();
    this.done = true;
    // The upstream closed without a finish reason: tell the client rather than fake a clean end.
    return this.start({}) + emit(toAnthropicError(502, { error: { message: 'upstream stream ended before a finish reason' } }));
  }

  usage(): Usage | undefined {
    return this.usageSeen && { inputTokens: (this.usageSeen.input_tokens ?? 0) + (this.usageSeen.cache_read_input_tokens ?? 0), outputTokens: this.usageSeen.output_tokens };
  }

  private start(chunk: Partial<OpenAIChunk>): string {
    if (this.started) return '';
    this.started = true;
    return emit({
      type: 'message_start',
      message: {
        id: typeof chunk.id === 'string' ? chunk.id : 'msg_unknown',
        type: 'message',
        role: 'assistant',
        model: this.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        // Input tokens are unknown until the final usage chunk; message_delta carries them.
        usage: { input_tokens: 0, output_tokens: 0 },
      },
    });
  }

  private toolDelta(call: NonNullable<OpenAIChunk['choices'][number]['delta']['tool_calls']>[number]): string {
    let out = '';
    let index = this.toolBlocks.get(call.index);
    if (index === undefined) {
      out += this.openBlock(false, { type: 'tool_use', id: call.id ?? `toolu_${call.index}`, name: call.function?.name ?? '', input: {} });
      index = (this.open as { index: number }).index;
      this.toolBlocks.set(call.index, index);
    }
    const args = call.function?.arguments;
    if (args) out += emit({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: args } });
    return out;
  }

  private openBlock(text: boolean, block: Extract<AnthropicStreamEvent, { type: 'content_block_start' }>['content_block']): string {
    const out = this.closeBlock();
    this.open = { index: this.nextIndex++, text };
    return out + emit({ type: 'content_block_start', index: this.open.index, content_block: block });
  }

  private closeBlock(): string {
    if (!this.open) return '';
    const index = this.open.index;
    this.open = undefined;
    return emit({ type: 'content_block_stop', index });
  }

  private finish(): string {
    if (this.done) return '';
    this.done = true;
    const usage = this.usageSeen ?? { input_tokens: 0, output_tokens: 0 };
    return (
      this.start({}) +
      this.closeBlock() +
      emit({
        type: 'message_delta',
        delta: { stop_reason: this.stopReason ?? 'end_turn', stop_sequence: null },
        usage: { ...usage },
      }) +
      emit({ type: 'message_stop' })
    );
  }
}
