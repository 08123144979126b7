import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import { startMock, type MockServer, type MockStats } from './server.js';

let mock: MockServer;

beforeAll(async () => {
  mock = await startMock({ historySize: 3 });
});
afterAll(() => mock.close());

const short = (key: string): string => createHash('sha256').update(key).digest('hex').slice(0, 8);

describe('traffic stats', () => {
  it('records model, path, stream, trace headers and a credential fingerprint, never the key', async () => {
    await fetch(`${mock.url}/mock/reset`, { method: 'POST' });
    const first = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'sk-first-key', maxRetries: 0 });
    const second = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'sk-rotated-key', maxRetries: 0 });
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await first.chat.completions.create(
      { model: 'alpha', messages: [{ role: 'user', content: 'x' }] },
      { headers: { traceparent, 'x-request-id': 'req-1' } },
    );
    const stream = await second.chat.completions.create({ model: 'beta', stream: true, messages: [{ role: 'user', content: 'x' }] });
    for await (const _ of stream) void _;
    await second.embeddings.create({ model: 'beta', input: 'x' });

    const stats = mock.stats();
    expect(stats.requests).toBe(3);
    expect(stats.byModel).toEqual({ alpha: 1, beta: 2 });
    expect(stats.byPath).toEqual({ '/v1/chat/completions': 2, '/v1/embeddings': 1 });
    expect(stats.recent.map((r) => [r.path, r.model, r.stream, r.credential, r.status])).toEqual([
      ['/v1/chat/completions', 'alpha', false, short('sk-first-key'), 200],
      ['/v1/chat/completions', 'beta', true, short('sk-rotated-key'), 200],
      ['/v1/embeddings', 'beta', false, short('sk-rotated-key'), 200],
    ]);
    expect(stats.recent[0]!.headers).toEqual({ traceparent, 'x-request-id': 'req-1' });
    expect(stats.recent[1]!.headers).toEqual({});
    const served = (await (await fetch(`${mock.url}/mock/stats`)).json()) as MockStats;
    expect(served).toEqual(stats);
    expect(JSON.stringify(served)).not.toContain('sk-');
  });

  it('keeps only the last N requests, oldest first, and clears on POST /mock/reset', async () => {
    for (const model of ['m1', 'm2', 'm3', 'm4']) {
      await fetch(`${mock.url}/v1/embeddings`, { method: 'POST', body: JSON.stringify({ model, input: 'x' }) });
    }
    expect(mock.stats().recent.map((r) => r.model)).toEqual(['m2', 'm3', 'm4']);
    expect(mock.stats().recent.every((r) => r.credential === null)).toBe(true);
    const res = await fetch(`${mock.url}/mock/reset`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(mock.stats()).toMatchObject({ requests: 0, byModel: {}, byPath: {}, recent: [], concurrency: { refused: 0 } });
  });

  it('answers a readiness probe and 404s unknown paths in OpenAI format', async () => {
    expect((await fetch(`${mock.url}/mock/health`)).status).toBe(200);
    const res = await fetch(`${mock.url}/v2/nothing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});
