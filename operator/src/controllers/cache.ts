// Caches that keep only what the reconcilers read. Secrets are cached as names and key lists
// (values and annotations never enter the operator's memory: kubectl's last-applied annotation
// would hold the values too); pods as labels, the applied-hash annotation and readiness.
import type { KubeObject, ListWatcher, ObjectMeta } from '../runtime/index.js';
import { APPLIED_HASH_ANNOTATION } from './meta.js';

/** A ListWatcher whose objects pass through `slim` before they reach the cache. */
export function slimmed<T extends KubeObject, S extends KubeObject>(lw: ListWatcher<T>, slim: (obj: T) => S): ListWatcher<S> {
  return {
    async list(signal) {
      const result = await lw.list(signal);
      return { items: result.items.map(slim), resourceVersion: result.resourceVersion };
    },
    watch(resourceVersion, handlers, signal) {
      return lw.watch(resourceVersion, { onOpen: () => handlers.onOpen(), onEvent: (e) => handlers.onEvent({ type: e.type, object: slim(e.object) }) }, signal);
    },
  };
}

function baseMeta(meta: ObjectMeta | undefined): ObjectMeta {
  return {
    name: meta?.name,
    namespace: meta?.namespace,
    uid: meta?.uid,
    resourceVersion: meta?.resourceVersion,
    ...(meta?.deletionTimestamp ? { deletionTimestamp: meta.deletionTimestamp } : {}),
  };
}

/** A Secret as the operator caches it: which keys it has, never their values. */
export interface SecretKeys extends KubeObject {
  keys: string[];
}

export function secretKeys(secret: KubeObject & { data?: Record<string, unknown>; stringData?: Record<string, unknown> }): SecretKeys {
  return {
    apiVersion: secret.apiVersion,
    kind: secret.kind,
    metadata: baseMeta(secret.metadata),
    keys: Object.keys({ ...secret.data, ...secret.stringData }).sort(),
  };
}

/** A data-plane pod as the operator caches it. */
export interface ReplicaPod extends KubeObject {
  ready: boolean;
  appliedHash: string | undefined;
}

interface PodLike extends KubeObject {
  status?: { conditions?: Array<{ type?: string; status?: string }> };
}

export function replicaPod(pod: PodLike): ReplicaPod {
  const appliedHash = pod.metadata?.annotations?.[APPLIED_HASH_ANNOTATION];
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: { ...baseMeta(pod.metadata), labels: pod.metadata?.labels ?? {} },
    ready: pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
    appliedHash,
  };
}
