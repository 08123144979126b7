// GatewayConfig -> the objects that run its data plane: runtime ConfigMap, ServiceAccount, Role,
// RoleBinding, Service, Deployment and (optionally) PodDisruptionBudget. Pure: desired state from
// the spec, the rendered config and a few observed facts; the reconciler applies the result.
import { artifactKeySecrets, durationMs, type GatewayConfigSpec } from '@switchboard/crds';
import type { KubeObject, ObjectMeta } from '../runtime/index.js';
import { CONFIG_KEY, type RenderedConfig } from './runtime-config.js';
import { CONFIG_HASH_ANNOTATION, controllerReference, DESIRED_HASH_ANNOTATION, FIELD_MANAGER, GATEWAY_LABEL, KINDS, MANAGED_BY_LABEL, shortHash, type Kind } from './meta.js';
import { scaledObjectSpec, type KedaOptions } from './scaled-object.js';

export const API_PORT = 8080;
export const ADMIN_PORT = 9090;
/** UID/GID the data plane runs as (the distroless "nonroot" user). */
export const RUN_AS_USER = 65532;
/** Seconds added to preStop sleep + stream drain before the kubelet kills a pod. */
export const GRACE_MARGIN_SECONDS = 5;

export interface Manifest extends KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string; namespace: string };
  [field: string]: unknown;
}

export const runtimeConfigMapName = (gateway: string): string => `${gateway}-runtime`;
/** Deployment, Service, ServiceAccount, Role, RoleBinding and PodDisruptionBudget share it. */
export const workloadName = (gateway: string): string => `${gateway}-gateway`;
export const artifactConfigMapName = (routingModel: string): string => `${routingModel}-artifact`;

/** Pods the Deployment, Service and PodDisruptionBudget select (sidecars carry only GATEWAY_LABEL). */
export function selectorLabels(gateway: string): Record<string, string> {
  return { [GATEWAY_LABEL]: gateway, 'app.kubernetes.io/component': 'gateway' };
}

export function commonLabels(gateway: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': 'switchboard',
    'app.kubernetes.io/instance': gateway,
    ...selectorLabels(gateway),
    [MANAGED_BY_LABEL]: FIELD_MANAGER,
  };
}

/** Secrets the gateway's config references, sorted and unique, with where each is referenced. */
export interface SecretReference {
  name: string;
  /** Keys that must be present. */
  keys: string[];
  /** Spec path of the reference, for messages. */
  path: string;
}

export function secretReferences(spec: GatewayConfigSpec): SecretReference[] {
  const refs: SecretReference[] = [];
  spec.models.forEach((m, i) =>
    m.deployments.forEach((d, j) => {
      if (d.credentials) refs.push({ name: d.credentials.secretKeyRef.name, keys: [d.credentials.secretKeyRef.key], path: `spec.models[${i}].deployments[${j}].credentials` });
    }),
  );
  if (spec.auth.masterKey) refs.push({ name: spec.auth.masterKey.secretKeyRef.name, keys: [spec.auth.masterKey.secretKeyRef.key], path: 'spec.auth.masterKey' });
  const publicKey = spec.routing.routingModelPublicKey?.secretKeyRef;
  if (publicKey) refs.push({ name: publicKey.name, keys: [publicKey.key], path: 'spec.routing.routingModelPublicKey' });
  (spec.audit?.sinks ?? []).forEach((sink, i) => {
    if ('s3' in sink && sink.s3.credentialsSecretRef) {
      refs.push({ name: sink.s3.credentialsSecretRef.name, keys: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'], path: `spec.audit.sinks[${i}].s3.credentialsSecretRef` });
    }
  });
  return refs;
}

export function secretNames(spec: GatewayConfigSpec): string[] {
  return [...new Set(secretReferences(spec).map((r) => r.name))].sort();
}

/** Whole seconds, rounded up (a grace period must never be shorter than asked). */
const ceilSeconds = (duration: string): number => Math.ceil(durationMs(duration) / 1000);

export interface ShutdownTiming {
  /** preStop sleep: the pod keeps serving while endpoints drop it. 0 = no preStop hook. */
  preStopSleepSeconds: number;
  /** preStop sleep + longest stream drain + margin. */
  terminationGracePeriodSeconds: number;
}

export function shutdownTiming(spec: GatewayConfigSpec): ShutdownTiming {
  const preStopSleepSeconds = ceilSeconds(spec.shutdown.drainDelay);
  return { preStopSleepSeconds, terminationGracePeriodSeconds: preStopSleepSeconds + ceilSeconds(spec.shutdown.maxStreamDuration) + GRACE_MARGIN_SECONDS };
}

export interface WorkloadInput {
  /** The GatewayConfig object (name, namespace, uid for the owner reference). */
  owner: KubeObject;
  spec: GatewayConfigSpec;
  rendered: RenderedConfig;
  /** Operator default, overridden by spec.workload.image. */
  dataPlaneImage: string;
  /** Set when KEDA is installed: autoscaling renders a ScaledObject (else none is managed). */
  keda?: KedaOptions | undefined;
}

function meta(input: WorkloadInput, name: string, annotations: Record<string, string> = {}): Manifest['metadata'] {
  const gateway = input.owner.metadata?.name ?? '';
  return {
    name,
    namespace: input.owner.metadata?.namespace ?? '',
    labels: commonLabels(gateway),
    ...(Object.keys(annotations).length ? { annotations } : {}),
    ownerReferences: [controllerReference(input.owner)],
  };
}

/** Stamps each manifest with the hash of its own content (see DESIRED_HASH_ANNOTATION). */
function stamped(m: Manifest): Manifest {
  const hash = shortHash(m);
  return { ...m, metadata: { ...m.metadata, annotations: { ...m.metadata.annotations, [DESIRED_HASH_ANNOTATION]: hash } } };
}

export function desiredConfigMap(input: WorkloadInput): Manifest {
  const gateway = input.owner.metadata?.name ?? '';
  return stamped({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: meta(input, runtimeConfigMapName(gateway), { [CONFIG_HASH_ANNOTATION]: input.rendered.hash }),
    data: { [CONFIG_KEY]: input.rendered.text },
  });
}

export function desiredServiceAccount(input: WorkloadInput): Manifest {
  return stamped({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(input, workloadName(input.owner.metadata?.name ?? '')) });
}

/** Least privilege: read its own ConfigMaps and the Secrets it references, by name; patch pods
 *  (its own applied-hash annotation; RBAC cannot name pods that do not exist yet). */
export function desiredRole(input: WorkloadInput): Manifest {
  const gateway = input.owner.metadata?.name ?? '';
  // The runtime ConfigMap and the ConfigMaps holding the artifacts of its routing models.
  const artifacts = (input.rendered.config.routers ?? []).flatMap((r) => r.models.flatMap((m) => ('configMap' in m.artifact ? [m.artifact.configMap.name] : [])));
  const configMaps = [runtimeConfigMapName(gateway), ...artifacts];
  // The GatewayConfig's Secrets and those holding the keys of s3:// routing-model artifacts.
  const artifactKeys = (input.rendered.config.routers ?? []).flatMap((r) => r.models.flatMap((m) => artifactKeySecrets(m.artifact)));
  const secrets = [...new Set([...secretNames(input.spec), ...artifactKeys])].sort();
  const read = ['get', 'list', 'watch'];
  const rules: unknown[] = [{ apiGroups: [''], resources: ['configmaps'], resourceNames: [...new Set(configMaps)].sort(), verbs: read }];
  // An empty resourceNames list would mean every Secret: leave the rule out instead.
  if (secrets.length) rules.push({ apiGroups: [''], resources: ['secrets'], resourceNames: secrets, verbs: read });
  rules.push({ apiGroups: [''], resources: ['pods'], verbs: ['patch'] });
  return stamped({ apiVersion: KINDS.role.apiVersion, kind: 'Role', metadata: meta(input, workloadName(gateway)), rules });
}

export function desiredRoleBinding(input: WorkloadInput): Manifest {
  const name = workloadName(input.owner.metadata?.name ?? '');
  return stamped({
    apiVersion: KINDS.roleBinding.apiVersion,
    kind: 'RoleBinding',
    metadata: meta(input, name),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: input.owner.metadata?.namespace ?? '' }],
  });
}

export function desiredService(input: WorkloadInput): Manifest {
  const gateway = input.owner.metadata?.name ?? '';
  return stamped({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: meta(input, workloadName(gateway)),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(gateway),
      ports: [
        { name: 'http', port: API_PORT, targetPort: 'http', protocol: 'TCP' },
        { name: 'admin', port: ADMIN_PORT, targetPort: 'admin', protocol: 'TCP' },
      ],
    },
  });
}

export function desiredDeployment(input: WorkloadInput): Manifest {
  const gateway = input.owner.metadata?.name ?? '';
  const name = workloadName(gateway);
  const { workload } = input.spec;
  const timing = shutdownTiming(input.spec);
  const podLabels = { 'app.kubernetes.io/name': 'switchboard', 'app.kubernetes.io/instance': gateway, ...selectorLabels(gateway) };
  const container = {
    name: 'gateway',
    image: workload.image ?? input.dataPlaneImage,
    // The data plane watches its ConfigMap through the API (no volume: kubelet sync lags up to a
    // minute) in POD_NAMESPACE, and writes the applied hash onto POD_NAME.
    args: ['gateway', '--configmap', runtimeConfigMapName(gateway), '--host', '0.0.0.0', '--port', String(API_PORT), '--admin-port', String(ADMIN_PORT)],
    ports: [
      { name: 'http', containerPort: API_PORT, protocol: 'TCP' },
      { name: 'admin', containerPort: ADMIN_PORT, protocol: 'TCP' },
    ],
    env: [
      { name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
      { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } } },
      // Replica identity on spans (k8s.pod.uid as service.instance.id, k8s.node.name).
      { name: 'POD_UID', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.uid' } } },
      { name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
    ],
    readinessProbe: { httpGet: { path: '/readyz', port: 'admin' }, periodSeconds: 5, failureThreshold: 2 },
    livenessProbe: { httpGet: { path: '/healthz', port: 'admin' }, periodSeconds: 10, failureThreshold: 3 },
    resources: {
      ...(workload.resources?.requests ? { requests: workload.resources.requests } : {}),
      ...(workload.resources?.limits ? { limits: workload.resources.limits } : {}),
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
    ...(timing.preStopSleepSeconds > 0 ? { lifecycle: { preStop: { sleep: { seconds: timing.preStopSleepSeconds } } } } : {}),
    volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
  };
  return stamped({
    apiVersion: KINDS.deployment.apiVersion,
    kind: 'Deployment',
    metadata: meta(input, name),
    spec: {
      // Left unset under autoscaling: the autoscaler owns the replica count.
      ...(workload.replicas === undefined ? {} : { replicas: workload.replicas }),
      selector: { matchLabels: selectorLabels(gateway) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      // No config hash here, ever: config changes reach the pods by hot reload, not by a rollout.
      template: {
        metadata: { labels: podLabels },
        spec: {
          serviceAccountName: name,
          automountServiceAccountToken: true,
          terminationGracePeriodSeconds: timing.terminationGracePeriodSeconds,
          securityContext: { runAsNonRoot: true, runAsUser: RUN_AS_USER, runAsGroup: RUN_AS_USER, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [container],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  });
}

export function desiredPodDisruptionBudget(input: WorkloadInput): Manifest | undefined {
  const pdb = input.spec.workload.podDisruptionBudget;
  if (!pdb) return undefined;
  const gateway = input.owner.metadata?.name ?? '';
  return stamped({
    apiVersion: KINDS.podDisruptionBudget.apiVersion,
    kind: 'PodDisruptionBudget',
    metadata: meta(input, workloadName(gateway)),
    spec: {
      selector: { matchLabels: selectorLabels(gateway) },
      ...('minAvailable' in pdb ? { minAvailable: pdb.minAvailable } : { maxUnavailable: pdb.maxUnavailable }),
      // Pods that never became ready must not block node drains.
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  });
}

/** KEDA ScaledObject for spec.workload.autoscaling (see scaled-object.ts); named like the Deployment. */
export function desiredScaledObject(input: WorkloadInput): Manifest | undefined {
  if (!input.keda) return undefined;
  const spec = scaledObjectSpec(input.owner, input.spec, input.keda);
  if (!spec) return undefined;
  return stamped({ apiVersion: KINDS.scaledObject.apiVersion, kind: KINDS.scaledObject.kind, metadata: meta(input, workloadName(input.owner.metadata?.name ?? '')), spec });
}

/** Every object the gateway needs, in apply order (the ConfigMap the pods read comes first). */
export function desiredWorkload(input: WorkloadInput): { apply: Manifest[]; absent: Array<{ kind: Kind; name: string }> } {
  const pdb = desiredPodDisruptionBudget(input);
  const scaledObject = desiredScaledObject(input);
  const name = workloadName(input.owner.metadata?.name ?? '');
  const absent: Array<{ kind: Kind; name: string }> = [];
  if (!pdb) absent.push({ kind: KINDS.podDisruptionBudget, name });
  if (input.keda && !scaledObject) absent.push({ kind: KINDS.scaledObject, name });
  return {
    apply: [
      desiredConfigMap(input),
      desiredServiceAccount(input),
      desiredRole(input),
      desiredRoleBinding(input),
      desiredService(input),
      desiredDeployment(input),
      ...(pdb ? [pdb] : []),
      ...(scaledObject ? [scaledObject] : []),
    ],
    absent,
  };
}
