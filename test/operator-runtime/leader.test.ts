// Leader election against a real kube-apiserver (test/cluster) with the default timings
// (15 s lease, 10 s renew deadline, 2 s retry): one leader at a time; a leader that stops renewing
// (as if killed) is replaced within 20 s; a leader that stops gracefully hands over at once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startCluster, type Cluster } from '../cluster/cluster.js';
import { KubeClient, kubeLeaseClient, LeaderElector } from '../../operator/src/runtime/index.js';

const TIMEOUT = 120_000;
const NS = 'sb-runtime-leader';

interface Candidate {
  elector: LeaderElector;
  startedAt: number[];
  stoppedAt: number[];
}

async function waitFor(what: string, probe: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('leader election on a real kube-apiserver', () => {
  let cluster: Cluster;
  let client: KubeClient;
  const candidates: Candidate[] = [];

  const candidate = (identity: string, lease = 'switchboard-operator'): Candidate => {
    const c: Candidate = {
      startedAt: [],
      stoppedAt: [],
      elector: new LeaderElector({
        lease: kubeLeaseClient(client, NS, lease),
        identity,
        callbacks: {
          onStartedLeading: () => c.startedAt.push(Date.now()),
          onStoppedLeading: () => c.stoppedAt.push(Date.now()),
        },
      }),
    };
    candidates.push(c);
    void c.elector.run();
    return c;
  };

  beforeAll(async () => {
    cluster = await startCluster();
    const r = await cluster.kubectl(['create', 'namespace', NS]);
    if (r.code !== 0) throw new Error(r.stderr);
    client = KubeClient.fromFile(cluster.kubeconfigPath);
  }, TIMEOUT);

  afterAll(async () => {
    await Promise.all(candidates.map((c) => c.elector.stop()));
    await cluster?.stop();
  }, TIMEOUT);

  it('elects exactly one of two candidates; the other takes over within 20 s after the leader stops renewing', async () => {
    const a = candidate('op-a');
    const b = candidate('op-b');
    await waitFor('a leader', () => a.elector.isLeader() || b.elector.isLeader(), 10_000);
    // Several renew periods later there is still exactly one leader, and both agree who it is.
    await new Promise((r) => setTimeout(r, 5_000));
    const [leader, follower] = a.elector.isLeader() ? [a, b] : [b, a];
    expect(leader.elector.isLeader()).toBe(true);
    expect(follower.elector.isLeader()).toBe(false);
    expect(follower.startedAt).toEqual([]);
    expect(follower.elector.leader()).toBe(leader.elector.identity);

    const lease = await cluster.kubectl(['get', 'lease', 'switchboard-operator', '-n', NS, '-o', 'json']);
    const spec = (JSON.parse(lease.stdout) as { spec: Record<string, unknown> }).spec;
    expect(spec).toMatchObject({ holderIdentity: leader.elector.identity, leaseDurationSeconds: 15 });

    // Simulate a kill: stop renewing, leave the lease as it is.
    const killedAt = Date.now();
    await leader.elector.stop({ release: false });
    await waitFor('the follower to take over', () => follower.elector.isLeader(), 25_000);
    const takeoverMs = follower.startedAt[0]! - killedAt;
    console.log(`takeover after a crash: ${takeoverMs} ms`);
    expect(takeoverMs).toBeLessThanOrEqual(20_000);
    expect(takeoverMs).toBeGreaterThan(5_000); // it did wait for the lease to run out
  }, TIMEOUT);

  it('hands over fast when the leader stops gracefully and releases the lease', async () => {
    const a = candidate('op-c', 'switchboard-operator-graceful');
    await waitFor('c to lead', () => a.elector.isLeader(), 10_000);
    const b = candidate('op-d', 'switchboard-operator-graceful');
    await new Promise((r) => setTimeout(r, 3_000));
    expect(b.elector.isLeader()).toBe(false);

    const stoppedAt = Date.now();
    await a.elector.stop();
    const lease = await cluster.kubectl(['get', 'lease', 'switchboard-operator-graceful', '-n', NS, '-o', 'json']);
    expect(lease.code).toBe(0);
    await waitFor('d to take over', () => b.elector.isLeader(), 10_000);
    const handoverMs = b.startedAt[0]! - stoppedAt;
    console.log(`handover after a graceful stop: ${handoverMs} ms`);
    expect(handoverMs).toBeLessThanOrEqual(3_000);
    expect(a.stoppedAt).toHaveLength(1);
  }, TIMEOUT);
});
