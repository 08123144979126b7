// The Kubernetes hot-reload rig, shared by test/hot-reload/operator-to-dataplane.test.ts and
// bench/hot-reload/run.ts: a real kube-apiserver with the CRDs (test/cluster), the operator as a
// real process, the mock upstream (`switchboard mock`), two real data planes (`switchboard gateway
// --configmap`, each with a kubeconfig and POD_NAME/POD_NAMESPACE naming a Pod object the rig
// creates, since no kubelet runs) and open-loop load on both. On request a third data plane reads
// a ConfigMap written with kubectl directly, for timing the ConfigMap source without the operator
// (the bench). Erasable TypeScript with `.ts` imports, so both jest and Node's type stripping load
// it; the operator's renderer and API client come from dist/ (built by start()), as Node cannot
// load sources whose imports end in `.js`.
import path from 'node:path';
import type { KubeClient } from '@switchboard/operator/runtime';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import { buildOperator, condition, installCrds, killAllOperators, kubectlOk, repoRoot, startOperator, waitFor, type Condition, type OperatorProcess } from '../operator-e2e/operator-process.ts';
import { modelVariant, percentile, waitServing } from './load.ts';
import { LoadedRig, type RigOptions } from './loaded-rig.ts';
import { startGatewayProcess, startMockProcess, type DataPlaneProcess } from './processes.ts';

export const NS = 'sb-hot-reload';
export const GW = 'edge';
export const PODS = ['edge-gateway-0', 'edge-gateway-1'] as const;
/** A ConfigMap written with kubectl, not by the operator, for a data plane read without it. */
const DIRECT_CONFIGMAP = 'direct-runtime';
const UPSTREAM_KEY = 'sk-upstream-hot-reload';
const MASTER_KEY = 'sk-master-hot-reload';
const APPLIED_HASH = 'switchboard.dev/applied-config-hash';
/** Traffic on each config before the next change. */
const BETWEEN_CHANGES_MS = 250;

export interface GatewayProcess extends DataPlaneProcess {
  pod: string;
}

export interface GatewayConfigJson {
  metadata: { generation: number };
  status?: { observedGeneration?: number; configHash?: string; conditions?: Condition[]; laggingReplicas?: Array<{ pod: string; appliedHash?: string }> };
}

export interface Change {
  spec: Record<string, unknown>;
  /** Deployments a `live` request may be served by: name -> upstream model. */
  allowed: Map<string, string>;
  /** The hash the operator will write and the data planes will report. */
  hash: string;
}

/** One change, timed from the start of `kubectl apply` (ms). */
export interface TimedChange {
  hash: string;
  /** The status once ConfigApplied was True for the hash. */
  status: GatewayConfigJson;
  toServing: number;
  /** Both data planes serving, from kubectl's exit. */
  afterKubectl: number;
  toConfigApplied: number;
}

type RuntimeConfigModule = typeof import('../../operator/src/controllers/runtime-config.ts');

export class HotReloadRig extends LoadedRig {
  readonly gateways: GatewayProcess[] = [];
  cluster!: Cluster;
  operator!: OperatorProcess;
  /** Reads go straight to the API (polling with kubectl would cost a process per probe). */
  private api!: KubeClient;
  private isNotFound!: (error: unknown) => boolean;
  /** The operator's rendering of a GatewayConfig spec: the runtime config text and its hash. */
  private render!: (spec: Record<string, unknown>) => { text: string; hash: string };
  private mockUrl = '';

  private constructor(options: RigOptions) {
    super(options, MASTER_KEY);
  }

  /** Builds, starts everything, applies change 0, waits until both data planes serve it, then starts the load. */
  static async start(options: RigOptions): Promise<HotReloadRig> {
    return LoadedRig.launch(new HotReloadRig(options), options.log);
  }

  protected async setUp(log: (message: string) => void): Promise<void> {
    const t0 = performance.now();
    await buildOperator(); // `tsc -b`: the operator, the data plane and the renderer run from dist/
    const [{ KubeClient, isNotFound }, { GatewayConfigSpec }, { renderConfigText }] = await Promise.all([
      import('@switchboard/operator/runtime'),
      import('@switchboard/crds'),
      import(path.join(repoRoot, 'operator', 'dist', 'controllers', 'runtime-config.js')) as Promise<RuntimeConfigModule>,
    ]);
    this.isNotFound = isNotFound;
    this.render = (spec) => renderConfigText(GatewayConfigSpec.parse(spec));

    this.cluster = await startCluster();
    this.teardown.add(() => this.cluster.stop());
    this.mockUrl = await startMockProcess(UPSTREAM_KEY, this.teardown);
    this.api = KubeClient.fromFile(this.cluster.kubeconfigPath);
    await installCrds(this.cluster);
    await kubectlOk(this.cluster, ['create', 'namespace', NS]);
    const secret = (name: string, value: string): object => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, stringData: { 'api-key': value } });
    await this.kubectlApply({ apiVersion: 'v1', kind: 'List', items: [secret('upstream-key', UPSTREAM_KEY), secret('master-key', MASTER_KEY)] });
    // One replica, no lease: an apiserver restart must not cost the operator its leadership.
    this.teardown.add(() => killAllOperators());
    this.operator = await startOperator({ kubeconfig: this.cluster.kubeconfigPath, identity: 'hot-reload', args: ['--namespace', NS, '--leader-elect=false'] });
    this.teardown.add(() => this.operator.stop(10_000));

    const first = this.change(0);
    this.ledger.record(first.hash, first.allowed);
    await this.apply(first.spec);
    await waitFor('the runtime ConfigMap', async () => (await this.runtimeConfigMap()) !== undefined, 20_000, 20);

    // The data-plane pods as the Deployment would have them: its selector's labels, Ready.
    const deployment = await waitFor('the gateway Deployment', () => this.get<{ spec: { selector: { matchLabels: Record<string, string> } } }>(`/apis/apps/v1/namespaces/${NS}/deployments/${GW}-gateway`), 20_000, 20);
    const pods = PODS.map((name) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS, labels: deployment.spec.selector.matchLabels },
      spec: { containers: [{ name: 'gateway', image: 'switchboard/dataplane:e2e' }] },
    }));
    await this.kubectlApply({ apiVersion: 'v1', kind: 'List', items: pods });
    const ready = JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
    for (const name of PODS) await kubectlOk(this.cluster, ['patch', 'pod', name, '-n', NS, '--subresource=status', '--type=merge', '-p', ready]);

    for (const pod of PODS) {
      const source = ['--configmap', `${GW}-runtime`, '--namespace', NS, '--kubeconfig', this.cluster.kubeconfigPath];
      this.gateways.push({ ...(await startGatewayProcess(pod, source, { POD_NAME: pod, POD_NAMESPACE: NS }, this.teardown)), pod });
    }
    await waitServing(this.ledger, this.gateways, first.hash, 10_000);
    await this.waitApplied(first.hash);
    this.load.setTargets(this.gateways);
    this.load.start();
    log(`setup (build, apiserver, CRDs, operator, mock, 2 data planes): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }

  /** Change `i`: deployments named after the change (so an answer tells which config served it),
   *  their upstream models, weights, the balancing strategy and the set of models all vary. */
  change(i: number, secret = 'upstream-key'): Change {
    const d = (suffix: string, weight: number): Record<string, unknown> => ({
      name: `c${i}-${suffix}`,
      provider: 'openai',
      model: `c${i}-${suffix}-upstream`,
      baseUrl: `${this.mockUrl}/v1`,
      credentials: { secretKeyRef: { name: secret, key: 'api-key' } },
      weight,
    });
    const strategies = ['weighted', 'least-inflight', 'lowest-latency', 'weighted'] as const;
    const variant = i % 4;
    const models = modelVariant(variant, d);
    const spec = {
      models,
      routing: { strategy: strategies[variant] },
      auth: { masterKey: { secretKeyRef: { name: 'master-key', key: 'api-key' } } },
      retries: { maxAttempts: 2, backoff: '10ms', maxRetryAfter: '1s' },
      workload: { replicas: 2 },
    };
    // A request for `live` may be served by its deployments or, for variant 3, its fallback's.
    const live = models.filter((m) => m.name === 'live' || (variant === 3 && m.name === 'backup'));
    const allowed = new Map(live.flatMap((m) => (m.deployments as Array<{ name: string; model: string }>).map((x) => [x.name, x.model] as const)));
    return { spec, allowed, hash: this.render(spec).hash };
  }

  /** `kubectl apply` of the GatewayConfig with `spec`. */
  apply(spec: Record<string, unknown>): Promise<string> {
    return this.kubectlApply({ apiVersion: 'switchboard.dev/v1alpha1', kind: 'GatewayConfig', metadata: { name: GW, namespace: NS }, spec });
  }

  /** Records change `i` in the ledger and applies it; returns it with when kubectl started and exited. */
  async applyChange(i: number): Promise<Change & { started: number; kubectlDone: number }> {
    const c = this.change(i);
    this.ledger.record(c.hash, c.allowed);
    const started = performance.now();
    await this.apply(c.spec);
    return { ...c, started, kubectlDone: performance.now() };
  }

  /** Applies change `i` and times it until both data planes serve it and ConfigApplied is True. */
  async timedChange(i: number, timeoutMs = 10_000): Promise<TimedChange> {
    const { hash, started, kubectlDone } = await this.applyChange(i);
    const served = await waitServing(this.ledger, this.gateways, hash, timeoutMs);
    const status = await this.waitApplied(hash, timeoutMs);
    return { hash, status, toServing: served - started, afterKubectl: served - kubectlDone, toConfigApplied: performance.now() - started };
  }

  /** Changes `first` .. `first + count - 1`, one at a time with traffic on each before the next;
   *  `check` sees each once it is applied. */
  timedChanges(first: number, count: number, timeoutMs = 10_000, check: (change: TimedChange) => Promise<void> = async () => {}): Promise<TimedChange[]> {
    return oneAtATime(first, count, async (i) => {
      const c = await this.timedChange(i, timeoutMs);
      await check(c);
      return c;
    });
  }

  /** Writes change `i`'s runtime config (rendered as the operator would) into a ConfigMap of its
   *  own with kubectl, then starts a third data plane on it, with no Pod to report to. */
  async startDirectDataPlane(i: number): Promise<DataPlaneProcess> {
    const { hash } = await this.applyConfigMap(i);
    const source = ['--configmap', DIRECT_CONFIGMAP, '--namespace', NS, '--kubeconfig', this.cluster.kubeconfigPath];
    const gateway = await startGatewayProcess('direct', source, {}, this.teardown);
    await waitServing(this.ledger, [gateway], hash, 10_000);
    return gateway;
  }

  /** Changes `first` .. `first + count - 1` of the direct data plane's ConfigMap (`kubectl apply`),
   *  one at a time with traffic on each before the next, each timed until `gateway` serves it. */
  timedConfigMapChanges(gateway: DataPlaneProcess, first: number, count: number, timeoutMs: number): Promise<Array<Pick<TimedChange, 'hash' | 'toServing' | 'afterKubectl'>>> {
    return oneAtATime(first, count, async (i) => {
      const { hash, started, kubectlDone } = await this.applyConfigMap(i);
      const served = await waitServing(this.ledger, [gateway], hash, timeoutMs);
      return { hash, toServing: served - started, afterKubectl: served - kubectlDone };
    });
  }

  /** Records change `i` and applies its rendered runtime config as the direct ConfigMap. */
  private async applyConfigMap(i: number): Promise<{ hash: string; started: number; kubectlDone: number }> {
    const { spec, allowed } = this.change(i);
    const { text, hash } = this.render(spec);
    this.ledger.record(hash, allowed);
    const started = performance.now();
    await this.kubectlApply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: DIRECT_CONFIGMAP, namespace: NS }, data: { 'config.json': text } });
    return { hash, started, kubectlDone: performance.now() };
  }

  gatewayConfig(): Promise<GatewayConfigJson> {
    return this.get<GatewayConfigJson>(`/apis/switchboard.dev/v1alpha1/namespaces/${NS}/gatewayconfigs/${GW}`).then((g) => g!);
  }

  runtimeConfigMap(): Promise<{ metadata: { annotations?: Record<string, string> }; data: Record<string, string> } | undefined> {
    return this.get(`/api/v1/namespaces/${NS}/configmaps/${GW}-runtime`);
  }

  /** The applied-config-hash annotation the data plane wrote on its Pod. */
  async podHash(pod: string): Promise<string | undefined> {
    return (await this.get<{ metadata: { annotations?: Record<string, string> } }>(`/api/v1/namespaces/${NS}/pods/${pod}`))?.metadata.annotations?.[APPLIED_HASH];
  }

  /** Waits until the status reports `hash` as applied by every ready replica; returns the status. */
  waitApplied(hash: string, timeoutMs = 10_000): Promise<GatewayConfigJson> {
    return waitFor(`ConfigApplied True for ${hash}`, async () => {
      const g = await this.gatewayConfig();
      const c = condition(g, 'ConfigApplied');
      return g.status?.configHash === hash && c?.status === 'True' && g.status.observedGeneration === g.metadata.generation ? g : undefined;
    }, timeoutMs, 20);
  }

  private async get<T>(apiPath: string): Promise<T | undefined> {
    try {
      return await this.api.request<T>('GET', apiPath);
    } catch (error) {
      if (this.isNotFound(error)) return undefined;
      throw error;
    }
  }

  private kubectlApply(object: object): Promise<string> {
    return kubectlOk(this.cluster, ['apply', '-f', '-'], JSON.stringify(object));
  }
}

/** `step(i)` for `first` .. `first + count - 1`, one at a time with traffic on each config before the next. */
async function oneAtATime<T>(first: number, count: number, step: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = first; i < first + count; i++) {
    results.push(await step(i));
    await new Promise((r) => setTimeout(r, BETWEEN_CHANGES_MS));
  }
  return results;
}

/** Apply -> serving and -> ConfigApplied percentiles of `changes`, in one line. */
export function describeChanges(changes: readonly TimedChange[]): string {
  const ms = (values: number[], p: number): string => `${percentile(values, p).toFixed(0)} ms`;
  const serving = changes.map((c) => c.toServing);
  const afterKubectl = changes.map((c) => c.afterKubectl);
  const applied = changes.map((c) => c.toConfigApplied);
  return (
    `kubectl apply -> both data planes serving, ${changes.length} changes: p50 ${ms(serving, 50)}, p99 ${ms(serving, 99)}, max ${ms(serving, 100)} ` +
    `(from kubectl's exit: p50 ${ms(afterKubectl, 50)}, p99 ${ms(afterKubectl, 99)}); apply -> ConfigApplied True: p50 ${ms(applied, 50)}, p99 ${ms(applied, 99)}`
  );
}
