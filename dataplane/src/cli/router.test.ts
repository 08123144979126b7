import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routerCommand } from './router.js';

const shared = join(import.meta.dirname, '..', '..', '..', '..', 'shared', 'data', 'routing');

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await routerCommand(args, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

describe('switchboard router', () => {
  let dir: string;
  let data: string;
  let models: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'router-cli-'));
    // Every 20th record: a slice across all 14 tasks, small enough to train in well under a second.
    const all = JSON.parse(readFileSync(join(shared, 'train.json'), 'utf8')) as unknown[];
    data = join(dir, 'train.json');
    writeFileSync(data, JSON.stringify(all.filter((_, i) => i % 20 === 0)));
    models = join(shared, 'models.json');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['knn', 'linear', 'mlp', 'mf'])('trains a %s router, evaluates it as JSON and explains a decision', async (kind) => {
    const out = join(dir, `${kind}.router`);
    const trained = await run(['train', '--kind', kind, '--data', data, '--models', models, '--out', out, '--seed', '3']);
    expect(trained.err).toBe('');
    expect(trained.code).toBe(0);
    expect(trained.out).toMatch(new RegExp(`trained ${kind} router on 281 queries, 9 models`));
    expect(trained.out).toMatch(/sha256:[0-9a-f]{64}/);

    const evaluated = await run(['eval', '--model', out, '--data', data, '--models', models, '--json']);
    expect(evaluated.code).toBe(0);
    const report = JSON.parse(evaluated.out) as Record<string, unknown>;
    expect(Object.keys(report).sort()).toEqual(['best_single', 'n', 'oracle', 'random', 'router']);
    expect(report).toMatchObject({
      n: 281,
      best_single: { model: expect.any(String), quality: expect.any(Number), cost: expect.any(Number) },
      oracle: { quality: expect.any(Number), cost: expect.any(Number) },
      random: { quality: expect.any(Number), cost: expect.any(Number) },
      router: { argmax: { quality: expect.any(Number), cost: expect.any(Number) }, quality_at_best_single_cost: expect.any(Number) },
    });
    const router = report.router as { curve: { lambda: number; quality: number; cost: number }[]; cost_at_best_single_quality: number | null };
    expect(router.curve.length).toBeGreaterThan(10);
    expect(Object.keys(router.curve[0]!).sort()).toEqual(['cost', 'lambda', 'quality']);
    expect(router.cost_at_best_single_quality === null || typeof router.cost_at_best_single_quality === 'number').toBe(true);

    const text = await run(['eval', '--model', out, '--data', data, '--models', models]);
    expect(text.out).toMatch(/best single +llama-3.1-nemotron-51b-instruct/);
    expect(text.out).toMatch(/oracle +quality/);

    const explained = await run(['explain', '--model', out, '--query', 'Write a Python function that returns the nth Fibonacci number.']);
    expect(explained.code).toBe(0);
    expect(explained.out).toMatch(/^route: \S+\nrule: willingness-to-pay lambda=10\nreason: /);
    expect(explained.out).toMatch(/gemma-2-9b-it/);
    const threshold = await run(['explain', '--model', out, '--query', 'What is 2+2?', '--threshold', '0.99']);
    expect(threshold.out).toMatch(/rule: threshold quality>=0.99/);
  });

  it('calibrates the default lambda on held-out quarters of the data with --calibrate, and eval and explain use it', async () => {
    const out = join(dir, 'calibrated.router');
    const trained = await run(['train', '--kind', 'knn', '--data', data, '--models', models, '--out', out, '--calibrate']);
    expect(trained.code).toBe(0);
    const line = /calibrated lambda ([0-9.]+): on held-out quarters of the data the router reaches quality [0-9.]+ at cost [0-9.]+ \(best single llama-3.1-nemotron-51b-instruct: [0-9.]+ at 1.800, so [0-9.]+x its cost/.exec(trained.out);
    expect(line).not.toBeNull();
    const lambda = Number(line![1]);
    expect(lambda).not.toBe(10);
    const report = JSON.parse((await run(['eval', '--model', out, '--data', data, '--models', models, '--json'])).out) as { router: { calibrated: { lambda: number; quality: number; cost: number } } };
    expect(report.router.calibrated).toEqual({ lambda, quality: expect.any(Number), cost: expect.any(Number) });
    expect((await run(['eval', '--model', out, '--data', data, '--models', models])).out).toMatch(new RegExp(`router at its calibrated lambda ${lambda}: quality`));
    expect((await run(['explain', '--model', out, '--query', 'What is 2+2?'])).out).toMatch(new RegExp(`rule: willingness-to-pay lambda=${lambda}\n`));
  });

  it('fails naming a model in the scores that the models file does not list', async () => {
    const bad = join(dir, 'ghost.jsonl');
    writeFileSync(bad, '{"question":"q","scores":{"gemma-2-9b-it":1}}\n{"question":"r","scores":{"ghost-1b":0.5}}\n');
    const r = await run(['train', '--kind', 'knn', '--data', bad, '--models', models, '--out', join(dir, 'x')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/record 1: scores names the model "ghost-1b", which the models file does not list/);
  });

  it('fails on empty data', async () => {
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '[]');
    const r = await run(['train', '--kind', 'knn', '--data', empty, '--models', models, '--out', join(dir, 'x')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/empty.json: holds no records/);
  });

  it('fails on a corrupt or wrong-version artifact, naming the file', async () => {
    const good = join(dir, 'good.router');
    expect((await run(['train', '--kind', 'linear', '--data', data, '--models', models, '--out', good])).code).toBe(0);
    const bytes = readFileSync(good);
    const corrupt = join(dir, 'corrupt.router');
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1]! ^= 1;
    writeFileSync(corrupt, flipped);
    const r = await run(['explain', '--model', corrupt, '--query', 'hi']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--model .*corrupt.router: router artifact payload is corrupt/);

    const future = Buffer.from(bytes);
    future.writeUInt32LE(99, 8);
    writeFileSync(corrupt, future);
    expect((await run(['eval', '--model', corrupt, '--data', data, '--models', models])).err).toMatch(/format version 99 is not supported/);

    writeFileSync(corrupt, '{"not": "an artifact"}');
    expect((await run(['explain', '--model', corrupt, '--query', 'hi'])).err).toMatch(/not a Switchboard router artifact/);
  });

  it('rejects bad flags with exit code 2 and a message naming the flag', async () => {
    expect(await run(['train', '--kind', 'svm', '--data', data, '--models', models, '--out', 'x'])).toMatchObject({ code: 2, err: expect.stringMatching(/--kind: got "svm"; expected one of knn, linear, mlp, mf/) });
    expect(await run(['train', '--kind', 'knn', '--models', models, '--out', 'x'])).toMatchObject({ code: 2, err: expect.stringMatching(/--data: required/) });
    expect(await run(['train', '--kind', 'knn', '--data', data, '--models', models, '--out', 'x', '--featurizer', 'onnx'])).toMatchObject({ code: 2, err: expect.stringMatching(/--featurizer: got "onnx"; expected hashed, onnx:PATH/) });
    expect(await run(['train', '--kind', 'knn', '--data', data, '--models', models, '--out', 'x', '--featurizer', 'onnx:/m.onnx'])).toMatchObject({ code: 1, err: expect.stringMatching(/onnx featurizer model \/m.onnx cannot be read \(ENOENT\); for all-MiniLM-L6-v2 run scripts\/models\/fetch-minilm.sh/) });
    expect(await run(['explain', '--model', 'x', '--query', 'q', '--lambda=-1'])).toMatchObject({ code: 2, err: expect.stringMatching(/--lambda: got "-1"/) });
    expect(await run(['eval', '--bogus'])).toMatchObject({ code: 2 });
    expect(await run(['frobnicate'])).toMatchObject({ code: 2, err: expect.stringMatching(/unknown subcommand "frobnicate"/) });
  });

  it('fails naming a data file it cannot read', async () => {
    const r = await run(['train', '--kind', 'knn', '--data', join(dir, 'missing.json'), '--models', models, '--out', join(dir, 'x')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/--data .*missing.json: cannot read: ENOENT/);
  });
});
