// Every provider kind x every client wire: a client request goes through translate + prepare,
// a real-format upstream answer (JSON and SSE) comes back through translate / relay, and the
// official OpenAI and Anthropic SDKs must read the result as the same content, tool calls,
// finish reason and usage.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { Deployment, ProviderKind } from '@switchboard/crds/runtime';
import { SseParser } from '../sse/parser.js';
import { formatSse } from '../sse/format.js';
import { providerFor, translatorFor, upstreamOperation, usageFromText, usageTap } from './index.js';
import type { JsonObject, Operation, SseEvent, Usage, Wire } from './types.js';
import { operationWire } from './types.js';

const API_KEY = 'sk-conformance-secret-0123456789';
const CLIENT_MODEL = 'smart';
const fixedClock = (): number => 1_750_000_000_000;

const deployments: Record<ProviderKind, Deployment> = {
  openai: { name: 'oa', provider: 'openai', model: 'gpt-4o', baseUrl: 'https://api.openai.com/v1/', weight: 1, headers: { 'OpenAI-Organization': 'org-1' } },
  'openai-compatible': { name: 'vllm', provider: 'openai-compatible', model: 'meta-llama/Llama-3.1-8B-Instruct', baseUrl: 'http://vllm:8000/v1', weight: 1 },
  azure: { name: 'az', provider: 'azure', model: 'gpt4o-prod', baseUrl: 'https://res.openai.azure.com/', apiVersion: '2024-10-21', weight: 1 },
  anthropic: { name: 'an', provider: 'anthropic', model: 'claude-sonnet-4-5', baseUrl: 'https://api.anthropic.com', weight: 1, headers: { 'anthropic-beta': 'x' } },
};

const expectedUrl: Record<ProviderKind, string> = {
  openai: 'https://api.openai.com/v1/chat/completions',
  'openai-compatible': 'http://vllm:8000/v1/chat/completions',
  azure: 'https://res.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21',
  anthropic: 'https://api.anthropic.com/v1/messages',
};

const authHeader: Record<ProviderKind, [string, string]> = {
  openai: ['authorization', `Bearer ${API_KEY}`],
  'openai-compatible': ['authorization', `Bearer ${API_KEY}`],
  azure: ['api-key', API_KEY],
  anthropic: ['x-api-key', API_KEY],
};

// ---------------------------------------------------------------- requests

const weatherSchema = { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] };
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** The same conversations written by an OpenAI client and by an Anthropic client. */
const requests: Record<string, Record<Wire, JsonObject>> = {
  'plain chat': {
    openai: { model: CLIENT_MODEL, messages: [{ role: 'user', content: 'Hello' }] },
    anthropic: { model: CLIENT_MODEL, max_tokens: 1024, messages: [{ role: 'user', content: 'Hello' }] },
  },
  'system prompt, sampling and images': {
    openai: {
      model: CLIENT_MODEL,
      temperature: 0.5,
      top_p: 0.9,
      messages: [
        { role: 'system', content: 'You are terse.' },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these images?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    },
    anthropic: {
      model: CLIENT_MODEL,
      max_tokens: 1024,
      temperature: 0.5,
      top_p: 0.9,
      system: 'You are terse.',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these images?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
            { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    },
  },
  'tools and a tool call round trip': {
    openai: {
      model: CLIENT_MODEL,
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Current weather', parameters: weatherSchema } }],
      tool_choice: 'required',
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Rome"}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '18C, cloudy' },
        { role: 'tool', tool_call_id: 'call_2', content: '25C, sunny' },
      ],
    },
    anthropic: {
      model: CLIENT_MODEL,
      max_tokens: 1024,
      tools: [{ name: 'get_weather', description: 'Current weather', input_schema: weatherSchema }],
      tool_choice: { type: 'any' },
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        {
          role: 'assistant',
          content: [
            { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
            { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { location: 'Rome' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'call_1', content: '18C, cloudy' },
            { type: 'tool_result', tool_use_id: 'call_2', content: '25C, sunny' },
          ],
        },
      ],
    },
  },
  'stop sequences': {
    openai: { model: CLIENT_MODEL, stop: ['5', 'END'], messages: [{ role: 'user', content: 'Count to ten' }] },
    anthropic: { model: CLIENT_MODEL, max_tokens: 1024, stop_sequences: ['5', 'END'], messages: [{ role: 'user', content: 'Count to ten' }] },
  },
  'max tokens': {
    openai: { model: CLIENT_MODEL, max_completion_tokens: 5, messages: [{ role: 'user', content: 'Tell me about Rome' }] },
    anthropic: { model: CLIENT_MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'Tell me about Rome' }] },
  },
};

type Item =
  | { kind: 'system'; text: string }
  | { kind: 'text'; role: string; text: string }
  | { kind: 'image'; role: string; url: string }
  | { kind: 'tool_call'; id: string; name: string; args: unknown }
  | { kind: 'tool_result'; id: string; content: string };

interface CanonRequest {
  items: Item[];
  tools: { name: string; description?: string; schema: unknown }[];
  toolChoice?: string;
  stop?: string[];
  maxTokens?: number;
  temperature?: number;
  topP?: number;
}

type Loose = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function pushItem(items: Item[], item: Item): void {
  const last = items[items.length - 1];
  if (item.kind === 'text' && last?.kind === 'text' && last.role === item.role) last.text += item.text;
  else items.push(item);
}

function canonOpenAI(body: Loose): CanonRequest {
  const items: Item[] = [];
  for (const m of body.messages as Loose[]) {
    const parts: Loose[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content ?? []);
    if (m.role === 'system' || m.role === 'developer') items.push({ kind: 'system', text: parts.map((p) => p.text).join('') });
    else if (m.role === 'tool') items.push({ kind: 'tool_result', id: m.tool_call_id, content: parts.map((p) => p.text).join('') });
    else {
      for (const p of parts) {
        if (p.type === 'text') pushItem(items, { kind: 'text', role: m.role, text: p.text });
        else items.push({ kind: 'image', role: m.role, url: p.image_url.url });
      }
      for (const c of m.tool_calls ?? []) items.push({ kind: 'tool_call', id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) });
    }
  }
  const choice = body.tool_choice;
  return {
    items,
    tools: (body.tools ?? []).map((t: Loose) => ({ name: t.function.name, description: t.function.description, schema: t.function.parameters })),
    toolChoice: choice === undefined ? undefined : typeof choice === 'string' ? ({ required: 'any' } as Loose)[choice] ?? choice : `tool:${choice.function.name}`,
    stop: typeof body.stop === 'string' ? [body.stop] : body.stop,
    maxTokens: body.max_completion_tokens ?? body.max_tokens,
    temperature: body.temperature,
    topP: body.top_p,
  };
}

function canonAnthropic(body: Loose): CanonRequest {
  const items: Item[] = [];
  if (body.system !== undefined) {
    items.push({ kind: 'system', text: typeof body.system === 'string' ? body.system : body.system.map((b: Loose) => b.text).join('') });
  }
  for (const m of body.messages as Loose[]) {
    const blocks: Loose[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    for (const b of blocks) {
      if (b.type === 'text') pushItem(items, { kind: 'text', role: m.role, text: b.text });
      else if (b.type === 'image') {
        const url = b.source.type === 'url' ? b.source.url : `data:${b.source.media_type};base64,${b.source.data}`;
        items.push({ kind: 'image', role: m.role, url });
      } else if (b.type === 'tool_use') items.push({ kind: 'tool_call', id: b.id, name: b.name, args: b.input });
      else if (b.type === 'tool_result') items.push({ kind: 'tool_result', id: b.tool_use_id, content: b.content });
    }
  }
  const choice = body.tool_choice;
  return {
    items,
    tools: (body.tools ?? []).map((t: Loose) => ({ name: t.name, description: t.description, schema: t.input_schema })),
    toolChoice: choice === undefined ? undefined : choice.type === 'tool' ? `tool:${choice.name}` : choice.type,
    stop: body.stop_sequences,
    maxTokens: body.max_tokens,
    temperature: body.temperature,
    topP: body.top_p,
  };
}

const canonRequest = (wire: Wire, body: JsonObject): CanonRequest => (wire === 'openai' ? canonOpenAI(body) : canonAnthropic(body));

/** Structural rules the upstream API enforces on a request body. */
function assertValidUpstreamRequest(wire: Wire, body: Loose, model: string): void {
  expect(body.model).toBe(model);
  expect(Array.isArray(body.messages)).toBe(true);
  if (wire === 'anthropic') {
    expect(typeof body.max_tokens).toBe('number');
    expect(body.messages[0].role).toBe('user');
    body.messages.forEach((m: Loose, i: number) => {
      expect(['user', 'assistant']).toContain(m.role);
      if (i > 0) expect(m.role).not.toBe(body.messages[i - 1].role);
      const uses = Array.isArray(m.content) ? m.content.filter((b: Loose) => b.type === 'tool_use') : [];
      // Every tool_use is answered by a tool_result at the start of the next user message.
      if (uses.length > 0) {
        const next: Loose[] = body.messages[i + 1]?.content ?? [];
        expect(next.slice(0, uses.length).map((b) => b.tool_use_id)).toEqual(uses.map((u: Loose) => u.id));
      }
    });
  } else {
    body.messages.forEach((m: Loose, i: number) => {
      expect(['system', 'developer', 'user', 'assistant', 'tool']).toContain(m.role);
      for (const [j, call] of (m.tool_calls ?? []).entries()) {
        expect(body.messages[i + 1 + j]).toMatchObject({ role: 'tool', tool_call_id: call.id });
        expect(typeof call.function.arguments).toBe('string');
      }
    });
  }
}

// ---------------------------------------------------------------- responses

interface CanonAnswer {
  text: string;
  toolCalls: { id: string; name: string; args: unknown }[];
  finish: 'stop' | 'length' | 'tool_calls';
  usage: { in: number; out: number };
}

const weatherArgs = { location: 'Paris, France', unit: 'celsius' };
const answers: Record<string, Record<Wire, CanonAnswer>> = {
  text: {
    anthropic: { text: 'Hello! How can I help?', toolCalls: [], finish: 'stop', usage: { in: 25, out: 12 } },
    openai: { text: 'Hello! How can I help?', toolCalls: [], finish: 'stop', usage: { in: 25, out: 12 } },
  },
  tool: {
    anthropic: {
      text: 'Let me check the weather.',
      toolCalls: [{ id: 'toolu_01A09q90qw90lq917835lq9', name: 'get_weather', args: weatherArgs }],
      finish: 'tool_calls',
      usage: { in: 410, out: 58 },
    },
    openai: { text: '', toolCalls: [{ id: 'call_abc123', name: 'get_weather', args: weatherArgs }], finish: 'tool_calls', usage: { in: 410, out: 58 } },
  },
  length: {
    anthropic: { text: 'The history of Rome begins', toolCalls: [], finish: 'length', usage: { in: 30, out: 5 } },
    openai: { text: 'The history of Rome begins', toolCalls: [], finish: 'length', usage: { in: 30, out: 5 } },
  },
  stopseq: {
    anthropic: { text: '1, 2, 3, 4, ', toolCalls: [], finish: 'stop', usage: { in: 18, out: 10 } },
    openai: { text: '1, 2, 3, 4, ', toolCalls: [], finish: 'stop', usage: { in: 18, out: 10 } },
  },
};

const fixture = (path: string): string => readFileSync(new URL(`./testdata/${path}`, import.meta.url), 'utf8');

function upstreamFixture(kind: ProviderKind, name: string, ext: 'json' | 'sse'): string {
  const wire = providerFor(kind).wire;
  // Azure streams open with a prompt-filter chunk that has no choices.
  if (kind === 'azure' && name === 'text' && ext === 'sse') return fixture('openai/azure-text.sse');
  return fixture(`${wire}/${name}.${ext}`);
}

const stopToFinish: Record<string, CanonAnswer['finish']> = { end_turn: 'stop', stop_sequence: 'stop', max_tokens: 'length', tool_use: 'tool_calls' };

function respond(body: string, contentType: string): typeof fetch {
  return async () => new Response(body, { headers: { 'content-type': contentType } });
}

/** Reads a client-wire answer with the official SDK of that wire, as an application would. */
async function readWithSdk(wire: Wire, body: string, streamed: boolean, includeUsage: boolean): Promise<CanonAnswer> {
  const type = streamed ? 'text/event-stream' : 'application/json';
  if (wire === 'openai') {
    const client = new OpenAI({ apiKey: 'client', baseURL: 'http://gateway.test/v1', fetch: respond(body, type), maxRetries: 0 });
    const params = { model: CLIENT_MODEL, messages: [{ role: 'user' as const, content: 'x' }] };
    const completion = streamed
      ? await client.chat.completions.stream({ ...params, ...(includeUsage ? { stream_options: { include_usage: true } } : {}) }).finalChatCompletion()
      : await client.chat.completions.create(params);
    const choice = completion.choices[0]!;
    return {
      text: choice.message.content ?? '',
      toolCalls: (choice.message.tool_calls ?? []).map((c) => {
        if (c.type !== 'function') throw new Error('custom tool call');
        return { id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) };
      }),
      finish: choice.finish_reason as CanonAnswer['finish'],
      usage: { in: completion.usage?.prompt_tokens ?? -1, out: completion.usage?.completion_tokens ?? -1 },
    };
  }
  const client = new Anthropic({ apiKey: 'client', baseURL: 'http://gateway.test', fetch: respond(body, type), maxRetries: 0 });
  const params = { model: CLIENT_MODEL, max_tokens: 100, messages: [{ role: 'user' as const, content: 'x' }] };
  const message = streamed ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
  let text = '';
  const toolCalls: CanonAnswer['toolCalls'] = [];
  for (const block of message.content) {
    if (block.type === 'text') text += block.text;
    if (block.type === 'tool_use') toolCalls.push({ id: block.id, name: block.name, args: block.input });
  }
  return { text, toolCalls, finish: stopToFinish[message.stop_reason ?? '']!, usage: { in: message.usage.input_tokens, out: message.usage.output_tokens } };
}

/** Stream rules the SDKs do not check: event names, terminators, the usage chunk on request only. */
function assertWellFormedStream(wire: Wire, events: SseEvent[], includeUsage: boolean, translated: boolean): void {
  const last = events[events.length - 1]!;
  if (wire === 'openai') {
    expect(last.data).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as Loose);
    // Relayed streams are the upstream's own (Azure opens with an object-less filter chunk).
    if (translated) for (const chunk of chunks) expect(chunk).toMatchObject({ object: 'chat.completion.chunk', model: CLIENT_MODEL });
    const finishes = chunks.flatMap((c) => c.choices.filter((ch: Loose) => ch.finish_reason));
    expect(finishes).toHaveLength(1);
    if (translated) expect(chunks.some((c) => c.choices.length === 0 && c.usage)).toBe(includeUsage);
  } else {
    expect(events[0]!.event).toBe('message_start');
    expect(last.event).toBe('message_stop');
    for (const e of events) expect(JSON.parse(e.data).type).toBe(e.event);
  }
}

/** Splits text into uneven chunks, as a network would. */
function chunksOf(text: string): Buffer[] {
  const bytes = Buffer.from(text);
  const out: Buffer[] = [];
  for (let i = 0, size = 1; i < bytes.length; i += size, size = (size * 7) % 61 + 1) out.push(bytes.subarray(i, i + size));
  return out;
}

interface StreamResult {
  clientText: string;
  usage: Usage | undefined;
}

function relayStream(kind: ProviderKind, clientWire: Wire, sse: string, includeUsage: boolean): StreamResult {
  const translator = translatorFor(clientWire, providerFor(kind).wire, fixedClock);
  const parser = new SseParser();
  const tap = usageTap(providerFor(kind).wire);
  const translating = translator?.stream(CLIENT_MODEL, includeUsage);
  let clientText = '';
  const relay = (events: SseEvent[]): void => {
    for (const event of events) {
      if (translating) clientText += translating.push(event);
      else {
        tap.push(event);
        clientText += formatSse(event);
      }
    }
  };
  for (const chunk of chunksOf(sse)) relay(parser.push(chunk));
  relay(parser.end());
  if (translating) clientText += translating.end();
  return { clientText, usage: translating ? translating.usage() : tap.usage() };
}

function parseAll(text: string): SseEvent[] {
  const parser = new SseParser();
  return [...parser.push(text), ...parser.end()];
}

const kinds: ProviderKind[] = ['openai', 'openai-compatible', 'azure', 'anthropic'];
const clientOps: Operation[] = ['chat', 'messages'];

describe.each(kinds)('provider %s', (kind) => {
  const provider = providerFor(kind);
  const deployment = deployments[kind];

  describe.each(clientOps)('client operation %s', (clientOp) => {
    const clientWire = operationWire[clientOp];
    const translator = translatorFor(clientWire, provider.wire, fixedClock);
    const op = upstreamOperation(clientOp, provider)!;

    it.each(Object.keys(requests))('sends "%s" upstream as a valid request with the same meaning', (name) => {
      const clientBody = requests[name]![clientWire];
      const upstreamBody = translator ? translator.request(structuredClone(clientBody)) : clientBody;
      const upstream = provider.prepare(op, upstreamBody, deployment, API_KEY);

      expect(upstream.method).toBe('POST');
      expect(upstream.url).toBe(expectedUrl[kind]);
      expect(upstream.headers['content-type']).toBe('application/json');
      const [authName, authValue] = authHeader[kind];
      expect(upstream.headers[authName]).toBe(authValue);
      // The key is in the auth header and nowhere else.
      expect(Object.entries(upstream.headers).filter(([, v]) => v.includes(API_KEY))).toEqual([[authName, authValue]]);
      expect(upstream.url).not.toContain(API_KEY);
      expect(upstream.body).not.toContain(API_KEY);
      for (const [h, v] of Object.entries(deployment.headers ?? {})) expect(upstream.headers[h.toLowerCase()]).toBe(v);
      if (kind === 'anthropic') expect(upstream.headers['anthropic-version']).toBe('2023-06-01');

      const sent = JSON.parse(upstream.body) as JsonObject;
      assertValidUpstreamRequest(provider.wire, sent, deployment.model);
      const want = canonRequest(clientWire, clientBody);
      const got = canonRequest(provider.wire, sent);
      if (want.maxTokens === undefined && provider.wire === 'anthropic') {
        expect(got.maxTokens).toBe(4096);
        got.maxTokens = undefined;
      }
      expect(got).toEqual(want);
    });

    describe.each(Object.keys(answers))('upstream answer "%s"', (name) => {
      const expected = answers[name]![provider.wire];

      it('reaches the client as a valid non-streamed body with the same content, finish reason and usage', async () => {
        const upstreamText = upstreamFixture(kind, name, 'json');
        const parsed = JSON.parse(upstreamText) as JsonObject;
        expect(usageFromText(provider.wire, JSON.stringify(parsed))).toEqual({ inputTokens: expected.usage.in, outputTokens: expected.usage.out });
        const clientText = translator ? JSON.stringify(translator.response(parsed, CLIENT_MODEL)) : upstreamText;
        if (translator) expect(JSON.parse(clientText).model).toBe(CLIENT_MODEL);
        await expect(readWithSdk(clientWire, clientText, false, false)).resolves.toEqual(expected);
      });

      it.each([true, false])('reaches the client as a valid stream with the same content (include_usage %s)', async (includeUsage) => {
        const { clientText, usage } = relayStream(kind, clientWire, upstreamFixture(kind, name, 'sse'), includeUsage);
        assertWellFormedStream(clientWire, parseAll(clientText), includeUsage, translator !== undefined);
        expect(usage).toEqual({ inputTokens: expected.usage.in, outputTokens: expected.usage.out });
        const read = await readWithSdk(clientWire, clientText, true, includeUsage);
        const sdkSeesUsage = clientWire === 'anthropic' || includeUsage || !translator;
        expect(read).toEqual(sdkSeesUsage ? expected : { ...expected, usage: { in: -1, out: -1 } });
      });
    });

    it('maps an upstream error to the client error format, keeping the message', () => {
      const [status, file] = provider.wire === 'openai' ? [429, 'openai/error-429.json'] : [529, 'anthropic/error-529.json'];
      const upstream = JSON.parse(fixture(file)) as Loose;
      const body = (translator ? translator.error(status, upstream) : upstream) as Loose;
      const message = upstream.error.message as string;
      if (clientWire === 'openai') expect(body.error).toMatchObject({ message, type: expect.any(String), param: null });
      else expect(body).toEqual({ type: 'error', error: { type: expect.any(String), message } });
    });
  });
});
