// Every client-facing endpoint, streamed and not, through the real openai and @anthropic-ai/sdk
// clients, a real gateway and the real mock provider.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { deployment, gatewayConfig, metricValue, startTestGateway, startTestMock, type TestGateway } from '../support/stack.js';

let mock: MockServer;
let gw: TestGateway;

beforeAll(async () => {
  mock = await startTestMock();
  gw = await startTestGateway(
    gatewayConfig([
      { name: 'chat', deployments: [deployment(mock, 'chat-openai', 'openai')] },
      { name: 'claude', deployments: [deployment(mock, 'claude-anthropic', 'anthropic')] },
      { name: 'embed', deployments: [deployment(mock, 'embed-openai', 'openai')] },
    ]),
  );
});

afterAll(async () => {
  await gw?.close();
  await mock?.close();
});

describe('chat completions', () => {
  it('answers a non-streamed chat completion with content, finish reason and usage', async () => {
    const { data, response } = await gw
      .openai()
      .chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello there' }] })
      .withResponse();
    expect(response.status).toBe(200);
    expect(data.object).toBe('chat.completion');
    expect(data.choices[0]!.message.content).toMatch(/^This is the Switchboard mock/);
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: 16 });
    expect(response.headers.get('x-switchboard-deployment')).toBe('chat-openai');
  });

  it('streams chat tokens and ends with a usage chunk when stream_options.include_usage is set', async () => {
    const stream = await gw.openai().chat.completions.create({
      model: 'chat',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hello' }],
    });
    let text = '';
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(text).toMatch(/^This is the Switchboard mock/);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ completion_tokens: 16, prompt_tokens: expect.any(Number) });
    expect(chunks.filter((c) => c.usage)).toHaveLength(1);
  });

  it('hides the upstream usage chunk when the client did not ask for usage, yet still counts the tokens', async () => {
    const before = await metricValue(gw.adminUrl, 'switchboard_tokens_total', { model: 'chat', direction: 'output' });
    const stream = await gw.openai().chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'hello' }] });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(1);
    expect(chunks.filter((c) => c.usage)).toEqual([]);
    expect(chunks.filter((c) => c.choices.length === 0)).toEqual([]);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    // The gateway asked the upstream for usage: the output tokens were counted anyway.
    const after = await metricValue(gw.adminUrl, 'switchboard_tokens_total', { model: 'chat', direction: 'output' });
    expect(after - before).toBe(16);
  });
});

describe('completions', () => {
  it('answers a non-streamed text completion', async () => {
    const res = await gw.openai().completions.create({ model: 'chat', prompt: 'Say something', max_tokens: 5 });
    expect(res.object).toBe('text_completion');
    expect(res.choices[0]!.text).toBe('This is the Switchboard');
    expect(res.choices[0]!.finish_reason).toBe('length');
    expect(res.usage?.completion_tokens).toBe(5);
  });

  it('streams a text completion token by token', async () => {
    const stream = await gw.openai().completions.create({ model: 'chat', prompt: 'Say something', max_tokens: 5, stream: true });
    const pieces: string[] = [];
    for await (const chunk of stream) pieces.push(chunk.choices[0]?.text ?? '');
    expect(pieces.filter(Boolean).length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe('This is the Switchboard');
  });
});

describe('embeddings', () => {
  it("decodes the openai client's default base64 embeddings to unit vectors of the right dimension", async () => {
    const res = await gw.openai().embeddings.create({ model: 'embed', input: ['hello', 'world'] });
    expect(res.data).toHaveLength(2);
    const [hello, world] = res.data.map((d) => d.embedding);
    expect(hello).toHaveLength(16);
    expect(world).toHaveLength(16);
    expect(Math.hypot(...hello!)).toBeCloseTo(1, 5);
    expect(hello).not.toEqual(world);
    const floats = await gw.openai().embeddings.create({ model: 'embed', input: 'hello', encoding_format: 'float' });
    expect(floats.data[0]!.embedding).toEqual(hello);
  });

  it('honours the dimensions parameter', async () => {
    const res = await gw.openai().embeddings.create({ model: 'embed', input: 'x', dimensions: 64 });
    expect(res.data[0]!.embedding).toHaveLength(64);
  });
});

describe('models', () => {
  it('lists the configured aliases through client.models.list()', async () => {
    const ids: string[] = [];
    for await (const model of gw.openai().models.list()) ids.push(model.id);
    expect(ids).toEqual(['chat', 'claude', 'embed']);
  });
});

describe('Anthropic messages', () => {
  it('answers a non-streamed message with text, end_turn and usage', async () => {
    const { data, response } = await gw
      .anthropic()
      .messages.create({ model: 'claude', max_tokens: 100, system: 'be brief', messages: [{ role: 'user', content: 'hello there' }] })
      .withResponse();
    expect(data.type).toBe('message');
    expect(data.content[0]).toEqual({ type: 'text', text: expect.stringMatching(/^This is the Switchboard mock/) });
    expect(data.stop_reason).toBe('end_turn');
    expect(data.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: 16 });
    expect(response.headers.get('x-switchboard-deployment')).toBe('claude-anthropic');
  });

  it('streams a message event by event and assembles the final message', async () => {
    const stream = gw.anthropic().messages.stream({ model: 'claude', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    const deltas: string[] = [];
    stream.on('text', (delta) => deltas.push(delta));
    const final = await stream.finalMessage();
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('This is the Switchboard');
    expect(final.stop_reason).toBe('max_tokens');
    expect(final.usage.output_tokens).toBe(5);
  });
});
