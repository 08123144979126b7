// Names, labels and annotations the operator and the data plane agree on, the REST addresses of
// the kinds the reconcilers touch, and the owner reference every created object carries.
import { createHash } from 'node:crypto';
import { API_VERSION } from '@switchboard/crds';
import type { KubeObject, OwnerReference, ResourceRef } from '../runtime/index.js';

export const FIELD_MANAGER = 'switchboard-operator';

/** On every data-plane pod (gateway Deployment and sidecars): the GatewayConfig it serves. */
export const GATEWAY_LABEL = 'switchboard.dev/gateway';
/** On the runtime ConfigMap: the hash of the config it holds. */
export const CONFIG_HASH_ANNOTATION = 'switchboard.dev/config-hash';
/** On each data-plane pod, written by the pod itself: the hash of the config it runs. */
export const APPLIED_HASH_ANNOTATION = 'switchboard.dev/applied-config-hash';
/** On each object the operator applies: the hash of what it last applied, so an unchanged
 *  object is not sent again and a removed field is still noticed. */
export const DESIRED_HASH_ANNOTATION = 'switchboard.dev/desired-hash';
/** On the artifact ConfigMap of a RoutingModel: SHA-256 of the (uncompressed) artifact. */
export const ARTIFACT_SHA256_ANNOTATION = 'switchboard.dev/artifact-sha256';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
/** Owned objects are labelled so the operator's caches hold only its own objects. */
export const MANAGED_BY_SELECTOR = `${MANAGED_BY_LABEL}=${FIELD_MANAGER}`;

/** A kind the reconcilers read or write: its REST address and its apiVersion/kind. */
export interface Kind {
  apiVersion: string;
  kind: string;
  plural: string;
}

export const KINDS = {
  gatewayConfig: { apiVersion: API_VERSION, kind: 'GatewayConfig', plural: 'gatewayconfigs' },
  routingModel: { apiVersion: API_VERSION, kind: 'RoutingModel', plural: 'routingmodels' },
  configMap: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
  pod: { apiVersion: 'v1', kind: 'Pod', plural: 'pods' },
  service: { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  serviceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts' },
  deployment: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  role: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles' },
  roleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings' },
  podDisruptionBudget: { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', plural: 'poddisruptionbudgets' },
  /** KEDA's CRD; watched and written only when the operator runs with KEDA enabled. */
  scaledObject: { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', plural: 'scaledobjects' },
} as const satisfies Record<string, Kind>;

export function resourceRef(kind: Kind, namespace?: string): ResourceRef {
  return namespace === undefined ? { apiVersion: kind.apiVersion, plural: kind.plural } : { apiVersion: kind.apiVersion, plural: kind.plural, namespace };
}

export function kindOf(obj: KubeObject): Kind | undefined {
  return Object.values(KINDS).find((k) => k.apiVersion === obj.apiVersion && k.kind === obj.kind);
}

/** The controller reference that makes `owner` the garbage-collection parent of an object. */
export function controllerReference(owner: KubeObject): OwnerReference {
  const { apiVersion, kind, metadata } = owner;
  if (!apiVersion || !kind || !metadata?.name || !metadata.uid) throw new Error('an owner needs apiVersion, kind, name and uid');
  return { apiVersion, kind, name: metadata.name, uid: metadata.uid, controller: true, blockOwnerDeletion: true };
}

/** JSON with object keys sorted, so equal values always print alike. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

export function shortHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 16);
}

/** Order-insensitive (for object keys) deep equality of JSON values; undefined members are absent. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** True when every field set in `desired` has the same value in `observed` (fields the apiserver
 *  defaulted are ignored; arrays must match element by element). */
export function containsFields(observed: unknown, desired: unknown): boolean {
  if (desired === undefined) return true;
  if (desired === null || typeof desired !== 'object') return observed === desired;
  if (Array.isArray(desired)) {
    return Array.isArray(observed) && observed.length === desired.length && desired.every((d, i) => containsFields(observed[i], d));
  }
  if (observed === null || typeof observed !== 'object' || Array.isArray(observed)) return false;
  const o = observed as Record<string, unknown>;
  return Object.entries(desired as Record<string, unknown>).every(([k, v]) => containsFields(o[k], v));
}

/** Thrown after the status names a missing reference, so the work queue retries the key with
 *  backoff (the reference may appear without any change to the referencing object). */
export class ReferenceNotReadyError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(`${reason}: ${message}`);
    this.name = 'ReferenceNotReadyError';
  }
}
