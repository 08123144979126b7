import { describe, expect, it } from '@jest/globals';
import type { AliasRouter } from '@switchboard/crds/runtime';
import { trainArtifact } from '../../../../test/learned-routing/fixtures.js';
import { FeaturizerError, HttpFeaturizer, LearnedRouter, type AsyncFeaturizer, type SyncFeaturizer } from '../learned/index.js';
import { canaryBucket, compileAliasRouter, decideVirtualAlias as decideAny, shadowRouteHeader, type AliasDecision, type CompiledAliasRouter, type CompiledRoutingModel } from './alias-router.js';

const CODE = 'write code for merging two sorted arrays';
const CHAT = 'tell me a story about the moon';
// model-a is good at code and expensive, model-b good at chat and cheap; `inverted` swaps them.
const artifacts: Record<string, Uint8Array> = { normal: trainArtifact(false).bytes, inverted: trainArtifact(true).bytes };
const candidates = { 'model-a': 'strong', 'model-b': 'cheap' };
const model = (name: string, key: string, rollout: { mode: 'active' | 'canary' | 'shadow'; canaryPercent?: number }): AliasRouter['models'][number] => ({
  name,
  ...rollout,
  artifact: { configMap: { name: key, key: 'artifact.gz' } },
  candidates,
});
const compile = (models: AliasRouter['models']): ReturnType<typeof compileAliasRouter> =>
  compileAliasRouter({ name: 'auto', default: 'strong', models }, { configMaps: (name) => artifacts[name] });
const ids = Array.from({ length: 2000 }, (_, i) => `req-${i}`);

/** In-process (hashed) featurizers decide synchronously. */
function decideVirtualAlias(router: CompiledAliasRouter, text: string, requestId: string): AliasDecision {
  const decision = decideAny(router, text, requestId);
  if (decision instanceof Promise) throw new Error('expected a synchronous decision');
  return decision;
}

/** The same model behind an asynchronous featurizer (as onnx and http are), optionally failing. */
function embedding(model: CompiledRoutingModel, fail = false): CompiledRoutingModel {
  const r = model.compiled.router;
  const f = r.featurizer as SyncFeaturizer;
  const featurizer: AsyncFeaturizer = {
    sync: false,
    type: 'http',
    dim: f.dim,
    featurize: async (text) => {
      if (fail) throw new FeaturizerError('embedding service unavailable');
      return f.featurize(text);
    },
    featurizeMany: async (texts) => texts.map((t) => f.featurize(t)),
    record: () => f.record(),
  };
  return { ...model, compiled: { ...model.compiled, router: new LearnedRouter(featurizer, r.head, r.models, { ...r.prices }, r.training) } };
}

describe('virtual alias decisions', () => {
  it('routes by the active model and says which router, model and why', () => {
    const router = compile([model('picker', 'normal', { mode: 'active' })]);
    const code = decideVirtualAlias(router, CODE, 'r1');
    expect(code).toMatchObject({ router: 'auto', alias: 'strong', model: 'picker', mode: 'active', shadows: [] });
    expect(code.reason).toMatch(/^router auto: picker active, learned knn \(model-a q=[0-9.]+ cost=3; lambda=10\) -> strong$/);
    expect(decideVirtualAlias(router, CHAT, 'r1')).toMatchObject({ alias: 'cheap', model: 'picker' });
  });

  it('sends everything to the default alias when no model is active', () => {
    const router = compile([model('next', 'normal', { mode: 'shadow' })]);
    expect(decideVirtualAlias(router, CHAT, 'r1')).toMatchObject({ alias: 'strong', model: undefined, mode: 'default', reason: 'router auto: default strong' });
  });

  it('routes canaryPercent of request ids by the canary, the same id always the same way', () => {
    const router = compile([model('picker', 'normal', { mode: 'active' }), model('next', 'inverted', { mode: 'canary', canaryPercent: 30 })]);
    const byCanary = ids.filter((id) => decideVirtualAlias(router, CODE, id).model === 'next');
    expect(byCanary).toEqual(ids.filter((id) => canaryBucket(id) < 30));
    expect(byCanary.length / ids.length).toBeGreaterThan(0.27);
    expect(byCanary.length / ids.length).toBeLessThan(0.33);
    for (const id of byCanary.slice(0, 20)) expect(decideVirtualAlias(router, CODE, id)).toMatchObject({ alias: 'cheap', mode: 'canary' });
    const other = ids.find((id) => canaryBucket(id) >= 30)!;
    expect(decideVirtualAlias(router, CODE, other)).toMatchObject({ alias: 'strong', model: 'picker', mode: 'active' });
    expect(decideVirtualAlias(router, CODE, byCanary[0]!).reason).toContain('next canary 30%');
  });

  it('sends the rest of a canary without an active model to the default alias', () => {
    const router = compile([model('next', 'inverted', { mode: 'canary', canaryPercent: 0 })]);
    expect(ids.every((id) => decideVirtualAlias(router, CODE, id).mode === 'default')).toBe(true);
  });

  it('records the shadow decision and whether it agrees, without acting on it', () => {
    const router = compile([model('picker', 'normal', { mode: 'active' }), model('next', 'inverted', { mode: 'shadow' }), model('same', 'normal', { mode: 'shadow' })]);
    const code = decideVirtualAlias(router, CODE, 'r1');
    expect(code).toMatchObject({ alias: 'strong', model: 'picker' });
    expect(code.shadows).toEqual([
      { model: 'next', alias: 'cheap', agree: false },
      { model: 'same', alias: 'strong', agree: true },
    ]);
    expect(shadowRouteHeader(code.shadows)).toBe('next=cheap disagree, same=strong agree');
    expect(shadowRouteHeader([])).toBeUndefined();
  });
});

describe('canaryBucket', () => {
  it('spreads request ids evenly over 0..99', () => {
    const counts = new Array<number>(10).fill(0);
    for (const id of ids) counts[Math.floor(canaryBucket(id) / 10)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(150);
    expect(canaryBucket('abc')).toBe(canaryBucket('abc'));
  });
});

describe('routing models behind an embedding featurizer', () => {
  const sync = compile([model('picker', 'normal', { mode: 'active' }), model('next', 'inverted', { mode: 'shadow' })]);

  it('decide asynchronously, as the in-process ones do', async () => {
    const router = { ...sync, active: embedding(sync.active!), shadows: [embedding(sync.shadows[0]!)] };
    const pending = decideAny(router, CODE, 'r1');
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toEqual(decideVirtualAlias(sync, CODE, 'r1'));
  });

  it('degrade to the default alias when the acting model cannot embed, and drop a shadow that cannot', async () => {
    const router = { ...sync, active: embedding(sync.active!, true), shadows: [embedding(sync.shadows[0]!, true)] };
    expect(await decideAny(router, CHAT, 'r1')).toEqual({ router: 'auto', alias: 'strong', model: undefined, mode: 'default', reason: 'router auto: default strong (picker: featurizer unavailable)', shadows: [] });
  });
});

describe('what a RoutingModel spec sets on top of the artifact', () => {
  it('decides with the candidate prices given instead of the artifact ones', () => {
    expect(decideVirtualAlias(compile([model('picker', 'normal', { mode: 'active' })]), CHAT, 'r1').alias).toBe('cheap');
    const priced = compile([{ ...model('picker', 'normal', { mode: 'active' }), prices: { 'model-b': { input: 50 } } }]);
    expect(priced.active?.compiled.router.prices).toEqual({ 'model-a': { input: 1, output: 2 }, 'model-b': { input: 50, output: 0.2 } });
    const chat = decideVirtualAlias(priced, CHAT, 'r1');
    expect(chat.alias).toBe('strong');
    expect(chat.reason).toContain('cost=3;');
  });

  it('picks the cheapest candidate with a willingness to pay of 0', () => {
    const router = compile([{ ...model('picker', 'normal', { mode: 'active' }), lambda: 0 }]);
    expect(decideVirtualAlias(router, CODE, 'r1')).toMatchObject({ alias: 'cheap', reason: expect.stringContaining('lambda=0') });
  });

  it('maps artifact models to aliases of other names', () => {
    const router = compile([{ ...model('picker', 'normal', { mode: 'active' }), candidates: { 'model-a': 'gpt-4o', 'model-b': 'gpt-4o-mini' } }]);
    expect(decideVirtualAlias(router, CODE, 'r1').alias).toBe('gpt-4o');
    expect(decideVirtualAlias(router, CHAT, 'r1').alias).toBe('gpt-4o-mini');
  });

  it('embeds through the service URL the spec names instead of the one recorded at training', () => {
    const trained = LearnedRouter.load(artifacts.normal!).router;
    const featurizer = new HttpFeaturizer({ url: 'http://training-laptop:8080/v1', model: 'minilm', dim: trained.featurizer.dim, cacheSize: 16, timeoutMs: 1000, batchSize: 8 });
    const httpArtifact = new LearnedRouter(featurizer, trained.head, trained.models, { ...trained.prices }, trained.training).encode().bytes;
    const compileHttp = (extra: Partial<AliasRouter['models'][number]>) =>
      compileAliasRouter({ name: 'auto', default: 'strong', models: [{ ...model('picker', 'http', { mode: 'active' }), ...extra }] }, { configMaps: () => httpArtifact }).active!.compiled.router.featurizer;
    expect(compileHttp({}).record().params).toMatchObject({ url: 'http://training-laptop:8080/v1' });
    expect(compileHttp({ embeddingsUrl: 'http://embedder.team:8080/v1' }).record().params).toMatchObject({ url: 'http://embedder.team:8080/v1', model: 'minilm' });
  });

  it('refuses an artifact that is not the head or featurizer the spec names, and what it cannot apply', () => {
    const dim = compile([model('picker', 'normal', { mode: 'active' })]).active!.compiled.router.featurizer.dim;
    const refused = (extra: Partial<AliasRouter['models'][number]>) => () => compile([{ ...model('picker', 'normal', { mode: 'active' }), ...extra }]);
    const where = 'router artifact ConfigMap normal key artifact.gz (router auto, routing model picker): ';
    expect(refused({ expects: { kind: 'knn', featurizer: 'hashed', dimensions: dim } })).not.toThrow();
    expect(refused({ expects: { kind: 'linear' } })).toThrow(`${where}the routing model expects the linear head but the artifact's head is knn`);
    expect(refused({ expects: { featurizer: 'onnx' } })).toThrow(`${where}the routing model expects the onnx featurizer but the artifact was trained with the hashed featurizer`);
    expect(refused({ expects: { dimensions: 384 } })).toThrow(`${where}the routing model expects featurizer dimensions 384 but the artifact's featurizer has ${dim}`);
    expect(refused({ prices: { 'model-z': { input: 1 } } })).toThrow(`${where}a price is given for "model-z", which the artifact does not know (it knows model-a, model-b)`);
    expect(refused({ embeddingsUrl: 'http://embedder:8080/v1' })).toThrow(`${where}an embedding service URL is set but the artifact's featurizer is hashed, not http`);
  });
});
