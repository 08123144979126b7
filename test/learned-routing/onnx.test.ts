/**
 * @jest-environment ./test/learned-routing/onnx-jest-environment.mjs
 */
// The onnx featurizer end to end: the real `switchboard router` CLI trains a router with
// --featurizer onnx:PATH (all-MiniLM-L6-v2 int8 from scripts/models/fetch-minilm.sh), evaluates
// and explains it, and a real gateway serves it in front of the mock provider, routing prompts
// that share no words with the training data by meaning. A changed or missing model file fails
// by name. A missing model fails the test with the command to fetch it.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorkspaces, runCli } from '../support/cli.js';
import { deployment, gatewayConfig, MASTER_KEY, startTestGateway, startTestMock, type TestGateway } from '../support/stack.js';
import type { MockServer } from '../../dataplane/src/mock/server.js';
import { dataset, PRICES } from './fixtures.js';
import { minilmDir } from './onnx-model.js';

let dir: string;
let modelDir: string;
let data: string;
let models: string;
let mock: MockServer | undefined;
let gw: TestGateway | undefined;

beforeAll(async () => {
  modelDir = minilmDir();
  dir = await mkdtemp(join(tmpdir(), 'router-onnx-'));
  data = join(dir, 'train.json');
  await writeFile(data, JSON.stringify(dataset().map((e) => ({ question: e.query, scores: e.scores }))));
  models = join(dir, 'models.json');
  await writeFile(models, JSON.stringify(Object.fromEntries(Object.entries(PRICES).map(([m, p]) => [m, { input_price: p.input, output_price: p.output }]))));
  await buildWorkspaces();
}, 180_000);

afterAll(async () => {
  await gw?.close();
  await mock?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function ask(text: string): Promise<{ status: number; deployment: string | null; reason: string | null }> {
  const res = await fetch(`${gw!.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'auto', messages: [{ role: 'user', content: text }] }),
  });
  await res.text();
  return { status: res.status, deployment: res.headers.get('x-switchboard-deployment'), reason: res.headers.get('x-switchboard-route-reason') };
}

describe('switchboard router --featurizer onnx:PATH', () => {
  const artifact = (): string => join(dir, 'onnx-knn.router');

  it('trains, evaluates and explains a router on sentence embeddings', async () => {
    const trained = await runCli(['router', 'train', '--kind', 'knn', '--data', data, '--models', models, '--out', artifact(), '--featurizer', `onnx:${join(modelDir, 'model.onnx')}`], {}, 120_000);
    expect(trained.stderr).toBe('');
    expect(trained.code).toBe(0);
    expect(trained.stdout).toMatch(/trained knn router on 80 queries, 2 models, in [0-9.]+ s \(onnx featurizer, 384 dimensions\)/);

    const evaluated = await runCli(['router', 'eval', '--model', artifact(), '--data', data, '--models', models, '--json'], {}, 120_000);
    expect(evaluated.code).toBe(0);
    const report = JSON.parse(evaluated.stdout) as { router: { argmax: { quality: number } }; random: { quality: number } };
    expect(report.router.argmax.quality).toBeGreaterThan(0.9);
    expect(report.router.argmax.quality).toBeGreaterThan(report.random.quality);

    const explained = await runCli(['router', 'explain', '--model', artifact(), '--query', 'my rust borrow checker rejects this snippet', '--lambda', '100'], {}, 60_000);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toMatch(/^route: model-a$/m);
  }, 240_000);

  it('is served by the gateway, which routes unseen prompts by meaning', async () => {
    mock = await startTestMock();
    gw = await startTestGateway(
      gatewayConfig([
        {
          name: 'auto',
          deployments: [deployment(mock, 'coder', 'openai'), deployment(mock, 'chatty', 'openai')],
          router: { artifact: { file: artifact() }, lambda: 10, candidates: { 'model-a': 'coder', 'model-b': 'chatty' } },
        },
      ]),
    );
    // No word of these prompts is in the training queries' code or chat topics.
    const code = await ask('my rust borrow checker rejects this snippet, how do I satisfy the compiler');
    expect(code).toMatchObject({ status: 200, deployment: 'coder' });
    expect(code.reason).toMatch(/^learned knn \(model-a q=[0-9.]+ cost=3; lambda=10\)$/);
    const chat = await ask('compose a lullaby for a sleepy kitten');
    expect(chat).toMatchObject({ status: 200, deployment: 'chatty' });
    expect(chat.reason).toMatch(/^learned knn \(model-b q=[0-9.]+ cost=0.3; lambda=10\)$/);
    expect((await ask('compose a lullaby for a sleepy kitten')).deployment).toBe('chatty');
  }, 60_000);

  it('names the model file when it is missing or not the one the router was trained with', async () => {
    const copy = join(dir, 'model-copy');
    await mkdir(copy);
    await copyFile(join(modelDir, 'model.onnx'), join(copy, 'model.onnx'));
    await copyFile(join(modelDir, 'tokenizer.json'), join(copy, 'tokenizer.json'));
    const out = join(dir, 'copy.router');
    const trained = await runCli(['router', 'train', '--kind', 'linear', '--data', data, '--models', models, '--out', out, '--featurizer', `onnx:${copy}`], {}, 120_000);
    expect(trained.code).toBe(0);

    await writeFile(join(copy, 'model.onnx'), 'a different model');
    const changed = await runCli(['router', 'eval', '--model', out, '--data', data, '--models', models]);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toContain(`--model ${out}: router artifact featurizer: onnx featurizer model ${join(copy, 'model.onnx')} has sha256 `);
    expect(changed.stderr).toContain('the router was trained with 8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6');

    await rm(join(copy, 'model.onnx'));
    const missing = await runCli(['router', 'explain', '--model', out, '--query', 'hi']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`onnx featurizer model ${join(copy, 'model.onnx')} cannot be read (ENOENT); for all-MiniLM-L6-v2 run scripts/models/fetch-minilm.sh`);
  }, 240_000);
});
