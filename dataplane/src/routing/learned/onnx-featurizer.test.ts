/**
 * @jest-environment ./test/learned-routing/onnx-jest-environment.mjs
 */
// The onnx featurizer on the real all-MiniLM-L6-v2 int8 model (scripts/models/fetch-minilm.sh,
// which .ci/run calls). Agreement with Python onnxruntime + tokenizers is checked by
// bench/routing/onnx-reference.ts; here the properties a router relies on.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { embedAhead } from './featurizers/embedded.js';
import { OnnxFeaturizer } from './featurizers/onnx.js';
import { LearnedRouter } from './router.js';
import type { SparseVector } from './sparse.js';
import { MINILM_DIR as MODEL_DIR, minilmDir } from '../../../../test/learned-routing/onnx-model.js';

function cosine(a: SparseVector, b: SparseVector): number {
  const dense = new Float64Array(384);
  a.indices.forEach((j, i) => (dense[j] = a.values[i]!));
  let dot = 0;
  b.indices.forEach((j, i) => (dot += dense[j]! * b.values[i]!));
  return dot;
}

function norm(v: SparseVector): number {
  return Math.sqrt(v.values.reduce((s, x) => s + x * x, 0));
}

let onnx: OnnxFeaturizer;

beforeAll(async () => {
  onnx = await OnnxFeaturizer.open(minilmDir());
}, 60_000);

describe('onnx featurizer (all-MiniLM-L6-v2 int8)', () => {
  it('records the model and tokenizer with their sha256 and a 384-dimensional output', () => {
    expect(onnx.dim).toBe(384);
    expect(onnx.record()).toMatchObject({
      type: 'onnx',
      params: { dim: 384, model: join(MODEL_DIR, 'model.onnx'), modelSha256: '8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6', tokenizer: join(MODEL_DIR, 'tokenizer.json'), maxTokens: 256 },
    });
  });

  it('is deterministic and unit-norm', async () => {
    const a = await onnx.featurize('How do I reverse a linked list in Python?');
    const b = await onnx.featurize('How do I reverse a linked list in Python?');
    expect(Array.from(a.values)).toEqual(Array.from(b.values));
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(norm(a)).toBeCloseTo(1, 5);
  });

  it('puts semantically similar sentences closer than unrelated ones', async () => {
    const [sort, sorting, weather, rain] = await onnx.featurizeMany([
      'How do I sort a list in Python?',
      'What is the way to order the elements of a Python array?',
      'The weather in Paris is sunny today.',
      'It will rain in London tomorrow afternoon.',
    ]);
    expect(cosine(sort!, sorting!)).toBeGreaterThan(0.5);
    expect(cosine(sort!, sorting!)).toBeGreaterThan(cosine(sort!, weather!) + 0.3);
    expect(cosine(weather!, rain!)).toBeGreaterThan(cosine(weather!, sorting!));
  });

  it('embeds a text the same alone and within a batch', async () => {
    const texts = ['short', 'a somewhat longer sentence about databases and indexes', 'x '.repeat(300)];
    const batch = await onnx.featurizeMany(texts);
    for (let i = 0; i < texts.length; i++) expect(Array.from(batch[i]!.values)).toEqual(Array.from((await onnx.featurize(texts[i]!)).values));
  });

  it('reads at most 256 tokens: a long prompt embeds like its first 254 words', async () => {
    const words = 'the cat sat on the mat and then it ran to the door'.split(' ');
    const text = (n: number): string => Array.from({ length: n }, (_, i) => words[i % words.length]).join(' ');
    const long = await onnx.featurize(text(3000)); // past the prefix cut (16 characters per token)
    expect(Array.from(long.values)).toEqual(Array.from((await onnx.featurize(text(254))).values));
    expect(Array.from(long.values)).not.toEqual(Array.from((await onnx.featurize(text(200))).values));
  });

  it('rebuilds itself from its record, and names a missing or different model file', async () => {
    const again = OnnxFeaturizer.fromRecord(onnx.record().params);
    expect(Array.from((await again.featurize('hello world')).values)).toEqual(Array.from((await onnx.featurize('hello world')).values));

    const dir = mkdtempSync(join(tmpdir(), 'onnx-featurizer-'));
    expect(() => OnnxFeaturizer.fromRecord({ ...onnx.record().params, model: join(dir, 'model.onnx') })).toThrow(
      new RegExp(`onnx featurizer model ${join(dir, 'model.onnx')} cannot be read \\(ENOENT\\); for all-MiniLM-L6-v2 run scripts/models/fetch-minilm.sh`),
    );
    writeFileSync(join(dir, 'model.onnx'), 'not the model');
    expect(() => OnnxFeaturizer.fromRecord({ ...onnx.record().params, model: join(dir, 'model.onnx') })).toThrow(/has sha256 [0-9a-f]{64}; the router was trained with 8199be6f/);
    await expect(OnnxFeaturizer.open(join(dir, 'model.onnx'))).rejects.toThrow(/tokenizer .*tokenizer.json cannot be read/);
    copyFileSync(join(MODEL_DIR, 'tokenizer.json'), join(dir, 'tokenizer.json'));
    await expect(OnnxFeaturizer.open(dir)).rejects.toThrow(/onnx featurizer model .*model.onnx cannot be loaded by onnxruntime/);
  });

  it('trains a router whose artifact rebuilds the featurizer and routes asynchronously', async () => {
    const code = ['write a python function that parses json', 'fix the bug in my javascript loop', 'implement quicksort in rust', 'why does my sql query time out', 'refactor this java class', 'write unit tests for my go http handler'];
    const chat = ['tell me a story about a dragon', 'write a poem about the sea', 'what should I cook for dinner tonight', 'describe a sunset over the mountains', 'give me tips for a first date', 'how do I make my garden greener'];
    const examples = [...code.map((query) => ({ query, scores: { coder: 1, talker: 0 } })), ...chat.map((query) => ({ query, scores: { coder: 0, talker: 1 } }))];
    const prices = { coder: { input: 1, output: 1 }, talker: { input: 1, output: 1 } };
    const fixedFeaturizer = await embedAhead(onnx, examples.map((e) => e.query));
    const trained = LearnedRouter.train(examples, prices, { kind: 'knn', head: { k: 3 }, fixedFeaturizer });
    const { router } = LearnedRouter.load(trained.encode().bytes);
    expect(router.featurizer).toBeInstanceOf(OnnxFeaturizer);
    expect(router.featurizer.dim).toBe(384);
    expect((await router.routeAsync('debug my typescript compile error')).model).toBe('coder');
    expect((await router.routeAsync('a bedtime story about a brave mouse')).model).toBe('talker');
    expect(() => router.route('anything')).toThrow(/the onnx featurizer is asynchronous: use routeAsync/);
  });
});
