// Compiles a validated RuntimeConfig into the immutable RuntimeState a request runs against.
// Compilation resolves credentials and precomputes lookups; it fails as a whole (so a bad
// update never replaces a good state) and never mutates a state once built.
import type { SheddingSettings } from '../admission/gate.js';
import { compileShedding } from '../admission/settings.js';
import { appliedConfigHash, durationMs, type BalancingStrategy, type Deployment, type RuntimeConfig } from '@switchboard/crds/runtime';
import { providerFor } from '../providers/index.js';
import type { ProviderSpec } from '../providers/types.js';
import { sha256Hex } from '../auth/key-hash.js';
import { resolveCredential, type SecretLookup } from './credentials.js';
import { compileRouter, routerSpecsOf, type ArtifactContext, type CompiledRouter, type ConfigMapLookup } from './router-artifact.js';
import { compileAliasRouter, type CompiledAliasRouter } from '../routing/rollout/alias-router.js';
import type { ArtifactDownloads } from '../routing/rollout/downloads.js';

export interface DeploymentTarget {
  readonly name: string;
  readonly alias: string;
  readonly config: Deployment;
  readonly provider: ProviderSpec;
  /** Resolved upstream key (never logged). */
  readonly apiKey: string | undefined;
}

export interface ModelGroup {
  readonly name: string;
  readonly strategy: BalancingStrategy;
  readonly deployments: readonly DeploymentTarget[];
  readonly fallbacks: readonly string[];
  /** Learned router picking the first try's deployment (decoded once per compile). */
  readonly router?: CompiledRouter;
}

export interface ClientPrincipal {
  readonly name: string;
  /** undefined = every model. */
  readonly models: ReadonlySet<string> | undefined;
}

export interface AuthState {
  /** True when neither a master key nor client keys are configured. */
  readonly open: boolean;
  /** sha256 hex of key -> principal (the master key is one with every model). */
  readonly byHash: ReadonlyMap<string, ClientPrincipal>;
}

export interface RuntimeState {
  /** Content hash of the config (first 16 hex chars of sha256), reported as the applied hash. */
  readonly hash: string;
  readonly config: RuntimeConfig;
  readonly models: ReadonlyMap<string, ModelGroup>;
  /** Virtual aliases whose alias a routing model picks per request. */
  readonly routers: ReadonlyMap<string, CompiledAliasRouter>;
  readonly auth: AuthState;
  readonly timeouts: { readonly connectMs: number; readonly firstByteMs: number; readonly totalMs: number };
  readonly retries: { readonly maxAttempts: number; readonly backoffMs: number; readonly maxRetryAfterMs: number };
  readonly cooldown: { readonly failureThreshold: number; readonly durationMs: number };
  readonly maxBodyBytes: number;
  /** Admission settings (undefined: no admission control) and a key telling when they change. */
  readonly shedding: SheddingSettings | undefined;
  readonly shutdown: { readonly drainDelayMs: number; readonly maxStreamDurationMs: number; readonly heartbeatMs: number };
  /** Precomputed body of GET /v1/models. */
  readonly modelListBody: string;
  /** Files holding credentials, watched so a rotated key applies without a restart. */
  readonly credentialFiles: readonly string[];
  /** Digest of the resolved credentials: tells a key rotation from no change (never the keys). */
  readonly credentialsDigest: string;
  /** Router artifact files, watched so a new artifact applies without a restart. */
  readonly artifactFiles: readonly string[];
  /** ConfigMaps holding router artifacts (watched in Kubernetes). */
  readonly artifactConfigMaps: readonly string[];
}

export interface CompileContext {
  env: NodeJS.ProcessEnv;
  secrets?: SecretLookup;
  configMaps?: ConfigMapLookup;
  /** Router artifacts referenced by URI, downloaded before the compile. */
  downloads?: ArtifactDownloads;
}

function compileAuth(config: RuntimeConfig, ctx: CompileContext): AuthState {
  const byHash = new Map<string, ClientPrincipal>();
  for (const key of config.auth.clientKeys) {
    byHash.set(key.sha256, { name: key.name, models: key.models.includes('*') ? undefined : new Set(key.models) });
  }
  if (config.auth.masterKey) {
    const master = resolveCredential(config.auth.masterKey, ctx.env, ctx.secrets);
    byHash.set(sha256Hex(master), { name: 'master', models: undefined });
  }
  return { open: byHash.size === 0, byHash };
}

/** Throws CredentialError naming the reference when a credential cannot be resolved. */
function credentialFilesOf(config: RuntimeConfig): string[] {
  const refs = [config.auth.masterKey, ...config.models.flatMap((m) => m.deployments.map((d) => d.credentials))];
  return [...new Set(refs.flatMap((ref) => (ref && 'file' in ref ? [ref.file] : [])))];
}

export function compileRuntimeState(config: RuntimeConfig, ctx: CompileContext): RuntimeState {
  const created = Math.floor(Date.now() / 1000);
  const artifacts: ArtifactContext = { configMaps: ctx.configMaps, downloads: ctx.downloads, publicKey: (ref) => resolveCredential(ref, ctx.env, ctx.secrets) };
  const models = new Map<string, ModelGroup>();
  for (const model of config.models) {
    const deployments = model.deployments.map((d) => ({
      name: d.name,
      alias: model.name,
      config: d,
      provider: providerFor(d.provider),
      apiKey: d.credentials ? resolveCredential(d.credentials, ctx.env, ctx.secrets) : undefined,
    }));
    models.set(model.name, {
      name: model.name,
      strategy: model.strategy ?? config.routing.strategy,
      deployments,
      fallbacks: model.fallbacks,
      ...(model.router ? { router: compileRouter(model.name, model.router, artifacts) } : {}),
    });
  }
  const routers = new Map((config.routers ?? []).map((r) => [r.name, compileAliasRouter(r, artifacts)]));
  // Routing models: digests the operator can predict (it computes the same applied hash).
  const routingModels = [...routers.values()].flatMap((r) => r.models.map((m) => [`${r.name}/${m.name}`, m.compiled.sourceDigest] as const));
  const routerDigests = [...[...models.values()].flatMap((m) => (m.router ? [[m.name, m.router.digest] as const] : [])), ...routingModels];
  const artifactRefs = routerSpecsOf(config).map((r) => r.artifact);
  const publicKeyFiles = routerSpecsOf(config).flatMap((r) => (r.publicKey && 'file' in r.publicKey ? [r.publicKey.file] : []));
  const auth = compileAuth(config, ctx);
  const keys = [...models.values()].flatMap((m) => m.deployments.map((d) => d.apiKey ?? ''));
  return {
    // A new router artifact is a new state: the applied hash covers the artifacts' digests.
    hash: appliedConfigHash(config, routerDigests),
    config,
    models,
    routers,
    auth,
    timeouts: {
      connectMs: durationMs(config.timeouts.connect),
      firstByteMs: durationMs(config.timeouts.firstByte),
      totalMs: durationMs(config.timeouts.total),
    },
    retries: {
      maxAttempts: config.retries.maxAttempts,
      backoffMs: durationMs(config.retries.backoff),
      maxRetryAfterMs: durationMs(config.retries.maxRetryAfter),
    },
    cooldown: { failureThreshold: config.cooldown.failureThreshold, durationMs: durationMs(config.cooldown.duration) },
    maxBodyBytes: config.server.maxBodyBytes,
    shedding: compileShedding(config.shedding),
    shutdown: {
      drainDelayMs: durationMs(config.shutdown.drainDelay),
      maxStreamDurationMs: durationMs(config.shutdown.maxStreamDuration),
      heartbeatMs: durationMs(config.shutdown.heartbeat),
    },
    modelListBody: JSON.stringify({
      object: 'list',
      data: [...config.models, ...(config.routers ?? [])].map((m) => ({ id: m.name, object: 'model', created, owned_by: 'switchboard' })),
    }),
    credentialFiles: credentialFilesOf(config),
    credentialsDigest: sha256Hex([...keys, ...auth.byHash.keys()].join('\n')),
    artifactFiles: [...new Set([...artifactRefs.flatMap((ref) => ('file' in ref ? [ref.file] : [])), ...publicKeyFiles])],
    artifactConfigMaps: [...new Set(artifactRefs.flatMap((ref) => ('configMap' in ref ? [ref.configMap.name] : [])))],
  };
}
