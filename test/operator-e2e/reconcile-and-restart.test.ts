// Real operator processes against a real kube-apiserver: an applied GatewayConfig becomes its
// runtime ConfigMap (owned by it, with the config hash), a spec change rewrites it with a new hash,
// and the operator recovers from an apiserver restart. The harness's restart is a ~12 s outage
// (the apiserver drains open watches before it exits), longer than the default 10 s renew deadline:
// an operator with a 30 s deadline rides it out in the same process; one with the defaults gives
// up leadership and exits 1 (as client-go's leader election does), and its replacement, started
// as a kubelet would, takes over and reconciles.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCluster, type Cluster } from '../cluster/cluster.ts';
import {
  applyGatewayConfig,
  buildOperator,
  CONFIG_HASH,
  getJson,
  installCrds,
  killAllOperators,
  kubectlOk,
  leaseHolder,
  metricSum,
  startOperator,
  waitFor,
  type ConfigMapJson,
  type GatewayConfigJson,
  type OperatorProcess,
} from './operator-process.ts';

const TIMEOUT = 120_000;
const NS = 'sb-op-reconcile';
/** A second namespace for the operator that runs with the default lease timings. */
const NS_DEFAULTS = 'sb-op-defaults';

describe('the operator process on a real kube-apiserver', () => {
  let cluster: Cluster;
  let operator: OperatorProcess;
  let withDefaults: OperatorProcess;

  const configMap = (name: string, ns = NS): Promise<ConfigMapJson | undefined> => getJson<ConfigMapJson>(cluster, ['configmap', `${name}-runtime`, '-n', ns]);
  const hashOf = async (name: string, ns = NS): Promise<string | undefined> => (await configMap(name, ns))?.metadata.annotations?.[CONFIG_HASH];

  beforeAll(async () => {
    await buildOperator();
    cluster = await startCluster();
    await installCrds(cluster);
    await kubectlOk(cluster, ['create', 'namespace', NS]);
    await kubectlOk(cluster, ['create', 'namespace', NS_DEFAULTS]);
    operator = await startOperator({
      kubeconfig: cluster.kubeconfigPath,
      identity: 'operator-1',
      args: ['--namespace', NS, '--leader-elect-lease-duration', '40s', '--leader-elect-renew-deadline', '30s'],
    });
    withDefaults = await startOperator({ kubeconfig: cluster.kubeconfigPath, identity: 'defaults-1', args: ['--namespace', NS_DEFAULTS] });
    await waitFor('operator-1 to lead', async () => (await leaseHolder(cluster, NS)) === 'operator-1', 15_000);
    await waitFor('defaults-1 to lead', async () => (await leaseHolder(cluster, NS_DEFAULTS)) === 'defaults-1', 15_000);
  }, TIMEOUT);

  afterAll(async () => {
    killAllOperators();
    await cluster?.stop();
  }, TIMEOUT);

  it('reconciles an applied GatewayConfig into its runtime ConfigMap, owned by the GatewayConfig', async () => {
    await applyGatewayConfig(cluster, 'sanity', NS);
    const hash = await waitFor('the sanity-runtime ConfigMap with a config hash', () => hashOf('sanity'), 20_000);
    expect(hash).toMatch(/\S/);
    const gc = (await getJson<GatewayConfigJson>(cluster, ['gatewayconfig', 'sanity', '-n', NS]))!;
    const cm = (await configMap('sanity'))!;
    expect(cm.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'GatewayConfig', name: 'sanity', uid: gc.metadata.uid, controller: true })]);
    expect(Object.keys({ ...cm.data, ...cm.binaryData }).length).toBeGreaterThan(0);
  }, TIMEOUT);

  it('rewrites the ConfigMap with a new hash when the spec changes', async () => {
    const before = (await hashOf('sanity'))!;
    await applyGatewayConfig(cluster, 'sanity', NS, 'gpt-4.1-mini');
    const after = await waitFor('a new config hash', async () => {
      const h = await hashOf('sanity');
      return h !== before ? h : undefined;
    }, 20_000);
    expect(after).not.toBe(before);
  }, TIMEOUT);

  it('keeps running through an apiserver restart and reconciles a GatewayConfig applied afterwards', async () => {
    const listsBefore = metricSum((await operator.get('/metrics')).body, 'switchboard_operator_informer_lists_total');
    const restartAt = Date.now();
    await cluster.restartApiserver();
    console.log(`apiserver restart: ${Date.now() - restartAt} ms`);
    expect(operator.running()).toBe(true);

    await applyGatewayConfig(cluster, 'after-restart', NS);
    await waitFor('the after-restart-runtime ConfigMap', () => hashOf('after-restart'), 30_000);
    await waitFor('/readyz to report ready again', async () => (await operator.get('/readyz')).status === 200, 30_000);

    // Same process, still the leader, its watches re-established (and re-listed if they had to be).
    expect(operator.running()).toBe(true);
    expect(await leaseHolder(cluster, NS)).toBe('operator-1');
    const health = JSON.parse((await operator.get('/readyz')).body) as { leader: boolean; informers: Array<{ watching: boolean }> };
    expect(health.leader).toBe(true);
    expect(health.informers.length).toBeGreaterThan(0);
    expect(health.informers.every((i) => i.watching)).toBe(true);
    const listsAfter = metricSum((await operator.get('/metrics')).body, 'switchboard_operator_informer_lists_total');
    expect(listsAfter).toBeGreaterThanOrEqual(listsBefore);
  }, TIMEOUT);

  it('with the default lease timings, recovers through a restart of the process if the outage outlasted the renew deadline', async () => {
    // The restart above happened while this operator led NS_DEFAULTS with a 10 s renew deadline.
    let current = withDefaults;
    console.log(`operator with default lease timings after the restart: ${withDefaults.running() ? 'still running' : 'exited, restarted'}`);
    if (!withDefaults.running()) {
      expect(await withDefaults.exit).toEqual({ code: 1, signal: null });
      expect(withDefaults.logs().some((l) => l.msg === 'operator exiting' && l.reason === 'lost-leadership')).toBe(true);
      // What the kubelet does for a container that exited: start it again (same pod name, same identity).
      current = await startOperator({ kubeconfig: cluster.kubeconfigPath, identity: 'defaults-1', args: ['--namespace', NS_DEFAULTS] });
      withDefaults = current;
    }
    await applyGatewayConfig(cluster, 'after-restart', NS_DEFAULTS);
    await waitFor('the after-restart-runtime ConfigMap in the second namespace', () => hashOf('after-restart', NS_DEFAULTS), 30_000);
    expect(await leaseHolder(cluster, NS_DEFAULTS)).toBe('defaults-1');
    expect(current.running()).toBe(true);
  }, TIMEOUT);

  it('stops gracefully on SIGTERM: exit code 0 and the lease released', async () => {
    expect(await withDefaults.stop()).toEqual({ code: 0, signal: null });
    expect(await operator.stop()).toEqual({ code: 0, signal: null });
    expect(await leaseHolder(cluster, NS)).toBeUndefined();
  }, TIMEOUT);
});
