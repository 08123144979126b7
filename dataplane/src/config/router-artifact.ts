// Loads the learned router an alias routes through: reads the artifact (a file, or a ConfigMap
// key in Kubernetes), gunzips it when compressed, decodes it and checks the candidates against
// the models it knows. Runs at compile time of a RuntimeState, so a missing or corrupt artifact
// rejects the update and the last good state (with its router) keeps serving.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { ModelRouter, RouterArtifactRef } from '@switchboard/crds';
import { defaultLambda, LearnedRouter, type DecisionPolicy } from '../routing/learned/index.js';

/** Looks up ConfigMap keys (binaryData, base64-decoded, or data); absent outside a cluster. */
export type ConfigMapLookup = (name: string, key: string) => Uint8Array | undefined;

export class RouterArtifactError extends Error {}

export interface CompiledRouter {
  readonly router: LearnedRouter;
  /** sha256 of the decoded artifact. */
  readonly digest: string;
  readonly policy: DecisionPolicy;
  /** Short policy text for the route reason, e.g. "lambda=10". */
  readonly policyText: string;
  /** Artifact model -> deployment name of the alias. */
  readonly candidates: ReadonlyMap<string, string>;
  /** The artifact models considered, in candidate order. */
  readonly models: readonly string[];
}

export function describeArtifactRef(ref: RouterArtifactRef): string {
  return 'file' in ref ? `router artifact file ${ref.file}` : `router artifact ConfigMap ${ref.configMap.name} key ${ref.configMap.key}`;
}

function readArtifact(ref: RouterArtifactRef, configMaps: ConfigMapLookup | undefined): Uint8Array {
  if ('file' in ref) {
    try {
      return readFileSync(ref.file);
    } catch (error) {
      throw new RouterArtifactError(`${describeArtifactRef(ref)} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  const bytes = configMaps?.(ref.configMap.name, ref.configMap.key);
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

export function compileRouter(alias: string, spec: ModelRouter, configMaps: ConfigMapLookup | undefined): CompiledRouter {
  const where = describeArtifactRef(spec.artifact);
  const bytes = maybeGunzip(readArtifact(spec.artifact, configMaps), spec.artifact);
  let loaded: ReturnType<typeof LearnedRouter.load>;
  try {
    loaded = LearnedRouter.load(bytes);
  } catch (error) {
    throw new RouterArtifactError(`${where} (model ${alias}): ${(error as Error).message}`);
  }
  const candidates = new Map(Object.entries(spec.candidates));
  const known = new Set(loaded.router.models);
  for (const m of candidates.keys()) {
    if (!known.has(m)) throw new RouterArtifactError(`${where} (model ${alias}): the artifact has no model "${m}" (it knows ${loaded.router.models.join(', ')})`);
  }
  const policy: DecisionPolicy =
    spec.threshold !== undefined ? { rule: 'threshold', quality: spec.threshold } : { rule: 'willingness-to-pay', lambda: spec.lambda ?? defaultLambda };
  return {
    router: loaded.router,
    digest: loaded.digest,
    policy,
    policyText: policy.rule === 'threshold' ? `threshold=${policy.quality}` : `lambda=${policy.lambda}`,
    candidates,
    models: [...candidates.keys()],
  };
}
