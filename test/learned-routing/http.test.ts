// The http featurizer end to end: the real `switchboard router` CLI trains a router with
// --featurizer http:URL against the mock provider's /v1/embeddings (deterministic vectors, key
// checked), evaluates it, and a real gateway serves it: each new prompt is embedded once (then
// cached), and when the embedding service is gone the balancer picks instead of failing requests.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorkspaces, runCli } from '../support/cli.js';
import { deployment, gatewayConfig, MASTER_KEY, mockStats, startTestGateway, startTestMock, UPSTREAM_KEY, type TestGateway } from '../support/stack.js';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { EMBEDDINGS_API_KEY_ENV } from '../../dataplane/src/routing/learned/index.js';
import { dataset, PRICES } from './fixtures.js';

let dir: string;
let data: string;
let models: string;
let upstream: MockServer;
let embeddings: MockServer;
let gw: TestGateway | undefined;
const artifact = (): string => join(dir, 'http-knn.router');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'router-http-'));
  data = join(dir, 'train.json');
  await writeFile(data, JSON.stringify(dataset().map((e) => ({ question: e.query, scores: e.scores }))));
  models = join(dir, 'models.json');
  await writeFile(models, JSON.stringify(Object.fromEntries(Object.entries(PRICES).map(([m, p]) => [m, { input_price: p.input, output_price: p.output }]))));
  upstream = await startTestMock();
  embeddings = await startTestMock(); // a second mock as the embedding service, so it can go away alone
  await buildWorkspaces();
}, 180_000);

afterAll(async () => {
  await gw?.close();
  await upstream?.close();
  await embeddings?.close().catch(() => undefined);
  delete process.env[EMBEDDINGS_API_KEY_ENV];
  if (dir) await rm(dir, { recursive: true, force: true });
});

const embedRequests = async (): Promise<number> => (await mockStats(embeddings)).byModel['embed-test'] ?? 0;

async function ask(text: string): Promise<{ status: number; deployment: string | null; reason: string | null }> {
  const res = await fetch(`${gw!.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: text }] }),
  });
  await res.text();
  return { status: res.status, deployment: res.headers.get('x-switchboard-deployment'), reason: res.headers.get('x-switchboard-route-reason') };
}

describe('switchboard router --featurizer http:URL', () => {
  it('trains in batches against the embeddings endpoint and evaluates', async () => {
    const env = { [EMBEDDINGS_API_KEY_ENV]: UPSTREAM_KEY };
    const flags = ['--featurizer', `http:${embeddings.url}/v1`, '--embedding-model', 'embed-test', '--embedding-cache', '16'];
    const trained = await runCli(['router', 'train', '--kind', 'knn', '--data', data, '--models', models, '--out', artifact(), ...flags], env, 60_000);
    expect(trained.stderr).toBe('');
    expect(trained.code).toBe(0);
    expect(trained.stdout).toMatch(/trained knn router on 80 queries, 2 models, in [0-9.]+ s \(http featurizer, 16 dimensions\)/);
    expect(await embedRequests()).toBe(3); // one probe for the length, then 80 queries in batches of 64

    const evaluated = await runCli(['router', 'eval', '--model', artifact(), '--data', data, '--models', models, '--json'], env, 60_000);
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout)).toMatchObject({ n: 80 });

    const unauthorized = await runCli(['router', 'eval', '--model', artifact(), '--data', data, '--models', models], {}, 60_000);
    expect(unauthorized.code).toBe(1);
    expect(unauthorized.stderr).toMatch(new RegExp(`http featurizer ${embeddings.url}/v1/embeddings \\(model embed-test\\): answered 401`));
  }, 180_000);

  it('is served by the gateway: one embedding per new prompt, cached, and the balancer picks when the service is gone', async () => {
    process.env[EMBEDDINGS_API_KEY_ENV] = UPSTREAM_KEY; // the in-process gateway reads it when it loads the artifact
    gw = await startTestGateway(
      gatewayConfig([
        {
          name: 'auto',
          deployments: [deployment(upstream, 'coder', 'openai'), deployment(upstream, 'chatty', 'openai')],
          router: { artifact: { file: artifact() }, lambda: 10, candidates: { 'model-a': 'coder', 'model-b': 'chatty' } },
        },
      ]),
    );
    const before = await embedRequests();
    const first = await ask('write code for sorting');
    expect(first.status).toBe(200);
    expect(first.reason).toMatch(/^learned knn \(model-[ab] q=[0-9.]+ cost=(3|0.3); lambda=10\)$/);
    expect(await embedRequests()).toBe(before + 1);
    const again = await ask('write code for sorting');
    expect(again.deployment).toBe(first.deployment);
    expect(await embedRequests()).toBe(before + 1); // from the cache

    await embeddings.close();
    const degraded = await ask('a prompt the cache has never seen');
    expect(degraded.status).toBe(200);
    expect(degraded.reason).not.toMatch(/^learned/);
  }, 60_000);
});
