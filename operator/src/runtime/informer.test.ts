import { describe, expect, it } from '@jest/globals';
import { FakeClock, settle } from './clock.js';
import { Informer, type ListResult, type ListWatcher, type WatchEvent } from './informer.js';
import { KubeApiError, type KubeObject } from './kube.js';

const cm = (name: string, rv: string, data = ''): KubeObject & { data: { v: string } } => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', resourceVersion: rv },
  data: { v: data },
});

interface Session {
  rv: string;
  open(): void;
  send(event: WatchEvent<KubeObject>): void;
  end(): void;
  fail(err: unknown): void;
  signal: AbortSignal;
}

/** The API boundary, scripted by the test: each list() takes the next queued answer. */
class FakeListWatcher implements ListWatcher<KubeObject> {
  lists: Array<ListResult<KubeObject> | Error> = [];
  listCalls = 0;
  sessions: Session[] = [];

  async list(): Promise<ListResult<KubeObject>> {
    this.listCalls++;
    const next = this.lists.shift();
    if (!next) throw new Error('no list answer scripted');
    if (next instanceof Error) throw next;
    return next;
  }

  watch(rv: string, handlers: { onOpen(): void; onEvent(e: WatchEvent<KubeObject>): void }, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      this.sessions.push({ rv, open: handlers.onOpen, send: handlers.onEvent, end: resolve, fail: reject, signal });
    });
  }

  get current(): Session {
    return this.sessions[this.sessions.length - 1]!;
  }
}

function setup() {
  const clock = new FakeClock();
  const lw = new FakeListWatcher();
  const informer = new Informer(lw, {
    name: 'configmaps',
    clock,
    random: () => 0,
    backoff: { baseMs: 100, maxMs: 1_000 },
    minWatchDurationMs: 1_000,
  });
  const events: string[] = [];
  informer.addHandler({
    onAdd: (o) => events.push(`add ${o.metadata!.name}@${o.metadata!.resourceVersion}`),
    onUpdate: (a, b) => events.push(`update ${b.metadata!.name}@${a.metadata!.resourceVersion}->${b.metadata!.resourceVersion}`),
    onDelete: (o) => events.push(`delete ${o.metadata!.name}`),
  });
  return { clock, lw, informer, events };
}

const gone = (): KubeApiError => new KubeApiError(410, 'Expired', 'too old resource version');

describe('Informer', () => {
  it('lists, then watches from the list resourceVersion, keeping the cache and notifying handlers', async () => {
    const { lw, informer, events } = setup();
    lw.lists.push({ items: [cm('a', '5'), cm('b', '6')], resourceVersion: '10' });
    informer.start();
    expect(await informer.waitForSync()).toBe(true);
    await settle();
    expect(lw.current.rv).toBe('10');
    lw.current.open();
    lw.current.send({ type: 'ADDED', object: cm('c', '11') });
    lw.current.send({ type: 'MODIFIED', object: cm('a', '12', 'x') });
    lw.current.send({ type: 'DELETED', object: cm('b', '13') });
    lw.current.send({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '20' } } });
    expect(events).toEqual(['add a@5', 'add b@6', 'add c@11', 'update a@5->12', 'delete b']);
    expect(informer.keys().sort()).toEqual(['ns/a', 'ns/c']);
    expect((informer.get('ns/a') as { data: { v: string } }).data.v).toBe('x');
    expect(informer.health()).toMatchObject({ synced: true, watching: true, resourceVersion: '20', lists: 1, objects: 2 });
    await informer.stop();
    expect(lw.current.signal.aborted).toBe(true);
    expect(informer.health().watching).toBe(false);
  });

  it('resumes a watch the server ended from the last resourceVersion, without re-listing', async () => {
    const { clock, lw, informer } = setup();
    lw.lists.push({ items: [], resourceVersion: '10' });
    informer.start();
    await settle();
    lw.current.open();
    lw.current.send({ type: 'ADDED', object: cm('a', '15') });
    await clock.advance(5_000);
    lw.current.end();
    await settle();
    expect(lw.sessions.map((s) => s.rv)).toEqual(['10', '15']);
    expect(lw.listCalls).toBe(1);
    await informer.stop();
  });

  it('re-lists at once on 410 Gone and emits the difference between the old cache and the new list', async () => {
    const { lw, informer, events } = setup();
    lw.lists.push({ items: [cm('a', '5'), cm('b', '6'), cm('c', '7')], resourceVersion: '10' });
    lw.lists.push({ items: [cm('a', '5'), cm('b', '30'), cm('d', '31')], resourceVersion: '40' });
    informer.start();
    await settle();
    lw.current.open();
    events.length = 0;
    lw.current.fail(gone());
    await settle(); // no clock advance: the first 410 re-lists without waiting
    expect(lw.listCalls).toBe(2);
    expect(events).toEqual(['update b@6->30', 'add d@31', 'delete c']);
    expect(lw.current.rv).toBe('40');
    expect(informer.health()).toMatchObject({ lists: 2, synced: true, objects: 3 });
    await informer.stop();
  });

  it('backs off when 410 Gone repeats right after a re-list', async () => {
    const { clock, lw, informer } = setup();
    for (let i = 0; i < 4; i++) lw.lists.push({ items: [], resourceVersion: String(10 + i) });
    informer.start();
    await settle();
    lw.current.fail(gone()); // 1st failure: immediate
    await settle();
    expect(lw.listCalls).toBe(2);
    lw.current.fail(gone()); // 2nd failure in a row without a healthy watch: backoff (attempt 2 = 200 ms)
    await clock.advance(199);
    expect(lw.listCalls).toBe(2);
    await clock.advance(1);
    expect(lw.listCalls).toBe(3);
    await informer.stop();
  });

  it('backs off exponentially (capped) across repeated watch errors, re-listing after each', async () => {
    const { clock, lw, informer } = setup();
    for (let i = 0; i < 8; i++) lw.lists.push({ items: [], resourceVersion: String(i) });
    informer.start();
    await settle();
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = lw.listCalls;
      lw.current.fail(new Error('ECONNRESET'));
      const start = clock.now();
      while (lw.listCalls === before) await clock.advance(10);
      waits.push(clock.now() - start);
    }
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(informer.health()).toMatchObject({ watching: false, consecutiveFailures: 6, lastError: 'watch: ECONNRESET' });
    // A watch that stays up resets the backoff.
    await settle();
    lw.current.open();
    await clock.advance(2_000);
    const before = lw.listCalls;
    lw.current.fail(new Error('ECONNRESET'));
    await clock.advance(100);
    expect(lw.listCalls).toBe(before + 1);
    await informer.stop();
  });

  it('retries a failing list with backoff and is not synced until one succeeds', async () => {
    const { clock, lw, informer } = setup();
    lw.lists.push(new Error('connection refused'), new Error('connection refused'), { items: [cm('a', '1')], resourceVersion: '2' });
    informer.start();
    await settle();
    expect(informer.health()).toMatchObject({ synced: false, lastError: 'list: connection refused' });
    await clock.advance(100);
    expect(lw.listCalls).toBe(2);
    await clock.advance(199);
    expect(lw.listCalls).toBe(2);
    await clock.advance(1);
    expect(lw.listCalls).toBe(3);
    expect(informer.hasSynced()).toBe(true);
    expect(informer.keys()).toEqual(['ns/a']);
    await informer.stop();
  });

  it('counts a watch that closes at once without events as a failure (no hot loop)', async () => {
    const { clock, lw, informer } = setup();
    lw.lists.push({ items: [], resourceVersion: '1' }, { items: [], resourceVersion: '2' });
    informer.start();
    await settle();
    lw.current.open();
    lw.current.end();
    await settle();
    expect(lw.sessions).toHaveLength(1);
    expect(informer.health().lastError).toBe('watch: watch closed immediately');
    await clock.advance(100);
    expect(lw.listCalls).toBe(2);
    expect(lw.sessions).toHaveLength(2);
    await informer.stop();
  });

  it('reports how long the watch has been down, and recovers', async () => {
    const { clock, lw, informer } = setup();
    lw.lists.push({ items: [], resourceVersion: '1' }, new Error('refused'), new Error('refused'), { items: [], resourceVersion: '9' });
    informer.start();
    await settle();
    lw.current.open();
    await clock.advance(3_000);
    expect(informer.health()).toMatchObject({ watching: true, watchDownForMs: 0, msSinceLastEvent: 3_000 });
    lw.current.fail(new Error('EOF'));
    await clock.advance(50);
    expect(informer.health()).toMatchObject({ watching: false, watchDownForMs: 50 });
    await clock.advance(2_000);
    expect(lw.listCalls).toBe(4);
    expect(informer.health()).toMatchObject({ watching: false, synced: true, watchDownForMs: 2_050 });
    lw.current.open();
    expect(informer.health()).toMatchObject({ watching: true, watchDownForMs: 0, lastError: undefined });
    await informer.stop();
  });

  it('keeps notifying other handlers when one throws', async () => {
    const { lw, informer, events } = setup();
    informer.addHandler({
      onAdd: () => {
        throw new Error('boom');
      },
    });
    lw.lists.push({ items: [cm('a', '1'), cm('b', '2')], resourceVersion: '3' });
    informer.start();
    await informer.waitForSync();
    expect(events).toEqual(['add a@1', 'add b@2']);
    await informer.stop();
  });
});
