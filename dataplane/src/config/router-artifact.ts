// Loads a learned router: reads the artifact (a file, a ConfigMap key in Kubernetes, or a URI
// downloaded beforehand and checked against its sha256), gunzips it when compressed, checks its
// signature when a public key is configured, decodes it and checks the candidates against the
// models it knows. Runs at compile time of a RuntimeState, so a missing, corrupt or unsigned
// artifact rejects the update and the last good state (with its router) keeps serving.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { AliasRoutingModel, ArtifactPublicKey, ModelRouter, RouterArtifactRef, RuntimeConfig } from '@switchboard/crds/runtime';
import { defaultLambda, LearnedRouter, type DecisionPolicy } from '../routing/learned/index.js';
import { redactUri, type ArtifactDownloads, type UriArtifact } from '../routing/rollout/downloads.js';
import { splitSignature, verifyArtifact } from '../routing/rollout/signature.js';

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
  const policy: DecisionPolicy =
    spec.threshold !== undefined ? { rule: 'threshold', quality: spec.threshold } : { rule: 'willingness-to-pay', lambda: spec.lambda ?? defaultLambda };
  return {
    router: loaded.router,
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

/** URI artifacts to download before compiling. */
export function uriArtifacts(config: RuntimeConfig): UriArtifact[] {
  return routerSpecsOf(config).flatMap((r) => ('uri' in r.artifact ? [{ uri: r.artifact.uri, sha256: r.artifact.sha256 }] : []));
}
