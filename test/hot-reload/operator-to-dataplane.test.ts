// Hot reload end to end, as it runs in a cluster: a real kube-apiserver with the CRDs, the
// operator as a real process, two real data-plane processes (`switchboard gateway --configmap`,
// each with a kubeconfig and POD_NAME/POD_NAMESPACE naming a Pod object this test creates, since
// no kubelet runs) and the real mock upstream. Under open-loop load (240 rps, a quarter streamed)
// the test applies GatewayConfig changes with kubectl and checks that every request succeeds on a
// deployment the config it reports allows, that both data planes serve each change within 1 s
// (p99), that ConfigApplied waits for both replicas and names the one that lags, that a change
// naming a missing Secret shows on the status and changes nothing, and that an apiserver restart
// interrupts no request and leaves the watches working.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GatewayConfigSpec } from '@switchboard/crds';
import { KubeApiError, KubeClient } from '@switchboard/operator/runtime';
import { startCluster, type Cluster } from '../cluster/cluster.js';
import { renderConfigText } from '../../operator/src/controllers/runtime-config.js';
import { startMock, type MockServer } from '../../dataplane/src/mock/server.js';
import { startCli, type RunningCli } from '../support/cli.js';
import { buildOperator, condition, installCrds, killAllOperators, kubectlOk, startOperator, type Condition, type OperatorProcess } from '../operator-e2e/operator-process.js';
import { ConfigLedger, describeLoad, modelVariant, OpenLoopLoad, percentile, readyz, waitServing, type Target } from './load.js';

const NS = 'sb-hot-reload';
const GW = 'edge';
const PODS = ['edge-gateway-0', 'edge-gateway-1'] as const;
const UPSTREAM_KEY = 'sk-upstream-hot-reload';
const MASTER_KEY = 'sk-master-hot-reload';
const APPLIED_HASH = 'switchboard.dev/applied-config-hash';
const CHANGES = 20;
const RPS = 240;
const TIMEOUT = 120_000;

interface GatewayProcess extends Target {
  pod: string;
  adminUrl: string;
  cli: RunningCli;
}

interface GatewayConfigJson {
  metadata: { generation: number };
  status?: { observedGeneration?: number; configHash?: string; conditions?: Condition[]; laggingReplicas?: Array<{ pod: string; appliedHash?: string }> };
}

let cluster: Cluster;
/** Reads go straight to the API (polling with kubectl would cost a process per probe). */
let api: KubeClient;
let operator: OperatorProcess;
let mock: MockServer;
const gateways: GatewayProcess[] = [];
const ledger = new ConfigLedger();
const load = new OpenLoopLoad({ rps: RPS, streamShare: 0.25, maxDurationMs: 110_000, apiKey: MASTER_KEY, model: 'live' });

const credentials = { secretKeyRef: { name: 'upstream-key', key: 'api-key' } };

/** Change `i`: deployments named after the change (so an answer tells which config served it),
 *  their upstream models, weights, the balancing strategy and the set of models all vary. */
function change(i: number, secret = 'upstream-key'): { spec: Record<string, unknown>; allowed: Map<string, string> } {
  const d = (suffix: string, weight: number): Record<string, unknown> => ({
    name: `c${i}-${suffix}`,
    provider: 'openai',
    model: `c${i}-${suffix}-upstream`,
    baseUrl: `${mock.url}/v1`,
    credentials: { secretKeyRef: { ...credentials.secretKeyRef, name: secret } },
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
  return { spec, allowed };
}

/** The hash the operator will write and the data planes will report for `spec`. */
function hashOf(spec: Record<string, unknown>): string {
  return renderConfigText(GatewayConfigSpec.parse(spec)).hash;
}

const manifest = (spec: Record<string, unknown>): string =>
  JSON.stringify({ apiVersion: 'switchboard.dev/v1alpha1', kind: 'GatewayConfig', metadata: { name: GW, namespace: NS }, spec });

async function get<T>(path: string): Promise<T | undefined> {
  try {
    return await api.request<T>('GET', path);
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return undefined;
    throw error;
  }
}

const gatewayConfig = async (): Promise<GatewayConfigJson> => (await get<GatewayConfigJson>(`/apis/switchboard.dev/v1alpha1/namespaces/${NS}/gatewayconfigs/${GW}`))!;
const runtimeConfigMap = (): Promise<{ metadata: { annotations?: Record<string, string> }; data: Record<string, string> } | undefined> =>
  get(`/api/v1/namespaces/${NS}/configmaps/${GW}-runtime`);

async function podHash(pod: string): Promise<string | undefined> {
  return (await get<{ metadata: { annotations?: Record<string, string> } }>(`/api/v1/namespaces/${NS}/pods/${pod}`))?.metadata.annotations?.[APPLIED_HASH];
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, everyMs = 20): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Waits until the status reports `hash` as applied by every ready replica; returns the status. */
function waitApplied(hash: string, timeoutMs = 10_000): Promise<GatewayConfigJson> {
  return waitFor(`ConfigApplied True for ${hash}`, async () => {
    const g = await gatewayConfig();
    const c = condition(g, 'ConfigApplied');
    return g.status?.configHash === hash && c?.status === 'True' && g.status.observedGeneration === g.metadata.generation ? g : undefined;
  }, timeoutMs);
}

async function startDataPlane(pod: string): Promise<GatewayProcess> {
  const cli = startCli(['gateway', '--configmap', `${GW}-runtime`, '--namespace', NS, '--kubeconfig', cluster.kubeconfigPath, '--port', '0', '--admin-port', '0'], {
    POD_NAME: pod,
    POD_NAMESPACE: NS,
  });
  const m = await cli.waitForOutput(/"port":(\d+),"adminPort":(\d+),"configHash":"([0-9a-f]{16})"/, 30_000);
  return { name: pod, pod, url: `http://127.0.0.1:${m[1]}`, adminUrl: `http://127.0.0.1:${m[2]}`, cli };
}

function noProblemsSoFar(): void {
  const problems = ledger.check(load.outcomes);
  expect(problems.slice(0, 20)).toEqual([]);
}

beforeAll(async () => {
  const t0 = performance.now();
  await buildOperator(); // `tsc -b`: the operator and the data plane CLIs run from dist/
  [cluster, mock] = await Promise.all([startCluster(), startMock({ port: 0, apiKey: UPSTREAM_KEY, ttftMs: 5, tokensPerSecond: 1000 })]);
  api = KubeClient.fromFile(cluster.kubeconfigPath);
  await installCrds(cluster);
  await kubectlOk(cluster, ['create', 'namespace', NS]);
  const secret = (name: string, value: string): object => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: NS }, stringData: { 'api-key': value } });
  await kubectlOk(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [secret('upstream-key', UPSTREAM_KEY), secret('master-key', MASTER_KEY)] }));
  // One replica, no lease: the apiserver restart below must not cost the operator its leadership.
  operator = await startOperator({ kubeconfig: cluster.kubeconfigPath, identity: 'hot-reload', args: ['--namespace', NS, '--leader-elect=false'] });

  const first = change(0);
  const firstHash = hashOf(first.spec);
  ledger.record(firstHash, first.allowed);
  await kubectlOk(cluster, ['apply', '-f', '-'], manifest(first.spec));
  await waitFor('the runtime ConfigMap', async () => (await runtimeConfigMap()) !== undefined, 20_000);

  // The data-plane pods as the Deployment would have them: its selector's labels, Ready.
  const deployment = (await waitFor('the gateway Deployment', () => get<{ spec: { selector: { matchLabels: Record<string, string> } } }>(`/apis/apps/v1/namespaces/${NS}/deployments/${GW}-gateway`), 20_000))!;
  const pods = PODS.map((name) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: deployment.spec.selector.matchLabels },
    spec: { containers: [{ name: 'gateway', image: 'switchboard/dataplane:e2e' }] },
  }));
  await kubectlOk(cluster, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: pods }));
  const ready = JSON.stringify({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
  for (const name of PODS) await kubectlOk(cluster, ['patch', 'pod', name, '-n', NS, '--subresource=status', '--type=merge', '-p', ready]);

  gateways.push(...(await Promise.all(PODS.map(startDataPlane))));
  await waitServing(ledger, gateways, firstHash, 10_000);
  await waitApplied(firstHash);
  load.setTargets(gateways);
  load.start();
  console.log(`setup (build, apiserver, CRDs, operator, 2 data planes): ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}, TIMEOUT);

afterAll(async () => {
  // Every step runs even if one fails: no process may outlive the test.
  const steps: Array<() => Promise<unknown> | unknown> = [
    () => load.stop(),
    ...gateways.map((g) => () => {
      g.cli.child.kill('SIGCONT');
      return stopWithin(g.cli, 10_000);
    }),
    () => operator?.stop(10_000),
    () => killAllOperators(),
    () => mock?.close(),
    () => cluster?.stop(),
  ];
  const errors: unknown[] = [];
  for (const step of steps) await Promise.resolve().then(step).catch((e: unknown) => errors.push(e));
  if (errors.length) throw errors[0];
}, TIMEOUT);

/** SIGTERM, then SIGKILL if the process has not exited after `ms`. */
async function stopWithin(cli: RunningCli, ms: number): Promise<void> {
  const timer = setTimeout(() => cli.child.kill('SIGKILL'), ms);
  try {
    await cli.stop();
  } finally {
    clearTimeout(timer);
  }
}

describe('GatewayConfig changes reach both data planes under load', () => {
  let applied = 0;

  it(`applies ${CHANGES} changes of weights, models and routing: every request succeeds on an allowed deployment, p99 apply -> serving <= 1 s`, async () => {
    const toServing: number[] = [];
    const afterKubectl: number[] = [];
    const toConfigApplied: number[] = [];
    for (let i = 1; i <= CHANGES; i++) {
      const { spec, allowed } = change(i);
      const hash = hashOf(spec);
      ledger.record(hash, allowed);
      const started = performance.now();
      await kubectlOk(cluster, ['apply', '-f', '-'], manifest(spec));
      const kubectlDone = performance.now();
      const served = await waitServing(ledger, gateways, hash, 10_000);
      toServing.push(served - started);
      afterKubectl.push(served - kubectlDone);
      const status = await waitApplied(hash);
      toConfigApplied.push(performance.now() - started);
      // True only with both pods on the hash (annotations never go back, so reading them after
      // the status is enough to catch a status that ran ahead of them).
      expect(condition(status, 'ConfigApplied')?.message).toBe(`2/2 ready replicas run config ${hash}`);
      expect(await Promise.all(PODS.map(podHash))).toEqual([hash, hash]);
      applied = i;
      await new Promise((r) => setTimeout(r, 250)); // traffic on this config before the next change
    }
    const ms = (v: number): string => `${v.toFixed(0)} ms`;
    console.log(
      `kubectl apply -> both data planes serving, ${CHANGES} changes: p50 ${ms(percentile(toServing, 50))}, p99 ${ms(percentile(toServing, 99))}, max ${ms(Math.max(...toServing))} ` +
        `(from kubectl's exit: p50 ${ms(percentile(afterKubectl, 50))}, p99 ${ms(percentile(afterKubectl, 99))}); ` +
        `apply -> ConfigApplied True: p50 ${ms(percentile(toConfigApplied, 50))}, p99 ${ms(percentile(toConfigApplied, 99))}\n${describeLoad(load)}`,
    );
    expect(percentile(toServing, 99)).toBeLessThanOrEqual(1000);
    noProblemsSoFar();
  }, TIMEOUT);

  it('keeps ConfigApplied False (Rolling, naming the pod) while one replica lags, True once it catches up', async () => {
    const [fresh, paused] = gateways as [GatewayProcess, GatewayProcess];
    const before = (await gatewayConfig()).status!.configHash!;
    // Pause the second data plane: its pod stays Ready but cannot apply anything. It leaves the
    // load first (a paused process would only queue requests); the first takes the whole rate.
    load.setTargets([fresh]);
    await load.drained(paused.name);
    paused.cli.child.kill('SIGSTOP');
    try {
      const { spec, allowed } = change(++applied);
      const hash = hashOf(spec);
      ledger.record(hash, allowed);
      await kubectlOk(cluster, ['apply', '-f', '-'], manifest(spec));
      await waitServing(ledger, [fresh], hash, 5_000);
      const expected = { status: 'False', reason: 'Rolling', message: `1/2 ready replicas run config ${hash}; waiting for ${paused.pod} (on ${before})` };
      // First 0/2 (the status may be written before the fresh pod reports), then 1/2 naming the paused one.
      await waitFor('ConfigApplied Rolling, waiting for the paused pod only', async () => condition(await gatewayConfig(), 'ConfigApplied')?.message === expected.message, 10_000);
      for (let k = 0; k < 5; k++) {
        const g = await gatewayConfig();
        expect(condition(g, 'ConfigApplied')).toMatchObject(expected);
        expect(g.status?.laggingReplicas).toEqual([{ pod: paused.pod, appliedHash: before }]);
        expect(await podHash(paused.pod)).toBe(before);
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(await podHash(fresh.pod)).toBe(hash);
      paused.cli.child.kill('SIGCONT');
      // Resumed, it applies the change it missed and reports it; only then is the config applied.
      await waitServing(ledger, [paused], hash, 10_000);
      const g = await waitApplied(hash);
      expect(g.status?.laggingReplicas).toBeUndefined();
      expect(await podHash(paused.pod)).toBe(hash);
    } finally {
      paused.cli.child.kill('SIGCONT');
      load.setTargets(gateways);
    }
    noProblemsSoFar();
  }, TIMEOUT);

  it('a change naming a Secret that does not exist shows on the status and changes nothing in the data plane', async () => {
    const g0 = await gatewayConfig();
    const serving = g0.status!.configHash!;
    const { spec } = change(applied + 1, 'no-such-secret');
    await kubectlOk(cluster, ['apply', '-f', '-'], manifest(spec)); // the CRD schema accepts it
    const blocked = await waitFor('SecretNotFound on the status', async () => {
      const g = await gatewayConfig();
      return g.status?.observedGeneration === g0.metadata.generation + 1 && condition(g, 'ConfigApplied')?.reason === 'SecretNotFound' ? g : undefined;
    }, 10_000);
    const missing = `Secret ${NS}/no-such-secret not found`;
    expect(condition(blocked, 'ConfigApplied')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(condition(blocked, 'ConfigApplied')?.message).toContain(missing);
    expect(condition(blocked, 'Ready')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(condition(blocked, 'Degraded')).toMatchObject({ status: 'True', reason: 'SecretNotFound' });
    expect(condition(blocked, 'Degraded')?.message).toContain(`still serving the last good config ${serving}`);
    expect(blocked.status?.configHash).toBe(serving);
    const since = performance.now();
    await new Promise((r) => setTimeout(r, 1500));
    const cm = await runtimeConfigMap();
    expect(cm?.metadata.annotations?.['switchboard.dev/config-hash']).toBe(serving);
    expect(cm?.data['config.json']).not.toContain('no-such-secret');
    for (const g of gateways) expect(await readyz(g.adminUrl)).toMatchObject({ ready: true, configHash: serving, lastConfigError: null });
    expect(await Promise.all(PODS.map(podHash))).toEqual([serving, serving]);
    const during = load.outcomes.filter((o) => o.start >= since);
    expect(during.length).toBeGreaterThan(200);
    expect(during.filter((o) => o.error !== undefined || o.hash !== serving).slice(0, 5)).toEqual([]);
    noProblemsSoFar();
  }, TIMEOUT);

  it('an apiserver restart fails no request; the data planes keep their config and apply the next change', async () => {
    const serving = (await gatewayConfig()).status!.configHash!;
    const since = performance.now();
    await cluster.restartApiserver();
    const outage = performance.now() - since;
    for (const g of gateways) expect((await readyz(g.adminUrl)).configHash).toBe(serving);
    const during = load.outcomes.filter((o) => o.start >= since && o.start <= since + outage);
    expect(during.length).toBeGreaterThan(outage / 1000 * 200 * 0.9);
    expect(during.filter((o) => o.error !== undefined || o.hash !== serving).slice(0, 5)).toEqual([]);

    // Watches resumed: a change applied after the restart reaches both data planes.
    const { spec, allowed } = change(++applied);
    const hash = hashOf(spec);
    ledger.record(hash, allowed);
    const started = performance.now();
    await kubectlOk(cluster, ['apply', '-f', '-'], manifest(spec));
    const served = await waitServing(ledger, gateways, hash, 30_000);
    await waitApplied(hash, 30_000);
    console.log(`apiserver restart: ${(outage / 1000).toFixed(1)} s, ${during.length} requests during it, none failed; first change after it served by both in ${(served - started).toFixed(0)} ms`);
    expect(operator.running()).toBe(true);
    noProblemsSoFar();
  }, TIMEOUT);

  it(`sustained >= ${RPS * 0.85} rps with no failed request and every answer on an allowed deployment`, async () => {
    await load.stop();
    console.log(describeLoad(load));
    expect(load.missed).toBe(0);
    expect(load.outcomes.length / load.durationSeconds()).toBeGreaterThanOrEqual(200);
    expect(load.outcomes.filter((o) => o.streamed).length).toBeGreaterThan(load.outcomes.length * 0.2);
    expect(ledger.check(load.outcomes).slice(0, 20)).toEqual([]);
    // Every config the test applied was served by someone, so the check above covered them all.
    const hashes = new Set(load.outcomes.map((o) => o.hash));
    expect(hashes.size).toBeGreaterThanOrEqual(CHANGES + 2);
  }, TIMEOUT);
});
