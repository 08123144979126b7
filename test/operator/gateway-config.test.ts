// The GatewayConfig reconciler on a real kube-apiserver (test/cluster), controllers in-process.
// No kubelet runs there: data-plane replicas are simulated by creating Pod objects and patching
// their readiness and applied-hash annotation, exactly as a kubelet and a data-plane pod would.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfigText } from '../../dataplane/src/config/load.js';
import { compileRuntimeState } from '../../dataplane/src/config/runtime-state.js';
import { LearnedRouter } from '../../dataplane/src/routing/learned/index.js';
import type { KubeObject } from '../../operator/src/runtime/index.js';
import {
  condition,
  gatewayConfig,
  IMAGE,
  namespace,
  paths,
  secret,
  sleepMs,
  startOperator,
  waitFor,
  type GatewayView,
  type OperatorUnderTest,
} from './support.js';

const TIMEOUT = 60_000;

type Obj = KubeObject & Record<string, unknown> & { data?: Record<string, string>; spec?: Record<string, unknown>; status?: Record<string, unknown> };

describe('GatewayConfig reconciler on a real kube-apiserver', () => {
  let op: OperatorUnderTest;

  beforeAll(async () => {
    op = await startOperator();
    await op.apply(...['gw-apply', 'gw-missing', 'gw-rm', 'gw-big', 'gw-pods', 'gw-race', 'gw-steady'].map(namespace));
  }, TIMEOUT * 2);

  afterAll(async () => {
    await op?.stop();
  }, TIMEOUT);

  const gatewayOf = (ns: string, name: string): Promise<GatewayView | undefined> => op.get<GatewayView>(paths.gateway(ns, name));

  it('creates the runtime ConfigMap, Deployment, Service, ServiceAccount, Role, RoleBinding and PDB, each owned by the GatewayConfig', async () => {
    const ns = 'gw-apply';
    await op.apply(secret(ns, 'openai'), gatewayConfig(ns, 'edge', { secret: 'openai' }));
    const gw = await waitFor('status with a config hash', async () => {
      const g = await gatewayOf(ns, 'edge');
      return g?.status?.configHash ? g : undefined;
    });
    const owned = await Promise.all([
      op.get<Obj>(paths.configMap(ns, 'edge-runtime')),
      op.get<Obj>(paths.deployment(ns, 'edge-gateway')),
      op.get<Obj>(paths.service(ns, 'edge-gateway')),
      op.get<Obj>(paths.serviceAccount(ns, 'edge-gateway')),
      op.get<Obj>(paths.role(ns, 'edge-gateway')),
      op.get<Obj>(paths.roleBinding(ns, 'edge-gateway')),
      op.get<Obj>(paths.pdb(ns, 'edge-gateway')),
    ]);
    for (const obj of owned) {
      expect(obj?.metadata?.ownerReferences).toEqual([
        { apiVersion: 'switchboard.dev/v1alpha1', kind: 'GatewayConfig', name: 'edge', uid: gw.metadata?.uid, controller: true, blockOwnerDeletion: true },
      ]);
      expect(obj?.metadata?.managedFields?.toString()).toBeDefined();
      expect((obj?.metadata?.managedFields as Array<{ manager: string; operation: string }>).some((f) => f.manager === 'switchboard-operator' && f.operation === 'Apply')).toBe(true);
    }
    const [cm, deployment, , , role, , pdb] = owned;

    // The ConfigMap holds what the data plane parses, and both sides compute the same hash.
    const parsed = parseConfigText(cm!.data!['config.json']!, 'edge-runtime');
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    // The hash the data plane reports once it compiled the config (Secrets resolved).
    const state = compileRuntimeState(parsed.config, { env: {}, secrets: () => 'sk-resolved' });
    expect(state.hash).toBe(gw.status?.configHash);
    expect(cm!.metadata?.annotations?.['switchboard.dev/config-hash']).toBe(gw.status?.configHash);
    expect(parsed.config.models[0]!.deployments[0]!.credentials).toEqual({ secretKeyRef: { name: 'openai', key: 'api-key' } });
    expect(cm!.data!['config.json']).not.toContain('sk-test');

    const podSpec = (deployment!.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    expect(podSpec).toMatchObject({ serviceAccountName: 'edge-gateway', terminationGracePeriodSeconds: 5 + 120 + 5 });
    expect((podSpec.containers as Array<Record<string, unknown>>)[0]).toMatchObject({ image: IMAGE, lifecycle: { preStop: { sleep: { seconds: 5 } } } });
    expect(deployment!.spec).toMatchObject({ replicas: 2 });
    expect((role as { rules: unknown[] }).rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['edge-runtime'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['openai'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['patch'] },
    ]);
    expect(pdb!.spec).toMatchObject({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' });

    // The apiserver's RBAC agrees: the data plane's service account reads only its own objects.
    const can = async (...args: string[]): Promise<string> =>
      (await op.cluster.kubectl(['auth', 'can-i', ...args, '-n', ns, '--as', `system:serviceaccount:${ns}:edge-gateway`])).stdout.trim();
    expect(await can('watch', 'configmaps/edge-runtime')).toBe('yes');
    expect(await can('get', 'secrets/openai')).toBe('yes');
    expect(await can('patch', 'pods')).toBe('yes');
    expect(await can('get', 'configmaps/other')).toBe('no');
    expect(await can('get', 'secrets/other')).toBe('no');
    expect(await can('list', 'secrets')).toBe('no');
    expect(await can('delete', 'pods')).toBe('no');

    expect(gw.status).toMatchObject({ observedGeneration: 1, replicas: { total: 0, current: 0 } });
    expect(condition(gw, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'NoReadyReplicas', observedGeneration: 1 });
    expect(condition(gw, 'Degraded')).toMatchObject({ status: 'True', reason: 'ReplicasUnavailable' });
  }, TIMEOUT);

  it('a spec change updates the ConfigMap and observedGeneration and leaves the Deployment (and its pod template) untouched', async () => {
    const ns = 'gw-apply';
    const before = (await gatewayOf(ns, 'edge'))!;
    const deploymentBefore = (await op.get<Obj>(paths.deployment(ns, 'edge-gateway')))!;
    await op.apply(gatewayConfig(ns, 'edge', { secret: 'openai', weight: 3 }));
    const after = await waitFor('observedGeneration 2', async () => {
      const g = await gatewayOf(ns, 'edge');
      return g?.status?.observedGeneration === 2 ? g : undefined;
    });
    expect(after.status?.configHash).not.toBe(before.status?.configHash);
    const cm = (await op.get<Obj>(paths.configMap(ns, 'edge-runtime')))!;
    expect(cm.metadata?.annotations?.['switchboard.dev/config-hash']).toBe(after.status?.configHash);
    expect(JSON.parse(cm.data!['config.json']!).models[0].deployments[0].weight).toBe(3);
    const deploymentAfter = (await op.get<Obj>(paths.deployment(ns, 'edge-gateway')))!;
    expect(deploymentAfter.metadata?.resourceVersion).toBe(deploymentBefore.metadata?.resourceVersion);
    expect(deploymentAfter.metadata?.generation).toBe(deploymentBefore.metadata?.generation);
    expect((deploymentAfter.spec as { template: unknown }).template).toEqual((deploymentBefore.spec as { template: unknown }).template);
    for (const type of ['ConfigApplied', 'Ready', 'Degraded']) expect(condition(after, type)?.observedGeneration).toBe(2);
    // The condition did not flip, so its transition time stayed.
    expect(condition(after, 'Ready')?.lastTransitionTime).toBe(condition(before, 'Ready')?.lastTransitionTime);
  }, TIMEOUT);

  it('repairs an owned object that someone deletes or edits', async () => {
    const ns = 'gw-apply';
    await op.kubectl(['delete', 'service', 'edge-gateway', '-n', ns]);
    await waitFor('the Service re-created', () => op.get(paths.service(ns, 'edge-gateway')));
    await op.kubectl(['patch', 'deployment', 'edge-gateway', '-n', ns, '--type=merge', '-p', '{"spec":{"replicas":7}}']);
    await waitFor('replicas restored', async () => ((await op.get<Obj>(paths.deployment(ns, 'edge-gateway')))?.spec as { replicas?: number }).replicas === 2);
  }, TIMEOUT);

  it('a missing Secret: conditions False naming it, nothing created; creating the Secret reconciles without touching the GatewayConfig', async () => {
    const ns = 'gw-missing';
    await op.apply(gatewayConfig(ns, 'late', { secret: 'not-yet' }));
    const blocked = await waitFor('SecretNotFound', async () => {
      const g = await gatewayOf(ns, 'late');
      return condition(g, 'Ready')?.reason === 'SecretNotFound' ? g : undefined;
    });
    expect(condition(blocked, 'Ready')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(condition(blocked, 'Ready')?.message).toContain('Secret gw-missing/not-yet not found (referenced by spec.models[0].deployments[0].credentials)');
    expect(condition(blocked, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(blocked.status?.configHash).toBeUndefined();
    await sleepMs(300);
    for (const p of [paths.configMap(ns, 'late-runtime'), paths.deployment(ns, 'late-gateway'), paths.role(ns, 'late-gateway'), paths.service(ns, 'late-gateway')]) {
      expect(await op.get(p)).toBeUndefined();
    }

    await op.apply(secret(ns, 'not-yet'));
    const fixed = await waitFor('reconciled after the Secret appeared', async () => {
      const g = await gatewayOf(ns, 'late');
      return g?.status?.configHash ? g : undefined;
    });
    expect(fixed.metadata?.generation).toBe(1);
    expect(fixed.metadata?.resourceVersion).not.toBe(blocked.metadata?.resourceVersion);
    expect(condition(fixed, 'ConfigApplied')?.reason).toBe('NoReadyReplicas');
    expect(await op.get(paths.deployment(ns, 'late-gateway'))).toBeDefined();
  }, TIMEOUT);

  it('a missing RoutingModel likewise, fixed when the RoutingModel is created', async () => {
    const ns = 'gw-rm';
    // The RoutingModel's candidates are aliases of the gateway: "fast" and "smart".
    const routed = gatewayConfig(ns, 'routed', { secret: 'openai', routingModel: 'picker' }) as { spec: { models: Array<Record<string, unknown>> } };
    routed.spec.models.push({ name: 'smart', deployments: [{ name: 'openai-4o', provider: 'openai', model: 'gpt-4o', baseUrl: 'https://api.openai.com/v1' }] });
    await op.apply(secret(ns, 'openai'), routed);
    const blocked = await waitFor('RoutingModelNotFound', async () => {
      const g = await gatewayOf(ns, 'routed');
      return condition(g, 'Ready')?.reason === 'RoutingModelNotFound' ? g : undefined;
    });
    expect(condition(blocked, 'ConfigApplied')?.message).toBe('RoutingModel gw-rm/picker not found (referenced by spec.routing.routingModelRef)');
    expect(await op.get(paths.configMap(ns, 'routed-runtime'))).toBeUndefined();

    await op.apply({
      apiVersion: 'switchboard.dev/v1alpha1',
      kind: 'RoutingModel',
      metadata: { name: 'picker', namespace: ns },
      spec: {
        router: 'elo',
        candidates: [{ name: 'fast' }, { name: 'smart' }],
        decision: { threshold: 0.5 },
        // A real (small) Elo artifact: the operator holds the spec to its header.
        artifact: {
          inline: Buffer.from(
            LearnedRouter.train([{ query: 'hi', scores: { fast: 1, smart: 0 } }, { query: 'prove it', scores: { fast: 0, smart: 1 } }], { fast: { input: 0.1, output: 0.2 }, smart: { input: 1, output: 2 } }, { kind: 'elo', seed: 1, featurizer: { dim: 256 } }).encode().bytes,
          ).toString('base64'),
        },
      },
    });
    await waitFor('reconciled after the RoutingModel appeared', async () => (await gatewayOf(ns, 'routed'))?.status?.configHash);
    const role = (await op.get<Obj & { rules: Array<{ resources: string[]; resourceNames?: string[] }> }>(paths.role(ns, 'routed-gateway')))!;
    expect(role.rules[0]!.resourceNames).toEqual(['picker-artifact', 'routed-runtime']);
  }, TIMEOUT);

  it('a config over the 1 MiB ConfigMap limit: ConfigTooLarge, no ConfigMap written', async () => {
    const ns = 'gw-big';
    const big = gatewayConfig(ns, 'huge') as { spec: { models: Array<{ deployments: Array<Record<string, unknown>> }> } };
    big.spec.models[0]!.deployments[0]!.headers = { 'x-padding': 'x'.repeat(1_100_000) };
    await op.apply(big);
    const g = await waitFor('ConfigTooLarge', async () => {
      const v = await gatewayOf(ns, 'huge');
      return condition(v, 'ConfigApplied')?.reason === 'ConfigTooLarge' ? v : undefined;
    });
    expect(condition(g, 'Ready')).toMatchObject({ status: 'False', reason: 'ConfigTooLarge' });
    expect(condition(g, 'ConfigApplied')?.message).toMatch(/the rendered runtime config is \d+ bytes; ConfigMap huge-runtime may hold at most 1048576 bytes/);
    expect(await op.get(paths.configMap(ns, 'huge-runtime'))).toBeUndefined();
    expect(await op.get(paths.deployment(ns, 'huge-gateway'))).toBeUndefined();
  }, TIMEOUT);

  it('reports how many ready replicas (gateway pods and sidecars) run the current hash, naming the lagging ones', async () => {
    const ns = 'gw-pods';
    await op.apply(secret(ns, 'openai'), gatewayConfig(ns, 'fleet', { secret: 'openai' }));
    const hash = await waitFor('config hash', async () => (await gatewayOf(ns, 'fleet'))?.status?.configHash);
    const pod = (name: string, component: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels: { 'switchboard.dev/gateway': 'fleet', 'app.kubernetes.io/component': component } },
      spec: { containers: [{ name: 'gateway', image: IMAGE }] },
    });
    await op.apply(pod('fleet-a', 'gateway'), pod('fleet-b', 'gateway'), pod('app-with-sidecar', 'app'));
    const markReady = (name: string) =>
      op.admin.request('PATCH', `${paths.pod(ns, name)}/status`, {
        contentType: 'application/merge-patch+json',
        body: { status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } },
      });
    const report = (name: string, h: string) =>
      op.admin.request('PATCH', paths.pod(ns, name), { contentType: 'application/merge-patch+json', body: { metadata: { annotations: { 'switchboard.dev/applied-config-hash': h } } } });
    await Promise.all(['fleet-a', 'fleet-b', 'app-with-sidecar'].map(markReady));
    await report('fleet-a', hash);
    await report('app-with-sidecar', hash);
    await report('fleet-b', '0123456789abcdef');

    const rolling = await waitFor('Rolling', async () => {
      const g = await gatewayOf(ns, 'fleet');
      return g?.status?.replicas?.total === 3 && g.status.replicas.current === 2 && g.status.laggingReplicas?.[0]?.appliedHash ? g : undefined;
    });
    expect(rolling.status?.replicas).toEqual({ total: 3, current: 2 });
    expect(rolling.status?.laggingReplicas).toEqual([{ pod: 'fleet-b', appliedHash: '0123456789abcdef' }]);
    expect(condition(rolling, 'ConfigApplied')?.message).toBe(`2/3 ready replicas run config ${hash}; waiting for fleet-b (on 0123456789abcdef)`);
    expect(condition(rolling, 'Ready')).toMatchObject({ status: 'False', reason: 'Rolling' });

    await report('fleet-b', hash);
    const applied = await waitFor('Applied', async () => {
      const g = await gatewayOf(ns, 'fleet');
      return condition(g, 'ConfigApplied')?.status === 'True' ? g : undefined;
    });
    expect(applied.status?.replicas).toEqual({ total: 3, current: 3 });
    expect(applied.status?.laggingReplicas).toBeUndefined();
    expect(condition(applied, 'Ready')).toMatchObject({ status: 'True', reason: 'Ready' });

    // The Deployment reports its pods ready (a controller-manager would): no longer degraded.
    await op.admin.request('PATCH', `${paths.deployment(ns, 'fleet-gateway')}/status`, {
      contentType: 'application/merge-patch+json',
      body: { status: { replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2 } },
    });
    await waitFor('not degraded', async () => condition(await gatewayOf(ns, 'fleet'), 'Degraded')?.status === 'False');
  }, TIMEOUT);

  it('retries a status write that loses a race (409 Conflict) against a concurrent update', async () => {
    const ns = 'gw-race';
    await op.apply(secret(ns, 'openai'));
    const statusPath = `${paths.gateway(ns, 'racy')}/status`;
    let raced = false;
    op.client.beforeNext(
      (method, p) => method === 'PUT' && p === statusPath,
      async () => {
        // Someone else updates the object between the operator's read and its status write.
        await op.kubectl(['annotate', 'gatewayconfig', 'racy', '-n', ns, 'example.com/touched=yes']);
        raced = true;
      },
    );
    await op.apply(gatewayConfig(ns, 'racy', { secret: 'openai' }));
    const g = await waitFor('status written', async () => {
      const v = await gatewayOf(ns, 'racy');
      return v?.status?.configHash ? v : undefined;
    });
    expect(raced).toBe(true);
    const puts = op.client.requests.filter((r) => r.method === 'PUT' && r.path === statusPath);
    expect(puts[0]!.status).toBe(409);
    expect(puts.some((r) => r.status === 200)).toBe(true);
    expect(g.metadata?.annotations?.['example.com/touched']).toBe('yes');
    expect(g.status?.observedGeneration).toBe(1);
  }, TIMEOUT);

  it('makes no writes in steady state', async () => {
    await op.apply(secret('gw-steady', 'openai'), gatewayConfig('gw-steady', 'calm', { secret: 'openai' }));
    await waitFor('status', async () => (await gatewayOf('gw-steady', 'calm'))?.status?.configHash);
    // Let every earlier change settle (the queue drains, status writes land), then watch quietly.
    await sleepMs(1_500);
    const writesBefore = op.client.writes().length;
    const listed = await op.kubectl(['get', 'gatewayconfigs,configmaps,deployments,services,roles,rolebindings,poddisruptionbudgets', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.metadata.resourceVersion}{"\\n"}{end}']);
    await sleepMs(3_000);
    const listedAfter = await op.kubectl(['get', 'gatewayconfigs,configmaps,deployments,services,roles,rolebindings,poddisruptionbudgets', '-A', '-o', 'jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.metadata.resourceVersion}{"\\n"}{end}']);
    expect(op.client.writes().slice(writesBefore)).toEqual([]);
    expect(listedAfter).toBe(listed);

    // A reconcile with nothing to change (an unrelated annotation) sends no apply and no status.
    const reconciles = async (): Promise<number> => {
      const metric = await op.manager.registry.getSingleMetric('switchboard_operator_reconcile_total')?.get();
      return (metric?.values ?? []).filter((v) => v.labels.controller === 'gatewayconfig').reduce((sum, v) => sum + v.value, 0);
    };
    const before = await reconciles();
    await op.kubectl(['annotate', 'gatewayconfig', 'calm', '-n', 'gw-steady', 'example.com/noise=1']);
    await waitFor('a reconcile of the annotated GatewayConfig', async () => (await reconciles()) > before);
    await sleepMs(300);
    expect(op.client.writes().slice(writesBefore)).toEqual([]);
  }, TIMEOUT);
});
