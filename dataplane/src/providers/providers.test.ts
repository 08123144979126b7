import { describe, expect, it } from '@jest/globals';
import type { Deployment } from '@switchboard/crds/runtime';
import { UnsupportedOperationError, providerFor, translatorFor, upstreamOperation, usageFromText, usageTap, wantsStreamUsage } from './index.js';

const dep = (over: Partial<Deployment>): Deployment => ({ name: 'd', provider: 'openai', model: 'm', baseUrl: 'http://h/v1', weight: 1, ...over });

describe('providers', () => {
  it('joins base URLs with any number of trailing slashes', () => {
    expect(providerFor('openai').prepare('embeddings', {}, dep({ baseUrl: 'http://h/v1//' }), 'k').url).toBe('http://h/v1/embeddings');
    expect(providerFor('openai-compatible').prepare('completions', {}, dep({ baseUrl: 'http://h:1/v1' }), 'k').url).toBe('http://h:1/v1/completions');
  });

  it('accepts Azure endpoints with or without /openai and escapes the deployment name', () => {
    const d = dep({ provider: 'azure', model: 'my dep', baseUrl: 'https://r.openai.azure.com/openai/', apiVersion: '2024-10-21' });
    expect(providerFor('azure').prepare('embeddings', {}, d, 'k').url).toBe(
      'https://r.openai.azure.com/openai/deployments/my%20dep/embeddings?api-version=2024-10-21',
    );
  });

  it('accepts Anthropic base URLs with or without /v1', () => {
    const url = providerFor('anthropic').prepare('messages', {}, dep({ provider: 'anthropic', baseUrl: 'https://api.anthropic.com/v1/' }), 'k').url;
    expect(url).toBe('https://api.anthropic.com/v1/messages');
  });

  it('sends no auth header without a key and never lets static headers replace the auth header', () => {
    const d = dep({ headers: { Authorization: 'Bearer static', 'X-Tenant': 't' } });
    expect(providerFor('openai').prepare('chat', {}, d, undefined).headers).toEqual({
      authorization: 'Bearer static',
      'x-tenant': 't',
      'content-type': 'application/json',
    });
    expect(providerFor('openai').prepare('chat', {}, d, 'real').headers.authorization).toBe('Bearer real');
  });

  it('sets the upstream model name in the body', () => {
    expect(JSON.parse(providerFor('openai').prepare('chat', { model: 'alias', n: 1 }, dep({ model: 'gpt-4o' }), 'k').body)).toEqual({ model: 'gpt-4o', n: 1 });
  });

  it('refuses operations the provider does not serve', () => {
    expect(() => providerFor('anthropic').prepare('embeddings', {}, dep({ provider: 'anthropic' }), 'k')).toThrow(UnsupportedOperationError);
    expect(() => providerFor('openai').prepare('messages', {}, dep({}), 'k')).toThrow(UnsupportedOperationError);
  });

  it('plans the upstream operation: native, translated, or impossible', () => {
    expect(upstreamOperation('chat', providerFor('azure'))).toBe('chat');
    expect(upstreamOperation('chat', providerFor('anthropic'))).toBe('messages');
    expect(upstreamOperation('messages', providerFor('openai'))).toBe('chat');
    expect(upstreamOperation('embeddings', providerFor('anthropic'))).toBeUndefined();
  });

  it('needs no translator when wires match', () => {
    expect(translatorFor('openai', 'openai')).toBeUndefined();
    expect(translatorFor('openai', 'anthropic')?.to).toBe('anthropic');
    expect(translatorFor('anthropic', 'openai')?.to).toBe('openai');
  });

  it('reads include_usage from an OpenAI request', () => {
    expect(wantsStreamUsage({ stream_options: { include_usage: true } })).toBe(true);
    expect(wantsStreamUsage({ stream: true })).toBe(false);
  });
});

describe('usage of relayed answers', () => {
  it('reads embeddings usage, which has no completion tokens', () => {
    expect(usageFromText('openai', JSON.stringify({ usage: { prompt_tokens: 8, total_tokens: 8 } }))).toEqual({ inputTokens: 8, outputTokens: 0 });
    expect(usageFromText('anthropic', JSON.stringify({ usage: 'nope' }))).toBeUndefined();
  });

  it('finds the usage object of a long answer without being fooled by the text', () => {
    const answer = {
      choices: [{ message: { role: 'assistant', content: 'the "usage" field {is} here: ' + 'x'.repeat(10_000) } }],
      usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12, completion_tokens_details: { reasoning_tokens: 0 } },
    };
    expect(usageFromText('openai', JSON.stringify(answer))).toEqual({ inputTokens: 5, outputTokens: 7 });
    expect(usageFromText('openai', JSON.stringify({ choices: [{ message: { content: '"usage": {' } }] }))).toBeUndefined();
  });

  it('taps an Anthropic stream: input tokens from message_start, output from the last message_delta', () => {
    const tap = usageTap('anthropic');
    tap.push({ event: 'message_start', data: '{"type":"message_start","message":{"usage":{"input_tokens":10,"cache_read_input_tokens":5,"output_tokens":1}}}' });
    tap.push({ event: 'content_block_delta', data: '{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"usage"}}' });
    tap.push({ event: 'message_delta', data: '{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}' });
    expect(tap.usage()).toEqual({ inputTokens: 15, outputTokens: 42 });
  });

  it('taps an OpenAI stream only from the chunk that carries counts', () => {
    const tap = usageTap('openai');
    tap.push({ data: '{"choices":[{"delta":{"content":"\\"prompt_tokens\\""}}],"usage":null}' });
    expect(tap.usage()).toBeUndefined();
    tap.push({ data: '{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}' });
    tap.push({ data: '[DONE]' });
    expect(tap.usage()).toEqual({ inputTokens: 3, outputTokens: 4 });
  });
});
