// Loads a learned router: reads the artifact (a file, a ConfigMap key in Kubernetes, or a URI
// downloaded beforehand and checked against its sha256), gunzips it when compressed, checks its
// signature when a public key is configured, decodes it and checks the candidates against the
// models it knows. Runs at compile time of a RuntimeState, so a missing, corrupt or unsigned
// artifact rejects the update and the last good state (with its router) keeps serving.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { artifactKeySecrets, type AliasRoutingModel, type ArtifactPublicKey, type CredentialRef, type ModelRouter, type RouterArtifactRef, type RuntimeConfig } from '@switchboard/crds/runtime';
import { EMBEDDINGS_API_KEY_ENV, HttpFeaturizer, LearnedRouter, type DecisionPolicy, type ModelPrice } from '../routing/learned/index.js';
import { redactUri, type ArtifactDownloads, type UriArtifact } from '../routing/rollout/downloads.js';
import { splitSignature, verifyArtifact } from '../routing/rollout/signature.js';
import { resolveCredential, type SecretLookup } from './credentials.js';

/** Looks up ConfigMap keys (binaryData, base64-decoded, or data); absent outside a cluster. */
export type ConfigMapLookup = (name: string, key: string) => Uint8Array | undefined;

export class RouterArtifactError extends Error {}

/** Where artifacts and their public keys come from. */
export interface ArtifactContext {
  configMaps?: ConfigMapLookup | undefined;
  /** URI artifacts, downloaded before the compile. */
  downloads?: ArtifactDownloads | undefined;
  /** Resolves a public key reference to its PEM text (throws naming the reference, never the key). */
  publicKey?: ((ref: ArtifactPublicKey) => string) | undefined;
}

export interface CompiledRouter {
  readonly router: LearnedRouter;
  /** sha256 of the decoded artifact (without a signature trailer). */
  readonly digest: string;
  /** What the operator can predict for the applied hash: the pinned sha256 of a URI artifact,
   *  else the sha256 of the (gunzipped) bytes as stored, signature trailer included. */
  readonly sourceDigest: string;
  readonly policy: DecisionPolicy;
  /** Short policy text for the route reason, e.g. "lambda=10". */
  readonly policyText: string;
  /** Artifact model -> deployment name of the alias (per-alias router) or model alias (alias router). */
  readonly candidates: ReadonlyMap<string, string>;
  /** The artifact models considered, in candidate order. */
  readonly models: readonly string[];
}

export function describeArtifactRef(ref: RouterArtifactRef): string {
  if ('file' in ref) return `router artifact file ${ref.file}`;
  if ('configMap' in ref) return `router artifact ConfigMap ${ref.configMap.name} key ${ref.configMap.key}`;
  return `router artifact ${redactUri(ref.uri)}`;
}

function readArtifact(ref: RouterArtifactRef, ctx: ArtifactContext): Uint8Array {
  if ('file' in ref) {
    try {
      return readFileSync(ref.file);
    } catch (error) {
      throw new RouterArtifactError(`${describeArtifactRef(ref)} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  if ('uri' in ref) {
    const bytes = ctx.downloads?.get(ref);
    if (bytes === undefined) throw new RouterArtifactError(`${describeArtifactRef(ref)} (sha256 ${ref.sha256}) has not been downloaded`);
    return bytes;
  }
  const bytes = ctx.configMaps?.(ref.configMap.name, ref.configMap.key);
  if (bytes === undefined || bytes.length === 0) throw new RouterArtifactError(`${describeArtifactRef(ref)} is missing or empty`);
  return bytes;
}

/** gzip magic: 1f 8b. */
function maybeGunzip(bytes: Uint8Array, ref: RouterArtifactRef): Uint8Array {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (error) {
    throw new RouterArtifactError(`${describeArtifactRef(ref)} is not valid gzip: ${(error as Error).message}`);
  }
}

export interface RouterSpec {
  artifact: RouterArtifactRef;
  publicKey?: ArtifactPublicKey | undefined;
  lambda?: number | undefined;
  threshold?: number | undefined;
  candidates: Record<string, string>;
  /** Routing models only: what a RoutingModel spec sets on top of the artifact. */
  prices?: Record<string, { input?: number | undefined; output?: number | undefined }> | undefined;
  expects?: { kind?: string | undefined; featurizer?: string | undefined; dimensions?: number | undefined } | undefined;
  embeddingsUrl?: string | undefined;
}

/** Refuses an artifact that is not what the spec says it is (head, featurizer type, dimensions). */
function checkExpectations(router: LearnedRouter, expects: NonNullable<RouterSpec['expects']>): string | undefined {
  if (expects.kind !== undefined && expects.kind !== router.kind) return `the routing model expects the ${expects.kind} head but the artifact's head is ${router.kind}`;
  const f = router.featurizer;
  if (expects.featurizer !== undefined && expects.featurizer !== f.type) return `the routing model expects the ${expects.featurizer} featurizer but the artifact was trained with the ${f.type} featurizer`;
  if (expects.dimensions !== undefined && expects.dimensions !== f.dim) return `the routing model expects featurizer dimensions ${expects.dimensions} but the artifact's featurizer has ${f.dim}`;
  return undefined;
}

/** The loaded router with the spec's prices and embedding URL in place of the artifact's. */
function withOverrides(router: LearnedRouter, spec: RouterSpec): LearnedRouter | string {
  const overrides = Object.entries(spec.prices ?? {});
  if (overrides.length === 0 && spec.embeddingsUrl === undefined) return router;
  const prices: Record<string, ModelPrice> = { ...router.prices };
  for (const [model, price] of overrides) {
    const listed = prices[model];
    if (listed === undefined) return `a price is given for "${model}", which the artifact does not know (it knows ${router.models.join(', ')})`;
    prices[model] = { input: price.input ?? listed.input, output: price.output ?? listed.output };
  }
  let featurizer = router.featurizer;
  if (spec.embeddingsUrl !== undefined) {
    if (featurizer.type !== 'http') return `an embedding service URL is set but the artifact's featurizer is ${featurizer.type}, not http`;
    featurizer = HttpFeaturizer.fromRecord({ ...featurizer.record().params, url: spec.embeddingsUrl }, process.env[EMBEDDINGS_API_KEY_ENV]);
  }
  return new LearnedRouter(featurizer, router.head, router.models, prices, router.training);
}

/** `owner` names the alias or routing model in messages. */
function compile(owner: string, spec: RouterSpec, ctx: ArtifactContext): CompiledRouter {
  const where = `${describeArtifactRef(spec.artifact)} (${owner})`;
  const stored = maybeGunzip(readArtifact(spec.artifact, ctx), spec.artifact);
  const split = splitSignature(stored);
  if (spec.publicKey !== undefined) {
    if (!ctx.publicKey) throw new RouterArtifactError(`${where}: a public key is configured but cannot be resolved here`);
    try {
      verifyArtifact(split, ctx.publicKey(spec.publicKey));
    } catch (error) {
      throw new RouterArtifactError(`${where}: ${(error as Error).message}`);
    }
  }
  let loaded: ReturnType<typeof LearnedRouter.load>;
  try {
    loaded = LearnedRouter.load(split.artifact, split.digest);
  } catch (error) {
    throw new RouterArtifactError(`${where}: ${(error as Error).message}`);
  }
  const candidates = new Map(Object.entries(spec.candidates));
  const known = new Set(loaded.router.models);
  for (const m of candidates.keys()) {
    if (!known.has(m)) throw new RouterArtifactError(`${where}: the artifact has no model "${m}" (it knows ${loaded.router.models.join(', ')})`);
  }
  const mismatch = spec.expects && checkExpectations(loaded.router, spec.expects);
  if (mismatch !== undefined) throw new RouterArtifactError(`${where}: ${mismatch}`);
  const router = withOverrides(loaded.router, spec);
  if (typeof router === 'string') throw new RouterArtifactError(`${where}: ${router}`);
  const policy: DecisionPolicy =
    spec.threshold !== undefined ? { rule: 'threshold', quality: spec.threshold } : spec.lambda !== undefined ? { rule: 'willingness-to-pay', lambda: spec.lambda } : router.defaultPolicy;
  return {
    router,
    digest: loaded.digest,
    sourceDigest: 'uri' in spec.artifact ? spec.artifact.sha256 : split.signature ? createHash('sha256').update(stored).digest('hex') : split.digest,
    policy,
    policyText: policy.rule === 'threshold' ? `threshold=${policy.quality}` : `lambda=${policy.lambda}`,
    candidates,
    models: [...candidates.keys()],
  };
}

/** The router picking the deployment of `alias`. */
export function compileRouter(alias: string, spec: ModelRouter, ctx: ArtifactContext): CompiledRouter {
  return compile(`model ${alias}`, spec, ctx);
}

/** A routing model picking the alias for the virtual alias `router`. */
export function compileRoutingModel(router: string, spec: AliasRoutingModel, ctx: ArtifactContext): CompiledRouter {
  return compile(`router ${router}, routing model ${spec.name}`, spec, ctx);
}

/** Every router of a config that loads an artifact: per-alias routers and routing models. */
export function routerSpecsOf(config: RuntimeConfig): RouterSpec[] {
  return [...config.models.flatMap((m) => (m.router ? [m.router] : [])), ...(config.routers ?? []).flatMap((r) => r.models)];
}

/** Names of the Secrets holding artifact public keys. */
export function publicKeySecrets(config: RuntimeConfig): string[] {
  return routerSpecsOf(config).flatMap((r) => (r.publicKey && 'secretKeyRef' in r.publicKey ? [r.publicKey.secretKeyRef.name] : []));
}

/** Names of the Secrets holding the keys of s3:// artifacts. */
export function s3KeySecrets(config: RuntimeConfig): string[] {
  return routerSpecsOf(config).flatMap((r) => artifactKeySecrets(r.artifact));
}

/** URI artifacts to download before compiling, the keys of s3:// ones resolved from `keys` (a missing one throws CredentialError naming it). */
export function uriArtifacts(config: RuntimeConfig, keys: { env: NodeJS.ProcessEnv; secrets?: SecretLookup | undefined }): UriArtifact[] {
  const credential = (ref: CredentialRef): string => resolveCredential(ref, keys.env, keys.secrets);
  return routerSpecsOf(config).flatMap((r) => {
    if (!('uri' in r.artifact)) return [];
    const { uri, sha256, s3 } = r.artifact;
    if (s3 === undefined) return [{ uri, sha256 }];
    const credentials = s3.accessKeyId && s3.secretAccessKey ? { accessKeyId: credential(s3.accessKeyId), secretAccessKey: credential(s3.secretAccessKey) } : undefined;
    return [{ uri, sha256, s3: { endpoint: s3.endpoint, region: s3.region, credentials } }];
  });
}
