// Learned routing end to end in standalone mode: a real gateway (config file) and the real mock
// upstream. The alias "auto" routes through a kNN router trained on a synthetic dataset: code
// questions go to the expensive deployment, the rest to the cheap one, and the route reason says
// why. Replacing the artifact file (atomic rename) changes decisions without a restart and changes
// the applied config hash; a corrupt artifact is rejected while the old router keeps serving.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appliedConfigHash, configHash, RuntimeConfig, type RuntimeConfigInput } from '@switchboard/crds';
import { deployment, gatewayConfig, MASTER_KEY, readiness, startTestGateway, startTestMock, waitFor, type TestGateway } from '../support/stack.js';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { gzip, trainArtifact, writeBytesAtomic } from './fixtures.js';

let mock: MockServer;
let gw: TestGateway;
let artifactPath: string;
const original = trainArtifact(false);
const inverted = trainArtifact(true);

function config(dir: string, extra: Partial<RuntimeConfigInput['models'][number]> = {}): RuntimeConfigInput {
  return gatewayConfig([
    {
      name: 'auto',
      deployments: [deployment(mock, 'coder', 'openai'), deployment(mock, 'chatty', 'openai')],
      router: { artifact: { file: join(dir, 'router.art') }, lambda: 10, candidates: { 'model-a': 'coder', 'model-b': 'chatty' } },
      ...extra,
    },
  ]);
}

async function ask(text: string): Promise<{ status: number; deployment: string | null; reason: string | null; hash: string | null }> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'auto', messages: [{ role: 'system', content: 'be brief about code' }, { role: 'user', content: text }] }),
  });
  await res.text();
  return {
    status: res.status,
    deployment: res.headers.get('x-switchboard-deployment'),
    reason: res.headers.get('x-switchboard-route-reason'),
    hash: res.headers.get('x-switchboard-config-hash'),
  };
}

beforeAll(async () => {
  mock = await startTestMock();
  gw = await startTestGateway(undefined, {
    render: (dir) => {
      artifactPath = join(dir, 'router.art');
      writeFileSync(artifactPath, gzip(original.bytes)); // gzip, as the operator packs it
      return config(dir);
    },
  });
});

afterAll(async () => {
  await gw?.close();
  await mock?.close();
});

describe('an alias routed through a learned router', () => {
  it('serves each request on the deployment the router picks and explains it', async () => {
    const code = await ask('write code for merging two sorted arrays');
    expect(code.status).toBe(200);
    expect(code.deployment).toBe('coder');
    expect(code.reason).toMatch(/^learned knn \(model-a q=[0-9.]+ cost=3; lambda=10\)$/);
    const chat = await ask('tell me a story about a brave little dog');
    expect(chat.status).toBe(200);
    expect(chat.deployment).toBe('chatty');
    expect(chat.reason).toMatch(/^learned knn \(model-b q=[0-9.]+ cost=0.3; lambda=10\)$/);
    // The reason never carries prompt text and stays short ASCII.
    expect(chat.reason!.length).toBeLessThan(80);
    expect(chat.reason).not.toMatch(/dog|story/);
  });

  it('swaps the artifact without a restart: new decisions, new config hash', async () => {
    const before = await ask('write code for merging two sorted arrays');
    await writeBytesAtomic(artifactPath, inverted.bytes); // plain (not gzip) works too
    const after = await waitFor('the swapped router', async () => {
      const r = await ask('write code for merging two sorted arrays');
      return r.hash !== before.hash ? r : undefined;
    });
    expect(after.deployment).toBe('chatty');
    // The applied hash covers the artifact: what an operator can compute from its sha256.
    const parsed = RuntimeConfig.parse(config(gw.dir));
    expect(before.hash).toBe(appliedConfigHash(parsed, [['auto', original.digest]]));
    expect(after.hash).toBe(appliedConfigHash(parsed, [['auto', inverted.digest]]));
    expect(after.hash).not.toBe(configHash(parsed));
    expect(after.reason).toMatch(/^learned knn \(model-b /);
    expect((await ask('write a poem about the sea')).deployment).toBe('coder');
    const ready = await readiness(gw.adminUrl);
    expect(ready.configHash).toBe(after.hash);
    expect(ready.lastConfigError).toBeNull();
  });

  it('rejects a corrupt artifact and keeps serving with the last good router', async () => {
    const serving = (await readiness(gw.adminUrl)).configHash;
    await writeBytesAtomic(artifactPath, Buffer.from('SBRT garbage, not an artifact'));
    const ready = await waitFor('the rejection', async () => {
      const r = await readiness(gw.adminUrl);
      return r.lastConfigError !== null ? r : undefined;
    });
    expect(ready.lastConfigError).toContain(`router artifact file ${artifactPath}`);
    expect(ready.configHash).toBe(serving);
    const r = await ask('write code for merging two sorted arrays');
    expect(r.hash).toBe(serving);
    expect(r.deployment).toBe('chatty'); // still the inverted router

    await writeBytesAtomic(artifactPath, gzip(original.bytes));
    await waitFor('the restored router', async () => ((await readiness(gw.adminUrl)).lastConfigError === null ? true : undefined));
    expect((await ask('write code for merging two sorted arrays')).deployment).toBe('coder');
  });
});
