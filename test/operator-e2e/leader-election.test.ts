// Two real operator processes (node operator/bin/switchboard-operator.js) against a real
// kube-apiserver, with the default lease timings (15 s / 10 s / 2 s): only the Lease holder
// reconciles; after `kill -9` of the leader the standby takes over and reconciles a new
// GatewayConfig within 20 s; SIGTERM hands the lease over at once and exits 0; a leader whose lease
// is taken exits 1.
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
  type LogLine,
  type OperatorProcess,
} from './operator-process.ts';

const TIMEOUT = 120_000;
const NS = 'sb-op-leader';

/** A write the operator made while reconciling the GatewayConfig `name` (logged at debug level). */
const writeFor = (name: string) => (l: LogLine): boolean => l.msg === 'api write' && String(l.path).includes(`/${name}`);
/** Any trace of reconciling: a controller running, or a write to an object other than the Lease. */
const reconcileTrace = (l: LogLine): boolean => typeof l.controller === 'string' || l.msg === 'api write';
const ARGS = ['--namespace', NS, '--log-level', 'debug'];

async function reconciles(op: OperatorProcess): Promise<number> {
  const res = await op.get('/metrics');
  return metricSum(res.body, 'switchboard_operator_reconcile_total');
}

async function writes(op: OperatorProcess): Promise<number> {
  const text = (await op.get('/metrics')).body;
  return ['create', 'update', 'patch', 'apply', 'delete'].reduce((n, verb) => n + metricSum(text, 'switchboard_operator_api_requests_total', { verb }), 0)
    - ['create', 'update'].reduce((n, verb) => n + metricSum(text, 'switchboard_operator_api_requests_total', { verb, resource: 'leases' }), 0);
}

async function configMap(cluster: Cluster, name: string): Promise<ConfigMapJson | undefined> {
  const cm = await getJson<ConfigMapJson>(cluster, ['configmap', `${name}-runtime`, '-n', NS]);
  return cm?.metadata.annotations?.[CONFIG_HASH] ? cm : undefined;
}

describe('two operator processes on a real kube-apiserver', () => {
  let cluster: Cluster;
  let leader: OperatorProcess;
  let standby: OperatorProcess;

  beforeAll(async () => {
    await buildOperator();
    cluster = await startCluster();
    await installCrds(cluster);
    await kubectlOk(cluster, ['create', 'namespace', NS]);
    const [a, b] = await Promise.all(
      ['operator-a', 'operator-b'].map((identity) => startOperator({ kubeconfig: cluster.kubeconfigPath, identity, args: ARGS })),
    );
    const holder = await waitFor('a Lease holder', () => leaseHolder(cluster, NS), 15_000);
    [leader, standby] = holder === a!.identity ? [a!, b!] : [b!, a!];
  }, TIMEOUT);

  afterAll(async () => {
    killAllOperators();
    await cluster?.stop();
  }, TIMEOUT);

  it('elects one leader; only the leader reconciles, while the standby keeps a warm cache and stays ready', async () => {
    expect([leader.identity, standby.identity].sort()).toEqual(['operator-a', 'operator-b']);
    await leader.waitForLog('"started leading"', (l) => l.msg === 'started leading', 5_000);

    await applyGatewayConfig(cluster, 'first', NS);
    const cm = await waitFor('ConfigMap first-runtime', () => configMap(cluster, 'first'), 20_000);
    expect(cm.metadata.annotations?.[CONFIG_HASH]).toMatch(/\S/);
    // A few renew periods later: still the same leader, and the standby never acted.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await leaseHolder(cluster, NS)).toBe(leader.identity);

    expect(leader.logs().some(writeFor('first-runtime'))).toBe(true);
    expect(leader.logs().some((l) => l.msg === 'controller started')).toBe(true);
    expect(standby.logs().filter(reconcileTrace)).toEqual([]);
    expect(standby.logs().some((l) => l.msg === 'started leading')).toBe(false);
    expect(await reconciles(leader)).toBeGreaterThan(0);
    expect(await reconciles(standby)).toBe(0);
    expect(await writes(standby)).toBe(0);

    const ready = await standby.get('/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ ready: true, leader: false });
    expect(JSON.parse((await leader.get('/readyz')).body)).toMatchObject({ ready: true, leader: true });
  }, TIMEOUT);

  it('after kill -9 of the leader, the standby takes the lease and reconciles a new GatewayConfig within 20 s', async () => {
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    expect(await leader.exit).toEqual({ code: null, signal: 'SIGKILL' });
    await applyGatewayConfig(cluster, 'second', NS);

    await waitFor('ConfigMap second-runtime', () => configMap(cluster, 'second'), 25_000, 100);
    const reconciledMs = Date.now() - killedAt;
    console.log(`after kill -9: new GatewayConfig reconciled by the new leader ${reconciledMs} ms later`);
    expect(reconciledMs).toBeLessThanOrEqual(20_000);
    expect(reconciledMs).toBeGreaterThan(5_000); // the standby did wait for the dead leader's lease to run out

    expect(await leaseHolder(cluster, NS)).toBe(standby.identity);
    expect(standby.logs().some((l) => l.msg === 'started leading')).toBe(true);
    expect(standby.logs().some(writeFor('second-runtime'))).toBe(true);
    expect(await reconciles(standby)).toBeGreaterThan(0);
  }, TIMEOUT);

  it('on SIGTERM the leader exits 0 and releases the lease, so a waiting replica takes over at once', async () => {
    const next = await startOperator({ kubeconfig: cluster.kubeconfigPath, identity: 'operator-c', args: ARGS });
    await waitFor('operator-c to sync as a standby', async () => (await next.get('/readyz')).status === 200, 10_000);
    expect(await leaseHolder(cluster, NS)).toBe(standby.identity);

    const stoppedAt = Date.now();
    expect(await standby.stop()).toEqual({ code: 0, signal: null });
    expect(standby.logs().some((l) => l.msg === 'lease released')).toBe(true);
    await next.waitForLog('"started leading"', (l) => l.msg === 'started leading', 10_000);
    const handoverMs = Date.now() - stoppedAt;
    console.log(`after SIGTERM: lease handed over in ${handoverMs} ms`);
    expect(handoverMs).toBeLessThanOrEqual(5_000);
    expect(await leaseHolder(cluster, NS)).toBe('operator-c');
    leader = next;
  }, TIMEOUT);

  it('a leader whose lease is taken by another holder stops and exits 1', async () => {
    const now = new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
    await kubectlOk(cluster, ['patch', 'lease', 'switchboard-operator', '-n', NS, '--type=merge', '-p', JSON.stringify({ spec: { holderIdentity: 'intruder', renewTime: now } })]);
    const exit = await Promise.race([leader.exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
    expect(exit).toEqual({ code: 1, signal: null });
    expect(leader.logs().some((l) => l.msg === 'leadership lost')).toBe(true);
    expect(leader.logs().some((l) => l.msg === 'operator exiting' && l.reason === 'lost-leadership')).toBe(true);
    expect(await leaseHolder(cluster, NS)).toBe('intruder');
  }, TIMEOUT);
});
