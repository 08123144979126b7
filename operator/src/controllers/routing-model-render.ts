// GatewayConfig routingModelRef -> the runtime config's `routers` entry. Pure. The referenced
// RoutingModel gives the virtual alias its name and default alias (its first candidate); the
// RoutingModels rolled out `alongside` it join as shadow or canary models. Candidates are model
// aliases, mapped to the artifact's model names (artifactModel, default the alias); the spec's
// prices, head and featurizer go along for the data plane to apply or check against the artifact.
import { RoutingModelSpec, validate, formatFieldErrors, type GatewayConfigSpec, type RuntimeConfigInput } from '@switchboard/crds';
import { findCondition } from './conditions.js';
import { artifactConfigMapName } from './gateway-workload.js';
import { ARTIFACT_KEY, type RoutingModelObject } from './routing-model.js';

type RouterInput = NonNullable<RuntimeConfigInput['routers']>[number];
type RoutingModelInput = RouterInput['models'][number];

/** `<router>/<routing model>` -> artifact digest, in the router's model order (see appliedConfigHash). */
export type RouterDigests = Array<readonly [string, string]>;

export type RoutingRender = { ok: true; router: RouterInput | undefined; digests: RouterDigests } | { ok: false; reason: 'RoutingModelNotFound' | 'InvalidRoutingModel'; message: string; retry: boolean };

/** The RoutingModels rolled out alongside `name`, by name (deterministic order). */
function alongsideOf(name: string, namespace: string, routingModels: readonly RoutingModelObject[]): RoutingModelObject[] {
  return routingModels
    .filter((rm) => rm.metadata?.namespace === namespace && (rm.spec as { rollout?: { alongside?: unknown } } | undefined)?.rollout?.alongside === name)
    .sort((a, b) => ((a.metadata?.name ?? '') < (b.metadata?.name ?? '') ? -1 : 1));
}

/** Why the RoutingModel reconciler found this model's artifact unusable for its current spec
 *  (an unreadable artifact, or one the spec disagrees with); undefined otherwise or when not known yet. */
function invalidArtifact(rm: RoutingModelObject): string | undefined {
  const ready = findCondition(rm.status?.conditions, 'Ready');
  const current = ready?.observedGeneration !== undefined && ready.observedGeneration === rm.metadata?.generation;
  return current && ready.status === 'False' && ready.reason === 'InvalidArtifact' ? (ready.message ?? 'invalid artifact') : undefined;
}

/** spec.artifact.s3 as the data plane reads it: the Secret's two keys by reference, never their values. */
function s3Access(s3: NonNullable<Extract<RoutingModelSpec['artifact'], { uri: string }>['s3']>): NonNullable<Extract<RoutingModelInput['artifact'], { uri: string }>['s3']> {
  const secret = s3.credentialsSecretRef?.name;
  return {
    ...(s3.endpoint === undefined ? {} : { endpoint: s3.endpoint }),
    ...(s3.region === undefined ? {} : { region: s3.region }),
    ...(secret === undefined ? {} : { accessKeyId: { secretKeyRef: { name: secret, key: 'AWS_ACCESS_KEY_ID' } }, secretAccessKey: { secretKeyRef: { name: secret, key: 'AWS_SECRET_ACCESS_KEY' } } }),
  };
}

function routingModelEntry(name: string, spec: RoutingModelSpec, publicKey: GatewayConfigSpec['routing']['routingModelPublicKey']): RoutingModelInput | string {
  const a = spec.artifact;
  let artifact: RoutingModelInput['artifact'];
  if ('inline' in a) artifact = { configMap: { name: artifactConfigMapName(name), key: ARTIFACT_KEY } };
  else if ('configMapRef' in a) artifact = { configMap: { name: a.configMapRef.name, key: a.configMapRef.key } };
  else artifact = { uri: a.uri, sha256: a.sha256, ...(a.s3 ? { s3: s3Access(a.s3) } : {}) };
  return {
    name,
    mode: spec.rollout.mode,
    ...(spec.rollout.canaryPercent === undefined ? {} : { canaryPercent: spec.rollout.canaryPercent }),
    artifact,
    ...(publicKey ? { publicKey: { secretKeyRef: { name: publicKey.secretKeyRef.name, key: publicKey.secretKeyRef.key } } } : {}),
    ...(spec.decision.threshold === undefined ? { lambda: spec.decision.willingnessToPay } : { threshold: spec.decision.threshold }),
    candidates: Object.fromEntries(spec.candidates.map((c) => [c.artifactModel ?? c.name, c.name])),
    ...pricesOf(spec.candidates),
    expects: { kind: spec.router, ...(spec.featurizer ? { featurizer: spec.featurizer.type, ...(spec.featurizer.dimensions === undefined ? {} : { dimensions: spec.featurizer.dimensions }) } : {}) },
    ...(spec.featurizer?.url === undefined ? {} : { embeddingsUrl: spec.featurizer.url }),
  };
}

/** Candidate prices given in the spec, by artifact model (absent: the artifact's). */
function pricesOf(candidates: RoutingModelSpec['candidates']): Pick<RoutingModelInput, 'prices'> {
  const priced = candidates.filter((c) => c.inputPrice !== undefined || c.outputPrice !== undefined);
  if (priced.length === 0) return {};
  return {
    prices: Object.fromEntries(
      priced.map((c) => [c.artifactModel ?? c.name, { ...(c.inputPrice === undefined ? {} : { input: c.inputPrice }), ...(c.outputPrice === undefined ? {} : { output: c.outputPrice }) }]),
    ),
  };
}

export function renderRouter(spec: GatewayConfigSpec, namespace: string, routingModels: readonly RoutingModelObject[]): RoutingRender {
  const ref = spec.routing.routingModelRef;
  if (!ref) return { ok: true, router: undefined, digests: [] };
  const find = (name: string): RoutingModelObject | undefined => routingModels.find((rm) => rm.metadata?.namespace === namespace && rm.metadata.name === name);
  const referenced = find(ref.name);
  if (!referenced) return { ok: false, reason: 'RoutingModelNotFound', message: `RoutingModel ${namespace}/${ref.name} not found (referenced by spec.routing.routingModelRef)`, retry: true };
  const parsed = validate(RoutingModelSpec, referenced.spec ?? {});
  if (!parsed.ok) return { ok: false, reason: 'InvalidRoutingModel', message: `RoutingModel ${namespace}/${ref.name}: ${formatFieldErrors(parsed.errors, 'spec')}`, retry: false };
  const refused = invalidArtifact(referenced);
  if (refused !== undefined) return { ok: false, reason: 'InvalidRoutingModel', message: `RoutingModel ${namespace}/${ref.name}: ${refused}`, retry: false };
  const models: RoutingModelInput[] = [];
  const aliases = new Set(spec.models.map((m) => m.name));
  // The referenced model must be valid; a broken one alongside it (invalid spec, or an artifact its
  // reconciler refused) is left out, so it cannot hold the gateway's config back; its own status says why.
  const entries: Array<[string, RoutingModelSpec, RoutingModelObject]> = [[ref.name, parsed.value, referenced]];
  for (const rm of alongsideOf(ref.name, namespace, routingModels)) {
    const other = validate(RoutingModelSpec, rm.spec ?? {});
    if (other.ok && invalidArtifact(rm) === undefined) entries.push([rm.metadata?.name ?? '', other.value, rm]);
  }
  const digests: RouterDigests = [];
  for (const [name, rmSpec, rm] of entries) {
    const unknown = rmSpec.candidates.map((c) => c.name).filter((c) => !aliases.has(c));
    if (unknown.length > 0) {
      return { ok: false, reason: 'InvalidRoutingModel', message: `RoutingModel ${namespace}/${name}: spec.candidates ${unknown.map((c) => `"${c}"`).join(', ')} ${unknown.length === 1 ? 'is not a model alias' : 'are not model aliases'} of this GatewayConfig (spec.models[].name)`, retry: false };
    }
    const entry = routingModelEntry(name, rmSpec, spec.routing.routingModelPublicKey);
    if (typeof entry === 'string') return { ok: false, reason: 'InvalidRoutingModel', message: `RoutingModel ${namespace}/${name}: ${entry}`, retry: false };
    models.push(entry);
    // The data plane's digest of a URI artifact is the pinned one; of the others, what the
    // RoutingModel reconciler computed (until it has, the gateway shows the replicas as rolling).
    const digest = 'uri' in rmSpec.artifact ? rmSpec.artifact.sha256 : rm.status?.artifactSha256;
    if (digest !== undefined) digests.push([`${ref.name}/${name}`, digest]);
  }
  for (const mode of ['active', 'canary'] as const) {
    const named = models.filter((m) => m.mode === mode).map((m) => `${namespace}/${m.name}`);
    if (named.length > 1) return { ok: false, reason: 'InvalidRoutingModel', message: `RoutingModels ${named.join(', ')} are all in ${mode} mode for ${namespace}/${ref.name}; at most one may be`, retry: false };
  }
  return { ok: true, router: { name: ref.name, default: parsed.value.candidates[0]!.name, models }, digests };
}
