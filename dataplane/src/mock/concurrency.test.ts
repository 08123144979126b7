import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startMock, type MockServer } from './server.js';

let mock: MockServer;

beforeAll(async () => {
  mock = await startMock({ maxConcurrency: 2, ttftMs: 300, retryAfterSeconds: 3 });
});
afterAll(() => mock.close());

const chat = (): Promise<Response> =>
  fetch(`${mock.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }) });

describe('--max-concurrency', () => {
  it('serves N requests at once and refuses the next at once with 429 and Retry-After', async () => {
    const served = [chat(), chat()];
    // Both hold their slot for 300 ms; the third arrives while they do.
    while (mock.stats().concurrency.active < 2) await new Promise((resolve) => setImmediate(resolve));
    const started = performance.now();
    const refused = await chat();
    expect(performance.now() - started).toBeLessThan(300);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('3');
    expect(((await refused.json()) as { error: { message: string } }).error.message).toContain('mock limit 2');
    expect((await Promise.all(served)).map((r) => r.status)).toEqual([200, 200]);
    expect(mock.stats().concurrency).toMatchObject({ peak: 2, refused: 1 });
  });

  it('frees a slot when a response ends', async () => {
    while (mock.stats().concurrency.active > 0) await new Promise((resolve) => setImmediate(resolve));
    expect((await chat()).status).toBe(200);
  });

  it('rejects a negative limit naming the option', async () => {
    await expect(startMock({ maxConcurrency: -1 })).rejects.toThrow('mock option maxConcurrency: expected an integer >= 0 (0: no limit), got -1');
  });
});
