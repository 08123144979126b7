import { describe, expect, it } from '@jest/globals';
import type { GatewayConfigStatus } from '@switchboard/crds';
import type { ReplicaPod, SecretKeys } from './cache.js';
import { gatewayStatus, planGateway, replicaReport, type GatewayConfigObject, type GatewayObserved, type StatusInput } from './gateway-config.js';
import type { RoutingModelObject } from './routing-model.js';

const deployment = (name: string, secret?: string) => ({
  name,
  provider: 'openai',
  model: 'x',
  baseUrl: 'https://a/v1',
  ...(secret ? { credentials: { secretKeyRef: { name: secret, key: 'api-key' } } } : {}),
});

const gateway = (spec: Record<string, unknown>, name = 'edge'): GatewayConfigObject => ({
  apiVersion: 'switchboard.dev/v1alpha1',
  kind: 'GatewayConfig',
  metadata: { name, namespace: 'team', uid: 'u1', generation: 3 },
  spec,
});

const secrets = (entries: Record<string, string[]>): GatewayObserved['secret'] => (name) =>
  entries[name] ? ({ metadata: { name }, keys: entries[name] } as SecretKeys) : undefined;

const observed = (s: Record<string, string[]> = {}, routingModels: RoutingModelObject[] = []): GatewayObserved => ({
  secret: secrets(s),
  routingModels: () => routingModels,
});
const routingModel = (name: string, spec: Record<string, unknown>): RoutingModelObject => ({ metadata: { name, namespace: 'team' }, spec });
const picker = { router: 'knn', candidates: [{ name: 'm' }, { name: 'n' }], decision: { willingnessToPay: 5 }, artifact: { inline: 'QUJD' } };

const options = { dataPlaneImage: 'img' };

describe('planGateway', () => {
  it('plans every object when all references resolve', () => {
    const plan = planGateway(gateway({ models: [{ name: 'm', deployments: [deployment('d', 'openai')] }] }), observed({ openai: ['api-key'] }), options);
    expect(plan.ok).toBe(true);
    if (!plan.ok) return;
    expect(plan.apply.map((m) => m.kind)).toEqual(['ConfigMap', 'ServiceAccount', 'Role', 'RoleBinding', 'Service', 'Deployment']);
  });

  it('names every missing Secret and where it is referenced, and plans nothing', () => {
    const spec = {
      models: [{ name: 'm', deployments: [deployment('d1', 'a'), deployment('d2', 'b'), deployment('d3', 'a')] }],
      auth: { masterKey: { secretKeyRef: { name: 'ok', key: 'master' } } },
    };
    const plan = planGateway(gateway(spec), observed({ ok: ['master'] }), options);
    expect(plan).toEqual({
      ok: false,
      blocker: {
        reason: 'SecretNotFound',
        retry: true,
        message:
          'Secret team/a not found (referenced by spec.models[0].deployments[0].credentials, spec.models[0].deployments[2].credentials); ' +
          'Secret team/b not found (referenced by spec.models[0].deployments[1].credentials)',
      },
    });
  });

  it('reports a missing key of an existing Secret', () => {
    const plan = planGateway(gateway({ models: [{ name: 'm', deployments: [deployment('d', 'openai')] }] }), observed({ openai: ['other'] }), options);
    expect(plan).toMatchObject({ ok: false, blocker: { reason: 'SecretKeyNotFound', message: 'Secret team/openai has no key "api-key" (referenced by spec.models[0].deployments[0].credentials)' } });
  });

  it('reports a missing RoutingModel, and one that picks aliases the gateway does not have', () => {
    const spec = { models: [{ name: 'm', deployments: [deployment('d')] }, { name: 'n', deployments: [deployment('e')] }], routing: { routingModelRef: { name: 'picker' } } };
    expect(planGateway(gateway(spec), observed(), options)).toMatchObject({ ok: false, blocker: { reason: 'RoutingModelNotFound', retry: true } });
    const plan = planGateway(gateway(spec), observed({}, [routingModel('picker', picker)]), options);
    expect(plan.ok).toBe(true);
    if (plan.ok) expect(plan.rendered.config.routers).toEqual([expect.objectContaining({ name: 'picker', default: 'm' })]);
    const stray = { ...picker, candidates: [{ name: 'm' }, { name: 'gpt-9' }] };
    expect(planGateway(gateway(spec), observed({}, [routingModel('picker', stray)]), options)).toMatchObject({
      ok: false,
      blocker: { reason: 'InvalidRoutingModel', retry: false, message: 'RoutingModel team/picker: spec.candidates "gpt-9" is not a model alias of this GatewayConfig (spec.models[].name)' },
    });
  });

  it('refuses a config larger than the ConfigMap limit, without retrying', () => {
    const plan = planGateway(gateway({ models: [{ name: 'm', deployments: [deployment('d')] }] }), observed(), { ...options, maxConfigBytes: 100 });
    expect(plan).toMatchObject({ ok: false, blocker: { reason: 'ConfigTooLarge', retry: false } });
    if (plan.ok) return;
    expect(plan.blocker.message).toMatch(/^the rendered runtime config is \d+ bytes; ConfigMap edge-runtime may hold at most 100 bytes/);
  });

  it('refuses a name whose Service name would exceed 63 characters and a spec that does not parse', () => {
    const spec = { models: [{ name: 'm', deployments: [deployment('d')] }] };
    expect(planGateway(gateway(spec, 'x'.repeat(56)), observed(), options)).toMatchObject({ ok: false, blocker: { reason: 'NameTooLong' } });
    expect(planGateway(gateway(spec, 'x'.repeat(55)), observed(), options).ok).toBe(true);
    expect(planGateway(gateway({ models: [] }), observed(), options)).toMatchObject({ ok: false, blocker: { reason: 'InvalidSpec', retry: false } });
  });
});

const pod = (name: string, ready: boolean, appliedHash?: string, deleting = false): ReplicaPod => ({
  metadata: { name, namespace: 'team', ...(deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}) },
  ready,
  appliedHash,
});

const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const base: StatusInput = { name: 'edge', generation: 3, previous: undefined, nowMs: T0, hash: 'h1', blocker: undefined, pods: [], deployment: { desired: 2, ready: 2 } };
const cond = (s: GatewayConfigStatus, type: string) => s.conditions?.find((c) => c.type === type);

describe('replica reporting and conditions', () => {
  it('counts only ready, non-terminating pods and lists the lagging ones by name', () => {
    const report = replicaReport([pod('c', true, 'old'), pod('a', true, 'h1'), pod('b', true), pod('d', false, 'old'), pod('e', true, 'old', true)], 'h1');
    expect(report).toEqual({ total: 3, current: 1, lagging: [{ pod: 'b' }, { pod: 'c', appliedHash: 'old' }] });
  });

  it('ConfigApplied and Ready are True only when every ready replica runs the hash', () => {
    const s = gatewayStatus({ ...base, pods: [pod('a', true, 'h1'), pod('b', true, 'h1'), pod('c', false)] });
    expect(s).toEqual({
      observedGeneration: 3,
      configHash: 'h1',
      replicas: { total: 2, current: 2 },
      conditions: [
        { type: 'Ready', status: 'True', reason: 'Ready', message: 'serving config h1 on 2 ready replicas', observedGeneration: 3, lastTransitionTime: '2025-01-01T12:00:00Z' },
        { type: 'ConfigApplied', status: 'True', reason: 'Applied', message: '2/2 ready replicas run config h1', observedGeneration: 3, lastTransitionTime: '2025-01-01T12:00:00Z' },
        { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'nothing is degraded', observedGeneration: 3, lastTransitionTime: '2025-01-01T12:00:00Z' },
      ],
    });
  });

  it('Rolling names the lagging pods; no ready replica is NoReadyReplicas', () => {
    const rolling = gatewayStatus({ ...base, pods: [pod('a', true, 'h1'), pod('b', true, 'h0'), pod('c', true)] });
    expect(cond(rolling, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'Rolling', message: '1/3 ready replicas run config h1; waiting for b (on h0), c (not reported)' });
    expect(cond(rolling, 'Ready')).toMatchObject({ status: 'False', reason: 'Rolling' });
    expect(rolling.laggingReplicas).toEqual([{ pod: 'b', appliedHash: 'h0' }, { pod: 'c' }]);
    const none = gatewayStatus(base);
    expect(cond(none, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'NoReadyReplicas' });
    expect(none.replicas).toEqual({ total: 0, current: 0 });
  });

  it('caps the lagging list at 32 and the message at 10 names', () => {
    const pods = Array.from({ length: 40 }, (_, i) => pod(`p${String(i).padStart(2, '0')}`, true, 'old'));
    const s = gatewayStatus({ ...base, pods });
    expect(s.laggingReplicas).toHaveLength(32);
    expect(cond(s, 'ConfigApplied')?.message).toContain('p09 (on old) and 30 more');
  });

  it('a blocker sets Ready and ConfigApplied False with its reason; Degraded only when an older config still serves', () => {
    const blocker = { reason: 'SecretNotFound' as const, message: 'Secret team/a not found', retry: true };
    const first = gatewayStatus({ ...base, hash: undefined, blocker });
    expect(first.configHash).toBeUndefined();
    expect(first.replicas).toBeUndefined();
    expect(cond(first, 'Ready')).toMatchObject({ status: 'False', reason: 'SecretNotFound', message: 'Secret team/a not found' });
    expect(cond(first, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(cond(first, 'Degraded')).toMatchObject({ status: 'False' });
    const later = gatewayStatus({ ...base, hash: 'h0', blocker });
    expect(cond(later, 'Degraded')).toMatchObject({ status: 'True', reason: 'SecretNotFound', message: 'still serving the last good config h0: Secret team/a not found' });
  });

  it('Degraded when the Deployment has fewer ready replicas than wanted', () => {
    const s = gatewayStatus({ ...base, deployment: { desired: 3, ready: 1 } });
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'True', reason: 'ReplicasUnavailable', message: '1/3 data-plane replicas of Deployment edge-gateway are ready' });
  });

  it('keeps lastTransitionTime while a status holds and moves it when the status flips', () => {
    const first = gatewayStatus({ ...base, pods: [pod('a', true, 'h1')] });
    const same = gatewayStatus({ ...base, previous: first, nowMs: T0 + 60_000, generation: 4, pods: [pod('a', true, 'h1')] });
    expect(cond(same, 'Ready')?.lastTransitionTime).toBe('2025-01-01T12:00:00Z');
    expect(cond(same, 'Ready')?.observedGeneration).toBe(4);
    const flipped = gatewayStatus({ ...base, previous: same, nowMs: T0 + 120_000, pods: [pod('a', true, 'h0')] });
    expect(cond(flipped, 'Ready')?.lastTransitionTime).toBe('2025-01-01T12:02:00Z');
    expect(cond(flipped, 'Degraded')?.lastTransitionTime).toBe('2025-01-01T12:00:00Z');
    // Same inputs, same status: nothing to write.
    expect(gatewayStatus({ ...base, previous: flipped, nowMs: T0 + 999_000, pods: [pod('a', true, 'h0')] })).toEqual(flipped);
  });
});
