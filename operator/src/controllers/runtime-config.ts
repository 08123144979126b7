// GatewayConfig spec -> the runtime config the data plane reads from the <name>-runtime
// ConfigMap. Pure: the same spec always renders the same text and hash.
import { appliedConfigHash, formatFieldErrors, RuntimeConfig, validate, type GatewayConfigSpec, type RuntimeConfigInput } from '@switchboard/crds';

/** The ConfigMap key holding the config (JSON, which the data plane's YAML parser reads). */
export const CONFIG_KEY = 'config.json';
/** The apiserver rejects a ConfigMap whose keys and values add up to more than 1 MiB. */
export const CONFIG_MAP_LIMIT_BYTES = 1024 * 1024;

/** A virtual alias routed by RoutingModels (the runtime config's `routers` entry). */
export type AliasRouterInput = NonNullable<RuntimeConfigInput['routers']>[number];

export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RenderError';
  }
}

type SpecShedding = NonNullable<GatewayConfigSpec['shedding']>;

/** Shedding as the data plane reads it: each priority class becomes one entry per client key. */
function renderShedding(s: SpecShedding): NonNullable<RuntimeConfigInput['shedding']> {
  return {
    ...(s.maxConcurrency === undefined ? {} : { maxConcurrency: s.maxConcurrency }),
    ...(s.queue === undefined ? {} : { queue: s.queue }),
    retryAfter: s.retryAfter,
    ...(s.tokenBudget === undefined ? {} : { tokenBudget: s.tokenBudget }),
    defaultMaxTokens: s.defaultMaxTokens,
    ...(s.guards === undefined ? {} : { guards: s.guards }),
    clients: s.priorities.flatMap((p) =>
      p.clientKeys.map((key) => ({
        key,
        priority: p.priority,
        priorityClass: p.name,
        weight: p.weight,
        ...(p.requestsPerMinute === undefined ? {} : { requestsPerMinute: p.requestsPerMinute }),
        ...(p.tokensPerMinute === undefined ? {} : { tokensPerMinute: p.tokensPerMinute }),
      })),
    ),
  };
}

/** Maps a GatewayConfig spec onto the runtime config schema and validates it. Credentials stay
 *  Secret key references; fields the data plane does not read yet (metrics, audit, the
 *  workload) are not part of the runtime config. */
export function renderRuntimeConfig(spec: GatewayConfigSpec, router?: AliasRouterInput): RuntimeConfig {
  const input: RuntimeConfigInput = {
    models: spec.models.map((m) => ({
      name: m.name,
      deployments: m.deployments.map((d) => ({
        name: d.name,
        provider: d.provider,
        model: d.model,
        baseUrl: d.baseUrl,
        ...(d.apiVersion === undefined ? {} : { apiVersion: d.apiVersion }),
        ...(d.credentials === undefined ? {} : { credentials: { secretKeyRef: { name: d.credentials.secretKeyRef.name, key: d.credentials.secretKeyRef.key } } }),
        weight: d.weight,
        ...(d.limits === undefined ? {} : { limits: d.limits }),
        ...(d.pricing === undefined ? {} : { pricing: d.pricing }),
        ...(d.contextWindow === undefined ? {} : { contextWindow: d.contextWindow }),
        ...(d.headers === undefined ? {} : { headers: d.headers }),
      })),
      ...(m.strategy === undefined ? {} : { strategy: m.strategy }),
      fallbacks: m.fallbacks,
    })),
    routing: { strategy: spec.routing.strategy },
    timeouts: spec.timeouts,
    retries: spec.retries,
    cooldown: spec.cooldown,
    auth: {
      ...(spec.auth.masterKey === undefined ? {} : { masterKey: { secretKeyRef: { name: spec.auth.masterKey.secretKeyRef.name, key: spec.auth.masterKey.secretKeyRef.key } } }),
      clientKeys: spec.auth.clientKeys.map((k) => ({ name: k.name, sha256: k.sha256, models: k.models })),
    },
    server: { maxBodyBytes: spec.limits.maxBodyBytes },
    // spec.routing.routingModelRef, rendered by routing-model-render.ts.
    ...(router === undefined ? {} : { routers: [router] }),
    ...(spec.shedding === undefined ? {} : { shedding: renderShedding(spec.shedding) }),
    ...(spec.telemetry.tracing === undefined ? {} : { telemetry: { tracing: spec.telemetry.tracing } }),
    // The Deployment's preStop sleep (drainDelay) already kept the pod serving while endpoints
    // dropped it, so the data plane stops accepting at SIGTERM; the deadline counts from SIGTERM.
    shutdown: { drainDelay: '0s', maxStreamDuration: spec.shutdown.maxStreamDuration },
  };
  const result = validate(RuntimeConfig, input);
  if (!result.ok) throw new RenderError(formatFieldErrors(result.errors, 'rendered runtime config'));
  return result.value;
}

export interface RenderedConfig {
  config: RuntimeConfig;
  /** The ConfigMap value: what the data plane parses. */
  text: string;
  /** The hash the data plane will report for `text`: its configHash, plus the routing models' artifact digests. */
  hash: string;
  /** Bytes the ConfigMap's data adds up to (keys and values), as the apiserver counts them. */
  bytes: number;
}

export function renderConfigText(spec: GatewayConfigSpec, router?: AliasRouterInput, routerDigests: ReadonlyArray<readonly [string, string]> = []): RenderedConfig {
  const config = renderRuntimeConfig(spec, router);
  const text = `${JSON.stringify(config, null, 2)}\n`;
  // Hash what the data plane will see: the text parsed and validated again (defaults included).
  // With routing models, the hash covers their artifact digests too, as the data plane's does.
  const hash = appliedConfigHash(RuntimeConfig.parse(JSON.parse(text)), routerDigests);
  return { config, text, hash, bytes: Buffer.byteLength(CONFIG_KEY) + Buffer.byteLength(text) };
}
