import { describe, expect, it } from '@jest/globals';
import { GatewayConfigSpec, type GatewayConfigSpecInput } from '@switchboard/crds';
import { renderConfigText, type AliasRouterInput } from './runtime-config.js';
import {
  desiredDeployment,
  desiredPodDisruptionBudget,
  desiredRole,
  desiredRoleBinding,
  desiredService,
  desiredWorkload,
  GRACE_MARGIN_SECONDS,
  shutdownTiming,
  type WorkloadInput,
} from './gateway-workload.js';

const owner = { apiVersion: 'switchboard.dev/v1alpha1', kind: 'GatewayConfig', metadata: { name: 'edge', namespace: 'team', uid: 'uid-1' } };
const model = { name: 'm', deployments: [{ name: 'd', provider: 'openai' as const, model: 'x', baseUrl: 'https://a/v1', credentials: { secretKeyRef: { name: 'openai', key: 'k' } } }] };

function input(extra: Partial<GatewayConfigSpecInput> = {}, more: Partial<WorkloadInput> = {}): WorkloadInput {
  const spec = GatewayConfigSpec.parse({ models: [model], ...extra });
  return { owner, spec, rendered: renderConfigText(spec), dataPlaneImage: 'img:1', ...more };
}

type Json = Record<string, unknown>;
const podSpecOf = (d: Json): Json => ((d.spec as Json).template as Json).spec as Json;
const containerOf = (d: Json): Json => (podSpecOf(d).containers as Json[])[0]!;

describe('desired data-plane workload', () => {
  it('gives every object the same owner reference, labels and a desired-hash annotation', () => {
    const { apply } = desiredWorkload(input({ workload: { replicas: 2, podDisruptionBudget: { minAvailable: 1 } } }));
    expect(apply.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      'ConfigMap/edge-runtime',
      'ServiceAccount/edge-gateway',
      'Role/edge-gateway',
      'RoleBinding/edge-gateway',
      'Service/edge-gateway',
      'Deployment/edge-gateway',
      'PodDisruptionBudget/edge-gateway',
    ]);
    for (const m of apply) {
      expect(m.metadata.namespace).toBe('team');
      expect(m.metadata.ownerReferences).toEqual([{ apiVersion: 'switchboard.dev/v1alpha1', kind: 'GatewayConfig', name: 'edge', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
      expect(m.metadata.labels).toMatchObject({ 'app.kubernetes.io/managed-by': 'switchboard-operator', 'switchboard.dev/gateway': 'edge' });
      expect(m.metadata.annotations?.['switchboard.dev/desired-hash']).toMatch(/^[0-9a-f]{16}$/);
    }
    expect(apply[0]!.metadata.annotations?.['switchboard.dev/config-hash']).toBe(input().rendered.hash);
  });

  it('runs the data plane with restricted pod security', () => {
    const d = desiredDeployment(input());
    expect(podSpecOf(d).securityContext).toEqual({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    expect(containerOf(d).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('wires image, args, ports, downward-API env, probes and service account', () => {
    const d = desiredDeployment(input());
    const c = containerOf(d);
    expect(c.image).toBe('img:1');
    expect(c.args).toEqual(['gateway', '--configmap', 'edge-runtime', '--host', '0.0.0.0', '--port', '8080', '--admin-port', '9090']);
    expect(c.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'admin', containerPort: 9090, protocol: 'TCP' },
    ]);
    expect(c.env).toEqual([
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
      { name: 'POD_UID', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.uid' } } },
      { name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
    ]);
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'admin' } });
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'admin' } });
    expect(podSpecOf(d)).toMatchObject({ serviceAccountName: 'edge-gateway', volumes: [{ name: 'tmp', emptyDir: {} }] });
    expect(desiredDeployment(input({ workload: { replicas: 1, image: 'mine:2' } })).spec).toMatchObject({ template: { spec: { containers: [{ image: 'mine:2' }] } } });
  });

  it('takes replicas and resources from the spec and leaves replicas unset under autoscaling', () => {
    const fixed = desiredDeployment(input({ workload: { replicas: 4, resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '512Mi' } } } }));
    expect((fixed.spec as Json).replicas).toBe(4);
    expect(containerOf(fixed).resources).toEqual({ requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '512Mi' } });
    const scaled = desiredDeployment(input({ workload: { autoscaling: { minReplicas: 2, maxReplicas: 8, targetInflight: 50 } } }));
    expect(scaled.spec).not.toHaveProperty('replicas');
    expect(containerOf(scaled).resources).toEqual({});
  });

  it('never changes the pod template when only the runtime config changes', () => {
    const a = desiredDeployment(input());
    const b = desiredDeployment(input({ retries: { maxAttempts: 5 }, timeouts: { firstByte: '10s', total: '30s' } }));
    expect(input().rendered.hash).not.toBe(input({ retries: { maxAttempts: 5 } }).rendered.hash);
    expect((b.spec as Json).template).toEqual((a.spec as Json).template);
    expect(JSON.stringify((a.spec as Json).template)).not.toContain(input().rendered.hash);
  });

  it.each([
    ['5s', '300s', 5, 5 + 300 + GRACE_MARGIN_SECONDS],
    ['1.5s', '90s', 2, 2 + 90 + GRACE_MARGIN_SECONDS],
    ['250ms', '1m', 1, 1 + 60 + GRACE_MARGIN_SECONDS],
    ['0s', '1h', 0, 3600 + GRACE_MARGIN_SECONDS],
  ])('drainDelay %s + maxStreamDuration %s -> preStop %i s, grace %i s', (drainDelay, maxStreamDuration, preStop, grace) => {
    const i = input({ shutdown: { drainDelay, maxStreamDuration } });
    expect(shutdownTiming(i.spec)).toEqual({ preStopSleepSeconds: preStop, terminationGracePeriodSeconds: grace });
    const d = desiredDeployment(i);
    expect(podSpecOf(d).terminationGracePeriodSeconds).toBe(grace);
    if (preStop > 0) expect(containerOf(d).lifecycle).toEqual({ preStop: { sleep: { seconds: preStop } } });
    else expect(containerOf(d)).not.toHaveProperty('lifecycle');
  });

  it('grants read access only to its own ConfigMap and referenced Secrets, by name, and pod patch', () => {
    const role = desiredRole(
      input({
        auth: { masterKey: { secretKeyRef: { name: 'gw', key: 'master' } } },
        audit: { sinks: [{ s3: { bucket: 'audit-logs', credentialsSecretRef: { name: 's3' } } }] },
      }),
    );
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], resourceNames: ['edge-runtime'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['gw', 'openai', 's3'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['patch'] },
    ]);
    const binding = desiredRoleBinding(input());
    expect(binding).toMatchObject({ roleRef: { kind: 'Role', name: 'edge-gateway' }, subjects: [{ kind: 'ServiceAccount', name: 'edge-gateway', namespace: 'team' }] });
  });

  it('leaves the Secret rule out entirely when nothing is referenced (an empty resourceNames means all)', () => {
    const spec = GatewayConfigSpec.parse({ models: [{ name: 'm', deployments: [{ name: 'd', provider: 'openai', model: 'x', baseUrl: 'https://a/v1' }] }] });
    const role = desiredRole({ owner, spec, rendered: renderConfigText(spec), dataPlaneImage: 'i' });
    expect((role.rules as Json[]).map((r) => (r.resources as string[])[0])).toEqual(['configmaps', 'pods']);
  });

  it("adds the routing models' artifact ConfigMaps to the readable ConfigMaps", () => {
    const names = (artifacts: AliasRouterInput['models'][number]['artifact'][]): string[] => {
      const spec = GatewayConfigSpec.parse({ models: [model] });
      const router: AliasRouterInput = { name: 'picker', default: 'm', models: artifacts.map((artifact, i) => ({ name: `rm${i}`, mode: i === 0 ? 'active' : 'shadow', artifact, candidates: { m: 'm' } })) };
      return (desiredRole({ owner, spec, rendered: renderConfigText(spec, router), dataPlaneImage: 'i' }).rules as Json[])[0]!.resourceNames as string[];
    };
    expect(names([{ configMap: { name: 'picker-artifact', key: 'artifact.gz' } }, { configMap: { name: 'trained', key: 'm' } }])).toEqual(['edge-runtime', 'picker-artifact', 'trained']);
    expect(names([{ uri: 'https://x/m', sha256: 'a'.repeat(64) }])).toEqual(['edge-runtime']);
  });

  it("adds the Secrets holding the keys of routing models' s3:// artifacts to the readable Secrets", () => {
    const spec = GatewayConfigSpec.parse({ models: [model] });
    const s3 = { region: 'eu-west-1', accessKeyId: { secretKeyRef: { name: 'store', key: 'AWS_ACCESS_KEY_ID' } }, secretAccessKey: { secretKeyRef: { name: 'store', key: 'AWS_SECRET_ACCESS_KEY' } } };
    const router: AliasRouterInput = { name: 'picker', default: 'm', models: [{ name: 'rm', mode: 'active', artifact: { uri: 's3://routers/rm.art', sha256: 'a'.repeat(64), s3 }, candidates: { m: 'm' } }] };
    const rules = desiredRole({ owner, spec, rendered: renderConfigText(spec, router), dataPlaneImage: 'i' }).rules as Json[];
    expect(rules.find((r) => (r.resources as string[])[0] === 'secrets')).toEqual({ apiGroups: [''], resources: ['secrets'], resourceNames: ['openai', 'store'], verbs: ['get', 'list', 'watch'] });
  });

  it('exposes the API and admin ports on the Service, selecting only gateway pods', () => {
    expect(desiredService(input()).spec).toEqual({
      type: 'ClusterIP',
      selector: { 'switchboard.dev/gateway': 'edge', 'app.kubernetes.io/component': 'gateway' },
      ports: [
        { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP' },
        { name: 'admin', port: 9090, targetPort: 'admin', protocol: 'TCP' },
      ],
    });
  });

  it('renders the PodDisruptionBudget from the spec with AlwaysAllow for unhealthy pods, or none', () => {
    expect(desiredPodDisruptionBudget(input({ workload: { replicas: 3, podDisruptionBudget: { minAvailable: '50%' } } }))?.spec).toEqual({
      selector: { matchLabels: { 'switchboard.dev/gateway': 'edge', 'app.kubernetes.io/component': 'gateway' } },
      minAvailable: '50%',
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
    expect(desiredPodDisruptionBudget(input({ workload: { replicas: 3, podDisruptionBudget: { maxUnavailable: 1 } } }))?.spec).toMatchObject({ maxUnavailable: 1 });
    expect(desiredPodDisruptionBudget(input())).toBeUndefined();
    expect(desiredWorkload(input()).absent).toEqual([{ kind: expect.objectContaining({ kind: 'PodDisruptionBudget' }), name: 'edge-gateway' }]);
  });
});
