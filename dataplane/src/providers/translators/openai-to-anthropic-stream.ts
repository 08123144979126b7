// Anthropic message events -> OpenAI chat.completion.chunk events, for one streamed response.
import { OPENAI_DONE, formatJsonData } from '../../sse/format.js';
import type { SseEvent, StreamTranslator, Usage } from '../types.js';
import type { AnthropicStreamEvent, AnthropicUsage } from '../wire/anthropic.js';
import type { OpenAIChunk, OpenAIFinishReason, OpenAIToolCallDelta } from '../wire/openai.js';
import { toOpenAIError } from './errors.js';
import { type Clock, anthropicInputTokens, mapFinish, openaiUsageFromAnthropic } from './shared.js';

type Delta = OpenAIChunk['choices'][number]['delta'];

export class OpenAIFromAnthropicStream implements StreamTranslator {
  private id = 'chatcmpl-unknown';
  private readonly created: number;
  private usageSoFar: Partial<AnthropicUsage> | undefined;
  /** Anthropic content-block index -> OpenAI tool_calls index. */
  private readonly toolIndex = new Map<number, number>();
  private finished = false;

  constructor(
    private readonly model: string,
    private readonly includeUsage: boolean,
    clock: Clock,
  ) {
    this.created = Math.floor(clock() / 1000);
  }

  push(event: SseEvent): string {
    if (this.finished) return '';
    let parsed: AnthropicStreamEvent;
    try {
      parsed = JSON.parse(event.data) as AnthropicStreamEvent;
    } catch {
      return ''; // not JSON: nothing a client could use
    }
    switch (parsed.type) {
      case 'message_start':
        if (typeof parsed.message.id === 'string') this.id = parsed.message.id;
        this.usageSoFar = { ...parsed.message.usage };
        return this.chunk({ role: 'assistant', content: '' }, null);
      case 'content_block_start': {
        const block = parsed.content_block;
        if (block.type === 'text') return block.text ? this.chunk({ content: block.text }, null) : '';
        if (block.type !== 'tool_use') return '';
        const index = this.toolIndex.size;
        this.toolIndex.set(parsed.index, index);
        return this.tool({ index, id: block.id, type: 'function', function: { name: block.name, arguments: '' } });
      }
      case 'content_block_delta': {
        const delta = parsed.delta;
        if (delta.type === 'text_delta' && 'text' in delta) return this.chunk({ content: delta.text }, null);
        if (delta.type === 'input_json_delta' && 'partial_json' in delta) {
          const index = this.toolIndex.get(parsed.index);
          if (index === undefined || !delta.partial_json) return '';
          return this.tool({ index, function: { arguments: delta.partial_json } });
        }
        return ''; // thinking and signature deltas have no OpenAI counterpart
      }
      case 'message_delta':
        // message_delta usage is cumulative; newer APIs repeat input tokens there too.
        this.usageSoFar = { ...this.usageSoFar, ...definedOnly(parsed.usage) };
        return this.chunk({}, mapFinish(parsed.delta.stop_reason ?? 'end_turn'));
      case 'message_stop':
        return this.finish();
      case 'error':
        this.finished = true;
        return formatJsonData(toOpenAIError(500, parsed)) + OPENAI_DONE;
      default:
        return ''; // ping, content_block_stop
    }
  }

  end(): string {
    if (this.finished) return '';
    this.finished = true;
    // The upstream closed without message_stop: tell the client rather than fake a clean end.
    const error = toOpenAIError(502, { error: { message: 'upstream stream ended before message_stop', type: 'incomplete_stream' } });
    return formatJsonData(error) + OPENAI_DONE;
  }

  usage(): Usage | undefined {
    if (!this.usageSoFar) return undefined;
    return { inputTokens: anthropicInputTokens(this.usageSoFar), outputTokens: this.usageSoFar.output_tokens ?? 0 };
  }

  private finish(): string {
    this.finished = true;
    if (!this.includeUsage) return OPENAI_DONE;
    const chunk: OpenAIChunk = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [],
      usage: openaiUsageFromAnthropic(this.usageSoFar ?? {}),
    };
    return formatJsonData(chunk) + OPENAI_DONE;
  }

  private tool(call: OpenAIToolCallDelta): string {
    return this.chunk({ tool_calls: [call] }, null);
  }

  private chunk(delta: Delta, finishReason: OpenAIFinishReason | null): string {
    const chunk: OpenAIChunk = {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, finish_reason: finishReason, logprobs: null }],
    };
    // OpenAI sends usage: null on every chunk but the last when usage was asked for.
    if (this.includeUsage) chunk.usage = null;
    return formatJsonData(chunk);
  }
}

function definedOnly(usage: Partial<AnthropicUsage> | undefined): Partial<AnthropicUsage> {
  const out: Partial<AnthropicUsage> = {};
  if (!usage) return out;
  for (const [key, value] of Object.entries(usage) as [keyof AnthropicUsage, number | null | undefined][]) {
    if (typeof value === 'number') out[key] = value;
  }
  return out;
}
