// A learned pick that fails: the retry goes elsewhere as without a router, and once the picked
// deployment cools down the router skips it (passed to decide() as unavailable) and says so.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deployment, gatewayConfig, MASTER_KEY, startTestGateway, startTestMock, type TestGateway } from '../support/stack.js';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { trainArtifact } from './fixtures.js';

let mock: MockServer;
let gw: TestGateway;

async function ask(text: string): Promise<{ status: number; deployment: string | null; reason: string | null }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: text }] }),
  });
  await res.text();
  return { status: res.status, deployment: res.headers.get('x-switchboard-deployment'), reason: res.headers.get('x-switchboard-route-reason') };
}

beforeAll(async () => {
  mock = await startTestMock();
  gw = await startTestGateway(undefined, {
    render: (dir) => {
      writeFileSync(join(dir, 'router.art'), trainArtifact(false).bytes);
      return gatewayConfig(
        [
          {
            name: 'auto',
            // "coder" points at a closed port: every try there fails to connect.
            deployments: [deployment(mock, 'coder', 'openai', { baseUrl: 'http://127.0.0.1:1/v1' }), deployment(mock, 'chatty', 'openai')],
            router: { artifact: { file: join(dir, 'router.art') }, candidates: { 'model-a': 'coder', 'model-b': 'chatty' } },
          },
        ],
        { cooldown: { failureThreshold: 1, duration: '60s' } },
      );
    },
  });
});

afterAll(async () => {
  await gw?.close();
  await mock?.close();
});

describe('learned pick with a failing deployment', () => {
  it('retries elsewhere, then skips the cooling-down candidate', async () => {
    const first = await ask('write code for sorting a list');
    expect(first.status).toBe(200);
    expect(first.deployment).toBe('chatty');
    expect(first.reason).toMatch(/^retry \(coder [^)]*\); weighted$/);

    const next = await ask('write code for sorting a list');
    expect(next).toMatchObject({ status: 200, deployment: 'chatty' });
    expect(next.reason).toMatch(/^learned knn \(model-b q=[0-9.]+ cost=0.3; lambda=10; skipped model-a\)$/);
  });
});
