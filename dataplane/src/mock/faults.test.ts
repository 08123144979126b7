import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { parseFault } from './faults.js';
import { startMock, type MockServer } from './server.js';

const defaults = { retryAfterSeconds: 1, slowHeadersMs: 1000, resetAfterChunks: 2 };

let mock: MockServer;
let openai: OpenAI;
let anthropic: Anthropic;

/** Polls a condition on the event loop (not a sleep-as-readiness: it returns as soon as it holds). */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

function withFault(fault: string): { headers: Record<string, string> } {
  return { headers: { 'x-mock-fault': fault } };
}

async function chat(url: string, headers: Record<string, string>, body: object = {}): Promise<Response> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
}

beforeAll(async () => {
  mock = await startMock({ retryAfterSeconds: 3 });
  openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'k', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: mock.url, apiKey: 'k', maxRetries: 0 });
});
afterAll(() => mock.close());

describe('fault specs', () => {
  it('parses statuses, parameters and rejects nonsense with a message naming the header', () => {
    expect(parseFault('429', defaults)).toEqual({ kind: 'status', status: 429, retryAfterSeconds: 1 });
    expect(parseFault('429:7', defaults)).toEqual({ kind: 'status', status: 429, retryAfterSeconds: 7 });
    expect(parseFault('500', defaults)).toEqual({ kind: 'status', status: 500, retryAfterSeconds: undefined });
    expect(parseFault('reset:5', defaults)).toEqual({ kind: 'reset', afterChunks: 5 });
    expect(parseFault('slow-headers', defaults)).toEqual({ kind: 'slow-headers', delayMs: 1000 });
    expect(parseFault(' HANG ', defaults)).toEqual({ kind: 'hang' });
    expect(parseFault('explode', defaults)).toMatch(/invalid x-mock-fault "explode"/);
    expect(parseFault('429:-1', defaults)).toMatch(/invalid x-mock-fault/);
    expect(parseFault('200', defaults)).toMatch(/invalid x-mock-fault/);
  });
});

describe('per-request faults (x-mock-fault)', () => {
  it('answers 429 with Retry-After visible to a raw fetch and to the SDK', async () => {
    const res = await chat(mock.url, { 'x-mock-fault': '429' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('rate_limit_exceeded');
    expect((await chat(mock.url, { 'x-mock-fault': '429:9' })).headers.get('retry-after')).toBe('9');

    const error = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, withFault('429')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('3');
  });

  it('answers 500 in each family\'s error format', async () => {
    await expect(openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, withFault('500'))).rejects.toBeInstanceOf(
      OpenAI.InternalServerError,
    );
    await expect(anthropic.messages.create({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, withFault('500'))).rejects.toMatchObject({
      status: 500,
      error: { type: 'error', error: { type: 'api_error' } },
    });
    await expect(anthropic.messages.create({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }, withFault('529'))).rejects.toMatchObject({
      status: 529,
      error: { error: { type: 'overloaded_error' } },
    });
  });

  it('resets the connection mid-stream after N chunks, and the client stream throws', async () => {
    const stream = await openai.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] }, withFault('reset:3'));
    const received: string[] = [];
    const consume = async (): Promise<void> => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
    };
    await expect(consume()).rejects.toThrow();
    expect(received.filter(Boolean)).toHaveLength(3);

    const messages = anthropic.messages.stream({ model: 'c', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] }, withFault('reset'));
    await expect(messages.finalMessage()).rejects.toThrow();
  });

  it('resets a non-streamed request before any response', async () => {
    await expect(chat(mock.url, { 'x-mock-fault': 'reset' })).rejects.toThrow();
  });

  it('delays the headers by slow-headers ms', async () => {
    const start = performance.now();
    const res = await chat(mock.url, { 'x-mock-fault': 'slow-headers:300' }, { stream: true });
    const elapsed = performance.now() - start;
    expect(res.status).toBe(200);
    expect(elapsed).toBeGreaterThanOrEqual(299);
    expect(await res.text()).toContain('data: [DONE]');
  });

  it('hangs without answering until the client gives up, and close() still returns', async () => {
    const own = await startMock({});
    const start = performance.now();
    const res = await fetch(`${own.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'x-mock-fault': 'hang' },
      body: '{"model":"m","messages":[{"role":"user","content":"x"}]}',
      signal: AbortSignal.timeout(200),
    }).catch((e: unknown) => e);
    expect(res).toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - start).toBeGreaterThanOrEqual(199);
    // A request still hanging when the mock closes is cut, not left open.
    const pending = chat(own.url, { 'x-mock-fault': 'hang' }).then(
      () => 'answered',
      () => 'cut',
    );
    await waitFor(() => own.stats().requests === 2);
    expect(own.stats().recent.map((r) => [r.fault, r.status])).toEqual([
      ['hang', null],
      ['hang', null],
    ]);
    await own.close();
    await expect(pending).resolves.toBe('cut');
  });

  it('rejects an invalid fault header with a 400 naming it', async () => {
    const res = await chat(mock.url, { 'x-mock-fault': 'explode' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/x-mock-fault/);
  });
});

describe('configured faults', () => {
  it('fails a seeded, reproducible fraction of requests with 500 (failRate)', async () => {
    const statuses = async (m: MockServer): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < 40; i++) out.push((await chat(m.url, {})).status);
      return out;
    };
    const a = await startMock({ failRate: 0.5, seed: 42 });
    const b = await startMock({ failRate: 0.5, seed: 42 });
    try {
      const first = await statuses(a);
      expect(first.filter((s) => s === 500).length).toBeGreaterThan(5);
      expect(first.filter((s) => s === 200).length).toBeGreaterThan(5);
      expect(await statuses(b)).toEqual(first);
      await fetch(`${a.url}/mock/reset`, { method: 'POST' });
      expect(await statuses(a)).toEqual(first);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('applies the fault option to every request, the header still winning', async () => {
    const m = await startMock({ fault: '503', retryAfterSeconds: 2 });
    try {
      const res = await chat(m.url, {});
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('2');
      expect((await chat(m.url, { 'x-mock-fault': '500' })).status).toBe(500);
    } finally {
      await m.close();
    }
  });

  it('refuses an invalid fault option at start', async () => {
    await expect(startMock({ fault: 'explode' })).rejects.toThrow(/fault/);
    await expect(startMock({ failRate: 2 })).rejects.toThrow(/failRate/);
  });
});
