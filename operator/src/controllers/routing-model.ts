// The RoutingModel reconciler: an inline artifact is validated and packed, gzip-compressed, into
// the <name>-artifact ConfigMap (binaryData); a configMapRef is checked to exist and hold its key
// (re-read when the ConfigMap watch sees it change); a URI with sha256 is recorded as is (the data
// plane downloads and verifies it). Of an inline or ConfigMap artifact only the header is read, to
// hold the spec (router, featurizer, candidates) to it. The Applied condition
// says whether the GatewayConfigs routing through the model (directly or alongside another) serve it.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { formatFieldErrors, RoutingModelSpec, validate, type RoutingModelStatus } from '@switchboard/crds';
import { isNotFound, objectPath, realClock, type Clock, type Informer, type KubeClient, type KubeObject, type Logger, type Reconcile } from '../runtime/index.js';
import type { ObjectWriter } from './apply.js';
import { artifactMismatch, summarizeArtifact } from './routing-model-artifact.js';
import { findCondition, mergeConditions, type ObservedCondition } from './conditions.js';
import type { GatewayConfigObject } from './gateway-config.js';
import { artifactConfigMapName, type Manifest } from './gateway-workload.js';
import { ARTIFACT_SHA256_ANNOTATION, controllerReference, DESIRED_HASH_ANNOTATION, FIELD_MANAGER, KINDS, MANAGED_BY_LABEL, ReferenceNotReadyError, resourceRef, shortHash } from './meta.js';

export const ARTIFACT_KEY = 'artifact.gz';
/** Largest decoded inline artifact: what 64 KiB of base64 (the CRD's limit) can hold. */
export const MAX_INLINE_BYTES = 48 * 1024;

export interface RoutingModelObject extends KubeObject {
  spec?: unknown;
  status?: RoutingModelStatus;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

export type InlineArtifact = { ok: true; bytes: Buffer; sha256: string } | { ok: false; message: string };

/** Decodes and checks an inline artifact: canonical base64 and at most MAX_INLINE_BYTES. */
export function decodeInlineArtifact(base64: string): InlineArtifact {
  if (base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) {
    return { ok: false, message: 'spec.artifact.inline is not valid base64 (length must be a multiple of 4, alphabet A-Z a-z 0-9 + /, "=" padding only at the end)' };
  }
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.toString('base64') !== base64) return { ok: false, message: 'spec.artifact.inline is not canonical base64' };
  if (bytes.length === 0) return { ok: false, message: 'spec.artifact.inline decodes to no bytes' };
  if (bytes.length > MAX_INLINE_BYTES) return { ok: false, message: `spec.artifact.inline decodes to ${bytes.length} bytes; at most ${MAX_INLINE_BYTES} may be inline (use configMapRef or uri)` };
  return { ok: true, bytes, sha256: sha256(bytes) };
}

/** The ConfigMap holding a packed inline artifact (gzip is deterministic: no timestamp in the header). */
export function desiredArtifactConfigMap(owner: KubeObject, artifact: { bytes: Buffer; sha256: string }): Manifest {
  const name = owner.metadata?.name ?? '';
  const manifest: Manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: artifactConfigMapName(name),
      namespace: owner.metadata?.namespace ?? '',
      labels: { 'app.kubernetes.io/name': 'switchboard', 'app.kubernetes.io/component': 'routing-model', 'switchboard.dev/routing-model': name, [MANAGED_BY_LABEL]: FIELD_MANAGER },
      annotations: { [ARTIFACT_SHA256_ANNOTATION]: artifact.sha256 },
      ownerReferences: [controllerReference(owner)],
    },
    binaryData: { [ARTIFACT_KEY]: gzipSync(artifact.bytes).toString('base64') },
  };
  const hash = shortHash(manifest);
  return { ...manifest, metadata: { ...manifest.metadata, annotations: { ...manifest.metadata.annotations, [DESIRED_HASH_ANNOTATION]: hash } } };
}

export type ArtifactOutcome =
  | { ok: true; reason: 'ArtifactPacked' | 'ArtifactReferenced'; message: string; sha256: string; configMap?: Manifest }
  | { ok: false; reason: 'InvalidSpec' | 'InvalidArtifact' | 'ConfigMapNotFound' | 'ConfigMapKeyNotFound'; message: string; retry: boolean };

interface ConfigMapLike extends KubeObject {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
}

/** An InvalidArtifact outcome when the artifact cannot be read or is not what the spec says. */
function checkAgainstSpec(spec: RoutingModelSpec, bytes: Uint8Array, where: string): ArtifactOutcome | undefined {
  const summary = summarizeArtifact(bytes);
  if (typeof summary === 'string') return { ok: false, reason: 'InvalidArtifact', message: `${where} ${summary}`, retry: false };
  const mismatch = artifactMismatch(spec, summary);
  return mismatch === undefined ? undefined : { ok: false, reason: 'InvalidArtifact', message: mismatch, retry: false };
}

/** Pure: the artifact outcome from the spec and (for configMapRef) the referenced ConfigMap. */
export function planArtifact(owner: RoutingModelObject, referenced: ConfigMapLike | undefined): ArtifactOutcome {
  const parsed = validate(RoutingModelSpec, owner.spec ?? {});
  if (!parsed.ok) return { ok: false, reason: 'InvalidSpec', message: formatFieldErrors(parsed.errors, 'spec'), retry: false };
  const artifact = parsed.value.artifact;
  const namespace = owner.metadata?.namespace ?? '';
  if ('inline' in artifact) {
    const decoded = decodeInlineArtifact(artifact.inline);
    if (!decoded.ok) return { ok: false, reason: 'InvalidArtifact', message: decoded.message, retry: false };
    const mismatch = checkAgainstSpec(parsed.value, decoded.bytes, 'spec.artifact.inline');
    if (mismatch) return mismatch;
    const configMap = desiredArtifactConfigMap(owner, decoded);
    return { ok: true, reason: 'ArtifactPacked', message: `${decoded.bytes.length}-byte artifact packed into ConfigMap ${configMap.metadata.name}`, sha256: decoded.sha256, configMap };
  }
  if ('configMapRef' in artifact) {
    const { name, key } = artifact.configMapRef;
    // No retry: the ConfigMap watch reconciles this model again when the ConfigMap appears or changes.
    if (!referenced) return { ok: false, reason: 'ConfigMapNotFound', message: `ConfigMap ${namespace}/${name} not found (referenced by spec.artifact.configMapRef)`, retry: false };
    const text = referenced.data?.[key];
    const binary = referenced.binaryData?.[key];
    if (text === undefined && binary === undefined) {
      return { ok: false, reason: 'ConfigMapKeyNotFound', message: `ConfigMap ${namespace}/${name} has no key "${key}" in data or binaryData (referenced by spec.artifact.configMapRef)`, retry: false };
    }
    const bytes = text !== undefined ? Buffer.from(text, 'utf8') : Buffer.from(binary ?? '', 'base64');
    // The digest of what the data plane loads: a gzip value is hashed uncompressed, as it is unpacked there.
    let loaded: Uint8Array = bytes;
    if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
      try {
        loaded = gunzipSync(bytes);
      } catch {
        return { ok: false, reason: 'InvalidArtifact', message: `ConfigMap ${namespace}/${name} key "${key}" starts like gzip but does not decompress (referenced by spec.artifact.configMapRef)`, retry: false };
      }
    }
    const mismatch = checkAgainstSpec(parsed.value, loaded, `ConfigMap ${namespace}/${name} key "${key}" (spec.artifact.configMapRef)`);
    if (mismatch) return mismatch;
    return { ok: true, reason: 'ArtifactReferenced', message: `artifact is key "${key}" of ConfigMap ${name} (${bytes.length} bytes)`, sha256: sha256(loaded) };
  }
  return { ok: true, reason: 'ArtifactReferenced', message: `artifact is downloaded from ${artifact.uri} and checked against its sha256 by the data plane`, sha256: artifact.sha256 };
}

/** The RoutingModel this one is rolled out for: its `alongside`, else itself. */
function rolloutTarget(rm: RoutingModelObject): string {
  const alongside = (rm.spec as { rollout?: { alongside?: unknown } } | undefined)?.rollout?.alongside;
  return typeof alongside === 'string' ? alongside : (rm.metadata?.name ?? '');
}

/** Names of the GatewayConfigs (same namespace) routing through `rm`, directly or as the model it runs alongside. */
function gatewaysUsing(rm: RoutingModelObject, gateways: readonly GatewayConfigObject[]): GatewayConfigObject[] {
  const target = rolloutTarget(rm);
  return gateways
    .filter((gw) => gw.metadata?.namespace === rm.metadata?.namespace && (gw.spec as { routing?: { routingModelRef?: { name?: unknown } } } | undefined)?.routing?.routingModelRef?.name === target)
    .sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
}

/** Applied: every GatewayConfig routing through this model reports its config (with this model
 *  rendered into it) applied on its current generation. */
export function appliedCondition(rm: RoutingModelObject, gateways: readonly GatewayConfigObject[]): ObservedCondition {
  const namespace = rm.metadata?.namespace ?? '';
  const users = gatewaysUsing(rm, gateways);
  const target = rolloutTarget(rm);
  const via = target === rm.metadata?.name ? '' : ` alongside RoutingModel ${target}`;
  if (users.length === 0) {
    return { type: 'Applied', status: 'False', reason: 'NotReferenced', message: `no GatewayConfig in ${namespace} references RoutingModel ${target} (spec.routing.routingModelRef)` };
  }
  const pending = users.flatMap((gw) => {
    const applied = findCondition(gw.status?.conditions, 'ConfigApplied');
    const current = applied?.status === 'True' && applied.observedGeneration === gw.metadata?.generation;
    return current ? [] : [`GatewayConfig ${gw.metadata?.name ?? ''}: ${applied ? `${applied.reason}${applied.message ? ` (${applied.message})` : ''}` : 'not reconciled yet'}`];
  });
  const names = users.map((gw) => gw.metadata?.name ?? '').join(', ');
  if (pending.length > 0) return { type: 'Applied', status: 'False', reason: 'Pending', message: `waiting for ${pending.join('; ')}` };
  return { type: 'Applied', status: 'True', reason: 'Applied', message: `serving${via} on GatewayConfig ${names}` };
}

export function routingModelStatus(
  previous: RoutingModelStatus | undefined,
  generation: number | undefined,
  outcome: ArtifactOutcome,
  nowMs: number,
  applied?: ObservedCondition,
): RoutingModelStatus {
  const ready: ObservedCondition = { type: 'Ready', status: outcome.ok ? 'True' : 'False', reason: outcome.reason, message: outcome.message };
  const artifactSha256 = outcome.ok ? outcome.sha256 : previous?.artifactSha256;
  return {
    ...(generation === undefined ? {} : { observedGeneration: generation }),
    conditions: mergeConditions(previous?.conditions, applied ? [ready, applied] : [ready], generation, nowMs),
    ...(artifactSha256 === undefined ? {} : { artifactSha256 }),
    // Written by the training pipeline, not by the operator: kept as found.
    ...(previous?.evaluation ? { evaluation: previous.evaluation } : {}),
  };
}

export interface RoutingModelReconcilerDeps {
  client: KubeClient;
  writer: ObjectWriter;
  routingModels: Informer<RoutingModelObject>;
  /** For the Applied condition: the GatewayConfigs routing through each model. */
  gateways?: Informer<GatewayConfigObject>;
  clock?: Clock;
  logger?: Logger;
}

export function routingModelReconciler(deps: RoutingModelReconcilerDeps): Reconcile {
  const clock = deps.clock ?? realClock;
  return async (key, ctx) => {
    const rm = deps.routingModels.get(key);
    if (!rm || rm.metadata?.deletionTimestamp) return;
    const namespace = rm.metadata?.namespace ?? '';
    const name = rm.metadata?.name ?? '';
    // A referenced ConfigMap belongs to the user and is not cached: read it (only in that case).
    const spec = rm.spec as { artifact?: { configMapRef?: { name?: string } } } | undefined;
    let referenced: ConfigMapLike | undefined;
    const refName = spec?.artifact?.configMapRef?.name;
    if (refName) {
      try {
        referenced = await deps.client.request<ConfigMapLike>('GET', objectPath(resourceRef(KINDS.configMap, namespace), refName), { signal: ctx.signal });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const outcome = planArtifact(rm, referenced);
    if (outcome.ok && outcome.configMap) await deps.writer.apply(outcome.configMap, ctx.signal);
    else if (outcome.ok) await deps.writer.deleteOwned(KINDS.configMap, namespace, artifactConfigMapName(name), rm.metadata?.uid ?? '', ctx.signal);
    const applied = deps.gateways && appliedCondition(rm, deps.gateways.list());
    await deps.writer.writeStatus(KINDS.routingModel, rm, (current) => routingModelStatus(current.status, current.metadata?.generation, outcome, clock.now(), applied), { signal: ctx.signal });
    if (!outcome.ok && outcome.retry) throw new ReferenceNotReadyError(outcome.reason, outcome.message);
  };
}

/** A ConfigMap as the RoutingModel controller caches it: its identity and version, never its data
 *  (user ConfigMaps may be large; the referenced one is read when it changes). */
export function configMapVersion(cm: KubeObject): KubeObject {
  const m = cm.metadata;
  return { apiVersion: cm.apiVersion, kind: cm.kind, metadata: { name: m?.name, namespace: m?.namespace, uid: m?.uid, resourceVersion: m?.resourceVersion } };
}

/** Keys of the RoutingModels whose spec.artifact.configMapRef names `cm`. */
export function routingModelsReferencing(cm: KubeObject, routingModels: readonly RoutingModelObject[]): string[] {
  const namespace = cm.metadata?.namespace;
  return routingModels.flatMap((rm) =>
    rm.metadata?.namespace === namespace && (rm.spec as { artifact?: { configMapRef?: { name?: unknown } } } | undefined)?.artifact?.configMapRef?.name === cm.metadata?.name
      ? [`${namespace ?? ''}/${rm.metadata?.name ?? ''}`]
      : [],
  );
}
