import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { gapMs, responseDelayMs } from './pacing.js';
import { startMock, type MockServer } from './server.js';

describe('pacing arithmetic', () => {
  it('spaces tokens by 1000/tps ms, with no gap for 0 or Infinity', () => {
    expect(gapMs(50)).toBe(20);
    expect(gapMs(0)).toBe(0);
    expect(gapMs(Infinity)).toBe(0);
    expect(responseDelayMs(100, 50, 10)).toBe(300);
    expect(responseDelayMs(0, 0, 1000)).toBe(0);
  });
});

describe('paced responses', () => {
  let mock: MockServer;
  let client: OpenAI;
  const ttftMs = 150;
  const tokensPerSecond = 100;

  beforeAll(async () => {
    mock = await startMock({ ttftMs, tokensPerSecond, responseTokens: 10 });
    client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'k', maxRetries: 0 });
  });
  afterAll(() => mock.close());

  it('sends stream headers at once, the first chunk after ttftMs and one token per chunk at tps', async () => {
    const start = performance.now();
    const res = await fetch(`${mock.url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const headersAt = performance.now() - start;
    expect(headersAt).toBeLessThan(ttftMs);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const arrivals: number[] = [];
    let text = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      arrivals.push(performance.now() - start);
    }
    expect(arrivals[0]).toBeGreaterThanOrEqual(ttftMs - 1);
    const content = text.split('\n\n').filter((e) => e.includes('"content":"') && !e.includes('"content":""'));
    expect(content).toHaveLength(10);
    // Ten tokens at 100/s: the last arrives about 90 ms after the first, in separate writes.
    expect(arrivals.length).toBeGreaterThanOrEqual(5);
    expect(arrivals[arrivals.length - 1]! - arrivals[0]!).toBeGreaterThanOrEqual(80);
  });

  it('measures ttft through the SDK stream too', async () => {
    const start = performance.now();
    const stream = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let first: number | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) {
        first ??= performance.now() - start;
        chunks++;
      }
    }
    expect(first).toBeGreaterThanOrEqual(ttftMs - 1);
    expect(chunks).toBe(10);
  });

  it('sends a non-streamed response after ttft plus tokens/tps', async () => {
    const start = performance.now();
    const res = await client.chat.completions.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    expect(performance.now() - start).toBeGreaterThanOrEqual(ttftMs + 50 - 1);
    expect(res.usage?.completion_tokens).toBe(5);
  });
});

describe('stamped streams (--stamp-events)', () => {
  let mock: MockServer;
  const ttftMs = 30;
  const body = JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });

  beforeAll(async () => {
    mock = await startMock({ ttftMs, tokensPerSecond: 200, responseTokens: 6, stampEvents: true });
  });
  afterAll(() => mock.close());

  it('begins every write with the stream start and the write time on the shared monotonic clock', async () => {
    const requested = process.hrtime.bigint();
    const res = await fetch(`${mock.url}/v1/chat/completions`, { method: 'POST', body });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const reads: { at: bigint; text: string }[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      reads.push({ at: process.hrtime.bigint(), text: decoder.decode(value, { stream: true }) });
    }
    const stamps = reads.flatMap(({ at, text }) =>
      [...text.matchAll(/: stream-start=(\d+) sent=(\d+)\n/g)].map((m) => ({ at, start: BigInt(m[1]!), sent: BigInt(m[2]!) })),
    );
    // One stamp per write: six tokens 5 ms apart come in several writes, each read starts with one.
    expect(stamps.length).toBeGreaterThanOrEqual(3);
    for (const { text } of reads) expect(text.startsWith(': stream-start=')).toBe(true);
    const start = stamps[0]!.start;
    expect(start).toBeGreaterThan(requested);
    for (const [i, s] of stamps.entries()) {
      expect(s.start).toBe(start);
      expect(s.sent).toBeLessThanOrEqual(s.at);
      if (i > 0) expect(s.sent).toBeGreaterThan(stamps[i - 1]!.sent);
    }
    // The first write waits for the time to first token; the stamp shows that wait.
    expect(Number(stamps[0]!.sent - start) / 1e6).toBeGreaterThanOrEqual(ttftMs - 1);
  });

  it('stays a valid stream for an SDK, which skips the comments', async () => {
    const client = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'k', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'm', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let tokens = 0;
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) tokens++;
    expect(tokens).toBe(6);
  });

  it('is off by default', async () => {
    const plain = await startMock({ responseTokens: 2 });
    try {
      const res = await fetch(`${plain.url}/v1/chat/completions`, { method: 'POST', body });
      expect(await res.text()).not.toContain(': stream-start=');
    } finally {
      await plain.close();
    }
  });
});
