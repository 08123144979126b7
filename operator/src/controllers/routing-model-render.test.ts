import { describe, expect, it } from '@jest/globals';
import { GatewayConfigSpec, RuntimeConfig } from '@switchboard/crds';
import type { GatewayConfigObject } from './gateway-config.js';
import { appliedCondition, type RoutingModelObject } from './routing-model.js';
import { renderRouter } from './routing-model-render.js';
import { renderRuntimeConfig } from './runtime-config.js';

const deployment = (name: string) => ({ name, provider: 'openai' as const, model: name, baseUrl: 'https://a/v1' });
const gatewaySpec = (routing: Record<string, unknown> = { routingModelRef: { name: 'picker' } }) =>
  GatewayConfigSpec.parse({ models: [{ name: 'strong', deployments: [deployment('s')] }, { name: 'cheap', deployments: [deployment('c')] }], routing });
const rm = (name: string, spec: Record<string, unknown>, namespace = 'team'): RoutingModelObject => ({
  metadata: { name, namespace },
  spec: { router: 'knn', candidates: [{ name: 'strong' }, { name: 'cheap' }], decision: { willingnessToPay: 5 }, artifact: { inline: 'QUJD' }, ...spec },
});

describe('rendering routingModelRef into the runtime config', () => {
  it('renders the referenced model as a virtual alias named after it, defaulting to its first candidate', () => {
    const result = renderRouter(gatewaySpec(), 'team', [{ ...rm('picker', { rollout: { mode: 'active' } }), status: { artifactSha256: 'c'.repeat(64) } }]);
    expect(result).toEqual({
      ok: true,
      digests: [['picker/picker', 'c'.repeat(64)]],
      router: {
        name: 'picker',
        default: 'strong',
        models: [{ name: 'picker', mode: 'active', artifact: { configMap: { name: 'picker-artifact', key: 'artifact.gz' } }, lambda: 5, candidates: { strong: 'strong', cheap: 'cheap' }, expects: { kind: 'knn' } }],
      },
    });
    if (!result.ok) return;
    // What the operator renders is what the data plane validates.
    expect(renderRuntimeConfig(gatewaySpec(), result.router).routers?.[0]?.name).toBe('picker');
  });

  it('maps each artifact source and the decision policy; the CRD default rollout is shadow', () => {
    const models = (spec: Record<string, unknown>) => {
      const r = renderRouter(gatewaySpec(), 'team', [rm('picker', spec)]);
      return r.ok ? r.router?.models[0] : r;
    };
    expect(models({ artifact: { configMapRef: { name: 'trained', key: 'v2' } }, decision: { threshold: 0.7 } })).toMatchObject({
      mode: 'shadow',
      artifact: { configMap: { name: 'trained', key: 'v2' } },
      threshold: 0.7,
    });
    expect(models({ artifact: { uri: 'https://models.example/p.art', sha256: 'a'.repeat(64) } })).toMatchObject({ artifact: { uri: 'https://models.example/p.art', sha256: 'a'.repeat(64) } });
    expect(models({ artifact: { uri: 's3://bucket/p.art', sha256: 'a'.repeat(64) } })).toMatchObject({ artifact: { uri: 's3://bucket/p.art', sha256: 'a'.repeat(64) } });
    // The Secret is passed by reference (its two standard keys), never by value.
    expect(models({ artifact: { uri: 's3://bucket/p.art', sha256: 'a'.repeat(64), s3: { endpoint: 'http://minio.store:9000', region: 'eu-west-1', credentialsSecretRef: { name: 'artifact-store' } } } })).toMatchObject({
      artifact: {
        uri: 's3://bucket/p.art',
        s3: {
          endpoint: 'http://minio.store:9000',
          region: 'eu-west-1',
          accessKeyId: { secretKeyRef: { name: 'artifact-store', key: 'AWS_ACCESS_KEY_ID' } },
          secretAccessKey: { secretKeyRef: { name: 'artifact-store', key: 'AWS_SECRET_ACCESS_KEY' } },
        },
      },
    });
    expect(models({ artifact: { uri: 'https://models.example/p.art', sha256: 'a'.repeat(64), s3: { region: 'eu-west-1' } } })).toMatchObject({ ok: false, reason: 'InvalidRoutingModel', message: expect.stringContaining('s3 applies to s3:// URIs only') });
  });

  it('renders artifact model names, candidate prices, the featurizer assertion and embedding URL for the data plane', () => {
    const result = renderRouter(gatewaySpec(), 'team', [
      rm('picker', {
        router: 'mlp',
        featurizer: { type: 'http', url: 'http://embedder.team:8080/v1', dimensions: 384 },
        candidates: [
          { name: 'strong', artifactModel: 'gpt-4o', inputPrice: 2.5 },
          { name: 'cheap', inputPrice: 0.15, outputPrice: 0.6 },
        ],
        decision: { willingnessToPay: 0 },
      }),
    ]);
    expect(result.ok && result.router?.models[0]).toMatchObject({
      lambda: 0,
      candidates: { 'gpt-4o': 'strong', cheap: 'cheap' },
      prices: { 'gpt-4o': { input: 2.5 }, cheap: { input: 0.15, output: 0.6 } },
      expects: { kind: 'mlp', featurizer: 'http', dimensions: 384 },
      embeddingsUrl: 'http://embedder.team:8080/v1',
    });
    if (result.ok) expect(renderRuntimeConfig(gatewaySpec(), result.router).routers?.[0]?.models[0]?.prices).toEqual({ 'gpt-4o': { input: 2.5 }, cheap: { input: 0.15, output: 0.6 } });
    // Without a featurizer in the spec the artifact decides it; without prices none are rendered.
    const plain = renderRouter(gatewaySpec(), 'team', [rm('picker', {})]);
    expect(plain.ok && plain.router?.models[0]).not.toHaveProperty('prices');
    expect(plain.ok && plain.router?.models[0]?.expects).toEqual({ kind: 'knn' });
  });

  it('lists the artifact digests the data plane will hash, in model order: a URI its pinned one, the others their status', () => {
    const result = renderRouter(gatewaySpec(), 'team', [
      { ...rm('picker', { artifact: { uri: 'https://m/p.art', sha256: 'a'.repeat(64) } }), status: { artifactSha256: 'f'.repeat(64) } },
      rm('next', { rollout: { mode: 'shadow', alongside: 'picker' } }),
      { ...rm('later', { rollout: { mode: 'shadow', alongside: 'picker' } }), status: { artifactSha256: 'b'.repeat(64) } },
    ]);
    expect(result.ok && result.digests).toEqual([
      ['picker/picker', 'a'.repeat(64)],
      ['picker/later', 'b'.repeat(64)],
    ]);
  });

  it('joins the RoutingModels rolled out alongside the referenced one, and leaves broken ones out', () => {
    const result = renderRouter(gatewaySpec(), 'team', [
      rm('picker', { rollout: { mode: 'active' } }),
      rm('zeta', { rollout: { mode: 'shadow', alongside: 'picker' } }),
      rm('next', { rollout: { mode: 'canary', canaryPercent: 10, alongside: 'picker' } }),
      rm('broken', { rollout: { mode: 'shadow', alongside: 'picker' }, candidates: [] }),
      rm('elsewhere', { rollout: { mode: 'shadow', alongside: 'picker' } }, 'other-team'),
      rm('unrelated', { rollout: { mode: 'shadow', alongside: 'other' } }),
    ]);
    expect(result.ok && result.router?.models.map((m) => [m.name, m.mode, m.canaryPercent])).toEqual([
      ['picker', 'active', undefined],
      ['next', 'canary', 10],
      ['zeta', 'shadow', undefined],
    ]);
  });

  it('leaves out a model alongside whose artifact its reconciler refused, and refuses a referenced one, on their current generation', () => {
    const refused = (name: string, spec: Record<string, unknown>, observedGeneration: number): RoutingModelObject => ({
      ...rm(name, spec),
      metadata: { name, namespace: 'team', generation: 2 },
      status: { conditions: [{ type: 'Ready', status: 'False', reason: 'InvalidArtifact', message: "spec.featurizer.dimensions is 1024 but the artifact's featurizer has 384", observedGeneration, lastTransitionTime: '1970-01-01T00:00:00Z' }] },
    });
    const alongside = { rollout: { mode: 'shadow', alongside: 'picker' } };
    const names = (models: RoutingModelObject[]) => {
      const r = renderRouter(gatewaySpec(), 'team', models);
      return r.ok ? r.router?.models.map((m) => m.name) : r;
    };
    expect(names([rm('picker', {}), refused('next', alongside, 2)])).toEqual(['picker']);
    // A status from an older generation says nothing about the current spec: the data plane checks it.
    expect(names([rm('picker', {}), refused('next', alongside, 1)])).toEqual(['picker', 'next']);
    expect(renderRouter(gatewaySpec(), 'team', [refused('picker', {}, 2)])).toEqual({
      ok: false,
      reason: 'InvalidRoutingModel',
      retry: false,
      message: "RoutingModel team/picker: spec.featurizer.dimensions is 1024 but the artifact's featurizer has 384",
    });
  });

  it('refuses two canaries, unknown candidate aliases and an invalid referenced model, naming them', () => {
    const twoCanaries = renderRouter(gatewaySpec(), 'team', [
      rm('picker', { rollout: { mode: 'canary', canaryPercent: 5 } }),
      rm('next', { rollout: { mode: 'canary', canaryPercent: 10, alongside: 'picker' } }),
    ]);
    expect(twoCanaries).toMatchObject({ ok: false, reason: 'InvalidRoutingModel', message: 'RoutingModels team/picker, team/next are all in canary mode for team/picker; at most one may be' });
    expect(renderRouter(gatewaySpec(), 'team', [rm('picker', { candidates: [{ name: 'strong' }, { name: 'gpt-9' }] })])).toMatchObject({
      ok: false,
      message: 'RoutingModel team/picker: spec.candidates "gpt-9" is not a model alias of this GatewayConfig (spec.models[].name)',
    });
    expect(renderRouter(gatewaySpec(), 'team', [rm('picker', { decision: {} })])).toMatchObject({ ok: false, reason: 'InvalidRoutingModel', message: 'RoutingModel team/picker: spec: decision: got {}; expected exactly one of willingnessToPay or threshold must be set' });
    expect(renderRouter(gatewaySpec(), 'team', [])).toMatchObject({ ok: false, reason: 'RoutingModelNotFound', retry: true });
    expect(renderRouter(gatewaySpec({}), 'team', [])).toEqual({ ok: true, router: undefined, digests: [] });
  });

  it('requires signed artifacts on every routing model when the gateway names a public key', () => {
    const spec = gatewaySpec({ routingModelRef: { name: 'picker' }, routingModelPublicKey: { secretKeyRef: { name: 'router-keys', key: 'ed25519.pub' } } });
    const result = renderRouter(spec, 'team', [rm('picker', {}), rm('next', { rollout: { mode: 'shadow', alongside: 'picker' } })]);
    expect(result.ok && result.router?.models.map((m) => m.publicKey)).toEqual([
      { secretKeyRef: { name: 'router-keys', key: 'ed25519.pub' } },
      { secretKeyRef: { name: 'router-keys', key: 'ed25519.pub' } },
    ]);
    expect(RuntimeConfig.safeParse(renderRuntimeConfig(spec, result.ok ? result.router : undefined)).success).toBe(true);
  });
});

describe('the Applied condition of a RoutingModel', () => {
  const gateway = (name: string, ref: string, applied: 'True' | 'False', generation = 1): GatewayConfigObject => ({
    metadata: { name, namespace: 'team', generation: 2 },
    spec: { routing: { routingModelRef: { name: ref } } },
    status: { conditions: [{ type: 'ConfigApplied', status: applied, reason: applied === 'True' ? 'Applied' : 'Rolling', message: '1/2 ready replicas run config abc', observedGeneration: generation, lastTransitionTime: '1970-01-01T00:00:00Z' }] },
  });

  it('is true once every gateway routing through the model applied its current generation', () => {
    expect(appliedCondition(rm('picker', {}), [gateway('edge', 'picker', 'True', 2)])).toEqual({ type: 'Applied', status: 'True', reason: 'Applied', message: 'serving on GatewayConfig edge' });
    const alongside = rm('next', { rollout: { mode: 'shadow', alongside: 'picker' } });
    expect(appliedCondition(alongside, [gateway('edge', 'picker', 'True', 2)])).toMatchObject({ status: 'True', message: 'serving alongside RoutingModel picker on GatewayConfig edge' });
  });

  it('is pending while a gateway rolls out or reconciled an older generation, and says when nothing references the model', () => {
    expect(appliedCondition(rm('picker', {}), [gateway('edge', 'picker', 'False', 2)])).toEqual({
      type: 'Applied',
      status: 'False',
      reason: 'Pending',
      message: 'waiting for GatewayConfig edge: Rolling (1/2 ready replicas run config abc)',
    });
    expect(appliedCondition(rm('picker', {}), [gateway('edge', 'picker', 'True', 1)])).toMatchObject({ status: 'False', reason: 'Pending' });
    expect(appliedCondition(rm('picker', {}), [gateway('edge', 'other', 'True', 2)])).toEqual({
      type: 'Applied',
      status: 'False',
      reason: 'NotReferenced',
      message: 'no GatewayConfig in team references RoutingModel picker (spec.routing.routingModelRef)',
    });
  });
});
