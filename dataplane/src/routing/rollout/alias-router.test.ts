import { describe, expect, it } from '@jest/globals';
import type { AliasRouter } from '@switchboard/crds/runtime';
import { trainArtifact } from '../../../../test/learned-routing/fixtures.js';
import { FeaturizerError, LearnedRouter, type AsyncFeaturizer, type SyncFeaturizer } from '../learned/index.js';
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
