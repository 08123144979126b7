// Live provider conformance: every provider kind x client wire x streamed or not x reply kind
// goes through a real gateway to the real mock and must meet one contract — content present,
// finish/stop reason mapped to the client's vocabulary, usage counted, tool call name and
// arguments intact (and a tool result accepted in a second turn), routing headers set, and the
// upstream reached on its own wire.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import type { ProviderKind } from '@switchboard/crds';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { PROVIDERS, deployment, gatewayConfig, mockStats, startTestGateway, startTestMock, type TestGateway } from '../support/stack.js';

type ClientWire = 'openai-chat' | 'anthropic-messages';
type ReplyKind = 'text' | 'truncated' | 'tool';

let mock: MockServer;
let gw: TestGateway;

beforeAll(async () => {
  mock = await startTestMock();
  gw = await startTestGateway(gatewayConfig(PROVIDERS.map((p) => ({ name: `conf-${p}`, deployments: [deployment(mock, `conf-${p}-up`, p)] }))));
});

afterAll(async () => {
  await gw?.close();
  await mock?.close();
});

const WEATHER_SCHEMA = {
  type: 'object' as const,
  properties: { city: { type: 'string' }, days: { type: 'integer' }, metric: { type: 'boolean' } },
  required: ['city', 'days'],
};
const EXPECTED_ARGS = { city: 'mock', days: 1 };
const MOCK_TEXT = /^This is the Switchboard mock/;

/** What any client saw, in one vocabulary. */
interface Outcome {
  text: string;
  finish: string | null;
  inputTokens: number;
  outputTokens: number;
  tool: { id: string; name: string; args: unknown } | undefined;
  headers: Headers;
  /** Carries on the conversation with `result` as the tool's answer. */
  answerTool(result: string): Promise<Outcome>;
}

const expectedFinish: Record<ClientWire, Record<ReplyKind, string>> = {
  'openai-chat': { text: 'stop', truncated: 'length', tool: 'tool_calls' },
  'anthropic-messages': { text: 'end_turn', truncated: 'max_tokens', tool: 'tool_use' },
};

/** Where the mock must have been called for a deployment of each provider kind. */
function upstreamPath(provider: ProviderKind): string {
  if (provider === 'anthropic') return '/v1/messages';
  if (provider === 'azure') return `/openai/deployments/conf-${provider}-up-model/chat/completions`;
  return '/v1/chat/completions';
}

async function viaOpenAI(model: string, stream: boolean, kind: ReplyKind, messages: OpenAI.Chat.ChatCompletionMessageParam[]): Promise<Outcome> {
  const client = gw.openai();
  const params = {
    model,
    messages,
    ...(kind === 'truncated' ? { max_tokens: 5 } : {}),
    ...(kind === 'tool' ? { tools: [{ type: 'function' as const, function: { name: 'get_weather', description: 'Weather by city', parameters: WEATHER_SCHEMA } }] } : {}),
  };
  let outcome: Omit<Outcome, 'answerTool'>;
  let toolCalls: OpenAI.Chat.ChatCompletionMessageFunctionToolCall[] = [];
  let content: string | null = null;
  if (!stream) {
    const { data, response } = await client.chat.completions.create(params).withResponse();
    const choice = data.choices[0]!;
    content = choice.message.content;
    toolCalls = (choice.message.tool_calls ?? []).filter((c) => c.type === 'function');
    const call = toolCalls[0];
    outcome = {
      text: content ?? '',
      finish: choice.finish_reason,
      inputTokens: data.usage?.prompt_tokens ?? 0,
      outputTokens: data.usage?.completion_tokens ?? 0,
      tool: call && { id: call.id, name: call.function.name, args: JSON.parse(call.function.arguments) },
      headers: response.headers,
    };
  } else {
    const { data, response } = await client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }).withResponse();
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    const calls = new Map<number, { id: string; name: string; args: string }>();
    for await (const chunk of data) {
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      text += choice.delta.content ?? '';
      for (const delta of choice.delta.tool_calls ?? []) {
        const call = calls.get(delta.index) ?? { id: '', name: '', args: '' };
        call.id ||= delta.id ?? '';
        call.name += delta.function?.name ?? '';
        call.args += delta.function?.arguments ?? '';
        calls.set(delta.index, call);
      }
      finish = choice.finish_reason ?? finish;
    }
    const call = calls.get(0);
    content = text || null;
    toolCalls = [...calls.values()].map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.args } }));
    outcome = {
      text,
      finish,
      inputTokens: usage?.prompt_tokens ?? 0,
      outputTokens: usage?.completion_tokens ?? 0,
      tool: call && { id: call.id, name: call.name, args: JSON.parse(call.args) },
      headers: response.headers,
    };
  }
  return {
    ...outcome,
    answerTool: (result) =>
      viaOpenAI(model, stream, 'tool', [
        ...messages,
        { role: 'assistant', content, tool_calls: toolCalls },
        { role: 'tool', tool_call_id: toolCalls[0]!.id, content: result },
      ]),
  };
}

async function viaAnthropic(model: string, stream: boolean, kind: ReplyKind, messages: Anthropic.MessageParam[]): Promise<Outcome> {
  const client = gw.anthropic();
  const params: Anthropic.MessageCreateParamsNonStreaming = {
    model,
    max_tokens: kind === 'truncated' ? 5 : 256,
    messages,
    ...(kind === 'tool' ? { tools: [{ name: 'get_weather', description: 'Weather by city', input_schema: WEATHER_SCHEMA }] } : {}),
  };
  let message: Anthropic.Message;
  let headers: Headers;
  if (!stream) {
    const { data, response } = await client.messages.create(params).withResponse();
    message = data;
    headers = response.headers;
  } else {
    const events = client.messages.stream(params);
    headers = (await events.withResponse()).response.headers;
    message = await events.finalMessage();
  }
  const toolUse = message.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
  return {
    text: message.content.flatMap((b) => (b.type === 'text' ? [b.text] : [])).join(''),
    finish: message.stop_reason,
    inputTokens: message.usage.input_tokens,
    outputTokens: message.usage.output_tokens,
    tool: toolUse && { id: toolUse.id, name: toolUse.name, args: toolUse.input },
    headers,
    answerTool: (result) =>
      viaAnthropic(model, stream, 'tool', [
        ...messages,
        { role: 'assistant', content: message.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse!.id, content: result }] },
      ]),
  };
}

function send(wire: ClientWire, model: string, stream: boolean, kind: ReplyKind): Promise<Outcome> {
  const prompt = kind === 'tool' ? 'What is the weather in Paris?' : 'Tell me something.';
  return wire === 'openai-chat'
    ? viaOpenAI(model, stream, kind, [{ role: 'user', content: prompt }])
    : viaAnthropic(model, stream, kind, [{ role: 'user', content: prompt }]);
}

const WIRES: ClientWire[] = ['openai-chat', 'anthropic-messages'];
const cases = PROVIDERS.flatMap((provider) =>
  WIRES.flatMap((wire) => [false, true].flatMap((stream) => (['text', 'truncated', 'tool'] as const).map((kind) => ({ provider, wire, stream, kind })))),
);

describe.each(PROVIDERS)('provider %s', (provider) => {
  const model = `conf-${provider}`;

  it.each(cases.filter((c) => c.provider === provider))('$wire client, stream=$stream, $kind reply meets the contract', async ({ wire, stream, kind }) => {
    const outcome = await send(wire, model, stream, kind);

    expect(outcome.headers.get('x-switchboard-model')).toBe(model);
    expect(outcome.headers.get('x-switchboard-deployment')).toBe(`${model}-up`);
    expect((await mockStats(mock)).recent.at(-1)).toMatchObject({ path: upstreamPath(provider), model: `${model}-up-model`, stream, status: 200 });
    expect(outcome.finish).toBe(expectedFinish[wire][kind]);
    expect(outcome.inputTokens).toBeGreaterThan(0);

    if (kind === 'tool') {
      expect(outcome.tool).toEqual({ id: expect.any(String), name: 'get_weather', args: EXPECTED_ARGS });
      expect(outcome.tool!.id).not.toBe('');
      expect(outcome.outputTokens).toBeGreaterThan(0);

      const second = await outcome.answerTool('{"temperature_c": 21}');
      expect(second.text).toMatch(MOCK_TEXT);
      expect(second.tool).toBeUndefined();
      expect(second.finish).toBe(expectedFinish[wire].text);
      expect(second.inputTokens).toBeGreaterThan(outcome.inputTokens);
    } else {
      expect(outcome.tool).toBeUndefined();
      // The mock's reply is 16 tokens; max_tokens: 5 keeps the first five.
      if (kind === 'truncated') expect(outcome.text).toBe('This is the Switchboard');
      else expect(outcome.text).toMatch(MOCK_TEXT);
      expect(outcome.outputTokens).toBe(kind === 'truncated' ? 5 : 16);
    }
  });
});
