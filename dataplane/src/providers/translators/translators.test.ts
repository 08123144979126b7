import { describe, expect, it } from '@jest/globals';
import { SseParser } from '../../sse/parser.js';
import { TranslationError } from '../errors.js';
import type { JsonObject, SseEvent } from '../types.js';
import { anthropicToOpenAI } from './anthropic-to-openai.js';
import { openaiToAnthropic } from './openai-to-anthropic.js';

const o2a = openaiToAnthropic(() => 1_700_000_000_000);
const a2o = anthropicToOpenAI();
const user = (content: unknown): JsonObject => ({ role: 'user', content });
const events = (text: string): SseEvent[] => new SseParser().push(text);
const sse = (...objects: object[]): SseEvent[] => objects.map((o) => ({ data: JSON.stringify(o) }));
const named = (...objects: { type: string }[]): SseEvent[] => objects.map((o) => ({ event: o.type, data: JSON.stringify(o) }));

describe('openai -> anthropic requests', () => {
  it('hoists system and developer messages into system text blocks', () => {
    const out = o2a.request({
      model: 'm',
      messages: [{ role: 'system', content: 'A' }, { role: 'developer', content: [{ type: 'text', text: 'B' }] }, user('hi')],
    });
    expect(out.system).toEqual([{ type: 'text', text: 'A' }, { type: 'text', text: 'B' }]);
    expect(out.messages).toEqual([user('hi')]);
  });

  it('defaults max_tokens to 4096 and prefers max_completion_tokens over max_tokens', () => {
    expect(o2a.request({ model: 'm', messages: [user('x')] }).max_tokens).toBe(4096);
    expect(o2a.request({ model: 'm', messages: [user('x')], max_tokens: 9, max_completion_tokens: 7 }).max_tokens).toBe(7);
  });

  it('merges consecutive tool results and a following user message into one user turn', () => {
    const out = o2a.request({
      model: 'm',
      messages: [
        user('q'),
        { role: 'assistant', content: 'let me see', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '' } }, { id: 'b', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }] },
        { role: 'tool', tool_call_id: 'a', content: 'ra' },
        { role: 'tool', tool_call_id: 'b', content: [{ type: 'text', text: 'rb' }] },
        user('and?'),
      ],
    });
    expect(out.messages).toEqual([
      user('q'),
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'let me see' },
          { type: 'tool_use', id: 'a', name: 'f', input: {} },
          { type: 'tool_use', id: 'b', name: 'f', input: { x: 1 } },
        ],
      },
      user([
        { type: 'tool_result', tool_use_id: 'a', content: 'ra' },
        { type: 'tool_result', tool_use_id: 'b', content: 'rb' },
        { type: 'text', text: 'and?' },
      ]),
    ]);
  });

  it.each([
    ['auto', undefined, { type: 'auto' }],
    ['none', undefined, { type: 'none' }],
    ['required', undefined, { type: 'any' }],
    [{ type: 'function', function: { name: 'f' } }, undefined, { type: 'tool', name: 'f' }],
    [undefined, false, { type: 'auto', disable_parallel_tool_use: true }],
    ['required', false, { type: 'any', disable_parallel_tool_use: true }],
  ])('maps tool_choice %j (parallel_tool_calls %j) to %j', (choice, parallel, expected) => {
    const out = o2a.request({
      model: 'm',
      messages: [user('x')],
      tools: [{ type: 'function', function: { name: 'f' } }],
      tool_choice: choice,
      parallel_tool_calls: parallel,
    });
    expect(out.tool_choice).toEqual(expected);
    expect(out.tools).toEqual([{ name: 'f', input_schema: { type: 'object', properties: {} } }]);
  });

  it('clamps temperature to Anthropic range and turns stop into stop_sequences', () => {
    const out = o2a.request({ model: 'm', messages: [user('x')], temperature: 1.7, stop: 'END', user: 'u1' });
    expect(out).toMatchObject({ temperature: 1, stop_sequences: ['END'], metadata: { user_id: 'u1' } });
  });

  it('rejects what Anthropic cannot express with a 400 naming the field', () => {
    const bad = (body: JsonObject): unknown => () => o2a.request({ model: 'm', ...body });
    expect(bad({ messages: 'nope' })).toThrow(TranslationError);
    expect(bad({ messages: [user([{ type: 'input_audio', input_audio: {} }])] })).toThrow(/messages\[0\]\.content\[0\]/);
    expect(bad({ messages: [{ role: 'assistant', tool_calls: [{ id: 'a', type: 'function', function: { name: 'f', arguments: '{oops' } }] }] })).toThrow(
      /arguments/,
    );
    expect(bad({ messages: [user('x')], n: 2 })).toThrow(/n > 1/);
  });
});

describe('anthropic -> openai requests', () => {
  it('turns system blocks into one system message and tool results into tool messages before the user text', () => {
    const out = a2o.request({
      model: 'm',
      max_tokens: 10,
      system: [{ type: 'text', text: 'S1' }, { type: 'text', text: 'S2' }],
      messages: [
        user('q'),
        { role: 'assistant', content: [{ type: 'thinking', thinking: '…' }, { type: 'text', text: 'ok' }, { type: 'tool_use', id: 't', name: 'f', input: { a: 1 } }] },
        user([{ type: 'tool_result', tool_use_id: 't', content: [{ type: 'text', text: 'r' }] }, { type: 'text', text: 'next' }]),
      ],
    });
    expect(out.messages).toEqual([
      { role: 'system', content: 'S1S2' },
      user('q'),
      { role: 'assistant', content: 'ok', tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      { role: 'tool', tool_call_id: 't', content: 'r' },
      user('next'),
    ]);
    expect(out.max_completion_tokens).toBe(10);
  });

  it('asks a streaming upstream for usage so output tokens are known', () => {
    expect(a2o.request({ model: 'm', max_tokens: 1, stream: true, messages: [user('x')] })).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it.each([
    [{ type: 'auto' }, 'auto', undefined],
    [{ type: 'any', disable_parallel_tool_use: true }, 'required', false],
    [{ type: 'none' }, 'none', undefined],
    [{ type: 'tool', name: 'f' }, { type: 'function', function: { name: 'f' } }, undefined],
  ])('maps tool_choice %j to %j', (choice, expected, parallel) => {
    const out = a2o.request({ model: 'm', max_tokens: 1, messages: [user('x')], tools: [{ name: 'f', input_schema: { type: 'object' } }], tool_choice: choice });
    expect(out.tool_choice).toEqual(expected);
    expect(out.parallel_tool_calls).toBe(parallel);
  });

  it('rejects server tools the OpenAI wire has no equivalent for', () => {
    expect(() => a2o.request({ model: 'm', max_tokens: 1, messages: [user('x')], tools: [{ type: 'web_search_20250305', name: 'web_search' }] })).toThrow(
      TranslationError,
    );
  });
});

describe('non-streamed responses', () => {
  it('counts Anthropic cache reads and writes as prompt tokens', () => {
    const out = o2a.response(
      { id: 'msg_1', content: [], stop_reason: 'end_turn', usage: { input_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 10, output_tokens: 2 } },
      'alias',
    );
    expect(out.usage).toEqual({ prompt_tokens: 115, completion_tokens: 2, total_tokens: 117, prompt_tokens_details: { cached_tokens: 100 } });
    expect(out.created).toBe(1_700_000_000);
  });

  it('keeps malformed upstream tool arguments instead of failing the answer', () => {
    const out = a2o.response(
      { id: 'c', choices: [{ message: { role: 'assistant', content: null, tool_calls: [{ id: 't', type: 'function', function: { name: 'f', arguments: '{bad' } }] }, finish_reason: 'tool_calls' }] },
      'alias',
    );
    expect(out.content).toEqual([{ type: 'tool_use', id: 't', name: 'f', input: { raw: '{bad' } }]);
    expect(out.stop_reason).toBe('tool_use');
  });
});

describe('streams', () => {
  it('turns parallel OpenAI tool calls into consecutive tool_use blocks and waits for usage before message_delta', () => {
    const s = a2o.stream('alias', false);
    const chunk = (delta: object, finish: string | null = null): object => ({ id: 'c1', choices: [{ index: 0, delta, finish_reason: finish }] });
    let out = '';
    for (const e of sse(
      chunk({ role: 'assistant', content: 'Hi' }),
      chunk({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'f', arguments: '{"x"' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'b', type: 'function', function: { name: 'g', arguments: '{}' } }] }),
      chunk({}, 'tool_calls'),
    ))
      out += s.push(e);
    expect(out).not.toContain('message_delta');
    out += s.push({ data: JSON.stringify({ id: 'c1', choices: [], usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 } }) });
    out += s.push({ data: '[DONE]' }) + s.end();
    const types = events(out).map((e) => e.event + (JSON.parse(e.data).index ?? ''));
    expect(types).toEqual([
      'message_start',
      'content_block_start0',
      'content_block_delta0',
      'content_block_stop0',
      'content_block_start1',
      'content_block_delta1',
      'content_block_delta1',
      'content_block_stop1',
      'content_block_start2',
      'content_block_delta2',
      'content_block_stop2',
      'message_delta',
      'message_stop',
    ]);
    expect(JSON.parse(events(out).at(-2)!.data)).toMatchObject({ delta: { stop_reason: 'tool_use' }, usage: { input_tokens: 3, output_tokens: 4 } });
    expect(s.usage()).toEqual({ inputTokens: 3, outputTokens: 4 });
  });

  it('reports an OpenAI stream that ends without a finish reason as an Anthropic error event', () => {
    const s = a2o.stream('alias', false);
    const out = s.push({ data: JSON.stringify({ id: 'c', choices: [{ index: 0, delta: { content: 'par' }, finish_reason: null }] }) }) + s.end();
    expect(events(out).at(-1)).toMatchObject({ event: 'error' });
  });

  it('reports an Anthropic stream that ends without message_stop as an OpenAI error chunk then [DONE]', () => {
    const s = o2a.stream('alias', true);
    const start = { type: 'message_start', message: { id: 'm', content: [], usage: { input_tokens: 1, output_tokens: 1 } } };
    const out = named(start).map((e) => s.push(e)).join('') + s.end();
    const last = events(out);
    expect(last.at(-1)!.data).toBe('[DONE]');
    expect(JSON.parse(last.at(-2)!.data).error.message).toMatch(/message_stop/);
  });

  it('maps an Anthropic error event mid-stream to an OpenAI error chunk', () => {
    const s = o2a.stream('alias', false);
    const out = s.push({ event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }) });
    expect(JSON.parse(events(out)[0]!.data)).toEqual({ error: { message: 'Overloaded', type: 'server_error', param: null, code: 'overloaded_error' } });
    expect(s.push({ data: '{}' }) + s.end()).toBe('');
  });
});

describe('errors', () => {
  it('maps an OpenAI error to the Anthropic error type for its status', () => {
    expect(a2o.error(401, { error: { message: 'bad key', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } })).toEqual({
      type: 'error',
      error: { type: 'authentication_error', message: 'bad key' },
    });
  });

  it('wraps a plain-text upstream error body', () => {
    expect(o2a.error(502, 'Bad Gateway')).toEqual({ error: { message: 'Bad Gateway', type: 'server_error', param: null, code: null } });
  });
});
