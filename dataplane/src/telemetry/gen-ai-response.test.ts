import { describe, expect, it } from '@jest/globals';
import { answerText, collectFinishReasons, genAiOperation, genAiProvider, outputMessages, responseModel, streamedText } from './gen-ai-response.js';

describe('reading answers without decoding them', () => {
  it('finds the response model and finish reasons of OpenAI and Anthropic bodies', () => {
    const openai = '{"id":"x","model":"gpt-4o-2024","choices":[{"finish_reason":"stop"},{"finish_reason":"length"}]}';
    expect(responseModel(openai)).toBe('gpt-4o-2024');
    const reasons: string[] = [];
    collectFinishReasons(openai, reasons);
    collectFinishReasons('{"type":"message_delta","delta":{"stop_reason":"end_turn"}}', reasons);
    collectFinishReasons('{"choices":[{"finish_reason":null}]}', reasons);
    collectFinishReasons('data: {"choices":[{"finish_reason" : "stop"}]}', reasons);
    expect(reasons).toEqual(['stop', 'length', 'end_turn']);
  });

  it('reads only well-formed values: the first "model" that is a plain string, reasons of the allowed characters', () => {
    expect(responseModel('{"model":null,"choices":[],"usage":{},"x":{"model" :\n "m-2"}}')).toBe('m-2');
    expect(responseModel('{"model":"","id":"x"}')).toBeUndefined();
    expect(responseModel(`{"model":"${'a'.repeat(201)}"}`)).toBeUndefined();
    expect(responseModel(`{"model":"${'a'.repeat(200)}"}`)).toBe('a'.repeat(200));
    expect(responseModel('{"model":"gpt\\"x"}')).toBeUndefined();
    expect(responseModel('{"id":"x","model')).toBeUndefined();
    const reasons: string[] = [];
    collectFinishReasons('{"other_reason":"x","finish_reason":"tool calls","stop_reason":"max.tokens-1","finish_reason":"', reasons);
    collectFinishReasons(`{"finish_reason":"${'s'.repeat(65)}"}`, reasons);
    expect(reasons).toEqual(['max.tokens-1']);
  });

  it('reads the text of whole answers and of stream chunks', () => {
    expect(answerText('{"choices":[{"message":{"content":"hi "}},{"text":"there"}]}')).toBe('hi there');
    expect(answerText('{"content":[{"type":"text","text":"claude"}]}')).toBe('claude');
    expect(answerText('not json')).toBe('');
    expect(streamedText('data: {"choices":[{"delta":{"content":"a"}}]}\n\ndata: {"type":"content_block_delta","delta":{"text":"b"}}\n\ndata: [DONE]\n\n')).toBe('ab');
    expect(outputMessages('ab', ['stop'])).toBe('[{"role":"assistant","parts":[{"type":"text","content":"ab"}],"finish_reason":"stop"}]');
  });

  it('maps operations and provider kinds to the GenAI names', () => {
    expect([genAiOperation('chat'), genAiOperation('messages'), genAiOperation('completions'), genAiOperation('embeddings')]).toEqual(['chat', 'chat', 'text_completion', 'embeddings']);
    expect([genAiProvider('openai'), genAiProvider('openai-compatible'), genAiProvider('azure'), genAiProvider('anthropic')]).toEqual(['openai', 'openai', 'azure.ai.openai', 'anthropic']);
  });
});
