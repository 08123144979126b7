import { describe, expect, it } from '@jest/globals';
import { FakeClock, settle } from './clock.js';
import { KubeApiError } from './kube.js';
import { LeaderElector, type LeaseClient, type LeaseRecord, type LeaseSpec } from './leader.js';

/** One in-memory Lease with the apiserver's optimistic concurrency; failures can be switched on. */
class FakeLease {
  record: LeaseRecord | undefined;
  private rv = 0;
  down = false;
  writes = 0;

  client(): LeaseClient {
    const check = (): void => {
      if (this.down) throw new Error('connect ECONNREFUSED');
    };
    return {
      description: 'ns/lease',
      get: async () => {
        check();
        return this.record && { ...this.record, spec: { ...this.record.spec } };
      },
      create: async (spec: LeaseSpec) => {
        check();
        if (this.record) throw new KubeApiError(409, 'AlreadyExists', 'exists');
        this.writes++;
        this.record = { resourceVersion: String(++this.rv), spec: { ...spec } };
        return this.record;
      },
      update: async (r: LeaseRecord) => {
        check();
        if (!this.record || this.record.resourceVersion !== r.resourceVersion) throw new KubeApiError(409, 'Conflict', 'the object has been modified');
        this.writes++;
        this.record = { resourceVersion: String(++this.rv), spec: { ...r.spec } };
        return this.record;
      },
    };
  }
}

function elector(lease: FakeLease, clock: FakeClock, identity: string, log: string[]) {
  return new LeaderElector({
    lease: lease.client(),
    identity,
    clock,
    random: () => 0,
    callbacks: {
      onStartedLeading: () => log.push(`${identity} started @${clock.now() - 1_000_000}`),
      onStoppedLeading: () => log.push(`${identity} stopped @${clock.now() - 1_000_000}`),
    },
  });
}

describe('LeaderElector', () => {
  it('creates the lease, leads, and renews it every retryPeriod', async () => {
    const clock = new FakeClock();
    const lease = new FakeLease();
    const log: string[] = [];
    const a = elector(lease, clock, 'a', log);
    const run = a.run();
    await settle();
    expect(log).toEqual(['a started @0']);
    expect(a.isLeader()).toBe(true);
    expect(lease.record?.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 });
    const acquired = lease.record!.spec.acquireTime;
    expect(acquired).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    await clock.advance(6_000);
    expect(lease.writes).toBe(4); // create + 3 renewals
    expect(lease.record!.spec.acquireTime).toBe(acquired);
    expect(lease.record!.spec.renewTime).not.toBe(acquired);
    await a.stop();
    await run;
  });

  it('lets only one of two candidates lead while the leader renews', async () => {
    const clock = new FakeClock();
    const lease = new FakeLease();
    const log: string[] = [];
    const a = elector(lease, clock, 'a', log);
    const b = elector(lease, clock, 'b', log);
    void a.run();
    await settle();
    void b.run();
    await clock.advance(60_000);
    expect(log).toEqual(['a started @0']);
    expect(b.isLeader()).toBe(false);
    expect(b.leader()).toBe('a');
    await b.stop();
    await a.stop();
  });

  it('takes over within leaseDuration + retryPeriod when the leader stops renewing without release (a crash)', async () => {
    const clock = new FakeClock();
    const lease = new FakeLease();
    const log: string[] = [];
    const a = elector(lease, clock, 'a', log);
    const b = elector(lease, clock, 'b', log);
    void a.run();
    await settle();
    void b.run();
    await clock.advance(10_000);
    await a.stop({ release: false });
    const killedAt = clock.now() - 1_000_000;
    expect(lease.record!.spec.holderIdentity).toBe('a');
    await clock.advance(30_000);
    const took = log.find((l) => l.startsWith('b started'))!;
    const at = Number(took.split('@')[1]);
    expect(at - killedAt).toBeGreaterThanOrEqual(13_000);
    expect(at - killedAt).toBeLessThanOrEqual(17_000);
    expect(lease.record!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.stop();
  });

  it('hands the lease back on a graceful stop so the next candidate takes over at its next attempt', async () => {
    const clock = new FakeClock();
    const lease = new FakeLease();
    const log: string[] = [];
    const a = elector(lease, clock, 'a', log);
    const b = elector(lease, clock, 'b', log);
    void a.run();
    await settle();
    void b.run();
    await clock.advance(10_000);
    await a.stop();
    expect(lease.record!.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    const releasedAt = clock.now() - 1_000_000;
    await clock.advance(2_000);
    const at = Number(log.find((l) => l.startsWith('b started'))!.split('@')[1]);
    expect(at - releasedAt).toBeLessThanOrEqual(2_000);
    expect(log).toContain('a stopped @10000');
  });

  it('stops leading when it cannot renew for renewDeadline', async () => {
    const clock = new FakeClock();
    const lease = new FakeLease();
    const log: string[] = [];
    const a = elector(lease, clock, 'a', log);
    let finished = false;
    void a.run().then(() => (finished = true));
    await clock.advance(4_000);
    lease.down = true;
    await clock.advance(9_000);
    expect(a.isLeader()).toBe(true); // last renewal at 4 s; deadline 14 s
    await clock.advance(2_000);
    expect(a.isLeader()).toBe(false);
    expect(log).toEqual(['a started @0', 'a stopped @14000']);
    expect(finished).toBe(true);
  });

  it('steps down at once when it sees another holder on the lease', async () => {
    const clock = new FakeClock();
    const lease = new FakeLease();
    const log: string[] = [];
    const a = elector(lease, clock, 'a', log);
    void a.run();
    await settle();
    lease.record = { resourceVersion: '99', spec: { ...lease.record!.spec, holderIdentity: 'intruder' } };
    await clock.advance(2_000);
    expect(log).toEqual(['a started @0', 'a stopped @2000']);
  });

  it('does not lead when its write loses an optimistic-concurrency race', async () => {
    const clock = new FakeClock();
    const lease = new FakeLease();
    lease.record = { resourceVersion: '1', spec: { holderIdentity: '', leaseDurationSeconds: 1 } };
    const client = lease.client();
    const racing: LeaseClient = {
      ...client,
      update: async (r) => {
        // Someone else writes between our read and our write.
        lease.record = { resourceVersion: '2', spec: { holderIdentity: 'other', leaseDurationSeconds: 15 } };
        return client.update(r, new AbortController().signal);
      },
    };
    const log: string[] = [];
    const a = new LeaderElector({
      lease: racing,
      identity: 'a',
      clock,
      random: () => 0,
      callbacks: { onStartedLeading: () => log.push('started'), onStoppedLeading: () => log.push('stopped') },
    });
    void a.run();
    await clock.advance(1_000);
    expect(log).toEqual([]);
    expect(a.isLeader()).toBe(false);
    await a.stop();
  });

  it('rejects timings that cannot work', () => {
    const lease = new FakeLease();
    const callbacks = { onStartedLeading: () => {}, onStoppedLeading: () => {} };
    expect(() => new LeaderElector({ lease: lease.client(), callbacks, leaseDurationMs: 5_000, renewDeadlineMs: 5_000 })).toThrow(/leaseDuration/);
    expect(() => new LeaderElector({ lease: lease.client(), callbacks, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).toThrow(/renewDeadline/);
  });
});
