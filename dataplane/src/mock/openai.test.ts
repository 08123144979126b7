import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import OpenAI, { AzureOpenAI } from 'openai';
import { startMock, type MockServer } from './server.js';

let mock: MockServer;
let client: OpenAI;

const weatherTool = {
  type: 'function' as const,
  function: {
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: {
      type: 'object',
      properties: {
        city: { type: 'string' },
        days: { type: 'integer' },
        metric: { type: 'boolean' },
        hint: { type: 'string' },
      },
      required: ['city', 'days', 'metric'],
    },
  },
};

beforeAll(async () => {
  mock = await startMock({ apiKey: 'sk-openai-test' });
  client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'sk-openai-test', maxRetries: 0 });
});
afterAll(() => mock.close());

describe('OpenAI chat completions', () => {
  it('answers a non-streamed chat with 16 tokens, the requested model and usage from the prompt length', async () => {
    const content = 'x'.repeat(40);
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe('gpt-4o-mini');
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.choices[0]!.message.role).toBe('assistant');
    expect(res.choices[0]!.message.content).toMatch(/^This is the Switchboard mock/);
    expect(res.usage).toMatchObject({ prompt_tokens: 10, completion_tokens: 16, total_tokens: 26 });
  });

  it('caps the reply at max_tokens and reports finish_reason length', async () => {
    const res = await client.chat.completions.create({ model: 'm', max_tokens: 3, messages: [{ role: 'user', content: 'hi' }] });
    expect(res.choices[0]!.finish_reason).toBe('length');
    expect(res.choices[0]!.message.content).toBe('This is the');
    expect(res.usage?.completion_tokens).toBe(3);
  });

  it('streams one token per chunk and a final usage chunk with empty choices when include_usage is set', async () => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'abcdefgh' }],
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const contentChunks = chunks.filter((c) => c.choices[0]?.delta.content);
    expect(contentChunks).toHaveLength(16);
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    expect(chunks.every((c) => c.model === 'gpt-4o' && c.object === 'chat.completion.chunk')).toBe(true);
    const finish = chunks.find((c) => c.choices[0]?.finish_reason);
    expect(finish!.choices[0]!.finish_reason).toBe('stop');
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 2, completion_tokens: 16, total_tokens: 18 });
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);
  });

  it('omits the usage chunk and ends with [DONE] when include_usage is not set', async () => {
    const res = await fetch(`${mock.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-openai-test', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream: true, max_tokens: 2, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const text = await res.text();
    const events = text.split('\n\n').filter(Boolean);
    expect(events[events.length - 1]).toBe('data: [DONE]');
    expect(events.every((e) => e.startsWith('data: '))).toBe(true);
    expect(text).not.toContain('"usage"');
    expect(text).toContain('"finish_reason":"length"');
  });

  it('answers tools with a tool call whose arguments fill the required properties', async () => {
    const res = await client.chat.completions.create({ model: 'm', tools: [weatherTool], messages: [{ role: 'user', content: 'weather?' }] });
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe('function');
    expect(call.id).toMatch(/^call_/);
    if (call.type !== 'function') throw new Error('expected a function call');
    expect(call.function.name).toBe('get_weather');
    expect(JSON.parse(call.function.arguments)).toEqual({ city: 'mock', days: 1, metric: true });
  });

  it('streams a tool call as incremental delta.tool_calls with an index', async () => {
    const stream = await client.chat.completions.create({ model: 'm', stream: true, tools: [weatherTool], messages: [{ role: 'user', content: 'weather?' }] });
    let args = '';
    let name = '';
    let finish: string | null = null;
    let deltas = 0;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      for (const call of choice?.delta.tool_calls ?? []) {
        expect(call.index).toBe(0);
        name += call.function?.name ?? '';
        args += call.function?.arguments ?? '';
        deltas++;
      }
      finish = choice?.finish_reason ?? finish;
    }
    expect(name).toBe('get_weather');
    expect(deltas).toBeGreaterThan(2);
    expect(JSON.parse(args)).toEqual({ city: 'mock', days: 1, metric: true });
    expect(finish).toBe('tool_calls');
  });

  it('answers in text when tool_choice is none or the last message is a tool result', async () => {
    const none = await client.chat.completions.create({ model: 'm', tools: [weatherTool], tool_choice: 'none', messages: [{ role: 'user', content: 'hi' }] });
    expect(none.choices[0]!.finish_reason).toBe('stop');
    const afterTool = await client.chat.completions.create({
      model: 'm',
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
    });
    expect(afterTool.choices[0]!.message.content).toMatch(/^This/);
  });

  it('rejects a chat without messages with a 400 naming the field', async () => {
    await expect(client.chat.completions.create({ model: 'm', messages: [] })).rejects.toMatchObject({ status: 400, param: 'messages' });
  });
});

describe('OpenAI completions, embeddings and models', () => {
  it('answers a text completion, streamed and not', async () => {
    const res = await client.completions.create({ model: 'davinci-mock', prompt: 'Say something', max_tokens: 5 });
    expect(res.object).toBe('text_completion');
    expect(res.model).toBe('davinci-mock');
    expect(res.choices[0]!.text).toBe('This is the Switchboard');
    expect(res.choices[0]!.finish_reason).toBe('length');
    expect(res.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 5 });

    const stream = await client.completions.create({ model: 'davinci-mock', prompt: 'x', stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.text ?? '';
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(res.choices[0]!.text + ' mock provider speaking: every word here is one token,');
    expect(usage).toMatchObject({ completion_tokens: 16 });
  });

  it('returns deterministic unit vectors, decoding the client default base64 encoding', async () => {
    const a = await client.embeddings.create({ model: 'emb', input: ['hello', 'world'] });
    const b = await client.embeddings.create({ model: 'emb', input: 'hello', encoding_format: 'float' });
    expect(a.data).toHaveLength(2);
    const [hello, world] = a.data.map((d) => d.embedding);
    expect(hello).toHaveLength(16);
    const norm = Math.sqrt(hello!.reduce((s, v) => s + v * v, 0));
    expect(norm).toBeCloseTo(1, 5);
    expect(hello).toEqual(b.data[0]!.embedding);
    expect(hello).not.toEqual(world);
    expect(a.model).toBe('emb');
    expect(a.usage.prompt_tokens).toBe(4);
  });

  it('requests base64 by default and gets base64 strings on the wire', async () => {
    const res = await fetch(`${mock.url}/v1/embeddings`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-openai-test', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'emb', input: 'hello', encoding_format: 'base64', dimensions: 8 }),
    });
    const body = (await res.json()) as { data: { embedding: string }[] };
    const bytes = Buffer.from(body.data[0]!.embedding, 'base64');
    expect(bytes).toHaveLength(32);
  });

  it('honours the dimensions parameter', async () => {
    const res = await client.embeddings.create({ model: 'emb', input: 'x', dimensions: 64 });
    expect(res.data[0]!.embedding).toHaveLength(64);
  });

  it('lists models', async () => {
    const models = [];
    for await (const model of client.models.list()) models.push(model.id);
    expect(models).toEqual(['mock-gpt', 'mock-claude', 'mock-embedding']);
  });

  it('rejects a wrong key with OpenAI\'s 401 body', async () => {
    const bad = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'sk-wrong', maxRetries: 0 });
    await expect(bad.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      status: 401,
      code: 'invalid_api_key',
    });
  });
});

describe('Azure OpenAI paths', () => {
  const azure = (apiKey = 'sk-openai-test'): AzureOpenAI =>
    new AzureOpenAI({ endpoint: mock.url, apiKey, apiVersion: '2024-10-21', deployment: 'gpt4o-eastus', maxRetries: 0 });

  it('serves chat with the deployment name as the model, including content filter results', async () => {
    const res = await azure().chat.completions.create({ model: 'ignored', messages: [{ role: 'user', content: 'hi' }] });
    expect(res.model).toBe('gpt4o-eastus');
    expect(res.choices[0]!.message.content).toMatch(/^This/);
    expect(res).toHaveProperty('prompt_filter_results');
  });

  it('streams chat, embeddings and completions on deployment paths', async () => {
    const stream = await azure().chat.completions.create({ model: 'x', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text.split(' ').length).toBeGreaterThan(5);
    const emb = await azure().embeddings.create({ model: 'x', input: 'hello' });
    expect(emb.data[0]!.embedding).toHaveLength(16);
    const completion = await azure().completions.create({ model: 'x', prompt: 'hi' });
    expect(completion.model).toBe('gpt4o-eastus');
    expect(mock.stats().byPath['/openai/deployments/gpt4o-eastus/embeddings']).toBeGreaterThan(0);
  });

  it('requires api-version with a 400 in Azure\'s error format', async () => {
    const res = await fetch(`${mock.url}/openai/deployments/d1/chat/completions`, {
      method: 'POST',
      headers: { 'api-key': 'sk-openai-test', 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('BadRequest');
    expect(body.error.message).toMatch(/api-version/);
  });

  it('requires the api-key header', async () => {
    await expect(azure('wrong').chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({ status: 401 });
    const res = await fetch(`${mock.url}/openai/deployments/d1/chat/completions?api-version=2024-10-21`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-openai-test' },
      body: '{}',
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('401');
  });
});
