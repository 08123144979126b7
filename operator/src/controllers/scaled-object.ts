// GatewayConfig with spec.workload.autoscaling -> a KEDA ScaledObject that scales the data-plane
// Deployment. Pure. The Deployment's replicas are left unset (gateway-workload.ts), so KEDA's HPA is
// the only writer of the count. Two trigger flavours:
//   external-push  KEDA asks the operator's external scaler (operator/src/scaler) over gRPC; one
//                  trigger per target (tokens/s, in-flight), metadata names the gateway.
//   prometheus     KEDA queries Prometheus for the same two series, summed over the gateway's pods.
// Scale-down is stabilised for at least the pods' drain deadline, so a pod that is still draining
// long streams is not followed by another scale-down decision made on the drop it caused.
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { IScaleTriggers } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaleTriggers';
import type { GatewayConfigSpec } from '@switchboard/crds';
import type { KubeObject } from '../runtime/index.js';
import { KINDS } from './meta.js';
import { shutdownTiming, workloadName } from './gateway-workload.js';

/** Where KEDA reaches the operator's external scaler, e.g. `switchboard-operator.switchboard.svc:9443`. */
export interface KedaOptions {
  scalerAddress: string;
}

/** Metric names the external scaler understands (trigger metadata `metric`). */
export const SCALER_METRICS = { tokensPerSecond: 'tokens-per-second', inflight: 'in-flight' } as const;
export type ScalerMetric = (typeof SCALER_METRICS)[keyof typeof SCALER_METRICS];

/** Floor of the scale-down stabilisation window (HPA's own default). */
export const MIN_SCALE_DOWN_STABILIZATION_SECONDS = 300;
/** The HPA API's ceiling for stabilizationWindowSeconds. */
export const MAX_SCALE_DOWN_STABILIZATION_SECONDS = 3600;
/** How often KEDA polls (external-push also pushes activation changes). */
export const POLLING_INTERVAL_SECONDS = 15;

export type ScaledObjectManifest = IScaledObject & { metadata: { name: string; namespace: string } };

export function scaleDownStabilizationSeconds(spec: GatewayConfigSpec): number {
  const drain = shutdownTiming(spec).terminationGracePeriodSeconds;
  return Math.min(MAX_SCALE_DOWN_STABILIZATION_SECONDS, Math.max(MIN_SCALE_DOWN_STABILIZATION_SECONDS, drain));
}

function externalTriggers(owner: KubeObject, a: NonNullable<GatewayConfigSpec['workload']['autoscaling']>, keda: KedaOptions): IScaleTriggers[] {
  const base = { scalerAddress: keda.scalerAddress, namespace: owner.metadata?.namespace ?? '', gateway: owner.metadata?.name ?? '' };
  const triggers: IScaleTriggers[] = [];
  if (a.targetTokensPerSecond !== undefined) {
    triggers.push({ type: 'external-push', name: 'tokens-per-second', metadata: { ...base, metric: SCALER_METRICS.tokensPerSecond, target: String(a.targetTokensPerSecond) } });
  }
  if (a.targetInflight !== undefined) {
    triggers.push({ type: 'external-push', name: 'in-flight', metadata: { ...base, metric: SCALER_METRICS.inflight, target: String(a.targetInflight) } });
  }
  return triggers;
}

/** PromQL over the gateway's own pods (`<gateway>-gateway-*`; sidecars are not scaled by it). */
export function prometheusQueries(namespace: string, gateway: string, labels: { namespaceLabel: string; podLabel: string }): Record<ScalerMetric, string> {
  const sel = `${labels.namespaceLabel}="${namespace}",${labels.podLabel}=~"${workloadName(gateway)}-.*"`;
  return {
    'tokens-per-second': `sum(rate(switchboard_tokens_total{${sel},direction="output"}[1m]))`,
    'in-flight': `sum(switchboard_in_flight_requests{${sel}})`,
  };
}

function prometheusTriggers(owner: KubeObject, a: NonNullable<GatewayConfigSpec['workload']['autoscaling']>): IScaleTriggers[] {
  const prom = a.prometheus;
  if (!prom) return [];
  const q = prometheusQueries(owner.metadata?.namespace ?? '', owner.metadata?.name ?? '', prom);
  const triggers: IScaleTriggers[] = [];
  if (a.targetTokensPerSecond !== undefined) {
    triggers.push({ type: 'prometheus', name: 'tokens-per-second', metadata: { serverAddress: prom.serverAddress, query: q['tokens-per-second'], threshold: String(a.targetTokensPerSecond) } });
  }
  if (a.targetInflight !== undefined) {
    triggers.push({ type: 'prometheus', name: 'in-flight', metadata: { serverAddress: prom.serverAddress, query: q['in-flight'], threshold: String(a.targetInflight) } });
  }
  return triggers;
}

/** The ScaledObject's body (metadata is added by the caller), or undefined without autoscaling. */
export function scaledObjectSpec(owner: KubeObject, spec: GatewayConfigSpec, keda: KedaOptions): IScaledObject['spec'] | undefined {
  const a = spec.workload.autoscaling;
  if (!a) return undefined;
  const triggers = a.trigger === 'prometheus' ? prometheusTriggers(owner, a) : externalTriggers(owner, a, keda);
  return {
    scaleTargetRef: { apiVersion: KINDS.deployment.apiVersion, kind: 'Deployment', name: workloadName(owner.metadata?.name ?? '') },
    minReplicaCount: a.minReplicas,
    maxReplicaCount: a.maxReplicas,
    pollingInterval: POLLING_INTERVAL_SECONDS,
    advanced: {
      horizontalPodAutoscalerConfig: {
        behavior: {
          scaleDown: { stabilizationWindowSeconds: scaleDownStabilizationSeconds(spec), selectPolicy: 'Min', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
          scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }, { type: 'Pods', value: 4, periodSeconds: 15 }] },
        },
      },
    },
    triggers,
  };
}
