// KEDA ScaledObjects rendered by the GatewayConfig reconciler, on a real kube-apiserver with KEDA's
// own ScaledObject CRD installed (config/crd/bases/keda.sh_scaledobjects.yaml from the Go module
// github.com/kedacore/keda/v2, fetched by scripts/keda/ensure.sh), so every object the operator
// writes is validated against KEDA's real schema. Controllers run in-process, KEDA itself does not.
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCluster, type Cluster } from '../cluster/cluster.js';
import { setupControllers } from '../../operator/src/controllers/index.js';
import { KubeApiError, KubeClient, Manager, realClock, type KubeObject } from '../../operator/src/runtime/index.js';
import { kubeTargets, LoadTracker, scalerClientConstructor, startExternalScaler } from '../../operator/src/scaler/index.js';
import { GatewayMetrics } from '../../dataplane/src/telemetry/metrics.js';
import { GENERATED_CRDS, IMAGE, gatewayConfig, namespace, paths, waitFor } from '../operator/support.js';

const TIMEOUT = 60_000;
const KEDA_DIR = path.join(process.env.SWITCHBOARD_CACHE ?? path.join(os.homedir(), '.cache', 'switchboard'), 'keda', 'current');
const SCALEDOBJECT_CRD = path.join(KEDA_DIR, 'keda.sh_scaledobjects.yaml');
const SCALER_ADDRESS = 'switchboard-operator.switchboard-system.svc:9443';

const scaledObjectPath = (ns: string, name: string): string => `/apis/keda.sh/v1alpha1/namespaces/${ns}/scaledobjects/${name}`;

type Obj = KubeObject & { spec?: Record<string, unknown> };
interface ManagedField {
  manager: string;
  operation: string;
  fieldsV1?: { 'f:spec'?: Record<string, unknown> };
}

const autoscaled = (ns: string, name: string, autoscaling: Record<string, unknown>, shutdown = { drainDelay: '5s', maxStreamDuration: '600s' }): object => {
  const gw = gatewayConfig(ns, name) as { spec: Record<string, unknown> };
  return { ...gw, spec: { ...gw.spec, workload: { autoscaling, podDisruptionBudget: { maxUnavailable: 1 } }, shutdown } };
};

describe('KEDA ScaledObject for an autoscaled GatewayConfig (KEDA CRD from github.com/kedacore/keda/v2)', () => {
  let cluster: Cluster;
  let admin: KubeClient;
  let manager: Manager;
  const kubectl = async (args: string[], input?: string): Promise<string> => {
    const r = await cluster.kubectl(args, input === undefined ? {} : { input });
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (...objects: object[]): Promise<string> => kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  const get = async <T extends KubeObject = Obj>(p: string): Promise<T | undefined> => {
    try {
      return await admin.request<T>('GET', p);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
  };

  beforeAll(async () => {
    if (!existsSync(SCALEDOBJECT_CRD)) throw new Error(`${SCALEDOBJECT_CRD} is missing: run scripts/keda/ensure.sh`);
    cluster = await startCluster();
    await kubectl(['apply', '-f', GENERATED_CRDS]);
    await kubectl(['apply', '--server-side', '-f', SCALEDOBJECT_CRD]);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/gatewayconfigs.switchboard.dev', 'crd/routingmodels.switchboard.dev', 'crd/scaledobjects.keda.sh']);
    admin = KubeClient.fromFile(cluster.kubeconfigPath);
    manager = new Manager({ port: 0, host: '127.0.0.1', leaderElection: false });
    setupControllers(manager, KubeClient.fromFile(cluster.kubeconfigPath), { dataPlaneImage: IMAGE, workers: 2, keda: { scalerAddress: SCALER_ADDRESS } });
    await manager.start();
    await apply(namespace('keda-push'), namespace('keda-prom'), namespace('keda-switch'));
  }, TIMEOUT * 3);

  afterAll(async () => {
    await manager?.stop();
    await cluster?.stop();
  }, TIMEOUT);

  it('the installed CRD is KEDA\'s real schema: a ScaledObject without scaleTargetRef is rejected', async () => {
    const bad = { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'bad', namespace: 'keda-push' }, spec: { triggers: [] } };
    const r = await cluster.kubectl(['apply', '--server-side', '--dry-run=server', '-f', '-'], { input: JSON.stringify(bad) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('scaleTargetRef');
  }, TIMEOUT);

  it('external-push: a ScaledObject owned by the GatewayConfig targets the Deployment; the operator owns no replicas field', async () => {
    const ns = 'keda-push';
    await apply(autoscaled(ns, 'edge', { minReplicas: 2, maxReplicas: 12, targetTokensPerSecond: 4000, targetInflight: 250 }));
    const so = await waitFor('the ScaledObject', () => get<Obj>(scaledObjectPath(ns, 'edge-gateway')), 30_000);
    const gw = (await get(paths.gateway(ns, 'edge')))!;
    expect(so.metadata?.ownerReferences).toEqual([
      { apiVersion: 'switchboard.dev/v1alpha1', kind: 'GatewayConfig', name: 'edge', uid: gw.metadata?.uid, controller: true, blockOwnerDeletion: true },
    ]);
    expect((so.metadata?.managedFields as ManagedField[]).some((f) => f.manager === 'switchboard-operator' && f.operation === 'Apply')).toBe(true);
    const base = { scalerAddress: SCALER_ADDRESS, namespace: ns, gateway: 'edge' };
    expect(so.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'edge-gateway' },
      minReplicaCount: 2,
      maxReplicaCount: 12,
      // 5 s preStop + 600 s longest stream + 5 s margin: longer than HPA's 300 s default.
      advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: 610 } } } },
      triggers: [
        { type: 'external-push', name: 'tokens-per-second', metadata: { ...base, metric: 'tokens-per-second', target: '4000' } },
        { type: 'external-push', name: 'in-flight', metadata: { ...base, metric: 'in-flight', target: '250' } },
      ],
    });

    const deployment = await waitFor('the Deployment', () => get<Obj>(paths.deployment(ns, 'edge-gateway')));
    const operatorFields = (deployment.metadata?.managedFields as ManagedField[]).filter((f) => f.manager === 'switchboard-operator');
    expect(operatorFields.length).toBeGreaterThan(0);
    for (const f of operatorFields) {
      expect(f.fieldsV1?.['f:spec']).toBeDefined();
      expect(f.fieldsV1?.['f:spec']).not.toHaveProperty('f:replicas');
    }
    // What KEDA's HPA would do: another manager sets the count, and the operator leaves it alone.
    await kubectl(['patch', 'deployment', 'edge-gateway', '-n', ns, '--type=merge', '-p', '{"spec":{"replicas":5}}']);
    await apply(autoscaled(ns, 'edge', { minReplicas: 2, maxReplicas: 14, targetTokensPerSecond: 4000, targetInflight: 250 }));
    await waitFor('maxReplicaCount 14', async () => (await get<Obj>(scaledObjectPath(ns, 'edge-gateway')))?.spec?.maxReplicaCount === 14, 30_000);
    expect((await get<Obj>(paths.deployment(ns, 'edge-gateway')))?.spec?.replicas).toBe(5);
  }, TIMEOUT);

  it('prometheus trigger: queries over the gateway pods, accepted by KEDA\'s schema; the CRD requires the server address', async () => {
    const ns = 'keda-prom';
    await apply(autoscaled(ns, 'edge', { minReplicas: 1, maxReplicas: 4, targetTokensPerSecond: 3000, trigger: 'prometheus', prometheus: { serverAddress: 'http://prometheus.monitoring:9090' } }, { drainDelay: '5s', maxStreamDuration: '60s' }));
    const so = await waitFor('the ScaledObject', () => get<Obj>(scaledObjectPath(ns, 'edge-gateway')), 30_000);
    expect(so.spec).toMatchObject({
      minReplicaCount: 1,
      maxReplicaCount: 4,
      // The drain deadline (70 s) is shorter than the 300 s floor.
      advanced: { horizontalPodAutoscalerConfig: { behavior: { scaleDown: { stabilizationWindowSeconds: 300 } } } },
      triggers: [
        {
          type: 'prometheus',
          name: 'tokens-per-second',
          metadata: {
            serverAddress: 'http://prometheus.monitoring:9090',
            query: 'sum(rate(switchboard_tokens_total{namespace="keda-prom",pod=~"edge-gateway-.*",direction="output"}[1m]))',
            threshold: '3000',
          },
        },
      ],
    });
    const r = await cluster.kubectl(['apply', '--server-side', '-f', '-'], { input: JSON.stringify(autoscaled(ns, 'bad', { maxReplicas: 4, targetInflight: 10, trigger: 'prometheus' })) });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('set prometheus.serverAddress when trigger is prometheus');
  }, TIMEOUT);

  it('end to end: the rendered trigger metadata drives the external scaler, which finds the ready gateway pods through the apiserver and scrapes them', async () => {
    const ns = 'keda-push';
    const so = (await get<Obj>(scaledObjectPath(ns, 'edge-gateway')))!;
    const trigger = (so.spec?.triggers as Array<{ name: string; metadata: Record<string, string> }>).find((t) => t.name === 'in-flight')!;
    // One data-plane "pod": the data plane's metrics registry on loopback; its Pod object says 127.0.0.1.
    const metrics = new GatewayMetrics();
    metrics.inFlight.set(7);
    const server = http.createServer((_req, res) => void metrics.registry.metrics().then((t) => res.end(t)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const adminPort = (server.address() as AddressInfo).port;
    const pod = (name: string, labels: Record<string, string>): object => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels }, spec: { containers: [{ name: 'gateway', image: IMAGE }] } });
    const gatewayLabels = { 'switchboard.dev/gateway': 'edge', 'app.kubernetes.io/component': 'gateway' };
    await apply(pod('edge-gateway-ready', gatewayLabels), pod('edge-gateway-starting', gatewayLabels), pod('app-with-sidecar', { 'switchboard.dev/gateway': 'edge', 'app.kubernetes.io/component': 'app' }));
    const setStatus = (name: string, ready: boolean) =>
      admin.request('PATCH', `${paths.pod(ns, name)}/status`, {
        contentType: 'application/merge-patch+json',
        body: { status: { podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } },
      });
    await Promise.all([setStatus('edge-gateway-ready', true), setStatus('edge-gateway-starting', false), setStatus('app-with-sidecar', true)]);

    const targets = kubeTargets(admin, adminPort);
    expect(await targets(ns, 'edge')).toEqual([{ pod: 'edge-gateway-ready', url: `http://127.0.0.1:${adminPort}/metrics` }]);
    const tracker = new LoadTracker({ targets, clock: realClock });
    const scaler = await startExternalScaler({ load: (n, g) => tracker.load(n, g), host: '127.0.0.1', port: 0 });
    const Client = scalerClientConstructor();
    const client = new Client(`127.0.0.1:${scaler.port}`, grpc.credentials.createInsecure());
    try {
      const ref = { name: 'edge-gateway', namespace: ns, scalerMetadata: trigger.metadata };
      const res = await new Promise<{ metricValues: Array<{ metricName: string; metricValueFloat: number }> }>((resolve, reject) =>
        (client as unknown as { GetMetrics: (r: unknown, cb: (e: Error | null, v: never) => void) => void }).GetMetrics({ scaledObjectRef: ref, metricName: 's1-in-flight' }, (e, v) => (e ? reject(e) : resolve(v))),
      );
      expect(res.metricValues).toEqual([expect.objectContaining({ metricName: 's1-in-flight', metricValueFloat: 7 })]);
    } finally {
      client.close();
      await scaler.stop();
      await new Promise((r) => server.close(r));
    }
  }, TIMEOUT);

  it('switching from autoscaling to fixed replicas deletes the ScaledObject and the operator owns replicas again', async () => {
    const ns = 'keda-switch';
    await apply(autoscaled(ns, 'edge', { minReplicas: 1, maxReplicas: 3, targetInflight: 50 }));
    await waitFor('the ScaledObject', () => get<Obj>(scaledObjectPath(ns, 'edge-gateway')), 30_000);
    const fixed = gatewayConfig(ns, 'edge') as { spec: Record<string, unknown> };
    await apply({ ...fixed, spec: { ...fixed.spec, workload: { replicas: 3 } } });
    await waitFor('the ScaledObject deleted', async () => (await get(scaledObjectPath(ns, 'edge-gateway'))) === undefined, 30_000);
    await waitFor('replicas 3', async () => (await get<Obj>(paths.deployment(ns, 'edge-gateway')))?.spec?.replicas === 3, 30_000);
  }, TIMEOUT);
});
