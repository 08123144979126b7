import { describe, expect, it } from '@jest/globals';
import { GatewayConfigSpec } from '@switchboard/crds';
import { prometheusQueries, scaleDownStabilizationSeconds, scaledObjectSpec } from './scaled-object.js';

const owner = { apiVersion: 'switchboard.dev/v1alpha1', kind: 'GatewayConfig', metadata: { name: 'edge', namespace: 'prod', uid: 'u1' } };
const spec = (workload: unknown, shutdown?: unknown): GatewayConfigSpec =>
  GatewayConfigSpec.parse({
    models: [{ name: 'fast', deployments: [{ name: 'd', provider: 'openai', model: 'gpt-4o-mini', baseUrl: 'https://api.openai.com/v1' }] }],
    workload,
    ...(shutdown ? { shutdown } : {}),
  });

describe('scaledObjectSpec', () => {
  it('none without autoscaling', () => {
    expect(scaledObjectSpec(owner, spec({ replicas: 2 }), { scalerAddress: 'op:9443' })).toBeUndefined();
  });

  it('external-push: one trigger per target, naming the gateway; targets the Deployment', () => {
    const so = scaledObjectSpec(owner, spec({ autoscaling: { minReplicas: 2, maxReplicas: 9, targetInflight: 40 } }), { scalerAddress: 'op:9443' });
    expect(so).toMatchObject({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'edge-gateway' }, minReplicaCount: 2, maxReplicaCount: 9 });
    expect(so?.triggers).toEqual([{ type: 'external-push', name: 'in-flight', metadata: { scalerAddress: 'op:9443', namespace: 'prod', gateway: 'edge', metric: 'in-flight', target: '40' } }]);
  });

  it('scale-down stabilisation: at least 300 s, at least the drain deadline, at most 3600 s', () => {
    expect(scaleDownStabilizationSeconds(spec({ replicas: 1 }, { drainDelay: '5s', maxStreamDuration: '60s' }))).toBe(300);
    expect(scaleDownStabilizationSeconds(spec({ replicas: 1 }, { drainDelay: '10s', maxStreamDuration: '900s' }))).toBe(915);
    expect(scaleDownStabilizationSeconds(spec({ replicas: 1 }, { drainDelay: '300s', maxStreamDuration: '3600s' }))).toBe(3600);
  });

  it('prometheus queries select the gateway Deployment pods by the configured labels', () => {
    expect(prometheusQueries('prod', 'edge', { namespaceLabel: 'kubernetes_namespace', podLabel: 'pod_name' })).toEqual({
      'tokens-per-second': 'sum(rate(switchboard_tokens_total{kubernetes_namespace="prod",pod_name=~"edge-gateway-.*",direction="output"}[1m]))',
      'in-flight': 'sum(switchboard_in_flight_requests{kubernetes_namespace="prod",pod_name=~"edge-gateway-.*"})',
    });
  });
});
