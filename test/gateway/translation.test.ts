// Wire translation through real clients: an OpenAI client on an Anthropic deployment and an
// Anthropic client on OpenAI and Azure deployments get answers shaped for their own SDK, tool
// calls included in both directions. (provider-conformance.test.ts runs the full matrix.)
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type OpenAI from 'openai';
import type Anthropic from '@anthropic-ai/sdk';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { deployment, gatewayConfig, mockStats, startTestGateway, startTestMock, type TestGateway } from '../support/stack.js';

let mock: MockServer;
let gw: TestGateway;

beforeAll(async () => {
  mock = await startTestMock();
  gw = await startTestGateway(
    gatewayConfig([
      { name: 'smart', deployments: [deployment(mock, 'smart-claude', 'anthropic', { model: 'claude-sonnet-mock' })] },
      { name: 'gpt-via-messages', deployments: [deployment(mock, 'gpt-openai', 'openai', { model: 'gpt-mock' })] },
      { name: 'azure-via-messages', deployments: [deployment(mock, 'gpt-azure', 'azure', { model: 'gpt-4o-mock' })] },
    ]),
  );
});

afterAll(async () => {
  await gw?.close();
  await mock?.close();
});

const lookupTool: OpenAI.Chat.ChatCompletionFunctionTool = {
  type: 'function',
  function: {
    name: 'lookup_order',
    description: 'Find an order',
    parameters: { type: 'object', properties: { order_id: { type: 'string' }, quantity: { type: 'integer' } }, required: ['order_id', 'quantity'] },
  },
};

const lastUpstream = async (): Promise<{ path: string; model: string | null }> => (await mockStats(mock)).recent.at(-1)!;

describe('OpenAI client, Anthropic deployment', () => {
  it('gets an OpenAI chat completion named after the upstream model, served over the Messages API', async () => {
    const res = await gw.openai().chat.completions.create({
      model: 'smart',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: 'hello' },
      ],
    });
    expect(await lastUpstream()).toMatchObject({ path: '/v1/messages', model: 'claude-sonnet-mock' });
    expect(res.object).toBe('chat.completion');
    expect(res.model).toBe('claude-sonnet-mock');
    expect(res.choices[0]!.message).toMatchObject({ role: 'assistant', content: expect.stringMatching(/^This is the Switchboard mock/) });
    expect(res.choices[0]!.finish_reason).toBe('stop');
    expect(res.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: 16, total_tokens: expect.any(Number) });
    expect(res.usage!.total_tokens).toBe(res.usage!.prompt_tokens + res.usage!.completion_tokens);
  });

  it('streams OpenAI chunks translated from Anthropic events', async () => {
    const stream = await gw.openai().chat.completions.create({ model: 'smart', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const chunks: OpenAI.Chat.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === 'claude-sonnet-mock')).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toMatch(/^This is the Switchboard mock/);
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe('stop');
    expect(chunks.some((c) => c.usage)).toBe(false);
  });

  it('gets a tool call with parsed arguments and answers it in a second turn', async () => {
    const client = gw.openai();
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Where is order 42?' }];
    const first = await client.chat.completions.create({ model: 'smart', messages, tools: [lookupTool] });
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(first.choices[0]!.finish_reason).toBe('tool_calls');
    expect(call.type).toBe('function');
    if (call.type !== 'function') return;
    expect(call.function.name).toBe('lookup_order');
    expect(JSON.parse(call.function.arguments)).toEqual({ order_id: 'mock', quantity: 1 });

    const second = await client.chat.completions.create({
      model: 'smart',
      tools: [lookupTool],
      messages: [...messages, first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: '{"status":"shipped"}' }],
    });
    expect(second.choices[0]!.finish_reason).toBe('stop');
    expect(second.choices[0]!.message.content).toMatch(/^This is the Switchboard mock/);
  });
});

describe.each([
  ['OpenAI', 'gpt-via-messages', '/v1/chat/completions', 'gpt-mock'],
  ['Azure', 'azure-via-messages', '/openai/deployments/gpt-4o-mock/chat/completions', 'gpt-4o-mock'],
])('Anthropic client, %s deployment', (_kind, alias, path, upstreamModel) => {
  const tools: Anthropic.Tool[] = [{ name: 'lookup_order', description: 'Find an order', input_schema: lookupTool.function.parameters as Anthropic.Tool.InputSchema }];

  it('gets an Anthropic message named after the upstream model, served over Chat Completions', async () => {
    const msg = await gw.anthropic().messages.create({ model: alias, max_tokens: 100, system: 'be brief', messages: [{ role: 'user', content: 'hello' }] });
    expect(await lastUpstream()).toMatchObject({ path, model: upstreamModel });
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', model: upstreamModel, stop_reason: 'end_turn' });
    expect(msg.content).toEqual([{ type: 'text', text: expect.stringMatching(/^This is the Switchboard mock/) }]);
    expect(msg.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: 16 });
  });

  it('streams Anthropic events translated from OpenAI chunks', async () => {
    const stream = gw.anthropic().messages.stream({ model: alias, max_tokens: 100, messages: [{ role: 'user', content: 'hello' }] });
    const types: string[] = [];
    stream.on('streamEvent', (event) => types.push(event.type));
    const final = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(types).toContain('content_block_delta');
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBe(16);
  });

  it('gets a tool_use block with parsed input and answers it with a tool_result', async () => {
    const client = gw.anthropic();
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Where is order 42?' }];
    const first = await client.messages.create({ model: alias, max_tokens: 100, tools, messages });
    expect(first.stop_reason).toBe('tool_use');
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(use).toMatchObject({ name: 'lookup_order', input: { order_id: 'mock', quantity: 1 } });

    const second = await client.messages.create({
      model: alias,
      max_tokens: 100,
      tools,
      messages: [...messages, { role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'shipped' }] }],
    });
    expect(second.stop_reason).toBe('end_turn');
    expect(second.content[0]).toMatchObject({ type: 'text', text: expect.stringMatching(/^This is the Switchboard mock/) });
  });
});
