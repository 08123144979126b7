// The process guards on a real gateway: the real event-loop and heap sampler feeds the gate on
// its interval. Heap thresholds set below any real heap use trip the guard deterministically.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RuntimeConfigInput } from '@switchboard/crds';
import { startMock, type MockServer } from '../../dataplane/src/mock/server.js';
import { MASTER_KEY, UPSTREAM_KEY, deployment, gatewayConfig, metricValue, startTestGateway, waitFor, type TestGateway } from '../support/stack.js';

let mock: MockServer;
let gateway: TestGateway;

const config = (standard: number): RuntimeConfigInput =>
  gatewayConfig([{ name: 'chat', deployments: [deployment(mock, 'up', 'openai')] }], {
    shedding: { guards: { heapUsed: { sheddable: 0.000001, standard }, interval: '50ms' }, retryAfter: '2s' },
  });

beforeAll(async () => {
  mock = await startMock({ port: 0, apiKey: UPSTREAM_KEY });
  gateway = await startTestGateway(config(0.999));
});

afterAll(async () => {
  await gateway?.close();
  await mock?.close();
});

async function call(priority: string): Promise<{ status: number; retryAfter: string | null; message: string | undefined }> {
  const res = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}`, 'x-switchboard-priority': priority },
    body: JSON.stringify({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] }),
  });
  const body = (await res.json()) as { error?: { message: string } };
  return { status: res.status, retryAfter: res.headers.get('retry-after'), message: body.error?.message };
}

// A config's gate (and its sampler) starts with the first request that config serves: a critical
// request, which the guards never shed, starts it.
const guardLevel = (level: number): Promise<true> =>
  waitFor(`guard level ${level}`, async () => {
    expect((await call('critical')).status).toBe(200);
    return (await metricValue(gateway.adminUrl, 'switchboard_admission_guard_level')) === level ? true : undefined;
  });

describe('process guards', () => {
  it('above the sheddable threshold shed sheddable requests and admit standard and critical ones', async () => {
    await guardLevel(1);
    expect(await call('sheddable')).toEqual({ status: 503, retryAfter: '2', message: expect.stringContaining('memory nearly full') });
    expect((await call('standard')).status).toBe(200);
    expect((await call('critical')).status).toBe(200);
    expect(await metricValue(gateway.adminUrl, 'switchboard_shed_total', { reason: 'heap', priority: 'sheddable' })).toBe(1);
  });

  it('above the standard threshold shed standard requests too; critical ones are still admitted', async () => {
    await gateway.writeConfig(config(0.000002));
    await guardLevel(2);
    expect((await call('standard')).status).toBe(503);
    expect((await call('sheddable')).status).toBe(503);
    expect((await call('critical')).status).toBe(200);
    expect(await metricValue(gateway.adminUrl, 'switchboard_shed_total', { reason: 'heap', priority: 'standard' })).toBe(1);
  });
});
