// The Switchboard reconcilers, wired onto a Manager. Reads like controller-runtime's builder:
// for GatewayConfig, owns its ConfigMap/Deployment/Service/RBAC/PDB, watches the Secrets and
// RoutingModels it references and the data-plane pods that report their config hash; for
// RoutingModel, owns its artifact ConfigMap and watches the ConfigMaps artifacts are referenced from.
import { API_VERSION, type GatewayConfigSpec } from '@switchboard/crds';
import { Controller, Informer, resourceListWatcher, type KubeClient, type KubeObject, type ListWatcher, type Logger, type Manager } from '../runtime/index.js';
import { ObjectWriter } from './apply.js';
import { replicaPod, secretKeys, slimmed, type ReplicaPod, type SecretKeys } from './cache.js';
import { gatewayConfigReconciler, parseGatewaySpec, type GatewayConfigObject } from './gateway-config.js';
import { secretNames } from './gateway-workload.js';
import { FIELD_MANAGER, GATEWAY_LABEL, KINDS, MANAGED_BY_LABEL, MANAGED_BY_SELECTOR, resourceRef, type Kind } from './meta.js';
import { configMapVersion, routingModelReconciler, routingModelsReferencing, type RoutingModelObject } from './routing-model.js';
import type { KedaOptions } from './scaled-object.js';

export interface ControllerOptions {
  /** Watch one namespace; omit to watch all namespaces. */
  namespace?: string;
  /** Data-plane container image (a GatewayConfig's spec.workload.image overrides it). */
  dataPlaneImage: string;
  logger?: Logger;
  /** Concurrent reconciles per controller. Default 2. */
  workers?: number;
  /** KEDA's CRDs are installed: own a ScaledObject per autoscaled GatewayConfig, pointing the
   *  external-push trigger at this scaler address. Omit when KEDA is not installed. */
  keda?: KedaOptions;
}

/** Kinds created for a GatewayConfig or RoutingModel, cached (by label) to skip unchanged applies
 *  and to repair objects someone edits or deletes. */
const OWNED_KINDS: readonly Kind[] = [
  KINDS.configMap,
  KINDS.serviceAccount,
  KINDS.role,
  KINDS.roleBinding,
  KINDS.service,
  KINDS.deployment,
  KINDS.podDisruptionBudget,
];

/** The references of a GatewayConfig, parsed once per object version. */
const referencesCache = new WeakMap<object, { secrets: string[]; routingModel: string | undefined }>();
function referencesOf(gateway: GatewayConfigObject): { secrets: string[]; routingModel: string | undefined } {
  let refs = referencesCache.get(gateway);
  if (!refs) {
    const parsed = parseGatewaySpec(gateway);
    const spec: GatewayConfigSpec | undefined = parsed.ok ? parsed.spec : undefined;
    refs = { secrets: spec ? secretNames(spec) : [], routingModel: spec?.routing.routingModelRef?.name };
    referencesCache.set(gateway, refs);
  }
  return refs;
}

/** Keys of the GatewayConfigs in `obj`'s namespace whose references match. */
function referencingGateways(gateways: Informer<GatewayConfigObject>, obj: KubeObject, matches: (refs: ReturnType<typeof referencesOf>, name: string) => boolean): string[] {
  const namespace = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  const keys: string[] = [];
  for (const gw of gateways.list()) {
    if (gw.metadata?.namespace === namespace && matches(referencesOf(gw), name)) keys.push(`${namespace}/${gw.metadata?.name ?? ''}`);
  }
  return keys;
}

/** Adds the informers and controllers of every Switchboard kind to `manager` (before manager.start()). */
export function setupControllers(manager: Manager, client: KubeClient, options: ControllerOptions): void {
  const { namespace, logger } = options;
  const registry = manager.registry;
  const workers = options.workers ?? 2;
  const informer = <T extends KubeObject>(name: string, lw: ListWatcher<T>): Informer<T> => manager.addInformer(new Informer<T>(lw, { name, logger, registry }));
  const watchAll = <T extends KubeObject>(kind: Kind, labelSelector?: string): ListWatcher<T> =>
    resourceListWatcher<T>(client, resourceRef(kind, namespace), labelSelector === undefined ? {} : { labelSelector });

  const gateways = informer<GatewayConfigObject>('gatewayconfigs', watchAll(KINDS.gatewayConfig));
  const routingModels = informer<RoutingModelObject>('routingmodels', watchAll(KINDS.routingModel));
  const secrets = informer<SecretKeys>('secrets', slimmed(watchAll(KINDS.secret), secretKeys));
  const pods = informer<ReplicaPod>('pods', slimmed(watchAll(KINDS.pod, GATEWAY_LABEL), replicaPod));
  // Any ConfigMap may hold an artifact (spec.artifact.configMapRef): versions only, no data. The
  // operator's own ConfigMaps are left to the owned informer (a gateway's runtime ConfigMaps would
  // otherwise all cross the wire twice).
  const configMaps = informer<KubeObject>('configmap-versions', slimmed(watchAll(KINDS.configMap, `${MANAGED_BY_LABEL}!=${FIELD_MANAGER}`), configMapVersion));
  const ownedKinds = options.keda ? [...OWNED_KINDS, KINDS.scaledObject] : OWNED_KINDS;
  const owned = new Map<string, Informer>(ownedKinds.map((kind) => [kind.kind, informer(kind.plural, watchAll(kind, MANAGED_BY_SELECTOR))]));
  const writer = new ObjectWriter(client, owned);

  const gatewayController = new Controller({
    name: 'gatewayconfig',
    workers,
    logger,
    registry,
    reconcile: gatewayConfigReconciler({ writer, gateways, secrets, routingModels, pods, dataPlaneImage: options.dataPlaneImage, keda: options.keda, logger }),
  }).for(gateways);
  for (const inf of owned.values()) gatewayController.owns(inf, { kind: KINDS.gatewayConfig.kind, apiVersion: API_VERSION });
  gatewayController
    .watches(secrets, (s) => referencingGateways(gateways, s, (refs, name) => refs.secrets.includes(name)))
    // Any RoutingModel may join (or leave) a gateway through `rollout.alongside`, and the watch
    // sees only the new object: every gateway of the namespace routing through one re-renders.
    .watches(routingModels, (rm) => referencingGateways(gateways, rm, (refs) => refs.routingModel !== undefined))
    .watches(pods, (p) => {
      const gateway = p.metadata?.labels?.[GATEWAY_LABEL];
      return gateway && p.metadata?.namespace ? [`${p.metadata.namespace}/${gateway}`] : [];
    });

  const routingModelController = new Controller({
    name: 'routingmodel',
    workers,
    logger,
    registry,
    reconcile: routingModelReconciler({ client, writer, routingModels, gateways, logger }),
  })
    .for(routingModels)
    // Applied follows the gateways routing through the model; a gateway may also stop referencing
    // one (the watch sees only the new object), so every RoutingModel of its namespace is rechecked.
    .watches(gateways, (gw) => routingModels.list().flatMap((rm) => (rm.metadata?.namespace === gw.metadata?.namespace ? [`${rm.metadata?.namespace ?? ''}/${rm.metadata?.name ?? ''}`] : [])))
    .watches(configMaps, (cm) => routingModelsReferencing(cm, routingModels.list()))
    .watches(owned.get(KINDS.configMap.kind) as Informer, (cm) => routingModelsReferencing(cm, routingModels.list()))
    .owns(owned.get(KINDS.configMap.kind) as Informer, { kind: KINDS.routingModel.kind, apiVersion: API_VERSION });

  manager.addController(gatewayController);
  manager.addController(routingModelController);
}

export { renderConfigText, renderRuntimeConfig, CONFIG_KEY, CONFIG_MAP_LIMIT_BYTES, type RenderedConfig } from './runtime-config.js';
export { desiredWorkload, runtimeConfigMapName, workloadName, artifactConfigMapName, shutdownTiming, type Manifest } from './gateway-workload.js';
export { gatewayStatus, planGateway, type GatewayConfigObject } from './gateway-config.js';
export { planArtifact, routingModelStatus, type RoutingModelObject } from './routing-model.js';
export { APPLIED_HASH_ANNOTATION, CONFIG_HASH_ANNOTATION, FIELD_MANAGER, GATEWAY_LABEL } from './meta.js';
export { scaledObjectSpec, prometheusQueries, SCALER_METRICS, type KedaOptions, type ScalerMetric } from './scaled-object.js';
