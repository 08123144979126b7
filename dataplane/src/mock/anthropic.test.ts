import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Anthropic from '@anthropic-ai/sdk';
import { startMock, type MockServer } from './server.js';

let mock: MockServer;
let client: Anthropic;

const tools = [
  {
    name: 'lookup_order',
    description: 'Find an order',
    input_schema: {
      type: 'object' as const,
      properties: { order_id: { type: 'string' }, quantity: { type: 'number' }, express: { type: 'boolean' }, note: { type: 'string' } },
      required: ['order_id', 'quantity', 'express'],
    },
  },
];

beforeAll(async () => {
  mock = await startMock({ apiKey: 'sk-ant-test' });
  client = new Anthropic({ baseURL: mock.url, apiKey: 'sk-ant-test', maxRetries: 0 });
});
afterAll(() => mock.close());

describe('Anthropic messages', () => {
  it('answers a non-streamed message with text, end_turn and usage', async () => {
    const msg = await client.messages.create({
      model: 'claude-mock-large',
      max_tokens: 100,
      system: 'be brief',
      messages: [{ role: 'user', content: 'hello there' }],
    });
    expect(msg.type).toBe('message');
    expect(msg.role).toBe('assistant');
    expect(msg.model).toBe('claude-mock-large');
    expect(msg.id).toMatch(/^msg_/);
    expect(msg.content).toEqual([{ type: 'text', text: expect.stringMatching(/^This is the Switchboard mock/) }]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.stop_sequence).toBeNull();
    expect(msg.usage).toMatchObject({ input_tokens: 5, output_tokens: 16 });
  });

  it('stops at max_tokens with stop_reason max_tokens', async () => {
    const msg = await client.messages.create({ model: 'c', max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.stop_reason).toBe('max_tokens');
    expect(msg.usage.output_tokens).toBe(4);
  });

  it('streams the exact event sequence with text deltas', async () => {
    const res = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'c', max_tokens: 3, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await res.text()).split('\n\n').filter(Boolean);
    const names = events.map((e) => /^event: (\S+)\ndata: \{/.exec(e)?.[1]);
    expect(names).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    const delta = JSON.parse(events[7]!.split('data: ')[1]!) as unknown;
    expect(delta).toEqual({ type: 'message_delta', delta: { stop_reason: 'max_tokens', stop_sequence: null }, usage: { output_tokens: 3 } });
  });

  it('streams through the SDK and assembles the final message', async () => {
    const stream = client.messages.stream({ model: 'claude-haiku', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    stream.on('text', (t) => (text += t));
    const final = await stream.finalMessage();
    expect(final.model).toBe('claude-haiku');
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBe(16);
    expect(final.content[0]).toMatchObject({ type: 'text', text });
    expect(text).toBe('This is the Switchboard mock provider speaking: every word here is one token,');
  });

  it('answers tools with a tool_use block, non-streamed', async () => {
    const msg = await client.messages.create({ model: 'c', max_tokens: 200, tools, messages: [{ role: 'user', content: 'where is my order?' }] });
    expect(msg.stop_reason).toBe('tool_use');
    const block = msg.content[0]!;
    expect(block.type).toBe('tool_use');
    if (block.type !== 'tool_use') throw new Error('expected tool_use');
    expect(block.id).toMatch(/^toolu_/);
    expect(block.name).toBe('lookup_order');
    expect(block.input).toEqual({ order_id: 'mock', quantity: 1, express: true });
  });

  it('streams a tool_use block as input_json_delta events the SDK parses', async () => {
    const stream = client.messages.stream({ model: 'c', max_tokens: 200, tools, messages: [{ role: 'user', content: 'order?' }] });
    const partials: string[] = [];
    stream.on('inputJson', (partial) => partials.push(partial));
    const final = await stream.finalMessage();
    expect(partials.length).toBeGreaterThan(2);
    expect(final.stop_reason).toBe('tool_use');
    expect(final.content[0]).toMatchObject({ type: 'tool_use', name: 'lookup_order', input: { order_id: 'mock', quantity: 1, express: true } });
  });

  it('answers in text with tool_choice none and after a tool_result', async () => {
    const none = await client.messages.create({ model: 'c', max_tokens: 50, tools, tool_choice: { type: 'none' }, messages: [{ role: 'user', content: 'x' }] });
    expect(none.content[0]!.type).toBe('text');
    const after = await client.messages.create({
      model: 'c',
      max_tokens: 50,
      tools,
      messages: [
        { role: 'user', content: 'order?' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup_order', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'shipped' }] },
      ],
    });
    expect(after.stop_reason).toBe('end_turn');
  });

  it('rejects a bad key and a missing max_tokens in Anthropic\'s error format', async () => {
    const bad = new Anthropic({ baseURL: mock.url, apiKey: 'sk-ant-wrong', maxRetries: 0 });
    await expect(bad.messages.create({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })).rejects.toMatchObject({
      status: 401,
      error: { type: 'error', error: { type: 'authentication_error' } },
    });
    const res = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: 'c', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } });
  });

  it('requires the anthropic-version header', async () => {
    const res = await fetch(`${mock.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'sk-ant-test' },
      body: JSON.stringify({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/anthropic-version/);
  });

  it('lists models in Anthropic\'s shape when asked with anthropic-version', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual(['mock-gpt', 'mock-claude', 'mock-embedding']);
    expect(page.data[0]!.type).toBe('model');
  });
});
