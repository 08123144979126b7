// Priority per client key on a real gateway: a key's class decides, the x-switchboard-priority
// header may lower it but never raise it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startMock, type MockServer } from '../../dataplane/src/mock/server.js';
import { MASTER_KEY, UPSTREAM_KEY, deployment, gatewayConfig, metricValue, sha256Hex, startTestGateway, waitFor, type TestGateway } from '../support/stack.js';

const KEYS = { checkout: 'sk-checkout', batch: 'sk-batch', other: 'sk-other' };
let mock: MockServer;
let gateway: TestGateway;

beforeAll(async () => {
  // One request in flight fills the limit for 600 ms; one may wait.
  mock = await startMock({ port: 0, apiKey: UPSTREAM_KEY, ttftMs: 600 });
  gateway = await startTestGateway(
    gatewayConfig([{ name: 'chat', deployments: [deployment(mock, 'slow', 'openai')] }], {
      auth: { masterKey: { env: 'SWITCHBOARD_MASTER_KEY' }, clientKeys: Object.entries(KEYS).map(([name, key]) => ({ name, sha256: sha256Hex(key) })) },
      shedding: {
        maxConcurrency: 1,
        queue: { maxDepth: 1, timeout: '5s' },
        clients: [
          { key: 'checkout', priority: 'critical' },
          { key: 'batch', priority: 'sheddable' },
        ],
      },
    }),
  );
});

afterAll(async () => {
  await gateway?.close();
  await mock?.close();
});

async function call(key: string, priority?: string): Promise<{ status: number; code: string | undefined }> {
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...(priority ? { 'x-switchboard-priority': priority } : {}) },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
  });
  const body = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: body.error?.code };
}

const gauge = (name: string, value: number): Promise<true> =>
  waitFor(`${name} = ${value}`, async () => ((await metricValue(gateway.adminUrl, name)) === value ? true : undefined));
const shed = (reason: string, priority: string): Promise<number> => metricValue(gateway.adminUrl, 'switchboard_shed_total', { reason, priority });

describe('priority per client key', () => {
  it('keeps an unlisted key at standard even when it asks for critical, so a critical key displaces it', async () => {
    const busy = call(MASTER_KEY);
    await gauge('switchboard_admission_in_flight', 1);
    const other = call(KEYS.other, 'critical');
    await gauge('switchboard_admission_queue_depth', 1);
    const checkout = call(KEYS.checkout);
    expect(await other).toEqual({ status: 503, code: 'gateway_overloaded' });
    expect(await shed('queue_displaced', 'standard')).toBe(1);
    expect((await busy).status).toBe(200);
    expect((await checkout).status).toBe(200);
  });

  it('sheds a sheddable key at the limit whatever its header says', async () => {
    const busy = call(MASTER_KEY);
    await gauge('switchboard_admission_in_flight', 1);
    expect(await call(KEYS.batch, 'critical')).toEqual({ status: 503, code: 'gateway_overloaded' });
    expect(await shed('sheddable_at_limit', 'sheddable')).toBe(1);
    expect((await busy).status).toBe(200);
  });

  it('answers 400 naming the header when it is not a class name', async () => {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.other}`, 'x-switchboard-priority': 'urgent' },
      body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error', param: 'x-switchboard-priority', code: 'invalid_priority' } });
  });

  it('lets a critical key lower itself with the header', async () => {
    const busy = call(MASTER_KEY);
    await gauge('switchboard_admission_in_flight', 1);
    expect(await call(KEYS.checkout, 'sheddable')).toEqual({ status: 503, code: 'gateway_overloaded' });
    expect(await shed('sheddable_at_limit', 'sheddable')).toBe(2);
    expect((await busy).status).toBe(200);
  });
});
