// The GatewayConfig reconciler. planGateway() and gatewayStatus() are pure (spec and observed
// facts in, desired objects and status out); reconcile() reads the caches, applies the plan and
// writes the status only when it changed. References are checked before anything is written, so
// a missing Secret or RoutingModel never leaves a half-applied gateway behind.
import { formatFieldErrors, GatewayConfigSpec, validate, type GatewayConfigStatus } from '@switchboard/crds';
import { realClock, type Clock, type Informer, type KubeObject, type Logger, type Reconcile } from '../runtime/index.js';
import type { ObjectWriter } from './apply.js';
import type { ReplicaPod, SecretKeys } from './cache.js';
import { mergeConditions, type ObservedCondition } from './conditions.js';
import { desiredWorkload, runtimeConfigMapName, secretReferences, workloadName, type Manifest } from './gateway-workload.js';
import { CONFIG_HASH_ANNOTATION, GATEWAY_LABEL, KINDS, ReferenceNotReadyError } from './meta.js';
import type { RoutingModelObject } from './routing-model.js';
import { renderRouter } from './routing-model-render.js';
import type { KedaOptions } from './scaled-object.js';
import { CONFIG_MAP_LIMIT_BYTES, RenderError, renderConfigText, type RenderedConfig } from './runtime-config.js';

export interface GatewayConfigObject extends KubeObject {
  spec?: unknown;
  status?: GatewayConfigStatus;
}

export type BlockReason = 'InvalidSpec' | 'NameTooLong' | 'SecretNotFound' | 'SecretKeyNotFound' | 'RoutingModelNotFound' | 'InvalidRoutingModel' | 'InvalidConfig' | 'ConfigTooLarge';

export interface Blocker {
  reason: BlockReason;
  message: string;
  /** Retry with backoff: the cause may go away without a spec change (an object may appear). */
  retry: boolean;
}

export interface GatewayObserved {
  secret(name: string): SecretKeys | undefined;
  /** The RoutingModels of the gateway's namespace (the referenced one and those alongside it). */
  routingModels(): readonly RoutingModelObject[];
}

export type GatewayPlan = { ok: true; spec: GatewayConfigSpec; rendered: RenderedConfig; apply: Manifest[]; absent: ReturnType<typeof desiredWorkload>['absent'] } | { ok: false; blocker: Blocker };

export interface PlanOptions {
  dataPlaneImage: string;
  /** KEDA is installed: render a ScaledObject for spec.workload.autoscaling. */
  keda?: KedaOptions | undefined;
  /** Largest ConfigMap data accepted; default the apiserver's 1 MiB. */
  maxConfigBytes?: number;
}

/** A DNS label: Service names are limited to 63 characters. */
const MAX_WORKLOAD_NAME = 63;

export function parseGatewaySpec(obj: GatewayConfigObject): { ok: true; spec: GatewayConfigSpec } | { ok: false; message: string } {
  const result = validate(GatewayConfigSpec, obj.spec ?? {});
  return result.ok ? { ok: true, spec: result.value } : { ok: false, message: formatFieldErrors(result.errors, 'spec') };
}

export function planGateway(gateway: GatewayConfigObject, observed: GatewayObserved, options: PlanOptions): GatewayPlan {
  const name = gateway.metadata?.name ?? '';
  const namespace = gateway.metadata?.namespace ?? '';
  const block = (reason: BlockReason, message: string, retry = false): GatewayPlan => ({ ok: false, blocker: { reason, message, retry } });

  const parsed = parseGatewaySpec(gateway);
  if (!parsed.ok) return block('InvalidSpec', parsed.message);
  const spec = parsed.spec;
  if (workloadName(name).length > MAX_WORKLOAD_NAME) {
    return block('NameTooLong', `the data-plane Service "${workloadName(name)}" would exceed ${MAX_WORKLOAD_NAME} characters; use a GatewayConfig name of at most ${MAX_WORKLOAD_NAME - '-gateway'.length}`);
  }

  const missingSecrets = new Map<string, string[]>();
  const missingKeys: string[] = [];
  for (const ref of secretReferences(spec)) {
    const secret = observed.secret(ref.name);
    if (!secret) {
      missingSecrets.set(ref.name, [...(missingSecrets.get(ref.name) ?? []), ref.path]);
      continue;
    }
    for (const key of ref.keys) if (!secret.keys.includes(key)) missingKeys.push(`Secret ${namespace}/${ref.name} has no key "${key}" (referenced by ${ref.path})`);
  }
  if (missingSecrets.size) {
    const list = [...missingSecrets].map(([secret, paths]) => `Secret ${namespace}/${secret} not found (referenced by ${paths.join(', ')})`);
    return block('SecretNotFound', list.join('; '), true);
  }
  if (missingKeys.length) return block('SecretKeyNotFound', missingKeys.join('; '), true);

  const routing = renderRouter(spec, namespace, observed.routingModels());
  if (!routing.ok) return block(routing.reason, routing.message, routing.retry);

  let rendered: RenderedConfig;
  try {
    rendered = renderConfigText(spec, routing.router, routing.digests);
  } catch (err) {
    if (err instanceof RenderError) return block('InvalidConfig', err.message);
    throw err;
  }
  const limit = options.maxConfigBytes ?? CONFIG_MAP_LIMIT_BYTES;
  if (rendered.bytes > limit) {
    return block(
      'ConfigTooLarge',
      `the rendered runtime config is ${rendered.bytes} bytes; ConfigMap ${runtimeConfigMapName(name)} may hold at most ${limit} bytes (1 MiB). Move large values (headers, client keys) out or split the gateway`,
    );
  }
  const workload = desiredWorkload({ owner: gateway, spec, rendered, dataPlaneImage: options.dataPlaneImage, keda: options.keda });
  return { ok: true, spec, rendered, apply: workload.apply, absent: workload.absent };
}

export interface ReplicaReport {
  /** Ready data-plane pods (gateway replicas and sidecars) of the gateway. */
  total: number;
  /** Of those, the ones reporting `hash`. */
  current: number;
  lagging: Array<{ pod: string; appliedHash?: string }>;
}

/** Status lists at most this many lagging replicas. */
export const MAX_LAGGING = 32;

export function replicaReport(pods: readonly ReplicaPod[], hash: string): ReplicaReport {
  const ready = pods.filter((p) => p.ready && !p.metadata?.deletionTimestamp);
  const lagging = ready
    .filter((p) => p.appliedHash !== hash)
    .map((p) => ({ pod: p.metadata?.name ?? '', ...(p.appliedHash === undefined ? {} : { appliedHash: p.appliedHash }) }))
    .sort((a, b) => (a.pod < b.pod ? -1 : a.pod > b.pod ? 1 : 0));
  return { total: ready.length, current: ready.length - lagging.length, lagging };
}

export interface StatusInput {
  name: string;
  generation: number | undefined;
  previous: GatewayConfigStatus | undefined;
  nowMs: number;
  /** Hash of the config the runtime ConfigMap holds (just written, or kept from before when blocked). */
  hash: string | undefined;
  blocker: Blocker | undefined;
  pods: readonly ReplicaPod[];
  /** The gateway Deployment's wanted and ready replicas, when it exists. */
  deployment: { desired: number; ready: number } | undefined;
}

function describeLagging(report: ReplicaReport): string {
  const shown = report.lagging.slice(0, 10).map((l) => `${l.pod} (${l.appliedHash === undefined ? 'not reported' : `on ${l.appliedHash}`})`);
  const more = report.lagging.length > shown.length ? ` and ${report.lagging.length - shown.length} more` : '';
  return `${shown.join(', ')}${more}`;
}

export function gatewayStatus(input: StatusInput): GatewayConfigStatus {
  const { hash, blocker } = input;
  const report = hash === undefined ? undefined : replicaReport(input.pods, hash);
  let configApplied: ObservedCondition;
  if (blocker) configApplied = { type: 'ConfigApplied', status: 'False', reason: blocker.reason, message: blocker.message };
  else if (!report || report.total === 0) {
    configApplied = { type: 'ConfigApplied', status: 'False', reason: 'NoReadyReplicas', message: `config ${hash} is in ConfigMap ${runtimeConfigMapName(input.name)}; no ready data-plane replica reports it yet` };
  } else if (report.lagging.length) {
    configApplied = { type: 'ConfigApplied', status: 'False', reason: 'Rolling', message: `${report.current}/${report.total} ready replicas run config ${hash}; waiting for ${describeLagging(report)}` };
  } else {
    configApplied = { type: 'ConfigApplied', status: 'True', reason: 'Applied', message: `${report.current}/${report.total} ready replicas run config ${hash}` };
  }
  const ready: ObservedCondition =
    configApplied.status === 'True'
      ? { type: 'Ready', status: 'True', reason: 'Ready', message: `serving config ${hash} on ${report?.total ?? 0} ready replicas` }
      : { type: 'Ready', status: 'False', reason: configApplied.reason, ...(configApplied.message === undefined ? {} : { message: configApplied.message }) };
  let degraded: ObservedCondition;
  if (blocker && hash !== undefined) {
    degraded = { type: 'Degraded', status: 'True', reason: blocker.reason, message: `still serving the last good config ${hash}: ${blocker.message}` };
  } else if (input.deployment && input.deployment.ready < input.deployment.desired) {
    degraded = { type: 'Degraded', status: 'True', reason: 'ReplicasUnavailable', message: `${input.deployment.ready}/${input.deployment.desired} data-plane replicas of Deployment ${workloadName(input.name)} are ready` };
  } else {
    degraded = { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'nothing is degraded' };
  }
  const conditions = mergeConditions(input.previous?.conditions, [ready, configApplied, degraded], input.generation, input.nowMs);
  return {
    ...(input.generation === undefined ? {} : { observedGeneration: input.generation }),
    conditions,
    ...(hash === undefined ? {} : { configHash: hash }),
    ...(report ? { replicas: { total: report.total, current: report.current } } : {}),
    ...(report?.lagging.length ? { laggingReplicas: report.lagging.slice(0, MAX_LAGGING) } : {}),
  };
}

export interface GatewayReconcilerDeps {
  writer: ObjectWriter;
  gateways: Informer<GatewayConfigObject>;
  secrets: Informer<SecretKeys>;
  routingModels: Informer<RoutingModelObject>;
  pods: Informer<ReplicaPod>;
  dataPlaneImage: string;
  keda?: KedaOptions | undefined;
  clock?: Clock;
  logger?: Logger;
  maxConfigBytes?: number;
  /** Called on each status write conflict that is retried (tests and metrics). */
  onStatusConflict?: () => void;
}

export function podsOf(pods: Informer<ReplicaPod>, namespace: string, gateway: string): ReplicaPod[] {
  return pods.list().filter((p) => p.metadata?.namespace === namespace && p.metadata.labels?.[GATEWAY_LABEL] === gateway);
}

export function gatewayConfigReconciler(deps: GatewayReconcilerDeps): Reconcile {
  const clock = deps.clock ?? realClock;
  return async (key, ctx) => {
    const gateway = deps.gateways.get(key);
    // Deleted: the garbage collector removes the owned objects (no finalizer needed).
    if (!gateway || gateway.metadata?.deletionTimestamp) return;
    const namespace = gateway.metadata?.namespace ?? '';
    const name = gateway.metadata?.name ?? '';
    const plan = planGateway(
      gateway,
      { secret: (n) => deps.secrets.get(`${namespace}/${n}`), routingModels: () => deps.routingModels.list().filter((rm) => rm.metadata?.namespace === namespace) },
      { dataPlaneImage: deps.dataPlaneImage, maxConfigBytes: deps.maxConfigBytes, keda: deps.keda },
    );

    let hash: string | undefined;
    if (plan.ok) {
      await Promise.all(plan.apply.map((m) => deps.writer.apply(m, ctx.signal)));
      for (const gone of plan.absent) await deps.writer.deleteOwned(gone.kind, namespace, gone.name, gateway.metadata?.uid ?? '', ctx.signal);
      hash = plan.rendered.hash;
    } else {
      hash = deps.writer.cached(KINDS.configMap, namespace, runtimeConfigMapName(name))?.metadata?.annotations?.[CONFIG_HASH_ANNOTATION];
    }

    const deployment = deps.writer.cached(KINDS.deployment, namespace, workloadName(name)) as (KubeObject & { spec?: { replicas?: number }; status?: { readyReplicas?: number } }) | undefined;
    const wanted = plan.ok ? plan.spec.workload.replicas : undefined;
    const desiredReplicas = wanted ?? deployment?.spec?.replicas;
    const pods = podsOf(deps.pods, namespace, name);
    await deps.writer.writeStatus(
      KINDS.gatewayConfig,
      gateway,
      (current) =>
        gatewayStatus({
          name,
          generation: current.metadata?.generation,
          previous: current.status,
          nowMs: clock.now(),
          hash,
          blocker: plan.ok ? undefined : plan.blocker,
          pods,
          deployment: desiredReplicas === undefined ? undefined : { desired: desiredReplicas, ready: deployment?.status?.readyReplicas ?? 0 },
        }),
      { signal: ctx.signal, onConflict: deps.onStatusConflict },
    );
    if (!plan.ok) {
      deps.logger?.info({ controller: 'gatewayconfig', key, reason: plan.blocker.reason, message: plan.blocker.message }, 'gateway not applied');
      if (plan.blocker.retry) throw new ReferenceNotReadyError(plan.blocker.reason, plan.blocker.message);
    }
  };
}
