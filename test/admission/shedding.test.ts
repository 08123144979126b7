// Admission control on a real gateway in front of the real mock: beyond the limit and the queue,
// requests get an immediate 503 with Retry-After in the client's error format.
import { Agent, request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startMock, type MockServer } from '../../dataplane/src/mock/server.js';
import { MASTER_KEY, UPSTREAM_KEY, deployment, gatewayConfig, metricValue, startTestGateway, waitFor, type TestGateway } from '../support/stack.js';

let mock: MockServer;
let gateway: TestGateway;
const QUEUE_TIMEOUT_MS = 300;

beforeAll(async () => {
  // Every answer takes 800 ms: two in flight fill the limit.
  mock = await startMock({ port: 0, apiKey: UPSTREAM_KEY, ttftMs: 800 });
  gateway = await startTestGateway(
    gatewayConfig([{ name: 'chat', deployments: [deployment(mock, 'slow', 'openai')] }], {
      shedding: { maxConcurrency: 2, queue: { maxDepth: 2, timeout: `${QUEUE_TIMEOUT_MS}ms` }, retryAfter: '2s' },
    }),
  );
});

afterAll(async () => {
  await gateway?.close();
  await mock?.close();
});

async function call(priority?: string): Promise<{ status: number; retryAfter: string | null; body: unknown; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}`, ...(priority ? { 'x-switchboard-priority': priority } : {}) },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
  });
  const body = (await res.json()) as unknown;
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body, ms: performance.now() - started };
}

/** Waits until the gateway reports `value` for a gauge. */
const gauge = (name: string, value: number): Promise<true> =>
  waitFor(`${name} = ${value}`, async () => ((await metricValue(gateway.adminUrl, name)) === value ? true : undefined));

describe('admission control', () => {
  it('admits up to the limit, queues up to the depth, and sheds the rest at once with 503 and Retry-After', async () => {
    expect((await call()).status).toBe(200); // warm: connections and code paths, so the burst below measures admission
    const results = await Promise.all(Array.from({ length: 10 }, () => call()));
    const ok = results.filter((r) => r.status === 200);
    const shed = results.filter((r) => r.status === 503);
    expect(ok).toHaveLength(2);
    expect(shed).toHaveLength(8);
    for (const r of shed) {
      expect(r.retryAfter).toBe('2');
      expect(r.body).toMatchObject({ error: { type: 'api_error', code: 'gateway_overloaded' } });
    }
    // Two waited out the queue timeout; the six others were answered before them, without waiting.
    const ms = shed.map((r) => r.ms).sort((a, b) => a - b);
    expect(ms[6]).toBeGreaterThanOrEqual(QUEUE_TIMEOUT_MS - 5);
    expect(ms[5]).toBeLessThan(ms[6]!);
    const metrics = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    expect(metrics).toContain('switchboard_shed_total{reason="queue_full",priority="standard"} 6');
    expect(metrics).toContain('switchboard_shed_total{reason="queue_timeout",priority="standard"} 2');
    expect(metrics).toMatch(/switchboard_admission_limit \d+/);
  });

  it('sheds sheddable requests at the limit and lets critical ones displace queued standard ones', async () => {
    const busy = [call(), call()];
    await gauge('switchboard_admission_in_flight', 2);
    const queued = [call(), call()];
    await gauge('switchboard_admission_queue_depth', 2);
    const sheddable = await call('sheddable');
    expect(sheddable.status).toBe(503);
    const critical = call('critical');
    const [q1, q2] = await Promise.all(queued);
    // The critical request took the newest standard one's place at once; the older one waited out its timeout.
    expect(q2).toMatchObject({ status: 503 });
    expect(q1).toMatchObject({ status: 503 });
    expect(q1!.ms).toBeGreaterThanOrEqual(QUEUE_TIMEOUT_MS - 5);
    expect(q2!.ms).toBeLessThan(q1!.ms);
    await Promise.all(busy);
    // The busy ones take 800 ms, longer than the queue timeout: the critical one is shed too, by timeout.
    expect((await critical).status).toBe(503);
    const metrics = await (await fetch(`${gateway.adminUrl}/metrics`)).text();
    expect(metrics).toContain('switchboard_shed_total{reason="queue_full",priority="standard"} 6');
    expect(metrics).toContain('switchboard_shed_total{reason="queue_displaced",priority="standard"} 1');
    expect(metrics).toContain('switchboard_shed_total{reason="sheddable_at_limit",priority="sheddable"} 1');
    expect(metrics).toContain('switchboard_shed_total{reason="queue_timeout",priority="critical"} 1');
    expect(await metricValue(gateway.adminUrl, 'switchboard_admission_in_flight')).toBe(0);
  });

  it('answers a shed before reading the body and keeps the keep-alive connection for the next request', async () => {
    const busy = [call(), call()];
    await gauge('switchboard_admission_in_flight', 2);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // The local port tells the connection (req.reusedSocket is false for a request that was queued for the socket).
    const send = (body: string): Promise<{ status: number; port: number | undefined; text: string }> =>
      new Promise((resolve, reject) => {
        const req = request(
          `${gateway.url}/v1/chat/completions`,
          { method: 'POST', agent, headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}`, 'x-switchboard-priority': 'sheddable' } },
          (res) => {
            let text = '';
            const port = req.socket?.localPort;
            res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode!, port, text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    // Over server.maxBodyBytes (4 MiB): read, it would be a 413; the 503 shows it was refused unread, then discarded.
    const large = JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'x'.repeat(5 * 1024 * 1024) }] });
    const first = await send(large);
    const second = await send(large);
    agent.destroy();
    expect(first.status).toBe(503);
    expect(JSON.parse(first.text)).toMatchObject({ error: { type: 'api_error', code: 'gateway_overloaded' } });
    expect(second).toMatchObject({ status: 503, port: first.port });
    expect(first.port).toBeGreaterThan(0);
    await Promise.all(busy);
  });
});
