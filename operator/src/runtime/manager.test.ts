import { describe, expect, it } from '@jest/globals';
import { FakeClock, settle } from './clock.js';
import { Controller } from './controller.js';
import { Informer, type ListResult, type ListWatcher, type WatchEvent } from './informer.js';
import { KubeApiError, type KubeObject } from './kube.js';
import type { LeaseClient, LeaseRecord, LeaseSpec } from './leader.js';
import { Manager } from './manager.js';

/** List answers wait for release(); the watch can be failed by the test. */
class GatedSource implements ListWatcher<KubeObject> {
  private gate: Promise<void>;
  release!: () => void;
  failWatch: (err: Error) => void = () => {};
  listFails = false;
  constructor(private readonly items: KubeObject[] = []) {
    this.gate = new Promise((r) => (this.release = r));
  }
  async list(): Promise<ListResult<KubeObject>> {
    await this.gate;
    if (this.listFails) throw new Error('connection refused');
    return { items: this.items, resourceVersion: '1' };
  }
  watch(_rv: string, h: { onOpen(): void; onEvent(e: WatchEvent<KubeObject>): void }, signal: AbortSignal): Promise<void> {
    h.onOpen();
    return new Promise((resolve, reject) => {
      this.failWatch = reject;
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
  }
}

function sharedLease(): { client: () => LeaseClient; record: () => LeaseRecord | undefined; down: (v: boolean) => void } {
  let record: LeaseRecord | undefined;
  let rv = 0;
  let down = false;
  const check = (): void => {
    if (down) throw new Error('ECONNREFUSED');
  };
  return {
    record: () => record,
    down: (v) => (down = v),
    client: () => ({
      description: 'ns/op',
      get: async () => (check(), record),
      create: async (spec: LeaseSpec) => {
        check();
        if (record) throw new KubeApiError(409, 'AlreadyExists', 'exists');
        return (record = { resourceVersion: String(++rv), spec });
      },
      update: async (r: LeaseRecord) => {
        check();
        if (record?.resourceVersion !== r.resourceVersion) throw new KubeApiError(409, 'Conflict', 'modified');
        return (record = { resourceVersion: String(++rv), spec: r.spec });
      },
    }),
  };
}

const get = async (m: Manager, path: string): Promise<{ status: number; body: string }> => {
  const res = await fetch(`http://127.0.0.1:${m.port}${path}`);
  return { status: res.status, body: await res.text() };
};

describe('Manager', () => {
  it('serves /healthz, /readyz (informers synced and watching) and /metrics', async () => {
    const clock = new FakeClock();
    const src = new GatedSource();
    const m = new Manager({ port: 0, host: '127.0.0.1', clock, leaderElection: false, watchDownToleranceMs: 5_000 });
    m.addInformer(new Informer(src, { name: 'things', clock, registry: m.registry, backoff: { baseMs: 60_000, maxMs: 60_000 } }));
    await m.start();
    expect(await get(m, '/healthz')).toEqual({ status: 200, body: 'ok\n' });
    const notSynced = await get(m, '/readyz');
    expect(notSynced.status).toBe(503);
    expect(JSON.parse(notSynced.body)).toMatchObject({ ready: false, informers: [{ name: 'things', synced: false, ok: false }] });

    src.release();
    await settle();
    expect((await get(m, '/readyz')).status).toBe(200);

    src.failWatch(new Error('EOF'));
    await settle();
    await clock.advance(5_000);
    expect((await get(m, '/readyz')).status).toBe(200); // within tolerance
    await clock.advance(1);
    const down = await get(m, '/readyz');
    expect(down.status).toBe(503);
    expect(JSON.parse(down.body).informers[0]).toMatchObject({ watching: false, watchDownForMs: 5_001, lastError: 'watch: EOF' });

    const metrics = await get(m, '/metrics');
    expect(metrics.body).toContain('switchboard_operator_informer_synced{informer="things"} 1');
    expect(metrics.body).toContain('switchboard_operator_process_cpu_seconds_total');
    expect((await get(m, '/nope')).status).toBe(404);

    await m.stop();
    expect(await m.wait()).toEqual({ reason: 'stopped' });
  });

  it('runs controllers only on the leader and hands over on a graceful stop', async () => {
    const clock = new FakeClock();
    const lease = sharedLease();
    const reconciled: string[] = [];
    const make = (id: string): Manager => {
      const m = new Manager({
        port: 0,
        host: '127.0.0.1',
        clock,
        leaderElection: { lease: lease.client(), identity: id, random: () => 0 },
      });
      const src = new GatedSource([{ metadata: { name: 'x', namespace: 'ns', resourceVersion: '1' } }]);
      src.release();
      const inf = m.addInformer(new Informer(src, { name: 'things', clock }));
      m.addController(new Controller({ name: 'c', clock, reconcile: async (key) => void reconciled.push(`${id} ${key}`) }).for(inf));
      return m;
    };
    const a = make('a');
    await a.start();
    await settle();
    const b = make('b');
    await b.start();
    await clock.advance(10_000);
    expect(reconciled).toEqual(['a ns/x']);
    expect(a.readiness().leader).toBe(true);
    expect(b.readiness()).toMatchObject({ leader: false, ready: true }); // a standby is ready: its cache is warm

    await a.stop();
    expect(lease.record()?.spec.holderIdentity).toBe('');
    await clock.advance(2_500);
    expect(reconciled).toEqual(['a ns/x', 'b ns/x']);
    await b.stop();
  });

  it('stops everything with reason lost-leadership when renewals fail past the deadline', async () => {
    const clock = new FakeClock();
    const lease = sharedLease();
    let running = 0;
    const m = new Manager({ port: 0, host: '127.0.0.1', clock, leaderElection: { lease: lease.client(), identity: 'a' } });
    const src = new GatedSource([{ metadata: { name: 'x', namespace: 'ns', resourceVersion: '1' } }]);
    src.release();
    const inf = m.addInformer(new Informer(src, { name: 'things', clock }));
    m.addController(
      new Controller({
        name: 'c',
        clock,
        reconcile: (_k, ctx) =>
          new Promise<void>((resolve) => {
            running++;
            ctx.signal.addEventListener('abort', () => {
              running--;
              resolve();
            });
          }),
      }).for(inf),
    );
    await m.start();
    await settle();
    expect(running).toBe(1);
    lease.down(true);
    await clock.advance(12_000);
    expect(await m.wait()).toEqual({ reason: 'lost-leadership' });
    expect(running).toBe(0);
  });
});
