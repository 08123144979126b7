// Weighted fair queueing on a real gateway: two standard priority classes waiting at the same
// level share the freed slots by their weights; a critical key still goes first.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startMock, type MockServer } from '../../dataplane/src/mock/server.js';
import { MASTER_KEY, UPSTREAM_KEY, deployment, gatewayConfig, metricValue, sha256Hex, startTestGateway, waitFor, type TestGateway } from '../support/stack.js';

const KEYS = { search: 'sk-search', reports: 'sk-reports', checkout: 'sk-checkout' };
let mock: MockServer;
let slowMock: MockServer;
let gateway: TestGateway;

beforeAll(async () => {
  // One request at a time: a 3 s one on "hold" keeps the slot while the queue fills, then each
  // queued one takes 100 ms, so the queue order is the order of completion.
  mock = await startMock({ port: 0, apiKey: UPSTREAM_KEY, ttftMs: 100 });
  slowMock = await startMock({ port: 0, apiKey: UPSTREAM_KEY, ttftMs: 3000 });
  gateway = await startTestGateway(
    gatewayConfig([{ name: 'chat', deployments: [deployment(mock, 'fast', 'openai')] }, { name: 'hold', deployments: [deployment(slowMock, 'slow', 'openai')] }], {
      auth: { masterKey: { env: 'SWITCHBOARD_MASTER_KEY' }, clientKeys: Object.entries(KEYS).map(([name, key]) => ({ name, sha256: sha256Hex(key) })) },
      shedding: {
        maxConcurrency: 1,
        queue: { maxDepth: 20, timeout: '30s' },
        clients: [
          { key: 'search', priority: 'standard', priorityClass: 'search', weight: 3 },
          { key: 'reports', priority: 'standard', priorityClass: 'reports', weight: 1 },
          { key: 'checkout', priority: 'critical', priorityClass: 'interactive' },
        ],
      },
    }),
  );
});

afterAll(async () => {
  await gateway?.close();
  await mock?.close();
  await slowMock?.close();
});

async function call(key: string, model = 'chat'): Promise<number> {
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

const queueDepth = (depth: number): Promise<true> =>
  waitFor(`queue depth ${depth}`, async () => ((await metricValue(gateway.adminUrl, 'switchboard_admission_queue_depth')) === depth ? true : undefined));

describe('weighted fair queueing between priority classes', () => {
  it('serves waiting standard classes three to one by weight, after a critical waiter', async () => {
    const busy = call(MASTER_KEY, 'hold');
    await waitFor('one in flight', async () => ((await metricValue(gateway.adminUrl, 'switchboard_admission_in_flight')) === 1 ? true : undefined));
    const served: string[] = [];
    const waiting: Promise<void>[] = [];
    const enqueue = async (name: keyof typeof KEYS, depth: number): Promise<void> => {
      waiting.push(call(KEYS[name]).then((status) => void served.push(`${name} ${status}`)));
      await queueDepth(depth);
    };
    // Queued one by one (the depth gauge confirms each), so arrival order is known: all reports first.
    for (let i = 0; i < 4; i++) await enqueue('reports', i + 1);
    for (let i = 0; i < 6; i++) await enqueue('search', i + 5);
    await enqueue('checkout', 11);
    await busy;
    await Promise.all(waiting);
    expect(served[0]).toBe('checkout 200');
    // Start tags: reports 0,1,2,3; search 0,1/3,2/3,1,4/3,5/3 -> the first eight after checkout hold six search, two reports.
    const firstEight = served.slice(1, 9);
    expect(firstEight.filter((s) => s === 'search 200')).toHaveLength(6);
    expect(firstEight.filter((s) => s === 'reports 200')).toHaveLength(2);
    expect(served).toHaveLength(11);
  }, 30_000);
});
